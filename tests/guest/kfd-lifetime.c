/*
 * amdkfd-mc guest test helper: files and mappings that outlive the device
 *
 *   kfd-lifetime hold     open /dev/kfd, map a GTT buffer, write
 *                         /tmp/lt.ready, wait for /tmp/lt.go (the device
 *                         is removed meanwhile), then expect the mapping
 *                         to be revoked (SIGBUS), ioctls to fail with
 *                         ENODEV and close to work
 *   kfd-lifetime use      open, allocate, map, write and read back
 *   kfd-lifetime storm    threads that keep issuing ioctls (with payloads,
 *                         so DMA mappings), mmap/touch/munmap cycles, an
 *                         endless WAIT_EVENTS and open/close cycles; write
 *                         /tmp/lt.storm, and expect every thread to end
 *                         with an error within 10 s once the device is
 *                         removed (the script removes it)
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <time.h>
#include "kfdt.h"

static sigjmp_buf jb;

static void on_sigbus(int sig)
{
    siglongjmp(jb, 1);
}

static int use(void)
{
    KfdProc p;
    KfdBuf b;
    int ret = kfdt_open(&p);

    if (!ret) {
        ret = kfdt_buf_new(&p, 0x10000000, 4096, &b);
    }
    if (ret) {
        printf("kfd-lifetime: use: %s\n", strerror(-ret));
        return 1;
    }
    memset((void *)b.cpu, 0x3c, 4096);
    ret = b.cpu[4095] == 0x3c ? 0 : 1;
    printf("kfd-lifetime: use after re-probe: %s (guest ctx %#x)\n",
           ret ? "FAIL" : "ok", p.ctx_id);
    return ret;
}

static int hold(void)
{
    struct kfd_ioctl_get_version_args v = { 0 };
    volatile uint8_t x = 0;
    int ret, bad = 0;
    KfdProc p;
    KfdBuf b;
    FILE *f;

    ret = kfdt_open(&p);
    if (!ret) {
        ret = kfdt_buf_new(&p, 0x10000000, 4096, &b);
    }
    if (ret) {
        printf("kfd-lifetime: hold: %s\n", strerror(-ret));
        return 1;
    }
    memset((void *)b.cpu, 0x7e, 4096);
    f = fopen("/tmp/lt.ready", "w");
    if (f) {
        fclose(f);
    }
    while (access("/tmp/lt.go", F_OK)) {
        usleep(20000);
    }
    signal(SIGBUS, on_sigbus);
    if (!sigsetjmp(jb, 1)) {
        x = b.cpu[0];
        printf("kfd-lifetime: mapping still readable after removal (%#x)\n",
               x);
        bad++;
    } else {
        printf("kfd-lifetime: mapping revoked on removal (SIGBUS): ok\n");
    }
    ret = kfdt_ioctl(&p, AMDKFD_IOC_GET_VERSION, &v);
    printf("kfd-lifetime: ioctl after removal: %d (%s): %s\n", ret,
           strerror(-ret), ret == -ENODEV ? "ok" : "FAIL");
    bad += ret != -ENODEV;
    munmap((void *)b.cpu, 4096);
    ret = close(p.fd);
    printf("kfd-lifetime: close after removal: %d: %s\n", ret,
           ret ? "FAIL" : "ok");
    bad += ret != 0;
    return bad ? 1 : 0;
}

/* ---- storm ---- */

enum { S_IOCTL, S_IOCTL2, S_MAP, S_WAIT, S_OPEN, S_THREADS };
static const char *storm_name[S_THREADS] = {
    "ioctl loop", "ioctl loop", "mmap loop", "endless wait", "open loop",
};

typedef struct {
    KfdProc *p;
    uint32_t ev;
    int kind;
    volatile int done;
    int err;
    unsigned long n;
} Storm;

static __thread sigjmp_buf storm_jb;

static void storm_sigbus(int sig)
{
    siglongjmp(storm_jb, 1);
}

static void *storm_thread(void *opaque)
{
    struct kfd_ioctl_get_version_args v = { 0 };
    struct kfd_ioctl_get_clock_counters_args cc = { 0 };
    Storm *s = opaque;
    uint32_t result;
    volatile int ret = 0;

    cc.gpu_id = s->p->gpu_id;
    while (!ret) {
        s->n++;
        switch (s->kind) {
        case S_IOCTL:
            ret = kfdt_ioctl(s->p, AMDKFD_IOC_GET_VERSION, &v);
            break;
        case S_IOCTL2:
            ret = kfdt_ioctl(s->p, AMDKFD_IOC_GET_CLOCK_COUNTERS, &cc);
            break;
        case S_MAP: {
            KfdBuf b;

            ret = kfdt_buf_new(s->p, 0x40000000 + (s->n % 64) * 0x10000,
                               4096, &b);
            if (ret) {
                break;
            }
            if (sigsetjmp(storm_jb, 1)) {
                ret = -EFAULT;      /* revoked: SIGBUS */
            } else {
                b.cpu[0] = 1;
            }
            munmap((void *)b.cpu, 4096);
            kfdt_handle_free(s->p, b.handle);
            break;
        }
        case S_WAIT:
            ret = kfdt_event_wait(s->p, s->ev, 0xffffffff, &result);
            break;
        case S_OPEN: {
            int fd = open("/dev/kfd", O_RDWR | O_CLOEXEC);

            if (fd < 0) {
                ret = -errno;
            } else {
                close(fd);
            }
            break;
        }
        }
    }
    s->err = ret;
    s->done = 1;
    return NULL;
}

static int storm(void)
{
    static Storm st[S_THREADS];
    pthread_t th[S_THREADS];
    struct sigaction sa = { .sa_handler = storm_sigbus };
    struct timespec t0, t;
    KfdProc p;
    uint32_t ev;
    int i, ret, bad = 0;
    FILE *f;

    ret = kfdt_open(&p);
    if (!ret) {
        ret = kfdt_event_new(&p, KFD_IOC_EVENT_SIGNAL, &ev);
    }
    if (ret) {
        printf("kfd-lifetime: storm: %s\n", strerror(-ret));
        return 1;
    }
    sigaction(SIGBUS, &sa, NULL);
    for (i = 0; i < S_THREADS; i++) {
        st[i].p = &p;
        st[i].ev = ev;
        st[i].kind = i;
        pthread_create(&th[i], NULL, storm_thread, &st[i]);
    }
    usleep(300 * 1000);
    for (i = 0; i < S_THREADS; i++) {
        if (st[i].done) {
            printf("kfd-lifetime: storm: %s ended before the removal (%s): "
                   "FAIL\n", storm_name[i], strerror(-st[i].err));
            bad++;
        }
    }
    f = fopen("/tmp/lt.storm", "w");
    if (f) {
        fclose(f);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < S_THREADS; i++) {
        while (!st[i].done) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec > 30) {
                break;
            }
            usleep(10000);
        }
        printf("kfd-lifetime: storm: %s: %s after %lu rounds (%s)\n",
               storm_name[i], st[i].done ? "ended" : "STILL RUNNING",
               st[i].n, st[i].done ? strerror(-st[i].err) : "-");
        bad += !st[i].done;
    }
    for (i = 0; !bad && i < S_THREADS; i++) {
        pthread_join(th[i], NULL);
    }
    ret = close(p.fd);
    printf("kfd-lifetime: storm: close after removal: %d: %s\n", ret,
           ret ? "FAIL" : "ok");
    bad += ret != 0;
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && !strcmp(argv[1], "hold")) {
        return hold();
    }
    if (argc == 2 && !strcmp(argv[1], "use")) {
        return use();
    }
    if (argc == 2 && !strcmp(argv[1], "storm")) {
        return storm();
    }
    fprintf(stderr, "usage: kfd-lifetime hold|use|storm\n");
    return 2;
}
