/*
 * Guest side of the window-bandwidth benchmark (make bench): CPU write
 * bandwidth into a KFD memory object mapped through the amdkfd-mc window
 * (mmap of /dev/kfd) vs. into ordinary process memory (malloc), same
 * program, same run, alternating passes.  Zero copy means the window is
 * plain RAM to the CPU, so the ratio should be close to 1; a trapped
 * (MMIO) window would be orders of magnitude slower.
 *
 *   kfd-bench-window [MIB [REPS]]
 *
 * Prints "window-bandwidth: V MB/s (ratio R)" and detail lines "# ...".
 * Exits non-zero only if the buffers cannot be set up or read back wrong.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <time.h>
#include "kfdt.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * 64-bit stores, 4 per iteration; returns MB/s.  volatile: every store must
 * really reach memory, or the compiler could drop the timed work.
 */
static double store_pass(volatile uint64_t *p, size_t bytes, uint64_t v)
{
    size_t n = bytes / 8, i;
    double t0 = now_s();

    for (i = 0; i < n; i += 4) {
        p[i] = v;
        p[i + 1] = v;
        p[i + 2] = v;
        p[i + 3] = v;
    }
    return bytes / 1e6 / (now_s() - t0);
}

static double memset_pass(void *p, size_t bytes, int c)
{
    double t0 = now_s();

    memset(p, c, bytes);
    __asm__ volatile("" : : "r"(p) : "memory");
    return bytes / 1e6 / (now_s() - t0);
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 32;
    int reps = argc > 2 ? atoi(argv[2]) : 7;
    size_t bytes = mib << 20, i;
    double *st_win, *st_ram, *ms_win, *ms_ram, w, r, mw, mr;
    KfdProc p;
    KfdBuf b;
    uint64_t *ram;
    int ret, k;

    if (reps < 1 || reps > 99 || !mib) {
        fprintf(stderr, "usage: kfd-bench-window [MIB [REPS]]\n");
        return 2;
    }
    ret = kfdt_open(&p);
    if (ret) {
        fprintf(stderr, "kfd-bench-window: open /dev/kfd: %s\n",
                strerror(-ret));
        return 1;
    }
    ret = kfdt_buf_new(&p, 0x100000000ULL, bytes, &b);
    if (ret) {
        fprintf(stderr, "kfd-bench-window: %zu MiB GTT object: %s\n", mib,
                strerror(-ret));
        return 1;
    }
    ram = aligned_alloc(4096, bytes);
    if (!ram) {
        fprintf(stderr, "kfd-bench-window: malloc failed\n");
        return 1;
    }
    st_win = calloc(4 * reps, sizeof(double));
    st_ram = st_win + reps;
    ms_win = st_ram + reps;
    ms_ram = ms_win + reps;

    /* Fault every page in first: only steady-state stores are timed */
    memset((void *)b.cpu, 0, bytes);
    memset(ram, 0, bytes);
    for (k = 0; k < reps; k++) {
        /* volatile: see store_pass() */
        st_win[k] = store_pass((volatile uint64_t *)b.cpu, bytes, k + 1);
        st_ram[k] = store_pass(ram, bytes, k + 1);
        ms_win[k] = memset_pass((void *)b.cpu, bytes, k + 1);
        ms_ram[k] = memset_pass(ram, bytes, k + 1);
    }
    /* The stores must have reached the object */
    for (i = 0; i < bytes; i += 4096) {
        if (b.cpu[i] != (uint8_t)reps) {
            fprintf(stderr, "kfd-bench-window: byte %zu reads %u, not %u\n",
                    i, b.cpu[i], reps);
            return 1;
        }
    }
    w = median(st_win, reps);
    r = median(st_ram, reps);
    mw = median(ms_win, reps);
    mr = median(ms_ram, reps);
    printf("window-bandwidth: %.0f MB/s (ratio %.3f)\n", w, w / r);
    printf("# window-bandwidth: 64-bit stores, %zu MiB, median of %d: "
           "window %.0f MB/s, malloc %.0f MB/s; goal ratio >= 0.9\n",
           mib, reps, w, r);
    printf("# window-bandwidth: memset: window %.0f MB/s, malloc %.0f MB/s "
           "(ratio %.3f)\n", mw, mr, mw / mr);
    kfdt_buf_free(&p, &b);
    close(p.fd);
    return 0;
}
