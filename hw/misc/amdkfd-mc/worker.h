/*
 * amdkfd-mc: the device's own worker threads
 *
 * Backend calls that may block (host ioctls that sleep, the sim's DMA
 * engine, WAIT_EVENTS) run here, never on a vCPU thread, never under the
 * BQL and never in QEMU's shared thread pool (which disk I/O also uses).
 *
 * Work either belongs to a serial queue (one per guest context: at most
 * one of its items runs at a time, and the pool takes the queues in turn)
 * or stands alone (waits, which may block for ever; cancellations).  A
 * pool keeps a minimum of threads and starts another whenever there is
 * more to start than idle threads, up to its maximum, which the device
 * sizes so that every context with work can have a thread: one context's
 * blocking call holds one thread and never delays another context's work.
 * Threads above the minimum end after ten idle seconds.
 *
 * When an item's run() returns, the item goes on the pool's done list and
 * the pool schedules its bottom half; the device calls
 * amdkfd_mc_workers_reap() from it to run each item's done() under the
 * BQL, inside the device's re-entrancy guard.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_AMDKFD_MC_WORKER_H
#define HW_MISC_AMDKFD_MC_WORKER_H

#include "qemu/queue.h"
#include "qemu/thread.h"

typedef struct AmdkfdMcWork AmdkfdMcWork;
typedef struct AmdkfdMcWorkers AmdkfdMcWorkers;
typedef struct AmdkfdMcSerial AmdkfdMcSerial;
typedef struct AmdkfdMcWorkerThread AmdkfdMcWorkerThread;

struct AmdkfdMcWork {
    void (*run)(AmdkfdMcWork *w);       /* worker thread, no BQL */
    void (*done)(AmdkfdMcWork *w);      /* main loop, BQL */
    AmdkfdMcSerial *serial;             /* NULL: stands alone */
    QSIMPLEQ_ENTRY(AmdkfdMcWork) next;
};

/* The queue of one context; embedded in it, zero-initialised */
struct AmdkfdMcSerial {
    QSIMPLEQ_HEAD(, AmdkfdMcWork) pending;
    bool running;               /* an item of it is in a thread */
    bool queued;                /* on the pool's run queue */
    QSIMPLEQ_ENTRY(AmdkfdMcSerial) next;
};

struct AmdkfdMcWorkers {
    const char *name;
    unsigned min_threads;       /* kept while idle */
    unsigned max_threads;
    QEMUBH *bh;                 /* scheduled when items are done */

    QemuMutex lock;
    QemuCond cond;              /* work to do, or stop */
    QemuCond idle;              /* outstanding reached 0 */
    AmdkfdMcWorkerThread *threads;      /* max_threads slots */
    unsigned nr_threads;        /* running */
    unsigned idle_threads;
    unsigned outstanding;       /* submitted and not yet on the done list */
    unsigned runnable;          /* loose items and queues waiting to start */
    bool stop;
    QSIMPLEQ_HEAD(, AmdkfdMcSerial) runq;     /* serial queues with work */
    QSIMPLEQ_HEAD(, AmdkfdMcWork) loose;      /* standalone items */
    QSIMPLEQ_HEAD(, AmdkfdMcWork) done;

    /* main loop only (BQL): items held back while plugged */
    bool plugged;
    QSIMPLEQ_HEAD(, AmdkfdMcWork) staged;
};

void amdkfd_mc_workers_init(AmdkfdMcWorkers *p, const char *name,
                            unsigned min_threads, unsigned max_threads,
                            QEMUBH *bh);
/* Every submitted item must have been reaped */
void amdkfd_mc_workers_destroy(AmdkfdMcWorkers *p);

void amdkfd_mc_serial_init(AmdkfdMcSerial *s);

/* From the main loop: run @w->run in a worker, then @w->done */
void amdkfd_mc_work_submit(AmdkfdMcWorkers *p, AmdkfdMcWork *w);

/*
 * From the main loop: while plugged, submissions are held and handed to
 * the threads together at unplug, with one lock and one wakeup per serial
 * queue that got work instead of one (and a switch of threads) per
 * command.  The device
 * plugs for one pass of its bottom half, a bounded run of commands.
 */
void amdkfd_mc_workers_plug(AmdkfdMcWorkers *p);
void amdkfd_mc_workers_unplug(AmdkfdMcWorkers *p);

/* Block until every submitted item has run (their done() has not) */
void amdkfd_mc_workers_drain(AmdkfdMcWorkers *p);

/*
 * Run done() of every finished item; the device's bottom half calls it.
 * True if there was any.
 */
bool amdkfd_mc_workers_reap(AmdkfdMcWorkers *p);

/* Threads now existing (for the QOM view and tests) */
unsigned amdkfd_mc_workers_threads(AmdkfdMcWorkers *p);

#endif
