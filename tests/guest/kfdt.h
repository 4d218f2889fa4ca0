/*
 * Small helpers for the amdkfd-mc guest test programs: plain KFD ioctls on
 * /dev/kfd, GTT buffers mapped to the GPU and into the process, and SDMA
 * queues with SDMA v4 packets, as the sim backend runs them (sim-kfd.h).
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KFDT_H
#define KFDT_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kfd_ioctl.h>

#include "hw/misc/amdkfd-mc-abi.h"
#include "sim-kfd.h"

#define KFDT_PAGE 4096ULL

typedef struct {
    int fd;
    pid_t pid;
    uint32_t gpu_id;
    /* from the driver's debugfs file */
    uint32_t ctx_id, host_ctx_id, pasid, flags;
    uint32_t kfd_major, kfd_minor;
} KfdProc;

typedef struct {
    uint64_t va, size, handle, mmap_offset;
    volatile uint8_t *cpu;
} KfdBuf;

typedef struct {
    KfdBuf ring, ptrs;
    uint32_t id;
    uint64_t doorbell_offset;
    volatile uint8_t *doorbell_page;
    uint64_t wptr;
} KfdQueue;

/* ioctl: 0 or -errno */
static inline int kfdt_ioctl(KfdProc *p, unsigned long req, void *arg)
{
    return ioctl(p->fd, req, arg) ? -errno : 0;
}

static inline uint32_t kfdt_first_gpu_id(void)
{
    char path[128];
    int n;

    /* Node 0 is the CPU; the first GPU node with a gpu_id */
    for (n = 1; n < 17; n++) {
        unsigned v = 0;
        FILE *f;

        snprintf(path, sizeof(path),
                 "/sys/class/kfd/kfd/topology/nodes/%d/gpu_id", n);
        f = fopen(path, "r");
        if (!f) {
            break;
        }
        if (fscanf(f, "%u", &v) != 1) {
            v = 0;
        }
        fclose(f);
        if (v) {
            return v;
        }
    }
    return 0;
}

/* Context ids the driver reports for this process's /dev/kfd file */
static inline int kfdt_ctx_info(KfdProc *p)
{
    FILE *f = fopen("/sys/kernel/debug/amdkfd_mc/contexts", "r");
    char line[256];
    int found = -ENOENT;

    if (!f) {
        return -errno;
    }
    while (fgets(line, sizeof(line), f)) {
        int pid;
        unsigned ctx, host, pasid, flags;

        if (sscanf(line, "pid=%d ctx=%x host_ctx=%x pasid=%u flags=%x",
                   &pid, &ctx, &host, &pasid, &flags) == 5 && pid == p->pid) {
            p->ctx_id = ctx;
            p->host_ctx_id = host;
            p->pasid = pasid;
            p->flags = flags;
            found = 0;
        }
    }
    fclose(f);
    return found;
}

static inline bool kfdt_ctx_listed(pid_t pid)
{
    KfdProc p = { .pid = pid };

    return kfdt_ctx_info(&p) == 0;
}

static inline int kfdt_open(KfdProc *p)
{
    struct kfd_ioctl_get_version_args v = { 0 };
    struct kfd_ioctl_acquire_vm_args vm = { 0 };
    int ret;

    memset(p, 0, sizeof(*p));
    p->pid = getpid();
    p->fd = open("/dev/kfd", O_RDWR | O_CLOEXEC);
    if (p->fd < 0) {
        return -errno;
    }
    ret = kfdt_ioctl(p, AMDKFD_IOC_GET_VERSION, &v);
    if (ret) {
        return ret;
    }
    p->kfd_major = v.major_version;
    p->kfd_minor = v.minor_version;
    p->gpu_id = kfdt_first_gpu_id();
    if (!p->gpu_id) {
        return -ENODEV;
    }
    ret = kfdt_ctx_info(p);
    if (ret) {
        return ret;
    }
    vm.gpu_id = p->gpu_id;
    vm.drm_fd = 0;          /* the device supplies the context's own VM */
    return kfdt_ioctl(p, AMDKFD_IOC_ACQUIRE_VM, &vm);
}

/* Allocate GTT memory at @va, map it to the GPU and into this process */
static inline int kfdt_buf_new(KfdProc *p, uint64_t va, uint64_t size,
                               KfdBuf *b)
{
    struct kfd_ioctl_alloc_memory_of_gpu_args a = {
        .va_addr = va, .size = size, .gpu_id = p->gpu_id,
        .flags = KFD_IOC_ALLOC_MEM_FLAGS_GTT |
                 KFD_IOC_ALLOC_MEM_FLAGS_WRITABLE,
    };
    struct kfd_ioctl_map_memory_to_gpu_args m = { 0 };
    uint32_t ids[1] = { p->gpu_id };
    void *cpu;
    int ret;

    memset(b, 0, sizeof(*b));
    ret = kfdt_ioctl(p, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, &a);
    if (ret) {
        return ret;
    }
    b->va = va;
    b->size = size;
    b->handle = a.handle;
    b->mmap_offset = a.mmap_offset;
    m.handle = a.handle;
    m.device_ids_array_ptr = (uintptr_t)ids;
    m.n_devices = 1;
    ret = kfdt_ioctl(p, AMDKFD_IOC_MAP_MEMORY_TO_GPU, &m);
    if (ret) {
        return ret;
    }
    if (m.n_success != 1 || m.device_ids_array_ptr != (uintptr_t)ids) {
        return -EPROTO;
    }
    cpu = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd,
               a.mmap_offset);
    if (cpu == MAP_FAILED) {
        return -errno;
    }
    b->cpu = cpu;
    return 0;
}

/* Unmap @handle from the GPU and free it: 0 or the first -errno */
static inline int kfdt_handle_free(KfdProc *p, uint64_t handle)
{
    struct kfd_ioctl_free_memory_of_gpu_args a = { .handle = handle };
    struct kfd_ioctl_unmap_memory_from_gpu_args u = { .handle = handle };
    uint32_t ids[1] = { p->gpu_id };
    int ret, ret2;

    u.device_ids_array_ptr = (uintptr_t)ids;
    u.n_devices = 1;
    ret = kfdt_ioctl(p, AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU, &u);
    ret2 = kfdt_ioctl(p, AMDKFD_IOC_FREE_MEMORY_OF_GPU, &a);
    return ret ? ret : ret2;
}

static inline int kfdt_buf_free(KfdProc *p, KfdBuf *b)
{
    if (b->cpu) {
        munmap((void *)b->cpu, b->size);
        b->cpu = NULL;
    }
    return kfdt_handle_free(p, b->handle);
}

/* An SDMA queue: ring at @va, read/write pointers at @va + 0x10000 */
static inline int kfdt_queue_new(KfdProc *p, uint64_t va, KfdQueue *q)
{
    struct kfd_ioctl_create_queue_args a = {
        .ring_base_address = va,
        .read_pointer_address = va + 0x10000,
        .write_pointer_address = va + 0x10000 + 8,
        .ring_size = 4096,
        .gpu_id = p->gpu_id,
        .queue_type = KFD_IOC_QUEUE_TYPE_SDMA,
        .queue_percentage = 100,
        .queue_priority = 7,
    };
    void *db;
    int ret;

    memset(q, 0, sizeof(*q));
    ret = kfdt_buf_new(p, va, 4096, &q->ring);
    if (!ret) {
        ret = kfdt_buf_new(p, va + 0x10000, 4096, &q->ptrs);
    }
    if (!ret) {
        ret = kfdt_ioctl(p, AMDKFD_IOC_CREATE_QUEUE, &a);
    }
    if (ret) {
        return ret;
    }
    q->id = a.queue_id;
    q->doorbell_offset = a.doorbell_offset;
    db = mmap(NULL, KFDT_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd,
              a.doorbell_offset & ~(KFDT_PAGE - 1));
    if (db == MAP_FAILED) {
        return -errno;
    }
    q->doorbell_page = db;
    return 0;
}

static inline void kfdt_emit(KfdQueue *q, const uint32_t *dw, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        *(volatile uint32_t *)(q->ring.cpu + q->wptr % q->ring.size) = dw[i];
        q->wptr += 4;
    }
}

/* SDMA v4 COPY_LINEAR packets (count: bytes - 1), at most 4 MiB each */
static inline void kfdt_copy(KfdQueue *q, uint64_t src, uint64_t dst,
                             uint32_t len)
{
    while (len) {
        uint32_t n = len < SIM_SDMA_COPY_MAX_BYTES ? len :
                     SIM_SDMA_COPY_MAX_BYTES;
        uint32_t pkt[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_COPY, SIM_SDMA_SUBOP_COPY_LINEAR),
            n - 1, 0, (uint32_t)src, (uint32_t)(src >> 32),
            (uint32_t)dst, (uint32_t)(dst >> 32),
        };

        kfdt_emit(q, pkt, SIM_SDMA_COPY_LINEAR_DWORDS);
        src += n;
        dst += n;
        len -= n;
    }
}

static inline void kfdt_fence(KfdQueue *q, uint64_t va, uint32_t val)
{
    uint32_t pkt[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_FENCE, 0), (uint32_t)va,
        (uint32_t)(va >> 32), val,
    };

    kfdt_emit(q, pkt, SIM_SDMA_FENCE_DWORDS);
}

/* An SDMA trap whose interrupt signals the event @event_id */
static inline void kfdt_trap(KfdQueue *q, uint32_t event_id)
{
    uint32_t pkt[] = { SIM_SDMA_HDR(SIM_SDMA_OP_TRAP, 0), event_id };

    kfdt_emit(q, pkt, SIM_SDMA_TRAP_DWORDS);
}

/* Ring the doorbell with the new write pointer (a 64-bit store) */
static inline void kfdt_kick(KfdQueue *q)
{
    __sync_synchronize();
    *(volatile uint64_t *)(q->doorbell_page +
                           q->doorbell_offset % KFDT_PAGE) = q->wptr;
    __sync_synchronize();
}

static inline uint64_t kfdt_rptr(KfdQueue *q)
{
    return *(volatile uint64_t *)q->ptrs.cpu;
}

static inline int kfdt_event_new(KfdProc *p, uint32_t type, uint32_t *id)
{
    struct kfd_ioctl_create_event_args a = {
        .event_type = type, .auto_reset = 1,
    };
    int ret = kfdt_ioctl(p, AMDKFD_IOC_CREATE_EVENT, &a);

    *id = a.event_id;
    return ret;
}

static inline int kfdt_event_set(KfdProc *p, uint32_t id)
{
    struct kfd_ioctl_set_event_args a = { .event_id = id };

    return kfdt_ioctl(p, AMDKFD_IOC_SET_EVENT, &a);
}

/* 0 with *result = KFD_IOC_WAIT_RESULT_*, or -errno */
static inline int kfdt_event_wait(KfdProc *p, uint32_t id, uint32_t ms,
                                  uint32_t *result)
{
    struct kfd_event_data ev = { .event_id = id };
    struct kfd_ioctl_wait_events_args a = {
        .events_ptr = (uintptr_t)&ev, .num_events = 1, .timeout = ms,
    };
    int ret = kfdt_ioctl(p, AMDKFD_IOC_WAIT_EVENTS, &a);

    *result = a.wait_result;
    if (!ret && a.events_ptr != (uintptr_t)&ev) {
        return -EPROTO;
    }
    return ret;
}

/*
 * The device's DMA engine runs after a doorbell, not during it: wait until
 * the 32-bit fence at @fence reads @val (the packets before it ran) or
 * event @ev fires (a fault, or a TRAP), for at most @ms.  0 when the
 * fence landed, 1 when the event fired (*result), -ETIMEDOUT or -errno.
 */
static inline int kfdt_settle(KfdProc *p, volatile uint8_t *fence,
                              uint32_t val, uint32_t ev, uint32_t ms,
                              uint32_t *result)
{
    uint32_t waited;
    int ret;

    for (waited = 0; waited < ms; waited += 20) {
        if (*(volatile uint32_t *)fence == val) {
            return 0;
        }
        ret = kfdt_event_wait(p, ev, 20, result);
        if (ret) {
            return ret;
        }
        if (*result == KFD_IOC_WAIT_RESULT_COMPLETE) {
            return 1;
        }
    }
    return *(volatile uint32_t *)fence == val ? 0 : -ETIMEDOUT;
}

#endif
