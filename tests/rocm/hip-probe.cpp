/*
 * hip-probe: what HIP (Debian bookworm's unmodified libamdhip64-5, 5.2.3)
 * does on amdkfd-mc's sim backend.
 *
 *   hip-probe free     hipGetDeviceCount, hipGetDeviceProperties,
 *                      hipMalloc, then hipFree
 *   hip-probe memcpy   the same, then hipMemcpy host to device (4096
 *                      bytes of a pattern) and back into a zeroed buffer,
 *                      compared, then hipFree
 *
 * Every call must succeed.  hipFree and hipMemcpy are the first calls
 * that need HIP's null stream; setting it up makes ROCclr run its blit
 * kernel copyBuffer (a KERNEL_DISPATCH of 15360 work-items) and a PM4
 * ACQUIRE_MEM (a vendor packet) on the new queue, which the sim's shader
 * interpreter and PM4 handling run.  A watchdog tells a hang (exit 2)
 * from a failure; an error or abort (HIP 5.2.3's queue error callback
 * prints "Queue at ... inactivated due to async error" and aborts) is a
 * failure too.  One "hip: " line per call; exit status 0 when every call
 * returned hipSuccess and the data came back equal, 1 otherwise.
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

#define WAIT_S 240

static void hang(int sig)
{
    static const char msg[] = "hip: the call did not return within the "
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

int main(int argc, char **argv)
{
    bool with_memcpy = argc > 1 && !strcmp(argv[1], "memcpy");
    hipDeviceProp_t p;
    int n = 0;
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
    if (report("hipGetDeviceProperties", hipGetDeviceProperties(&p, 0))) {
        return 1;
    }
    printf("hip: device 0: name \"%s\", gcnArchName \"%s\", "
           "multiProcessorCount %d, totalGlobalMem %zu MiB, "
           "pciBusID %d\n", p.name, p.gcnArchName, p.multiProcessorCount,
           p.totalGlobalMem >> 20, p.pciBusID);
    if (!p.name[0] || !p.gcnArchName[0] || p.multiProcessorCount < 1 ||
        !p.totalGlobalMem) {
        printf("hip: device 0's properties are incomplete\n");
        return 1;
    }
    if (report("hipMalloc", hipMalloc(&d, 1 << 20))) {
        return 1;
    }
    printf("hip: hipMalloc gave %p\n", d);
    signal(SIGALRM, hang);
    alarm(WAIT_S);
    hipError_t e;
    if (with_memcpy) {
        static char back[sizeof(h)];

        for (size_t i = 0; i < sizeof(h); i++) {
            h[i] = (char)(i * 7 + 0x5a);
        }
        printf("hip: calling hipMemcpy(host to device, 4096 bytes)\n");
        if (report("hipMemcpy", hipMemcpy(d, h, sizeof(h),
                                          hipMemcpyHostToDevice))) {
            return 1;
        }
        printf("hip: calling hipMemcpy(device to host, 4096 bytes)\n");
        if (report("hipMemcpy", hipMemcpy(back, d, sizeof(back),
                                          hipMemcpyDeviceToHost))) {
            return 1;
        }
        if (memcmp(back, h, sizeof(h))) {
            printf("hip: the data came back different\n");
            return 1;
        }
        printf("hip: the data came back equal\n");
    }
    printf("hip: calling hipFree\n");
    e = hipFree(d);
    alarm(0);
    if (report("hipFree", e)) {
        return 1;
    }
    return 0;
}
