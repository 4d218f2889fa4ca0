/*
 * amdkfd-mc: worker pools with per-context serial queues
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "worker.h"

/* Threads above the pool's minimum end after this long without work */
#define AMDKFD_MC_WORKER_IDLE_MS    10000

struct AmdkfdMcWorkerThread {
    QemuThread thread;
    AmdkfdMcWorkers *pool;
    bool started;               /* joinable */
    bool exited;                /* returned, not joined yet */
};

/* Called with p->lock held: the next item to run, or NULL */
static AmdkfdMcWork *workers_next(AmdkfdMcWorkers *p)
{
    AmdkfdMcSerial *s;
    AmdkfdMcWork *w;

    w = QSIMPLEQ_FIRST(&p->loose);
    if (w) {
        QSIMPLEQ_REMOVE_HEAD(&p->loose, next);
        p->runnable--;
        return w;
    }
    s = QSIMPLEQ_FIRST(&p->runq);
    if (!s) {
        return NULL;
    }
    QSIMPLEQ_REMOVE_HEAD(&p->runq, next);
    p->runnable--;
    s->queued = false;
    w = QSIMPLEQ_FIRST(&s->pending);
    QSIMPLEQ_REMOVE_HEAD(&s->pending, next);
    s->running = true;
    return w;
}

/*
 * Called with p->lock held: put @s back in line if it has more work.
 * @wake is false for the thread that will look for work right after:
 * waking another for it would cost a switch per command for nothing.
 */
static void workers_requeue(AmdkfdMcWorkers *p, AmdkfdMcSerial *s,
                            bool wake)
{
    if (!s->running && !s->queued && !QSIMPLEQ_EMPTY(&s->pending)) {
        /* at the end, so that the queues take turns */
        QSIMPLEQ_INSERT_TAIL(&p->runq, s, next);
        s->queued = true;
        p->runnable++;
        if (wake) {
            qemu_cond_signal(&p->cond);
        }
    }
}

static void *workers_thread(void *opaque)
{
    AmdkfdMcWorkerThread *t = opaque;
    AmdkfdMcWorkers *p = t->pool;

    qemu_mutex_lock(&p->lock);
    for (;;) {
        AmdkfdMcWork *w = workers_next(p);

        if (!w) {
            bool woken;

            if (p->stop) {
                break;
            }
            p->idle_threads++;
            woken = qemu_cond_timedwait(&p->cond, &p->lock,
                                        AMDKFD_MC_WORKER_IDLE_MS);
            p->idle_threads--;
            if (!woken && !p->runnable && p->nr_threads > p->min_threads) {
                break;
            }
            continue;
        }
        /*
         * More than this thread takes: hand it on, since this call may
         * block (a requeue by this thread woke nobody)
         */
        if (p->runnable && p->idle_threads) {
            qemu_cond_signal(&p->cond);
        }
        qemu_mutex_unlock(&p->lock);
        w->run(w);
        qemu_mutex_lock(&p->lock);
        if (w->serial) {
            w->serial->running = false;
            workers_requeue(p, w->serial, false);
        }
        /*
         * The bottom half takes everything on the list: schedule it only
         * for the first item, so that a context's run of commands costs
         * one main-loop wakeup, not one each
         */
        if (QSIMPLEQ_EMPTY(&p->done)) {
            qemu_bh_schedule(p->bh);
        }
        QSIMPLEQ_INSERT_TAIL(&p->done, w, next);
        if (--p->outstanding == 0) {
            qemu_cond_broadcast(&p->idle);
        }
    }
    p->nr_threads--;
    t->exited = true;
    qemu_mutex_unlock(&p->lock);
    return NULL;
}

void amdkfd_mc_workers_init(AmdkfdMcWorkers *p, const char *name,
                            unsigned min_threads, unsigned max_threads,
                            QEMUBH *bh)
{
    memset(p, 0, sizeof(*p));
    p->name = name;
    p->max_threads = MAX(max_threads, 1);
    p->min_threads = MIN(min_threads, p->max_threads);
    p->bh = bh;
    qemu_mutex_init(&p->lock);
    qemu_cond_init(&p->cond);
    qemu_cond_init(&p->idle);
    p->threads = g_new0(AmdkfdMcWorkerThread, p->max_threads);
    QSIMPLEQ_INIT(&p->runq);
    QSIMPLEQ_INIT(&p->loose);
    QSIMPLEQ_INIT(&p->done);
    QSIMPLEQ_INIT(&p->staged);
}

void amdkfd_mc_workers_destroy(AmdkfdMcWorkers *p)
{
    unsigned i;

    if (!p->threads) {
        return;
    }
    qemu_mutex_lock(&p->lock);
    assert(p->outstanding == 0 && QSIMPLEQ_EMPTY(&p->done) &&
           QSIMPLEQ_EMPTY(&p->staged));
    p->stop = true;
    qemu_cond_broadcast(&p->cond);
    qemu_mutex_unlock(&p->lock);
    for (i = 0; i < p->max_threads; i++) {
        if (p->threads[i].started) {
            qemu_thread_join(&p->threads[i].thread);
        }
    }
    g_free(p->threads);
    p->threads = NULL;
    qemu_cond_destroy(&p->idle);
    qemu_cond_destroy(&p->cond);
    qemu_mutex_destroy(&p->lock);
}

void amdkfd_mc_serial_init(AmdkfdMcSerial *s)
{
    QSIMPLEQ_INIT(&s->pending);
    s->running = false;
    s->queued = false;
}

/* Called with p->lock held: a slot for one thread more, or NULL */
static AmdkfdMcWorkerThread *workers_slot(AmdkfdMcWorkers *p)
{
    AmdkfdMcWorkerThread *t;
    unsigned i;

    for (i = 0; i < p->max_threads; i++) {
        t = &p->threads[i];
        if (!t->started) {
            return t;
        }
        if (t->exited) {
            /* it let go of the lock for good: this is no wait */
            qemu_thread_join(&t->thread);
            t->started = t->exited = false;
            return t;
        }
    }
    return NULL;
}

/* Called with p->lock held: hand @w to the threads */
static void workers_enqueue(AmdkfdMcWorkers *p, AmdkfdMcWork *w)
{
    p->outstanding++;
    if (w->serial) {
        QSIMPLEQ_INSERT_TAIL(&w->serial->pending, w, next);
        workers_requeue(p, w->serial, true);
    } else {
        QSIMPLEQ_INSERT_TAIL(&p->loose, w, next);
        p->runnable++;
        qemu_cond_signal(&p->cond);
    }
}

/*
 * Called with p->lock held: threads more while there is more to start
 * than idle threads to start it (a signalled thread counts as idle until
 * it runs, a new one as soon as it exists): work never waits for a
 * thread that another context's call is blocking.
 */
static void workers_grow(AmdkfdMcWorkers *p)
{
    unsigned added = 0;

    while (p->runnable > p->idle_threads + added &&
           p->nr_threads < p->max_threads) {
        AmdkfdMcWorkerThread *t = workers_slot(p);

        if (!t) {
            return;
        }
        t->pool = p;
        t->started = true;
        p->nr_threads++;
        added++;
        qemu_thread_create(&t->thread, p->name, workers_thread, t,
                           QEMU_THREAD_JOINABLE);
    }
}

void amdkfd_mc_work_submit(AmdkfdMcWorkers *p, AmdkfdMcWork *w)
{
    if (p->plugged) {
        QSIMPLEQ_INSERT_TAIL(&p->staged, w, next);
        return;
    }
    qemu_mutex_lock(&p->lock);
    workers_enqueue(p, w);
    workers_grow(p);
    qemu_mutex_unlock(&p->lock);
}

void amdkfd_mc_workers_plug(AmdkfdMcWorkers *p)
{
    p->plugged = true;
}

void amdkfd_mc_workers_unplug(AmdkfdMcWorkers *p)
{
    AmdkfdMcWork *w;

    p->plugged = false;
    if (QSIMPLEQ_EMPTY(&p->staged)) {
        return;
    }
    qemu_mutex_lock(&p->lock);
    while ((w = QSIMPLEQ_FIRST(&p->staged))) {
        QSIMPLEQ_REMOVE_HEAD(&p->staged, next);
        workers_enqueue(p, w);
    }
    workers_grow(p);
    qemu_mutex_unlock(&p->lock);
}

void amdkfd_mc_workers_drain(AmdkfdMcWorkers *p)
{
    /* a held item would never run: waiting for it would never end */
    amdkfd_mc_workers_unplug(p);
    qemu_mutex_lock(&p->lock);
    while (p->outstanding) {
        qemu_cond_wait(&p->idle, &p->lock);
    }
    qemu_mutex_unlock(&p->lock);
}

bool amdkfd_mc_workers_reap(AmdkfdMcWorkers *p)
{
    QSIMPLEQ_HEAD(, AmdkfdMcWork) done = QSIMPLEQ_HEAD_INITIALIZER(done);
    bool any = false;

    for (;;) {
        AmdkfdMcWork *w;

        /* all that is done, in one go: a run of commands takes one lock */
        qemu_mutex_lock(&p->lock);
        QSIMPLEQ_CONCAT(&done, &p->done);
        qemu_mutex_unlock(&p->lock);
        if (QSIMPLEQ_EMPTY(&done)) {
            return any;
        }
        while ((w = QSIMPLEQ_FIRST(&done))) {
            QSIMPLEQ_REMOVE_HEAD(&done, next);
            any = true;
            w->done(w);
        }
    }
}

unsigned amdkfd_mc_workers_threads(AmdkfdMcWorkers *p)
{
    unsigned n;

    qemu_mutex_lock(&p->lock);
    n = p->nr_threads;
    qemu_mutex_unlock(&p->lock);
    return n;
}
