/*
 * amdkfd-mc: bounded worker pools with per-context serial queues
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "worker.h"

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

/* Called with p->lock held: put @s back in line if it has more work */
static void workers_requeue(AmdkfdMcWorkers *p, AmdkfdMcSerial *s)
{
    if (!s->running && !s->queued && !QSIMPLEQ_EMPTY(&s->pending)) {
        /* at the end, so that the queues take turns */
        QSIMPLEQ_INSERT_TAIL(&p->runq, s, next);
        s->queued = true;
        p->runnable++;
        qemu_cond_signal(&p->cond);
    }
}

static void *workers_thread(void *opaque)
{
    AmdkfdMcWorkers *p = opaque;

    qemu_mutex_lock(&p->lock);
    for (;;) {
        AmdkfdMcWork *w = workers_next(p);

        if (!w) {
            if (p->stop) {
                break;
            }
            p->idle_threads++;
            qemu_cond_wait(&p->cond, &p->lock);
            p->idle_threads--;
            continue;
        }
        qemu_mutex_unlock(&p->lock);
        w->run(w);
        qemu_mutex_lock(&p->lock);
        if (w->serial) {
            w->serial->running = false;
            workers_requeue(p, w->serial);
        }
        QSIMPLEQ_INSERT_TAIL(&p->done, w, next);
        if (--p->outstanding == 0) {
            qemu_cond_broadcast(&p->idle);
        }
        qemu_bh_schedule(p->bh);
    }
    qemu_mutex_unlock(&p->lock);
    return NULL;
}

void amdkfd_mc_workers_init(AmdkfdMcWorkers *p, const char *name,
                            unsigned max_threads, QEMUBH *bh)
{
    memset(p, 0, sizeof(*p));
    p->name = name;
    p->max_threads = MAX(max_threads, 1);
    p->bh = bh;
    qemu_mutex_init(&p->lock);
    qemu_cond_init(&p->cond);
    qemu_cond_init(&p->idle);
    p->threads = g_new0(QemuThread, p->max_threads);
    QSIMPLEQ_INIT(&p->runq);
    QSIMPLEQ_INIT(&p->loose);
    QSIMPLEQ_INIT(&p->done);
}

void amdkfd_mc_workers_destroy(AmdkfdMcWorkers *p)
{
    unsigned i;

    if (!p->threads) {
        return;
    }
    qemu_mutex_lock(&p->lock);
    assert(p->outstanding == 0 && QSIMPLEQ_EMPTY(&p->done));
    p->stop = true;
    qemu_cond_broadcast(&p->cond);
    qemu_mutex_unlock(&p->lock);
    for (i = 0; i < p->nr_threads; i++) {
        qemu_thread_join(&p->threads[i]);
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

void amdkfd_mc_work_submit(AmdkfdMcWorkers *p, AmdkfdMcWork *w)
{
    qemu_mutex_lock(&p->lock);
    p->outstanding++;
    if (w->serial) {
        QSIMPLEQ_INSERT_TAIL(&w->serial->pending, w, next);
        workers_requeue(p, w->serial);
    } else {
        QSIMPLEQ_INSERT_TAIL(&p->loose, w, next);
        p->runnable++;
        qemu_cond_signal(&p->cond);
    }
    /*
     * A thread more while there is more to start than idle threads to
     * start it (a signalled thread counts as idle until it runs) and the
     * bound allows it.
     */
    if (p->runnable > p->idle_threads && p->nr_threads < p->max_threads) {
        qemu_thread_create(&p->threads[p->nr_threads++], p->name,
                           workers_thread, p, QEMU_THREAD_JOINABLE);
    }
    qemu_mutex_unlock(&p->lock);
}

void amdkfd_mc_workers_drain(AmdkfdMcWorkers *p)
{
    qemu_mutex_lock(&p->lock);
    while (p->outstanding) {
        qemu_cond_wait(&p->idle, &p->lock);
    }
    qemu_mutex_unlock(&p->lock);
}

void amdkfd_mc_workers_reap(AmdkfdMcWorkers *p)
{
    for (;;) {
        AmdkfdMcWork *w;

        qemu_mutex_lock(&p->lock);
        w = QSIMPLEQ_FIRST(&p->done);
        if (w) {
            QSIMPLEQ_REMOVE_HEAD(&p->done, next);
        }
        qemu_mutex_unlock(&p->lock);
        if (!w) {
            return;
        }
        w->done(w);
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
