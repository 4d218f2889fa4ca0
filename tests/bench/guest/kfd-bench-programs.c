/*
 * amdkfd-mc guest benchmark: guest programs through /dev/kfd (make bench)
 *
 *   kfd-bench-programs [SECONDS]
 *
 * One program issues GET_VERSION ioctls on its own /dev/kfd for SECONDS
 * (default 3), then four programs do at once.  Prints, as make bench's
 * other figures:
 *
 *   guest-programs-throughput: the four programs' ioctls per second
 *     together, and their ratio to one program's (goal >= 0.9: one ring
 *     and one driver shared by every program must not cost throughput)
 *   guest-programs-fairness: the largest distance of one program's count
 *     from the mean, as a fraction of the mean (goal <= 0.2)
 *
 * and detail lines with one program's round trip (median of timed
 * ioctls) and each program's count.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include "kfdt.h"

#define PROGRAMS    4
#define RTT_SAMPLES 2001

static double now(void)
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

/*
 * A program of its own (a child): open /dev/kfd, wait for the start
 * time, count ioctls until the end time; the count goes to @slot
 */
static void program(volatile uint64_t *slot, double start, double end)
{
    struct kfd_ioctl_get_version_args v;
    uint64_t n = 0;
    KfdProc p;

    if (kfdt_open(&p)) {
        _exit(1);
    }
    while (now() < start) {
        ;
    }
    while (now() < end) {
        if (kfdt_ioctl(&p, AMDKFD_IOC_GET_VERSION, &v)) {
            _exit(1);
        }
        n++;
    }
    *slot = n;
    _exit(0);
}

/* Counts of @n programs running at once for @secs; false on a failure */
static bool run(int n, double secs, volatile uint64_t *counts)
{
    double start = now() + 0.5, end = start + secs;
    int i, status, bad = 0;

    for (i = 0; i < n; i++) {
        pid_t pid = fork();

        if (pid == 0) {
            program(&counts[i], start, end);
        }
        bad += pid < 0;
    }
    for (i = 0; i < n; i++) {
        if (wait(&status) < 0 || !WIFEXITED(status) ||
            WEXITSTATUS(status)) {
            bad++;
        }
    }
    return !bad;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 3;
    volatile uint64_t *counts;
    double rtt[RTT_SAMPLES], one, all = 0, mean, spread = 0;
    struct kfd_ioctl_get_version_args v;
    KfdProc p;
    int i;

    if (secs <= 0 || secs > 60) {
        fprintf(stderr, "usage: kfd-bench-programs [SECONDS]\n");
        return 2;
    }
    counts = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (counts == MAP_FAILED || kfdt_open(&p)) {
        printf("guest-programs-throughput: unavailable (no /dev/kfd)\n");
        return 1;
    }
    for (i = 0; i < RTT_SAMPLES; i++) {
        double t0 = now();

        if (kfdt_ioctl(&p, AMDKFD_IOC_GET_VERSION, &v)) {
            printf("guest-programs-throughput: unavailable "
                   "(GET_VERSION failed)\n");
            return 1;
        }
        rtt[i] = (now() - t0) * 1e6;
    }
    close(p.fd);
    qsort(rtt, RTT_SAMPLES, sizeof(rtt[0]), cmp_double);

    if (!run(1, secs, counts)) {
        printf("guest-programs-throughput: unavailable (a program "
               "failed)\n");
        return 1;
    }
    one = counts[0] / secs;
    if (!run(PROGRAMS, secs, counts)) {
        printf("guest-programs-throughput: unavailable (a program "
               "failed)\n");
        return 1;
    }
    for (i = 0; i < PROGRAMS; i++) {
        all += counts[i];
    }
    mean = all / PROGRAMS;
    for (i = 0; i < PROGRAMS; i++) {
        spread = fmax(spread, fabs(counts[i] - mean) / fmax(mean, 1));
    }
    all /= secs;
    printf("guest-programs-throughput: %.0f ioctl/s from %d programs, %.0f "
           "from one (ratio %.2f)\n", all, PROGRAMS, one, all / one);
    printf("# guest-programs-throughput: GET_VERSION through the guest "
           "driver's /dev/kfd to backend=sim, %.0f s each, in a 2-vCPU TCG "
           "guest; one program's round trip %.1f us (median of %d); goal "
           "ratio >= 0.9%s\n", secs, rtt[RTT_SAMPLES / 2], RTT_SAMPLES,
           all / one < 0.9 ? " below goal" : "");
    printf("guest-programs-fairness: %.2f of the mean at most (ratio "
           "%.2f)\n", spread, spread);
    printf("# guest-programs-fairness: counts of the %d programs:",
           PROGRAMS);
    for (i = 0; i < PROGRAMS; i++) {
        printf(" %" PRIu64, counts[i]);
    }
    printf("; goal ratio <= 0.2%s\n", spread > 0.2 ? " below goal" : "");
    return 0;
}
