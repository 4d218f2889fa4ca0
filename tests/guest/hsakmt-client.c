/*
 * amdkfd-mc guest test: a real client of Debian's libhsakmt (ROCT thunk)
 *
 * Calls the thunk's public API on the guest's /dev/kfd: open, version,
 * topology, GTT allocation mapped to the GPU and touched by the CPU,
 * events, close.  Prints one line per call with the HSAKMT_STATUS, and
 * exits non-zero if any call fails.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <hsakmt.h>

static int failed;

static HSAKMT_STATUS check(const char *call, HSAKMT_STATUS st,
                           const char *fmt, const char *detail)
{
    printf("%s %-32s status %d%s%s\n", st == HSAKMT_STATUS_SUCCESS ?
           "ok  " : "FAIL", call, (int)st, detail ? ": " : "",
           detail ? detail : "");
    (void)fmt;
    if (st != HSAKMT_STATUS_SUCCESS) {
        failed++;
    }
    fflush(stdout);
    return st;
}

int main(void)
{
    HsaVersionInfo ver = { 0 };
    HsaSystemProperties sys = { 0 };
    HsaNodeProperties np;
    HsaMemFlags mf = { 0 };
    HsaEventDescriptor ed = { 0 };
    HsaEvent *ev = NULL;
    HSAuint64 alt = 0;
    HSAuint32 n, gpu_node = 0;
    char buf[160];
    void *mem = NULL;
    HSAKMT_STATUS st;

    if (check("hsaKmtOpenKFD", hsaKmtOpenKFD(), NULL, NULL)) {
        goto out;
    }
    st = hsaKmtGetVersion(&ver);
    snprintf(buf, sizeof(buf), "KFD %u.%u", ver.KernelInterfaceMajorVersion,
             ver.KernelInterfaceMinorVersion);
    check("hsaKmtGetVersion", st, NULL, buf);

    st = hsaKmtAcquireSystemProperties(&sys);
    snprintf(buf, sizeof(buf), "%u nodes, platform %u/%u/%u", sys.NumNodes,
             sys.PlatformOem, sys.PlatformId, sys.PlatformRev);
    check("hsaKmtAcquireSystemProperties", st, NULL, buf);
    for (n = 0; !st && n < sys.NumNodes; n++) {
        char name[64] = "";
        int i;

        memset(&np, 0, sizeof(np));
        st = hsaKmtGetNodeProperties(n, &np);
        for (i = 0; i < 63 && np.MarketingName[i]; i++) {
            name[i] = (char)np.MarketingName[i];
        }
        snprintf(buf, sizeof(buf), "node %u: %s cpus %u simds %u gfx %u.%u.%u "
                 "device %#x banks %u render %u '%s'", n,
                 np.NumFComputeCores ? "GPU" : "CPU", np.NumCPUCores,
                 np.NumFComputeCores, np.EngineId.ui32.Major,
                 np.EngineId.ui32.Minor, np.EngineId.ui32.Stepping,
                 np.DeviceId, np.NumMemoryBanks, np.DrmRenderMinor, name);
        check("hsaKmtGetNodeProperties", st, NULL, buf);
        if (!st && np.NumFComputeCores && !gpu_node) {
            gpu_node = n;
        }
    }
    if (!gpu_node) {
        check("find a GPU node", HSAKMT_STATUS_ERROR, NULL, "none");
        goto close;
    }

    /* System memory (GTT) visible to the host and the GPU */
    mf.ui32.PageSize = HSA_PAGE_SIZE_4KB;
    mf.ui32.HostAccess = 1;
    mf.ui32.NonPaged = 1;
    st = hsaKmtAllocMemory(0, 4096, mf, &mem);
    snprintf(buf, sizeof(buf), "GTT at %p", mem);
    if (!check("hsaKmtAllocMemory", st, NULL, buf)) {
        st = hsaKmtMapMemoryToGPU(mem, 4096, &alt);
        snprintf(buf, sizeof(buf), "GPU VA %#llx", (unsigned long long)alt);
        check("hsaKmtMapMemoryToGPU", st, NULL, buf);
        memset(mem, 0x5a, 4096);
        snprintf(buf, sizeof(buf), "CPU write/read through the mapping: %s",
                 ((unsigned char *)mem)[4095] == 0x5a ? "ok" : "MISMATCH");
        check("CPU access", ((unsigned char *)mem)[4095] == 0x5a ?
              HSAKMT_STATUS_SUCCESS : HSAKMT_STATUS_ERROR, NULL, buf);
        check("hsaKmtUnmapMemoryToGPU", hsaKmtUnmapMemoryToGPU(mem), NULL,
              NULL);
        check("hsaKmtFreeMemory", hsaKmtFreeMemory(mem, 4096), NULL, NULL);
    }

    ed.EventType = HSA_EVENTTYPE_SIGNAL;
    ed.NodeId = gpu_node;
    st = hsaKmtCreateEvent(&ed, false, false, &ev);
    snprintf(buf, sizeof(buf), "event id %u", ev ? ev->EventId : 0);
    if (!check("hsaKmtCreateEvent", st, NULL, buf)) {
        check("hsaKmtSetEvent", hsaKmtSetEvent(ev), NULL, NULL);
        check("hsaKmtWaitOnEvent", hsaKmtWaitOnEvent(ev, 1000), NULL,
              "signalled");
        st = hsaKmtWaitOnEvent(ev, 10);
        check("hsaKmtWaitOnEvent (timeout)",
              st == HSAKMT_STATUS_WAIT_TIMEOUT ? HSAKMT_STATUS_SUCCESS : st,
              NULL, "auto-reset event times out");
        check("hsaKmtDestroyEvent", hsaKmtDestroyEvent(ev), NULL, NULL);
    }
    check("hsaKmtReleaseSystemProperties", hsaKmtReleaseSystemProperties(),
          NULL, NULL);
close:
    check("hsaKmtCloseKFD", hsaKmtCloseKFD(), NULL, NULL);
out:
    printf("hsakmt-client: %s (%d failed)\n", failed ? "FAIL" : "PASS",
           failed);
    return failed ? 1 : 0;
}
