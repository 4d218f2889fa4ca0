/*
 * amdkfd-mc guest test: isolation of concurrent KFD programs (I1-I6)
 *
 *   kfd-isolation [-n WORKERS] [--legacy]
 *
 * Forks WORKERS (default 4, at least 2) processes that use /dev/kfd at
 * the same time, each through its own file (its own device context).
 * Each allocates GTT memory, maps it to the GPU and into the process,
 * creates an SDMA queue (ring and pointers in GTT objects, doorbell page
 * mmapped), runs LINEAR_COPY/FENCE/TRAP packets and uses events.  Then
 * every worker attacks the next one: it maps the victim's memory object,
 * signals its event, frees its memory handle and makes the GPU copy from
 * the victim's GPU virtual address.  On isolated contexts every attack
 * must fail (the DMA faults: memory event fires, destination untouched,
 * victim intact); with --legacy (the device's legacy-shared=on) the
 * attacks must be observed to succeed, which shows that the checks can
 * fail.  Finally worker 0 exits and the others must keep working (I6).
 *
 * Prints one line per property and "kfd-isolation: PASS" or "FAIL";
 * exits 0 on PASS.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include "kfdt.h"

#define MAX_WORKERS 16
#define SECRET_LEN  64
#define SENTINEL    0xAA

enum { I1, I2_EVENT, I2_HANDLE, I3, I4, I5, I6, NCHECK };
static const char *check_name[NCHECK] = {
    "I1 distinct backend contexts",
    "I2 event id of another program",
    "I2 memory handle of another program",
    "I3 GPU DMA from another program's VA",
    "I4 mmap of another program's memory",
    "I5 events of another program",
    "I6 others survive a program's exit",
};

/* Outcome of one check in one worker */
enum { R_NONE, R_ISOLATED, R_BREACH, R_SKIP, R_ERROR };

typedef struct {
    /* published by the worker after setup */
    uint32_t ctx_id, host_ctx_id, pasid, flags;
    uint64_t secret_va, secret_mmap;
    uint64_t target_handle;
    uint32_t target_ev;
    char secret[SECRET_LEN];
    int ready;
    int result[NCHECK];
    char why[NCHECK][96];
    int setup_error;
    char setup_why[160];
} Worker;

typedef struct {
    pthread_barrier_t bar;
    volatile int w0_gone;
    Worker w[MAX_WORKERS];
} Shared;

static Shared *sh;
static int nworkers = 4;
static bool legacy;

static void set_result(Worker *w, int k, int r, const char *fmt, ...)
{
    va_list ap;

    w->result[k] = r;
    va_start(ap, fmt);
    vsnprintf(w->why[k], sizeof(w->why[k]), fmt, ap);
    va_end(ap);
}

/* The event page (KFD_MMAP_TYPE_EVENTS) and where worker i marks it */
#define EVENT_PAGE_OFFSET (2ULL << 62)
#define EVENT_PAGE_MARK(i) (2048 + (i) * SECRET_LEN)

static uint64_t va_base(int i)
{
    return 0x10000000ULL * (i + 1);
}

static int own_dma(KfdQueue *q, KfdBuf *src, KfdBuf *dst, uint32_t off,
                   KfdProc *p, uint32_t ev, uint32_t seq, char *why)
{
    uint32_t wr = 99;
    int ret;

    kfdt_copy(q, src->va, dst->va + off, SECRET_LEN);
    kfdt_fence(q, q->ptrs.va + 64, seq);
    kfdt_trap(q, ev);
    kfdt_kick(q);
    /* The DMA engine runs after the doorbell: its TRAP says it is done */
    ret = kfdt_event_wait(p, ev, 5000, &wr);
    if (ret || wr != KFD_IOC_WAIT_RESULT_COMPLETE) {
        sprintf(why, "TRAP event: wait %d result %u", ret, wr);
        return -1;
    }
    if (memcmp((void *)(dst->cpu + off), (void *)src->cpu, SECRET_LEN)) {
        sprintf(why, "own LINEAR_COPY did not land");
        return -1;
    }
    if (*(volatile uint32_t *)(q->ptrs.cpu + 64) != seq ||
        kfdt_rptr(q) != q->wptr) {
        sprintf(why, "fence %#x rptr %llu wptr %llu",
                *(volatile uint32_t *)(q->ptrs.cpu + 64),
                (unsigned long long)kfdt_rptr(q),
                (unsigned long long)q->wptr);
        return -1;
    }
    return 0;
}

static bool in_list(const uint64_t *l, int n, uint64_t v)
{
    int i;

    for (i = 0; i < n; i++) {
        if (l[i] == v) {
            return true;
        }
    }
    return false;
}

#define SETUP_FAIL(...) do { \
        snprintf(me->setup_why, sizeof(me->setup_why), __VA_ARGS__); \
        me->setup_error = 1; \
        goto sync_fail; \
    } while (0)

static int worker(int i)
{
    Worker *me = &sh->w[i];
    int vi = (i + 1) % nworkers;
    Worker *v = &sh->w[vi];
    KfdBuf secret, dst, extra[MAX_WORKERS], target, q2buf;
    uint64_t own_events[MAX_WORKERS + 4], own_handles[MAX_WORKERS + 8];
    int n_ev = 0, n_h = 0, k, ret;
    uint32_t sig_ev, mem_ev, wr, id;
    struct kfd_ioctl_get_process_apertures_new_args ap = { 0 };
    struct kfd_process_device_apertures aps[4];
    KfdQueue q, q2;
    KfdProc p;
    char why[128];
    uint64_t base = va_base(i);
    void *m;

    (void)q2buf;
    alarm(120);
    ret = kfdt_open(&p);
    if (ret) {
        SETUP_FAIL("open/version/acquire_vm: %s", strerror(-ret));
    }
    me->ctx_id = p.ctx_id;
    me->host_ctx_id = p.host_ctx_id;
    me->pasid = p.pasid;
    me->flags = p.flags;

    /* apertures: count, then records */
    ret = kfdt_ioctl(&p, AMDKFD_IOC_GET_PROCESS_APERTURES_NEW, &ap);
    if (ret || ap.num_of_nodes < 1) {
        SETUP_FAIL("apertures count: %d n=%u", ret, ap.num_of_nodes);
    }
    ap.num_of_nodes = 4;
    ap.kfd_process_device_apertures_ptr = (uintptr_t)aps;
    ret = kfdt_ioctl(&p, AMDKFD_IOC_GET_PROCESS_APERTURES_NEW, &ap);
    if (ret || aps[0].gpu_id != p.gpu_id ||
        ap.kfd_process_device_apertures_ptr != (uintptr_t)aps) {
        SETUP_FAIL("apertures: %d gpu_id %u", ret, aps[0].gpu_id);
    }

    /* events: own signal, i extra, the target; a memory event */
    ret = kfdt_event_new(&p, KFD_IOC_EVENT_SIGNAL, &sig_ev);
    own_events[n_ev++] = sig_ev;
    for (k = 0; !ret && k < i; k++) {
        ret = kfdt_event_new(&p, KFD_IOC_EVENT_SIGNAL, &id);
        own_events[n_ev++] = id;
    }
    if (!ret) {
        ret = kfdt_event_new(&p, KFD_IOC_EVENT_SIGNAL, &me->target_ev);
        own_events[n_ev++] = me->target_ev;
    }
    if (!ret) {
        ret = kfdt_event_new(&p, KFD_IOC_EVENT_MEMORY, &mem_ev);
        own_events[n_ev++] = mem_ev;
    }
    if (ret) {
        SETUP_FAIL("create event: %s", strerror(-ret));
    }
    ret = kfdt_event_set(&p, sig_ev);
    if (!ret) {
        ret = kfdt_event_wait(&p, sig_ev, 1000, &wr);
    }
    if (ret || wr != KFD_IOC_WAIT_RESULT_COMPLETE) {
        SETUP_FAIL("set/wait own event: %d result %u", ret, wr);
    }

    /* memory: the queue, secret, destination, i extra, the target (so
     * that the next worker's target handle is not one of mine) */
    ret = kfdt_queue_new(&p, base + 0x100000, &q);
    if (ret) {
        SETUP_FAIL("SDMA queue: %s", strerror(-ret));
    }
    own_handles[n_h++] = q.ring.handle;
    own_handles[n_h++] = q.ptrs.handle;
    ret = kfdt_buf_new(&p, base, 4096, &secret);
    own_handles[n_h++] = secret.handle;
    if (!ret) {
        ret = kfdt_buf_new(&p, base + 0x10000, 4096, &dst);
        own_handles[n_h++] = dst.handle;
    }
    for (k = 0; !ret && k < i; k++) {
        ret = kfdt_buf_new(&p, base + 0x20000 + k * 0x1000, 4096, &extra[k]);
        own_handles[n_h++] = extra[k].handle;
    }
    if (!ret) {
        ret = kfdt_buf_new(&p, base + 0x40000, 4096, &target);
        own_handles[n_h++] = target.handle;
    }
    if (ret) {
        SETUP_FAIL("GTT alloc/map/mmap: %s", strerror(-ret));
    }

    snprintf(me->secret, sizeof(me->secret), "secret of worker %d, pid %d, %08lx",
             i, (int)getpid(), (long)random());
    memcpy((void *)secret.cpu, me->secret, SECRET_LEN);
    memset((void *)dst.cpu, SENTINEL, 4096);
    if (own_dma(&q, &secret, &dst, 2048, &p, sig_ev, 0x600d, why)) {
        SETUP_FAIL("%s", why);
    }
    /* My secret in my event page too (a page per KFD process) */
    m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, p.fd,
             EVENT_PAGE_OFFSET);
    if (m == MAP_FAILED) {
        SETUP_FAIL("event page mmap: %s", strerror(errno));
    }
    memcpy((char *)m + EVENT_PAGE_MARK(i), me->secret, SECRET_LEN);
    munmap(m, 4096);
    me->secret_va = secret.va;
    me->secret_mmap = secret.mmap_offset;
    me->target_handle = target.handle;
    me->ready = 1;

sync_fail:
    pthread_barrier_wait(&sh->bar);             /* B1: all set up */
    if (me->setup_error || !v->ready) {
        pthread_barrier_wait(&sh->bar);
        pthread_barrier_wait(&sh->bar);
        return 1;
    }

    /* ---- attacks on the victim ---- */
    /*
     * I4: map the victim's object through my own file (the device takes
     * only offsets of objects this context allocated, whatever the host),
     * then "the" event page: mine, unless all programs share one KFD
     * process, when the victim's mark shows.
     */
    m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, p.fd, v->secret_mmap);
    if (m != MAP_FAILED && !memcmp(m, v->secret, SECRET_LEN)) {
        set_result(me, I4, R_BREACH, "read \"%.40s\" through its object",
                   (char *)m);
    } else if (m != MAP_FAILED) {
        set_result(me, I4, R_ERROR, "its object's offset mapped something");
    } else {
        int err = errno;
        char *ep = mmap(NULL, 4096, PROT_READ, MAP_SHARED, p.fd,
                        EVENT_PAGE_OFFSET);

        if (ep == MAP_FAILED) {
            set_result(me, I4, R_ERROR, "my event page: %s", strerror(errno));
        } else if (!memcmp(ep + EVENT_PAGE_MARK(vi),
                           v->secret, SECRET_LEN)) {
            set_result(me, I4, R_BREACH,
                       "object refused (%s), read \"%.40s\" in the event "
                       "page", strerror(err),
                       ep + EVENT_PAGE_MARK(vi));
        } else {
            set_result(me, I4, R_ISOLATED,
                       "object refused (%s), event page is my own",
                       strerror(err));
        }
        if (ep != MAP_FAILED) {
            munmap(ep, 4096);
        }
    }
    if (m != MAP_FAILED) {
        munmap(m, 4096);
    }

    /* I2: the victim's event id and memory handle */
    if (in_list(own_events, n_ev, v->target_ev)) {
        set_result(me, I2_EVENT, R_SKIP, "id %u is also mine", v->target_ev);
    } else {
        ret = kfdt_event_set(&p, v->target_ev);
        set_result(me, I2_EVENT, ret == -EINVAL ? R_ISOLATED :
                   ret == 0 ? R_BREACH : R_ERROR,
                   "SET_EVENT(%u) = %d", v->target_ev, ret);
    }
    if (in_list(own_handles, n_h, v->target_handle)) {
        set_result(me, I2_HANDLE, R_SKIP, "handle %#llx is also mine",
                   (unsigned long long)v->target_handle);
    } else {
        ret = kfdt_handle_free(&p, v->target_handle);
        set_result(me, I2_HANDLE, ret == -EINVAL ? R_ISOLATED :
                   ret == 0 ? R_BREACH : R_ERROR,
                   "UNMAP_MEMORY_FROM_GPU+FREE_MEMORY_OF_GPU(%#llx) = %d",
                   (unsigned long long)v->target_handle, ret);
    }

    /* I3: make the GPU copy from the victim's VA into my buffer */
    kfdt_copy(&q, v->secret_va, dst.va, SECRET_LEN);
    kfdt_fence(&q, q.ptrs.va + 128, 0xbad);
    kfdt_kick(&q);
    /* Until the copy ran (the fence landed) or faulted (memory event) */
    ret = kfdt_settle(&p, q.ptrs.cpu + 128, 0xbad, mem_ev, 5000, &wr);
    ret = ret == 1 ? 0 : ret ? ret : -EAGAIN;
    if (!memcmp((void *)dst.cpu, v->secret, SECRET_LEN)) {
        set_result(me, I3, R_BREACH, "copied \"%.40s\"", (char *)dst.cpu);
    } else {
        bool untouched = true;

        for (k = 0; k < SECRET_LEN; k++) {
            untouched &= dst.cpu[k] == SENTINEL;
        }
        if (!ret && wr == KFD_IOC_WAIT_RESULT_COMPLETE && untouched &&
            *(volatile uint32_t *)(q.ptrs.cpu + 128) != 0xbad) {
            set_result(me, I3, R_ISOLATED,
                       "VM fault: memory event fired, destination untouched");
        } else {
            set_result(me, I3, R_ERROR,
                       "memory event %d/%u, untouched %d, fence %#x", ret, wr,
                       untouched, *(volatile uint32_t *)(q.ptrs.cpu + 128));
        }
    }
    pthread_barrier_wait(&sh->bar);             /* B2: attacks done */

    /* ---- as a victim: was anything of mine touched? ---- */
    ret = kfdt_event_wait(&p, me->target_ev, 0, &wr);
    if (ret) {
        set_result(me, I5, R_ERROR, "WAIT_EVENTS = %d", ret);
    } else {
        set_result(me, I5, wr == KFD_IOC_WAIT_RESULT_TIMEOUT ? R_ISOLATED :
                   R_BREACH, wr == KFD_IOC_WAIT_RESULT_TIMEOUT ?
                   "my event stayed unsignalled" :
                   "my event was signalled by another program");
    }
    ret = kfdt_buf_free(&p, &target);
    if (ret && sh->w[(i + nworkers - 1) % nworkers].result[I2_HANDLE] ==
        R_BREACH) {
        /* freed by the attacker: recorded there */
    } else if (ret) {
        set_result(me, I2_HANDLE, R_ERROR, "freeing my own target: %d", ret);
    }
    if (memcmp((void *)secret.cpu, me->secret, SECRET_LEN)) {
        set_result(me, I3, R_ERROR, "my secret was changed");
    }
    pthread_barrier_wait(&sh->bar);             /* B3: checks done */

    /* ---- I6: worker 0 exits, the others keep working ---- */
    if (i == 0) {
        return 0;
    }
    while (!sh->w0_gone) {
        usleep(10000);
    }
    ret = kfdt_queue_new(&p, base + 0x200000, &q2);
    if (!ret) {
        memcpy((void *)secret.cpu, "still alive after worker 0 exited",
               34);
        memset((void *)dst.cpu, SENTINEL, 4096);
        ret = own_dma(&q2, &secret, &dst, 1024, &p, sig_ev, 0x1234, why);
        set_result(me, I6, ret ? R_ERROR : R_ISOLATED, "%s",
                   ret ? why : "new queue, DMA and events work");
    } else {
        set_result(me, I6, R_ERROR, "new queue: %s", strerror(-ret));
    }
    close(p.fd);
    return 0;
}

static const char *rname(int r)
{
    static const char *n[] = { "-", "isolated", "BREACH", "skipped",
                               "ERROR" };
    return n[r];
}

int main(int argc, char **argv)
{
    pthread_barrierattr_t ba;
    pid_t pids[MAX_WORKERS];
    int i, k, failed = 0, status;
    bool distinct = true, shared = true;
    struct timespec t0, t1;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--legacy")) {
            legacy = true;
        } else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
            nworkers = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: %s [-n WORKERS] [--legacy]\n", argv[0]);
            return 2;
        }
    }
    if (nworkers < 2 || nworkers > MAX_WORKERS) {
        fprintf(stderr, "kfd-isolation: 2..%d workers\n", MAX_WORKERS);
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    pthread_barrierattr_init(&ba);
    pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
    pthread_barrier_init(&sh->bar, &ba, nworkers);

    for (i = 0; i < nworkers; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            srandom(getpid() * 7919 + i);
            _exit(worker(i));
        }
    }
    /* I6: worker 0 exits after the checks; its context must go */
    waitpid(pids[0], &status, 0);
    if (kfdt_ctx_listed(pids[0])) {
        set_result(&sh->w[0], I6, R_ERROR, "context of pid %d still listed",
                   pids[0]);
    } else {
        set_result(&sh->w[0], I6, R_ISOLATED, "exited, context destroyed");
    }
    sh->w0_gone = 1;
    for (i = 1; i < nworkers; i++) {
        waitpid(pids[i], &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status)) {
            printf("kfd-isolation: worker %d exited with status %#x\n", i,
                   status);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);

    printf("kfd-isolation: %d concurrent programs, %s mode\n", nworkers,
           legacy ? "legacy-shared" : "isolated");
    for (i = 0; i < nworkers; i++) {
        Worker *w = &sh->w[i];

        if (w->setup_error) {
            printf("  worker %d: SETUP FAILED: %s\n", i, w->setup_why);
            failed++;
            continue;
        }
        printf("  worker %d: guest ctx %#x -> host ctx %#x pasid %u%s%s\n",
               i, w->ctx_id, w->host_ctx_id, w->pasid,
               w->flags & AMDKFD_MC_CTX_SECONDARY ? " (secondary)" : "",
               w->flags & AMDKFD_MC_CTX_SHARED ? " (SHARED)" : "");
        for (k = 0; k < i; k++) {
            if (sh->w[k].host_ctx_id == w->host_ctx_id ||
                sh->w[k].pasid == w->pasid) {
                distinct = false;
            }
        }
        if (!(w->flags & AMDKFD_MC_CTX_SHARED)) {
            shared = false;
        }
    }
    if (failed) {
        printf("kfd-isolation: FAIL (setup)\n");
        return 1;
    }
    for (i = 0; i < nworkers; i++) {
        set_result(&sh->w[i], I1, distinct ? R_ISOLATED : R_BREACH,
                   distinct ? "host context and PASID unique" :
                   shared ? "all programs share one host context" :
                   "host contexts collide");
    }

    for (k = 0; k < NCHECK; k++) {
        int n[5] = { 0 }, ok;

        for (i = 0; i < nworkers; i++) {
            n[sh->w[i].result[k]]++;
        }
        if (legacy) {
            /* The control: the attacks must be seen to work */
            ok = (k == I1 || k == I3 || k == I4) ?
                 n[R_BREACH] == nworkers : !n[R_ERROR];
        } else {
            ok = !n[R_BREACH] && !n[R_ERROR] && !n[R_NONE] &&
                 n[R_ISOLATED] > 0;
        }
        printf("%s %-40s isolated %d, breach %d, skipped %d, error %d\n",
               ok ? "PASS" : "FAIL", check_name[k], n[R_ISOLATED],
               n[R_BREACH], n[R_SKIP], n[R_ERROR]);
        for (i = 0; i < nworkers; i++) {
            if (sh->w[i].result[k] != R_NONE) {
                printf("       worker %d: %s: %s\n", i,
                       rname(sh->w[i].result[k]), sh->w[i].why[k]);
            }
        }
        failed += !ok;
    }
    printf("kfd-isolation: %s (%s mode, %.2f s)\n", failed ? "FAIL" : "PASS",
           legacy ? "legacy-shared: breach observed is the expected result" :
           "isolated", (t1.tv_sec - t0.tv_sec) +
           (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return failed ? 1 : 0;
}
