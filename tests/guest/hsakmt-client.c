/*
 * amdkfd-mc guest test: a real client of Debian's libhsakmt (ROCT thunk)
 *
 * Calls the thunk's public API on the guest's /dev/kfd, with the thunk's
 * defaults (paged system memory is USERPTR memory): open, version,
 * topology (caches ROCr keeps), GTT allocation mapped to the GPU and
 * touched by the CPU, VRAM without host access (libhsakmt's PROT_NONE
 * private mapping), the tile configuration, paged allocations, an SDMA
 * queue (its ring and the thunk's own read and write pointers are paged,
 * so USERPTR, memory), a malloc'd buffer registered with
 * hsaKmtRegisterMemory, mapped with hsaKmtMapMemoryToGPU and filled by
 * the GPU's DMA (real SDMA v4 packets, as the sim runs them), events,
 * close.  Prints one line per call with the HSAKMT_STATUS,
 * and exits non-zero if any call fails.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <hsakmt.h>
#include <stdbool.h>
#include "sim-kfd.h"

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

/* A thunk SDMA queue and its ring (paged memory) */
typedef struct {
    uint32_t *ring;
    uint64_t wptr;
    HsaQueueResource res;
} SdmaQueue;

static void sdma_emit(SdmaQueue *q, const uint32_t *dw, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        q->ring[(q->wptr / 4) % 1024] = dw[i];
        q->wptr += 4;
    }
}

static void sdma_copy(SdmaQueue *q, uint64_t src, uint64_t dst, uint32_t len)
{
    uint32_t copy[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_COPY, SIM_SDMA_SUBOP_COPY_LINEAR),
        len - 1, 0, (uint32_t)src, (uint32_t)(src >> 32),
        (uint32_t)dst, (uint32_t)(dst >> 32),
    };

    sdma_emit(q, copy, SIM_SDMA_COPY_LINEAR_DWORDS);
}

/* FENCE @val at @fence, then ring the doorbell */
static void sdma_fence_kick(SdmaQueue *q, uint64_t fence, uint32_t val)
{
    uint32_t fen[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_FENCE, 0), (uint32_t)fence,
        (uint32_t)(fence >> 32), val,
    };

    sdma_emit(q, fen, SIM_SDMA_FENCE_DWORDS);
    __sync_synchronize();
    /* as ROCr does: the write pointer in memory, then the doorbell */
    *(volatile uint64_t *)q->res.Queue_write_ptr_aql = q->wptr;
    *(volatile uint64_t *)q->res.Queue_DoorBell_aql = q->wptr;
    __sync_synchronize();
}

static bool wait_fence(volatile uint32_t *fence, uint32_t val)
{
    int i;

    for (i = 0; i < 500 && *fence != val; i++) {
        usleep(10000);
    }
    return *fence == val;
}

/*
 * A malloc'd buffer registered with the thunk and filled by GPU DMA from
 * a paged source buffer through an SDMA queue of the thunk's
 */
static void registered_dma(HSAuint32 gpu_node)
{
    const HSAuint64 len = 256 << 10;
    HsaMemFlags paged = { 0 };
    SdmaQueue q = { 0 };
    uint8_t *src = NULL, *mine, *buf;
    HSAuint64 alt = 0, src_va = 0, ring_va = 0;
    uint32_t *fence, batch = 0;
    char detail[160];
    HSAKMT_STATUS st;
    HSAuint64 i;
    bool same;

    paged.ui32.PageSize = HSA_PAGE_SIZE_4KB;
    paged.ui32.HostAccess = 1;
    paged.ui32.ExecuteAccess = 1;
    /* NonPaged = 0: the thunk makes it USERPTR memory */
    st = hsaKmtAllocMemory(0, 4096, paged, (void **)&q.ring);
    if (!st) {
        st = hsaKmtMapMemoryToGPU(q.ring, 4096, &ring_va);
    }
    snprintf(detail, sizeof(detail), "SDMA ring, paged, at %p", q.ring);
    if (check("hsaKmtAllocMemory+Map (paged)", st, NULL, detail)) {
        return;
    }
    memset(q.ring, 0, 4096);
    st = hsaKmtCreateQueue(gpu_node, HSA_QUEUE_SDMA, 100,
                           HSA_QUEUE_PRIORITY_NORMAL, q.ring, 4096, NULL,
                           &q.res);
    snprintf(detail, sizeof(detail), "queue %llu, pointers in paged memory",
             (unsigned long long)q.res.QueueId);
    if (check("hsaKmtCreateQueue (SDMA)", st, NULL, detail)) {
        goto free_ring;
    }
    st = hsaKmtAllocMemory(0, len + 4096, paged, (void **)&src);
    if (!st) {
        st = hsaKmtMapMemoryToGPU(src, len + 4096, &src_va);
    }
    if (check("hsaKmtAllocMemory+Map (paged source)", st, NULL, NULL)) {
        goto destroy;
    }
    for (i = 0; i < len; i++) {
        src[i] = (uint8_t)(i * 13 + 1);
    }
    fence = (uint32_t *)(src + len);
    *fence = 0;

    /* not page aligned, as malloc gives it */
    mine = malloc(len + 64);
    buf = mine + 16;
    memset(buf, 0, len);
    st = hsaKmtRegisterMemory(buf, len);
    snprintf(detail, sizeof(detail), "malloc'd %llu KiB at %p",
             (unsigned long long)len >> 10, (void *)buf);
    if (check("hsaKmtRegisterMemory", st, NULL, detail)) {
        goto free_src;
    }
    st = hsaKmtMapMemoryToGPU(buf, len, &alt);
    snprintf(detail, sizeof(detail), "GPU VA %#llx", (unsigned long long)alt);
    if (check("hsaKmtMapMemoryToGPU (registered)", st, NULL, detail)) {
        goto deregister;
    }
    /*
     * The sim's DMA engine translates one memory object per copy, and a
     * large USERPTR allocation may be several objects: no copy crosses a
     * page of the source or of the destination
     */
    for (i = 0; i < len; batch++) {
        unsigned n;

        for (n = 0; n < 64 && i < len; n++) {
            HSAuint64 s_left = 4096 - ((uintptr_t)src + i) % 4096;
            HSAuint64 d_left = 4096 - (alt + i) % 4096;
            HSAuint64 step = s_left < d_left ? s_left : d_left;

            if (step > len - i) {
                step = len - i;
            }
            sdma_copy(&q, (uintptr_t)src + i, alt + i, (uint32_t)step);
            i += step;
        }
        sdma_fence_kick(&q, (uintptr_t)fence, batch + 1);
        if (!wait_fence(fence, batch + 1)) {
            i = 0;
            break;
        }
    }
    same = i >= len && !memcmp(buf, src, len);
    snprintf(detail, sizeof(detail), "%s (%llu bytes, %u fences)",
             same ? "the malloc'd buffer holds the data" : "MISMATCH or "
             "no fence", (unsigned long long)len, batch);
    check("GPU DMA into registered memory",
          same ? HSAKMT_STATUS_SUCCESS : HSAKMT_STATUS_ERROR, NULL, detail);
    check("hsaKmtUnmapMemoryToGPU (registered)", hsaKmtUnmapMemoryToGPU(buf),
          NULL, NULL);
deregister:
    check("hsaKmtDeregisterMemory", hsaKmtDeregisterMemory(buf), NULL, NULL);
    free(mine);
free_src:
    hsaKmtUnmapMemoryToGPU(src);
    hsaKmtFreeMemory(src, len + 4096);
destroy:
    check("hsaKmtDestroyQueue", hsaKmtDestroyQueue(q.res.QueueId), NULL,
          NULL);
free_ring:
    hsaKmtUnmapMemoryToGPU(q.ring);
    check("hsaKmtFreeMemory (paged)", hsaKmtFreeMemory(q.ring, 4096), NULL,
          NULL);
}

/* The GPU node's caches and io links, as ROCr reads them */
static void topology_links(HSAuint32 node)
{
    HsaCacheProperties caches[256];
    HsaIoLinkProperties links[16];
    HsaNodeProperties np = { 0 };
    HSAuint32 i, l2 = 0, n, kept = 0;
    char buf[160];
    HSAKMT_STATUS st;

    st = hsaKmtGetNodeProperties(node, &np);
    n = np.NumCaches < 256 ? np.NumCaches : 256;
    if (!st) {
        st = n ? hsaKmtGetNodeCacheProperties(node, np.FComputeIdLo, n,
                                              caches)
               : HSAKMT_STATUS_ERROR;
    }
    for (i = 0; !st && i < n; i++) {
        if (caches[i].CacheLevel == 2) {
            l2 = caches[i].CacheSize;
        }
        /* what ROCr keeps of a GPU's caches: compute-unit data caches */
        if (caches[i].CacheType.ui32.HSACU &&
            !caches[i].CacheType.ui32.Instruction) {
            kept++;
        }
    }
    snprintf(buf, sizeof(buf), "%u caches, %u that ROCr keeps (HSACU data "
             "caches; it needs some), L2 %u KiB", np.NumCaches, kept, l2);
    check("hsaKmtGetNodeCacheProperties", !st && !kept ?
          HSAKMT_STATUS_ERROR : st, NULL, buf);
    n = np.NumIOLinks < 16 ? np.NumIOLinks : 16;
    st = n ? hsaKmtGetNodeIoLinkProperties(node, n, links) :
         HSAKMT_STATUS_ERROR;
    snprintf(buf, sizeof(buf), "%u io links; the first: type %u, %u -> %u, "
             "%u-%u MB/s", np.NumIOLinks, st ? 0 : links[0].IoLinkType,
             st ? 0 : links[0].NodeFrom, st ? 0 : links[0].NodeTo,
             st ? 0 : links[0].MinimumBandwidth,
             st ? 0 : links[0].MaximumBandwidth);
    check("hsaKmtGetNodeIoLinkProperties", !st && links[0].NodeFrom == node &&
          links[0].NodeTo == 0 ? HSAKMT_STATUS_SUCCESS : HSAKMT_STATUS_ERROR,
          NULL, buf);
}

/*
 * VRAM the CPU may not touch, as libhsakmt makes every AQL queue's EOP
 * buffer: it maps such memory PROT_NONE and MAP_PRIVATE through the
 * render node (only to hold the address), which amdgpu accepts
 */
static void device_only_vram(HSAuint32 gpu_node)
{
    HsaMemFlags mf = { 0 };
    HSAuint64 va = 0;
    void *mem = NULL;
    char buf[160];
    HSAKMT_STATUS st;

    mf.ui32.PageSize = HSA_PAGE_SIZE_4KB;
    mf.ui32.NonPaged = 1;
    mf.ui32.CoarseGrain = 1;
    st = hsaKmtAllocMemory(gpu_node, 4096, mf, &mem);
    snprintf(buf, sizeof(buf), "VRAM without host access at %p", mem);
    if (check("hsaKmtAllocMemory (device only)", st, NULL, buf)) {
        return;
    }
    st = hsaKmtMapMemoryToGPU(mem, 4096, &va);
    snprintf(buf, sizeof(buf), "GPU VA 0x%llx", (unsigned long long)va);
    check("hsaKmtMapMemoryToGPU (device only)", st, NULL, buf);
    if (!st) {
        check("hsaKmtUnmapMemoryToGPU (device only)",
              hsaKmtUnmapMemoryToGPU(mem), NULL, NULL);
    }
    check("hsaKmtFreeMemory (device only)", hsaKmtFreeMemory(mem, 4096),
          NULL, NULL);
}

/* GET_TILE_CONFIG with its two arrays, as ROCr's image manager asks */
static void tile_config(HSAuint32 gpu_node)
{
    HSAuint32 tile[32], macro[16];
    HsaGpuTileConfig cfg = {
        .TileConfig = tile, .MacroTileConfig = macro,
        .NumTileConfigs = 32, .NumMacroTileConfigs = 16,
    };
    char buf[160];
    HSAKMT_STATUS st;

    st = hsaKmtGetTileConfig(gpu_node, &cfg);
    snprintf(buf, sizeof(buf), "%u tile and %u macro-tile words, "
             "GB_ADDR_CONFIG 0x%x", cfg.NumTileConfigs,
             cfg.NumMacroTileConfigs, cfg.GbAddrConfig);
    check("hsaKmtGetTileConfig", !st && (cfg.NumTileConfigs > 32 ||
          cfg.NumMacroTileConfigs > 16) ? HSAKMT_STATUS_ERROR : st, NULL,
          buf);
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
    topology_links(gpu_node);

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

    device_only_vram(gpu_node);
    tile_config(gpu_node);
    registered_dma(gpu_node);

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
