/*
 * hip-probe: what HIP (Debian bookworm's unmodified libamdhip64-5, 5.2.3)
 * does on amdkfd-mc's sim backend.
 *
 * hipGetDeviceCount, hipGetDeviceProperties, hipMalloc and hipFree must
 * work.  hipMemcpy needs kernel execution in this HIP (its blit kernels
 * run on an AQL queue), which the sim cannot do: the queue stops with an
 * error instead of hanging.  HIP 5.2.3 does not return from hipMemcpy
 * then: the queue's error callback prints "Queue at ... inactivated due
 * to async error" and aborts the process, so hipMemcpy is the probe's
 * last call, and a watchdog tells a hang (exit 2) from that.  One "hip: "
 * line per call; exit status 0 when all calls before hipMemcpy worked and
 * hipMemcpy returned an error; a SIGABRT after the "hip: calling
 * hipMemcpy" line is the queue error (the run script checks its message).
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <csignal>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <hip/hip_runtime_api.h>

#define MEMCPY_WAIT_S 120

static void hang(int sig)
{
    static const char msg[] = "hip: hipMemcpy did not return within the "
                              "watchdog's time: HANG\n";

    (void)sig;
    if (write(1, msg, sizeof(msg) - 1) < 0) {
        _exit(2);
    }
    _exit(2);
}

static int report(const char *call, hipError_t e)
{
    printf("hip: %s = %d %s (%s)\n", call, (int)e, hipGetErrorName(e),
           hipGetErrorString(e));
    return e == hipSuccess ? 0 : 1;
}

int main()
{
    hipDeviceProp_t p;
    int n = 0, bad = 0;
    void *d = nullptr;
    static char h[4096];

    setvbuf(stdout, nullptr, _IOLBF, 0);
    if (report("hipGetDeviceCount", hipGetDeviceCount(&n))) {
        return 1;
    }
    printf("hip: devices: %d\n", n);
    if (n < 1) {
        return 1;
    }
    memset(&p, 0, sizeof(p));
    bad |= report("hipGetDeviceProperties", hipGetDeviceProperties(&p, 0));
    printf("hip: device 0: name \"%s\", gcnArchName \"%s\", "
           "multiProcessorCount %d, totalGlobalMem %zu MiB, "
           "pciBusID %d\n", p.name, p.gcnArchName, p.multiProcessorCount,
           p.totalGlobalMem >> 20, p.pciBusID);
    if (!p.name[0] || !p.gcnArchName[0] || p.multiProcessorCount < 1 ||
        !p.totalGlobalMem) {
        printf("hip: device 0's properties are incomplete\n");
        bad = 1;
    }
    bad |= report("hipMalloc", hipMalloc(&d, 1 << 20));
    printf("hip: hipMalloc gave %p\n", d);
    bad |= report("hipFree", hipFree(d));
    bad |= report("hipMalloc", hipMalloc(&d, 1 << 20));
    memset(h, 0x5a, sizeof(h));
    printf("hip: calling hipMemcpy(host to device, 4096 bytes)\n");
    signal(SIGALRM, hang);
    alarm(MEMCPY_WAIT_S);
    hipError_t e = hipMemcpy(d, h, sizeof(h), hipMemcpyHostToDevice);
    alarm(0);
    report("hipMemcpy(host to device, 4096 bytes)", e);
    if (e == hipSuccess) {
        printf("hip: hipMemcpy unexpectedly succeeded\n");
        bad = 1;
    }
    hipFree(d);
    return bad;
}
