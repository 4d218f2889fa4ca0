/*
 * amdkfd-mc guest test: one busy program cannot starve the others
 *
 *   kfd-fair [-u UID] [-v UID] contexts|inflight|share
 *
 * Runs as unprivileged users (root drops to -u, default 65534, for the
 * busy program "hog" and to -v, default 65533, for the bystander).
 *
 *   contexts  the hog opens /dev/kfd until it fails; the bystander must
 *             still get a context
 *   inflight  the hog blocks THREADS threads in WAIT_EVENTS (more than the
 *             device's ring holds); the bystander's ioctls and mmap must
 *             still complete within a second or two, and the hog's own
 *             munmap (teardown) and SET_EVENT (signalling its waiters)
 *             must not wait behind its waiters
 *   share     four programs issue ioctls at once for a while: prints each
 *             one's count and the spread (issue 16's fairness figure);
 *             fails only when a program got nothing done at all: under
 *             TCG on a loaded host, how the vCPUs are scheduled alone
 *             spreads the counts from 10 % to 180 % of the mean
 *
 * Prints "kfd-fair: MODE: PASS" (exit 0) or "FAIL" (exit 1).
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include "kfdt.h"

#define THREADS     270         /* more than the old driver's 255 slots */
#define WAIT_MS     6000        /* the waits end by themselves, at worst */
#define SLOW_S      2.0         /* a bystander this slow is starved */
#define MAX_FILES   4096

static uint32_t gpu_id;
static int failed;

static void check(bool ok, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void check(bool ok, const char *fmt, ...)
{
    va_list ap;

    printf("kfd-fair: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf(": %s\n", ok ? "ok" : "FAIL");
    failed += !ok;
}

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void drop_to(uid_t uid)
{
    if (getuid() == 0 &&
        (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
         setresuid(uid, uid, uid))) {
        printf("kfd-fair: setup: dropping privileges: %s\n",
               strerror(errno));
        exit(2);
    }
}

static int kfd_open(KfdProc *p)
{
    struct kfd_ioctl_acquire_vm_args vm = { .gpu_id = gpu_id };

    memset(p, 0, sizeof(*p));
    p->pid = getpid();
    p->gpu_id = gpu_id;
    p->fd = open("/dev/kfd", O_RDWR | O_CLOEXEC);
    if (p->fd < 0) {
        return -errno;
    }
    return kfdt_ioctl(p, AMDKFD_IOC_ACQUIRE_VM, &vm);
}

/* A child process as @uid running @fn; returns its pid */
static pid_t spawn(uid_t uid, int (*fn)(void *), void *arg)
{
    pid_t pid = fork();

    if (pid == 0) {
        drop_to(uid);
        alarm(60);
        _exit(fn(arg));
    }
    return pid;
}

static int reap(pid_t pid)
{
    int st;

    if (waitpid(pid, &st, 0) < 0) {
        return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- contexts ---- */

static int sync_pipe[2][2];

static void signal_pipe(int i)
{
    char c = 1;

    if (write(sync_pipe[i][1], &c, 1) != 1) {
        exit(2);
    }
}

static void await_pipe(int i)
{
    char c;

    if (read(sync_pipe[i][0], &c, 1) != 1) {
        exit(2);
    }
}

static int hog_contexts(void *arg)
{
    static int fds[MAX_FILES];
    int n, err = 0;

    for (n = 0; n < MAX_FILES; n++) {
        fds[n] = open("/dev/kfd", O_RDWR | O_CLOEXEC);
        if (fds[n] < 0) {
            err = errno;
            break;
        }
    }
    printf("kfd-fair: contexts: the hog got %d contexts, then %s\n", n,
           err ? strerror(err) : "stopped");
    signal_pipe(0);
    await_pipe(1);
    while (n--) {
        close(fds[n]);
    }
    return 0;
}

static int bystander_open(void *arg)
{
    struct kfd_ioctl_get_version_args v = { 0 };
    KfdProc p;
    int ret;

    await_pipe(0);
    ret = kfd_open(&p);
    if (!ret) {
        ret = kfdt_ioctl(&p, AMDKFD_IOC_GET_VERSION, &v);
    }
    check(!ret, "contexts: the bystander still gets a context (%s)",
          ret ? strerror(-ret) : "opened");
    signal_pipe(1);
    return failed;
}

static void mode_contexts(uid_t uid, uid_t vuid)
{
    pid_t h, b;

    if (pipe(sync_pipe[0]) || pipe(sync_pipe[1])) {
        exit(2);
    }
    h = spawn(uid, hog_contexts, NULL);
    b = spawn(vuid, bystander_open, NULL);
    failed += reap(b) != 0;
    failed += reap(h) != 0;
}

/* ---- inflight ---- */

typedef struct {
    KfdProc *p;
    uint32_t ev;
    int ret;
    uint32_t result;
} Waiter;

static void *waiter(void *opaque)
{
    Waiter *w = opaque;

    w->ret = kfdt_event_wait(w->p, w->ev, WAIT_MS, &w->result);
    return NULL;
}

static int bystander_ioctls(void *arg)
{
    struct kfd_ioctl_get_version_args v = { 0 };
    struct kfd_ioctl_alloc_memory_of_gpu_args a = {
        .va_addr = 0x10000000, .size = 4096, .gpu_id = gpu_id,
        .flags = KFD_IOC_ALLOC_MEM_FLAGS_GTT |
                 KFD_IOC_ALLOC_MEM_FLAGS_WRITABLE,
    };
    struct kfd_ioctl_free_memory_of_gpu_args f = { 0 };
    double t0, t;
    KfdProc p;
    void *cpu;
    int i, ret;

    await_pipe(0);
    t0 = now();
    ret = kfd_open(&p);
    for (i = 0; !ret && i < 10; i++) {
        ret = kfdt_ioctl(&p, AMDKFD_IOC_GET_VERSION, &v);
    }
    if (!ret) {
        ret = kfdt_ioctl(&p, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, &a);
    }
    if (!ret) {
        cpu = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, p.fd,
                   a.mmap_offset);
        if (cpu == MAP_FAILED) {
            ret = -errno;
        } else {
            memset(cpu, 1, 4096);
            munmap(cpu, 4096);
        }
        f.handle = a.handle;
        kfdt_ioctl(&p, AMDKFD_IOC_FREE_MEMORY_OF_GPU, &f);
    }
    close(p.fd);
    t = now() - t0;
    check(!ret && t < SLOW_S,
          "inflight: the bystander's open, 10 ioctls, alloc, mmap and close "
          "(%s) took %.2f s", ret ? strerror(-ret) : "ok", t);
    signal_pipe(1);
    return failed;
}

static int hog_waits(void *arg)
{
    static Waiter w[THREADS];
    static pthread_t th[THREADS];
    struct kfd_ioctl_alloc_memory_of_gpu_args a = {
        .va_addr = 0x10000000, .size = 4096, .gpu_id = gpu_id,
        .flags = KFD_IOC_ALLOC_MEM_FLAGS_GTT |
                 KFD_IOC_ALLOC_MEM_FLAGS_WRITABLE,
    };
    struct kfd_ioctl_create_event_args ce = {
        .event_type = KFD_IOC_EVENT_SIGNAL, .auto_reset = 0,
    };
    int i, n, ok = 0, tmo = 0, nomem = 0, other = 0;
    pthread_attr_t attr;
    double t0, t;
    KfdProc p;
    void *cpu;
    int ret;

    ret = kfd_open(&p);
    if (!ret) {
        ret = kfdt_ioctl(&p, AMDKFD_IOC_CREATE_EVENT, &ce);
    }
    if (!ret) {
        ret = kfdt_ioctl(&p, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, &a);
    }
    if (ret) {
        printf("kfd-fair: inflight: hog setup: %s\n", strerror(-ret));
        signal_pipe(0);
        return 2;
    }
    cpu = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, p.fd,
               a.mmap_offset);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (n = 0; n < THREADS; n++) {
        w[n].p = &p;
        w[n].ev = ce.event_id;
        if (pthread_create(&th[n], &attr, waiter, &w[n])) {
            break;
        }
    }
    /* Let them all block */
    usleep(1500 * 1000);
    signal_pipe(0);
    await_pipe(1);

    /* Teardown of the hog itself must not wait behind its waits */
    t0 = now();
    if (cpu != MAP_FAILED) {
        munmap(cpu, 4096);
    }
    t = now() - t0;
    check(cpu != MAP_FAILED && t < SLOW_S,
          "inflight: the hog's munmap with %d waiters took %.2f s", n, t);
    /* Nor the signal that ends them */
    t0 = now();
    ret = kfdt_event_set(&p, ce.event_id);
    t = now() - t0;
    check(!ret && t < SLOW_S, "inflight: the hog's SET_EVENT (%s) took %.2f s",
          ret ? strerror(-ret) : "ok", t);
    for (i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        if (!w[i].ret && w[i].result == KFD_IOC_WAIT_RESULT_COMPLETE) {
            ok++;
        } else if (!w[i].ret) {
            tmo++;
        } else if (w[i].ret == -ENOSPC) {
            nomem++;
        } else {
            other++;
        }
    }
    printf("kfd-fair: inflight: the hog's %d waits: %d signalled, %d timed "
           "out, %d refused (ENOSPC: a device limit), %d other errors\n", n,
           ok, tmo, nomem, other);
    check(!other, "inflight: no wait failed otherwise");
    close(p.fd);
    return failed;
}

static void mode_inflight(uid_t uid, uid_t vuid)
{
    pid_t h, b;

    if (pipe(sync_pipe[0]) || pipe(sync_pipe[1])) {
        exit(2);
    }
    h = spawn(uid, hog_waits, NULL);
    b = spawn(vuid, bystander_ioctls, NULL);
    failed += reap(b) != 0;
    failed += reap(h) != 0;
}

/* ---- share ---- */

#define SHARE_PROGS 4
#define SHARE_S     1.5

static volatile uint64_t *share_counts;

static int share_prog(void *arg)
{
    struct kfd_ioctl_get_version_args v = { 0 };
    int i = (int)(intptr_t)arg;
    uint64_t n = 0;
    double t0;
    KfdProc p;

    if (kfd_open(&p)) {
        return 2;
    }
    await_pipe(0);
    t0 = now();
    while (now() - t0 < SHARE_S) {
        if (kfdt_ioctl(&p, AMDKFD_IOC_GET_VERSION, &v)) {
            return 2;
        }
        n++;
    }
    share_counts[i] = n;
    return 0;
}

static void mode_share(uid_t uid)
{
    pid_t pid[SHARE_PROGS];
    double mean = 0, lo, hi;
    int i;
    char c[SHARE_PROGS] = { 0 };

    share_counts = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (share_counts == MAP_FAILED || pipe(sync_pipe[0])) {
        exit(2);
    }
    for (i = 0; i < SHARE_PROGS; i++) {
        pid[i] = spawn(uid - i, share_prog, (void *)(intptr_t)i);
    }
    usleep(300 * 1000);
    if (write(sync_pipe[0][1], c, SHARE_PROGS) != SHARE_PROGS) {
        exit(2);
    }
    for (i = 0; i < SHARE_PROGS; i++) {
        failed += reap(pid[i]) != 0;
        mean += share_counts[i];
    }
    mean /= SHARE_PROGS;
    lo = hi = share_counts[0];
    printf("kfd-fair: share: ioctls in %.1f s:", SHARE_S);
    for (i = 0; i < SHARE_PROGS; i++) {
        printf(" %llu", (unsigned long long)share_counts[i]);
        lo = share_counts[i] < lo ? share_counts[i] : lo;
        hi = share_counts[i] > hi ? share_counts[i] : hi;
    }
    printf(" (mean %.0f, min %.0f%%, max %.0f%% of the mean)\n", mean,
           mean ? 100 * lo / mean : 0, mean ? 100 * hi / mean : 0);
    check(lo > 0, "share: every program got ioctls done");
}

int main(int argc, char **argv)
{
    uid_t uid = 65534, vuid = 65533;
    const char *mode;
    int opt;

    setvbuf(stdout, NULL, _IOLBF, 0);
    while ((opt = getopt(argc, argv, "u:v:")) != -1) {
        switch (opt) {
        case 'u':
            uid = atoi(optarg);
            break;
        case 'v':
            vuid = atoi(optarg);
            break;
        default:
            goto usage;
        }
    }
    if (optind + 1 != argc) {
        goto usage;
    }
    mode = argv[optind];
    gpu_id = kfdt_first_gpu_id();
    if (!gpu_id) {
        printf("kfd-fair: setup: no GPU node\n");
        return 2;
    }
    if (!strcmp(mode, "contexts")) {
        mode_contexts(uid, vuid);
    } else if (!strcmp(mode, "inflight")) {
        mode_inflight(uid, vuid);
    } else if (!strcmp(mode, "share")) {
        mode_share(uid);
    } else {
        goto usage;
    }
    printf("kfd-fair: %s: %s\n", mode, failed ? "FAIL" : "PASS");
    return failed ? 1 : 0;

usage:
    fprintf(stderr, "usage: kfd-fair [-u UID] [-v UID] "
            "contexts|inflight|share\n");
    return 2;
}
