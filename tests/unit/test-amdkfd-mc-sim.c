/*
 * Unit tests of the amdkfd-mc "sim" backend's KFD model
 *
 * Every isolation test has a counterpart that shows the same operation
 * working within one context, or succeeding when the model emulates a
 * kernel without multiple contexts, so that each check can fail.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "sim-kfd.h"

#define MIB             (1024ULL * 1024)
#define VRAM            KFD_IOC_ALLOC_MEM_FLAGS_VRAM
#define GTT             KFD_IOC_ALLOC_MEM_FLAGS_GTT
#define WAIT_INFINITE   0xFFFFFFFFU

/* ---- helpers ---- */

static SimKfd *new_kfd(bool multi_context, unsigned nodes)
{
    SimKfdConfig cfg = {
        .num_nodes = nodes,
        .vram_size = 64 * MIB,
        .gtt_size = 64 * MIB,
        .multi_context = multi_context,
    };
    SimKfd *kfd = sim_kfd_new(&cfg);

    g_assert_nonnull(kfd);
    return kfd;
}

static uint32_t gpu_id(SimKfd *kfd, unsigned node)
{
    SimKfdNodeInfo info;

    g_assert_true(sim_kfd_node_info(kfd, node, &info));
    return info.gpu_id;
}

static SimKfdFile *open_secondary(SimKfd *kfd)
{
    SimKfdFile *f = sim_kfd_open(kfd);

    g_assert_nonnull(f);
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_CREATE_PROCESS, NULL),
                    ==, 0);
    return f;
}

static SimKfdContextInfo ctx_info(SimKfdFile *f)
{
    SimKfdContextInfo info;

    g_assert_cmpint(sim_kfd_file_info(f, &info), ==, 0);
    return info;
}

static void acquire(SimKfdFile *f, uint32_t gpu, uint32_t fd)
{
    struct kfd_ioctl_acquire_vm_args a = { .drm_fd = fd, .gpu_id = gpu };

    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_ACQUIRE_VM, &a), ==, 0);
}

static int alloc_mem(SimKfdFile *f, uint32_t gpu, uint64_t va,
                     uint64_t size, uint32_t flags, uint64_t *handle,
                     uint64_t *offset)
{
    struct kfd_ioctl_alloc_memory_of_gpu_args a = {
        .va_addr = va, .size = size, .gpu_id = gpu, .flags = flags,
    };
    int ret = sim_kfd_ioctl(f, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, &a);

    if (handle) {
        *handle = a.handle;
    }
    if (offset) {
        *offset = a.mmap_offset;
    }
    return ret;
}

static int free_mem(SimKfdFile *f, uint64_t handle)
{
    struct kfd_ioctl_free_memory_of_gpu_args a = { .handle = handle };

    return sim_kfd_ioctl(f, AMDKFD_IOC_FREE_MEMORY_OF_GPU, &a);
}

static int map_mem(SimKfdFile *f, uint64_t handle, uint32_t gpu)
{
    struct kfd_ioctl_map_memory_to_gpu_args a = {
        .handle = handle,
        .device_ids_array_ptr = (uintptr_t)&gpu,
        .n_devices = 1,
    };

    return sim_kfd_ioctl(f, AMDKFD_IOC_MAP_MEMORY_TO_GPU, &a);
}

static int unmap_mem(SimKfdFile *f, uint64_t handle, uint32_t gpu)
{
    struct kfd_ioctl_unmap_memory_from_gpu_args a = {
        .handle = handle,
        .device_ids_array_ptr = (uintptr_t)&gpu,
        .n_devices = 1,
    };

    return sim_kfd_ioctl(f, AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU, &a);
}

/* A GTT object, mapped in the GPUVM at @va and in the host */
typedef struct Buf {
    uint64_t handle;
    uint64_t offset;
    uint64_t size;
    uint8_t *ptr;
} Buf;

static void buf_new(SimKfdFile *f, uint32_t gpu, uint64_t va, uint64_t size,
                    Buf *b)
{
    int err = -1;

    b->size = size;
    g_assert_cmpint(alloc_mem(f, gpu, va, size, GTT, &b->handle,
                              &b->offset), ==, 0);
    g_assert_cmpint(map_mem(f, b->handle, gpu), ==, 0);
    b->ptr = sim_kfd_mmap(f, b->offset, size, &err);
    g_assert_nonnull(b->ptr);
    g_assert_cmpint(err, ==, 0);
}

static void buf_unmap(SimKfd *kfd, Buf *b)
{
    g_assert_cmpint(sim_kfd_munmap(kfd, b->ptr, b->size), ==, 0);
    b->ptr = NULL;
}

static uint32_t create_event(SimKfdFile *f, uint32_t type, bool auto_reset)
{
    struct kfd_ioctl_create_event_args a = {
        .event_type = type, .auto_reset = auto_reset,
    };

    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_CREATE_EVENT, &a), ==, 0);
    return a.event_id;
}

static int set_event(SimKfdFile *f, uint32_t id)
{
    struct kfd_ioctl_set_event_args a = { .event_id = id };

    return sim_kfd_ioctl(f, AMDKFD_IOC_SET_EVENT, &a);
}

static int destroy_event(SimKfdFile *f, uint32_t id)
{
    struct kfd_ioctl_destroy_event_args a = { .event_id = id };

    return sim_kfd_ioctl(f, AMDKFD_IOC_DESTROY_EVENT, &a);
}

static int wait_event(SimKfdFile *f, uint32_t id, uint32_t timeout,
                      uint32_t *result, struct kfd_event_data *out)
{
    struct kfd_event_data data = { .event_id = id };
    struct kfd_ioctl_wait_events_args a = {
        .events_ptr = (uintptr_t)&data,
        .num_events = 1,
        .timeout = timeout,
    };
    int ret = sim_kfd_ioctl(f, AMDKFD_IOC_WAIT_EVENTS, &a);

    *result = a.wait_result;
    if (out) {
        *out = data;
    }
    return ret;
}

/* A waiter on another thread */
typedef struct Waiter {
    SimKfdFile *f;
    uint32_t id;
    uint32_t timeout;
    uint32_t result;
    int ret;
    struct kfd_event_data data;
    GThread *thread;
} Waiter;

static gpointer waiter_run(gpointer opaque)
{
    Waiter *w = opaque;

    w->ret = wait_event(w->f, w->id, w->timeout, &w->result, &w->data);
    return NULL;
}

static void waiter_start(SimKfd *kfd, Waiter *w, SimKfdFile *f, uint32_t id)
{
    unsigned before = sim_kfd_blocked_waiters(kfd);
    int i;

    w->f = f;
    w->id = id;
    w->timeout = WAIT_INFINITE;
    w->ret = 1;
    w->thread = g_thread_new("waiter", waiter_run, w);
    /* make sure it really sleeps before the test acts */
    for (i = 0; i < 5000 && sim_kfd_blocked_waiters(kfd) == before; i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(sim_kfd_blocked_waiters(kfd), >, before);
}

static void waiter_join(Waiter *w)
{
    g_thread_join(w->thread);
}

/* An SDMA queue whose ring and pointers are GTT objects of the context */
typedef struct Queue {
    Buf ring;
    Buf ptrs;                   /* rptr at 0, wptr at 8 */
    uint64_t ring_va;
    uint64_t ptrs_va;
    uint32_t ring_size;
    uint32_t id;
    uint64_t doorbell;
    uint64_t wptr;
} Queue;

static int queue_create(SimKfdFile *f, uint32_t gpu, uint64_t ring_va,
                        uint32_t ring_size, uint64_t ptrs_va, uint32_t type,
                        uint32_t *id, uint64_t *doorbell)
{
    struct kfd_ioctl_create_queue_args a = {
        .ring_base_address = ring_va,
        .write_pointer_address = ptrs_va + 8,
        .read_pointer_address = ptrs_va,
        .ring_size = ring_size,
        .gpu_id = gpu,
        .queue_type = type,
        .queue_percentage = 100,
        .queue_priority = 7,
    };
    int ret = sim_kfd_ioctl(f, AMDKFD_IOC_CREATE_QUEUE, &a);

    if (id) {
        *id = a.queue_id;
    }
    if (doorbell) {
        *doorbell = a.doorbell_offset;
    }
    return ret;
}

static void queue_new(SimKfdFile *f, uint32_t gpu, uint64_t va, Queue *q)
{
    memset(q, 0, sizeof(*q));
    q->ring_va = va;
    q->ptrs_va = va + 0x10000;
    q->ring_size = 4096;
    buf_new(f, gpu, q->ring_va, q->ring_size, &q->ring);
    buf_new(f, gpu, q->ptrs_va, 4096, &q->ptrs);
    g_assert_cmpint(queue_create(f, gpu, q->ring_va, q->ring_size,
                                 q->ptrs_va, KFD_IOC_QUEUE_TYPE_SDMA,
                                 &q->id, &q->doorbell), ==, 0);
}

static void queue_unmap(SimKfd *kfd, Queue *q)
{
    buf_unmap(kfd, &q->ring);
    buf_unmap(kfd, &q->ptrs);
}

static void queue_emit(Queue *q, const uint32_t *dw, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        uint32_t v = GUINT32_TO_LE(dw[i]);

        memcpy(q->ring.ptr + (q->wptr & (q->ring_size - 1)), &v, 4);
        q->wptr += 4;
    }
}

/* SDMA v4 COPY_LINEAR: the count is the byte count minus one */
static void emit_copy(Queue *q, uint64_t src, uint64_t dst, uint32_t len)
{
    uint32_t p[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_COPY, SIM_SDMA_SUBOP_COPY_LINEAR),
        len - 1, 0, (uint32_t)src, src >> 32, (uint32_t)dst, dst >> 32,
    };

    g_assert_cmpuint(len, >=, 1);
    g_assert_cmpuint(len, <=, SIM_SDMA_COPY_MAX_BYTES);
    queue_emit(q, p, ARRAY_SIZE(p));
}

static void emit_fence(Queue *q, uint64_t va, uint32_t value)
{
    uint32_t p[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_FENCE, 0), (uint32_t)va, va >> 32, value,
    };

    queue_emit(q, p, ARRAY_SIZE(p));
}

static void emit_trap(Queue *q, uint32_t int_context)
{
    uint32_t p[] = { SIM_SDMA_HDR(SIM_SDMA_OP_TRAP, 0), int_context };

    queue_emit(q, p, ARRAY_SIZE(p));
}

/* A NOP that skips the @count dwords after it (written as @filler) */
static void emit_nop(Queue *q, unsigned count, uint32_t filler)
{
    uint32_t hdr = SIM_SDMA_HDR(SIM_SDMA_OP_NOP, 0) | SIM_SDMA_NOP_COUNT(count);
    unsigned i;

    queue_emit(q, &hdr, 1);
    for (i = 0; i < count; i++) {
        queue_emit(q, &filler, 1);
    }
}

static void emit_poll(Queue *q, uint64_t va, uint32_t ref, uint32_t mask,
                      unsigned func)
{
    uint32_t p[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_POLL_REGMEM, 0) | SIM_SDMA_POLL_MEM |
        SIM_SDMA_POLL_FUNC(func),
        (uint32_t)va, va >> 32, ref, mask,
        SIM_SDMA_POLL_RETRY_FOREVER | 4,
    };

    queue_emit(q, p, ARRAY_SIZE(p));
}

/* ROCr 5.2.3's HDP flush (sdma_registers.h) */
static void emit_hdp_flush_rocr(Queue *q)
{
    uint32_t p[] = { 0x8, 0, 0x80000000, 0, 0, 0 };

    queue_emit(q, p, ARRAY_SIZE(p));
}

/* amdgpu's: a register poll with hdp_flush set (sdma_v4_0.c) */
static void emit_hdp_flush_amdgpu(Queue *q)
{
    uint32_t p[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_POLL_REGMEM, 0) | SIM_SDMA_POLL_HDP_FLUSH |
        SIM_SDMA_POLL_FUNC(SIM_SDMA_FUNC_EQ),
        0x5000 << 2, 0x5004 << 2, 1, 1, SIM_SDMA_POLL_RETRY_FOREVER | 10,
    };

    queue_emit(q, p, ARRAY_SIZE(p));
}

static void emit_atomic(Queue *q, unsigned op, bool loop, uint64_t va,
                        uint64_t src, uint64_t cmp)
{
    uint32_t p[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_ATOMIC, 0) | SIM_SDMA_ATOMIC_OP(op) |
        (loop ? SIM_SDMA_ATOMIC_LOOP : 0),
        (uint32_t)va, va >> 32, (uint32_t)src, src >> 32,
        (uint32_t)cmp, cmp >> 32, 0,
    };

    queue_emit(q, p, ARRAY_SIZE(p));
}

/* CONST_FILL of dwords with the count field as given */
static void emit_fill(Queue *q, uint64_t va, uint32_t pattern,
                      uint32_t count)
{
    uint32_t p[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_CONST_FILL, 0) | SIM_SDMA_FILL_DWORD,
        (uint32_t)va, va >> 32, pattern, count,
    };

    queue_emit(q, p, ARRAY_SIZE(p));
}

static void emit_timestamp(Queue *q, uint64_t va)
{
    uint32_t p[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_TIMESTAMP,
                     SIM_SDMA_SUBOP_TIMESTAMP_GET_GLOBAL),
        (uint32_t)va, va >> 32,
    };

    queue_emit(q, p, ARRAY_SIZE(p));
}

static void emit_write(Queue *q, uint64_t va, const uint32_t *data,
                       unsigned n)
{
    uint32_t p[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_WRITE, SIM_SDMA_SUBOP_WRITE_LINEAR),
        (uint32_t)va, va >> 32, n - 1,
    };

    queue_emit(q, p, ARRAY_SIZE(p));
    queue_emit(q, data, n);
}

static int queue_kick(SimKfdFile *f, Queue *q)
{
    return sim_kfd_doorbell_write(f, q->doorbell, 0, q->wptr);
}

static uint64_t queue_rptr(Queue *q)
{
    uint64_t v;

    memcpy(&v, q->ptrs.ptr, sizeof(v));
    return GUINT64_FROM_LE(v);
}

static void assert_no_leaks(void)
{
    /* a re-examination thread may hold a context a moment longer */
    g_assert_true(sim_kfd_global_idle(5 * G_USEC_PER_SEC));
    g_assert_cmpuint(sim_kfd_global_live_contexts(), ==, 0);
    g_assert_cmpuint(sim_kfd_global_live_host_bytes(), ==, 0);
}

/* ---- configuration and topology ---- */

static void test_config(void)
{
    SimKfdConfig bad = { .num_nodes = 0, .vram_size = 64 * MIB,
                         .gtt_size = 64 * MIB };
    SimKfdNodeInfo a, b;
    SimKfd *kfd, *again;
    unsigned i, j;

    g_assert_nonnull(sim_kfd_config_check(NULL));
    g_assert_nonnull(sim_kfd_config_check(&bad));
    g_assert_null(sim_kfd_new(&bad));
    bad.num_nodes = 5;
    g_assert_nonnull(sim_kfd_config_check(&bad));
    bad.num_nodes = 1;
    bad.vram_size = 0;
    g_assert_nonnull(sim_kfd_config_check(&bad));
    bad.vram_size = UINT64_MAX;
    g_assert_nonnull(sim_kfd_config_check(&bad));

    kfd = new_kfd(true, 4);
    again = new_kfd(true, 4);
    g_assert_cmpuint(sim_kfd_num_nodes(kfd), ==, 4);
    g_assert_false(sim_kfd_node_info(kfd, 4, &a));
    for (i = 0; i < 4; i++) {
        g_assert_true(sim_kfd_node_info(kfd, i, &a));
        g_assert_true(sim_kfd_node_info(again, i, &b));
        /* gpu_ids: nonzero, 16-bit, unique and stable */
        g_assert_cmpuint(a.gpu_id, !=, 0);
        g_assert_cmpuint(a.gpu_id, <=, 0xFFFF);
        g_assert_cmpuint(a.gpu_id, ==, b.gpu_id);
        g_assert_cmpuint(a.simd_count, ==, a.cu_count * a.simd_per_cu);
        g_assert_cmpuint(a.vram_size, ==, 64 * MIB);
        g_assert_cmpstr(a.name, !=, "");
        for (j = 0; j < i; j++) {
            g_assert_cmpuint(gpu_id(kfd, j), !=, a.gpu_id);
        }
    }
    sim_kfd_free(kfd);
    sim_kfd_free(again);
    assert_no_leaks();
}

static void test_version(void)
{
    struct kfd_ioctl_get_version_args v;
    SimKfd *mc = new_kfd(true, 1), *old = new_kfd(false, 1);
    SimKfdFile *f = sim_kfd_open(mc), *g = sim_kfd_open(old);

    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_GET_VERSION, &v), ==, 0);
    g_assert_cmpuint(v.major_version, ==, 1);
    g_assert_cmpuint(v.minor_version, ==, 19);
    g_assert_cmpint(sim_kfd_ioctl(g, AMDKFD_IOC_GET_VERSION, &v), ==, 0);
    g_assert_cmpuint(v.minor_version, ==, 17);

    /* a kernel without the feature does not know the number */
    g_assert_cmpint(sim_kfd_ioctl(g, AMDKFD_IOC_CREATE_PROCESS, NULL),
                    ==, -ENOTTY);
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IO(0x28), NULL), ==, -ENOTTY);
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IO(0x00), NULL), ==, -ENOTTY);
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IO(0xff), NULL), ==, -ENOTTY);
    /* known number, wrong size or direction */
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IO(0x01), &v), ==, -EINVAL);
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_GET_VERSION, NULL),
                    ==, -EFAULT);
    /* the old debugger interface is gone */
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_DBG_REGISTER_DEPRECATED,
                                  &v), ==, -EINVAL);

    sim_kfd_close(f);
    sim_kfd_close(g);
    sim_kfd_free(mc);
    sim_kfd_free(old);
    assert_no_leaks();
}

/* ---- contexts ---- */

static void test_primary_secondary(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *p1 = sim_kfd_open(kfd), *p2 = sim_kfd_open(kfd);
    SimKfdFile *s0, *s1, *s2;
    SimKfdContextInfo i1 = ctx_info(p1), i2 = ctx_info(p2);
    SimKfdContextInfo a, b;

    /* every open of the process refers to the one primary */
    g_assert_cmpuint(i1.id, ==, SIM_KFD_PRIMARY_ID);
    g_assert_false(i1.secondary);
    g_assert_cmpuint(i2.id, ==, SIM_KFD_PRIMARY_ID);
    g_assert_cmpuint(i1.pasid, ==, i2.pasid);
    g_assert_cmpuint(sim_kfd_live_contexts(kfd), ==, 1);

    s0 = open_secondary(kfd);
    s1 = open_secondary(kfd);
    a = ctx_info(s0);
    b = ctx_info(s1);
    g_assert_true(a.secondary);
    g_assert_cmpuint(a.id, ==, 0);
    g_assert_cmpuint(b.id, ==, 1);
    /* I1: distinct PASIDs */
    g_assert_cmpuint(a.pasid, !=, b.pasid);
    g_assert_cmpuint(a.pasid, !=, i1.pasid);
    g_assert_cmpuint(b.pasid, !=, i1.pasid);
    g_assert_cmpuint(sim_kfd_live_contexts(kfd), ==, 3);

    /* a secondary cannot become another secondary */
    g_assert_cmpint(sim_kfd_ioctl(s0, AMDKFD_IOC_CREATE_PROCESS, NULL),
                    ==, -EINVAL);
    g_assert_cmpuint(ctx_info(s0).id, ==, 0);

    /* closing a secondary destroys it and frees its id for reuse */
    sim_kfd_close(s0);
    g_assert_cmpuint(sim_kfd_live_contexts(kfd), ==, 2);
    s2 = open_secondary(kfd);
    g_assert_cmpuint(ctx_info(s2).id, ==, 0);
    g_assert_cmpuint(ctx_info(s2).pasid, !=, b.pasid);

    /* the primary outlives its files while secondaries exist */
    sim_kfd_close(p1);
    sim_kfd_close(p2);
    g_assert_cmpuint(sim_kfd_live_contexts(kfd), ==, 3);
    sim_kfd_close(s1);
    sim_kfd_close(s2);
    g_assert_cmpuint(sim_kfd_live_contexts(kfd), ==, 0);

    /* the next open makes a new primary */
    p1 = sim_kfd_open(kfd);
    g_assert_cmpuint(ctx_info(p1).id, ==, SIM_KFD_PRIMARY_ID);
    sim_kfd_close(p1);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

static void test_many_contexts(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *f[200];
    GHashTable *pasids = g_hash_table_new(g_direct_hash, g_direct_equal);
    unsigned i;

    for (i = 0; i < 200; i++) {
        SimKfdContextInfo info;

        f[i] = open_secondary(kfd);
        info = ctx_info(f[i]);
        g_assert_cmpuint(info.id, ==, i);
        g_assert_false(g_hash_table_contains(pasids,
                                             GUINT_TO_POINTER(info.pasid)));
        g_hash_table_add(pasids, GUINT_TO_POINTER(info.pasid));
    }
    g_assert_cmpuint(sim_kfd_live_contexts(kfd), ==, 201);
    for (i = 1; i < 200; i += 2) {
        sim_kfd_close(f[i]);
    }
    /* lowest free ids first: 1, 3, 5, ... */
    for (i = 1; i < 200; i += 2) {
        f[i] = open_secondary(kfd);
        g_assert_cmpuint(ctx_info(f[i]).id, ==, i);
    }
    for (i = 0; i < 200; i++) {
        sim_kfd_close(f[i]);
    }
    g_hash_table_destroy(pasids);
    g_assert_cmpuint(sim_kfd_live_contexts(kfd), ==, 0);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

/* ---- isolation ---- */

static void test_acquire_vm(void)
{
    SimKfd *kfd = new_kfd(true, 2);
    SimKfdFile *f = open_secondary(kfd);
    uint32_t g0 = gpu_id(kfd, 0), g1 = gpu_id(kfd, 1);
    struct kfd_ioctl_acquire_vm_args a = { .drm_fd = 7, .gpu_id = g0 };
    uint64_t h;

    /* nothing works on a GPU before the context has its VM there */
    g_assert_cmpint(alloc_mem(f, g0, 0x100000, 4096, VRAM, &h, NULL),
                    ==, -ENODEV);
    g_assert_cmpint(queue_create(f, g0, 0x100000, 4096, 0x200000,
                                 KFD_IOC_QUEUE_TYPE_SDMA, NULL, NULL),
                    ==, -ESRCH);
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_ACQUIRE_VM, &a), ==, 0);
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_ACQUIRE_VM, &a), ==, 0);
    a.drm_fd = 8;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_ACQUIRE_VM, &a), ==, -EBUSY);
    a.gpu_id = 0x12345;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_ACQUIRE_VM, &a), ==, -EINVAL);
    a.gpu_id = g1;
    a.drm_fd = KFD_INVALID_FD;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_ACQUIRE_VM, &a), ==, -EINVAL);

    g_assert_cmpint(alloc_mem(f, g0, 0x100000, 4096, VRAM, &h, NULL), ==, 0);
    g_assert_cmpuint(SIM_KFD_HANDLE_GPU_ID(h), ==, g0);
    /* mapping on a node whose VM is not acquired */
    g_assert_cmpint(map_mem(f, h, g1), ==, -ENODEV);
    g_assert_cmpint(free_mem(f, h), ==, 0);
    sim_kfd_close(f);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

static void test_handles(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *a = open_secondary(kfd), *b = open_secondary(kfd);
    uint32_t g = gpu_id(kfd, 0);
    uint64_t ha, ha2, hb;

    acquire(a, g, 1);
    acquire(b, g, 2);
    g_assert_cmpint(alloc_mem(a, g, 0x100000, 8192, VRAM, &ha, NULL), ==, 0);
    g_assert_cmpint(alloc_mem(a, g, 0x200000, 8192, VRAM, &ha2, NULL), ==, 0);
    g_assert_cmpuint(ha, !=, ha2);
    g_assert_cmpuint(ctx_info(a).n_objects, ==, 2);
    g_assert_cmpuint(ctx_info(a).alloc_bytes, ==, 16384);

    /* I2: B has no objects, so A's handles mean nothing in B */
    g_assert_cmpint(free_mem(b, ha2), ==, -EINVAL);
    g_assert_cmpint(map_mem(b, ha2, g), ==, -ENOMEM);
    g_assert_cmpint(unmap_mem(b, ha2, g), ==, -EINVAL);
    g_assert_cmpuint(ctx_info(a).n_objects, ==, 2);

    /* handle spaces are per context: B's first handle is A's first */
    g_assert_cmpint(alloc_mem(b, g, 0x100000, 4096, VRAM, &hb, NULL), ==, 0);
    g_assert_cmpuint(hb, ==, ha);
    g_assert_cmpint(free_mem(b, hb), ==, 0);
    /* ... and freeing B's did not touch A's */
    g_assert_cmpuint(ctx_info(a).n_objects, ==, 2);
    g_assert_cmpint(free_mem(b, hb), ==, -EINVAL);

    /* within A, the same operations work (the control) */
    g_assert_cmpint(map_mem(a, ha2, g), ==, 0);
    g_assert_cmpuint(ctx_info(a).gpuvm_mapped_bytes, ==, 8192);
    g_assert_cmpint(free_mem(a, ha2), ==, -EBUSY);
    g_assert_cmpint(unmap_mem(a, ha2, g), ==, 0);
    g_assert_cmpint(free_mem(a, ha2), ==, 0);
    g_assert_cmpint(free_mem(a, ha2), ==, -EINVAL);

    sim_kfd_close(a);
    sim_kfd_close(b);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

static void test_events_isolation(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *a = open_secondary(kfd), *b = open_secondary(kfd);
    uint32_t a1, a2, b1, result;

    a1 = create_event(a, KFD_IOC_EVENT_SIGNAL, false);
    a2 = create_event(a, KFD_IOC_EVENT_SIGNAL, false);
    b1 = create_event(b, KFD_IOC_EVENT_SIGNAL, false);
    /* ids restart at 1 in every context */
    g_assert_cmpuint(a1, ==, 1);
    g_assert_cmpuint(a2, ==, 2);
    g_assert_cmpuint(b1, ==, 1);

    /* I2/I5: B cannot name A's event 2 */
    g_assert_cmpint(set_event(b, a2), ==, -EINVAL);
    g_assert_cmpint(destroy_event(b, a2), ==, -EINVAL);
    g_assert_cmpint(wait_event(b, a2, 0, &result, NULL), ==, -EINVAL);
    g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_FAIL);

    /* I5: A's event 1 is not B's event 1 */
    g_assert_cmpint(set_event(a, a1), ==, 0);
    g_assert_cmpint(wait_event(b, b1, 0, &result, NULL), ==, 0);
    g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_TIMEOUT);
    g_assert_cmpint(wait_event(a, a1, 0, &result, NULL), ==, 0);
    g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);

    /* within A, event 2 works (the control) */
    g_assert_cmpint(set_event(a, a2), ==, 0);
    g_assert_cmpint(destroy_event(a, a2), ==, 0);
    g_assert_cmpint(destroy_event(a, a2), ==, -EINVAL);
    g_assert_cmpuint(ctx_info(a).n_events, ==, 1);

    sim_kfd_close(a);
    sim_kfd_close(b);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

static void test_events_legacy_shared(void)
{
    SimKfd *kfd = new_kfd(false, 1);
    SimKfdFile *a = sim_kfd_open(kfd), *b = sim_kfd_open(kfd);
    uint32_t id = create_event(a, KFD_IOC_EVENT_SIGNAL, false);
    uint32_t result;

    /* the negative control of 6.12: the second fd sees the first's event */
    g_assert_cmpint(set_event(b, id), ==, 0);
    g_assert_cmpint(wait_event(a, id, 0, &result, NULL), ==, 0);
    g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
    sim_kfd_close(a);
    sim_kfd_close(b);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

static void test_mmap_isolation(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *a = open_secondary(kfd), *b = open_secondary(kfd);
    uint32_t g = gpu_id(kfd, 0);
    uint64_t h, off, db = SIM_KFD_MMAP_TYPE_DOORBELL | SIM_KFD_MMAP_GPU_ID(g);
    uint8_t *pa, *pb, *ea, *eb, *da, *dbp;
    int err = 0;

    acquire(a, g, 1);
    g_assert_cmpint(alloc_mem(a, g, 0x100000, 4096, VRAM, &h, &off), ==, 0);
    g_assert_cmpuint(off & SIM_KFD_MMAP_TYPE_MASK, ==, SIM_KFD_MMAP_TYPE_BO);

    /* I4: B cannot map A's object */
    pb = sim_kfd_mmap(b, off, 4096, &err);
    g_assert_null(pb);
    g_assert_cmpint(err, ==, -EINVAL);

    /* A can (control), but not more than the object */
    g_assert_null(sim_kfd_mmap(a, off, 8192, &err));
    g_assert_cmpint(err, ==, -EINVAL);
    pa = sim_kfd_mmap(a, off, 4096, &err);
    g_assert_nonnull(pa);
    g_assert_cmpuint((uintptr_t)pa % 4096, ==, 0);
    memset(pa, 0x5a, 4096);

    /* event pages and doorbells resolve in each file's own context */
    g_assert_null(sim_kfd_mmap(a, SIM_KFD_MMAP_TYPE_EVENTS,
                               SIM_KFD_EVENT_PAGE_SIZE, &err));
    create_event(a, KFD_IOC_EVENT_SIGNAL, false);
    create_event(b, KFD_IOC_EVENT_SIGNAL, false);
    ea = sim_kfd_mmap(a, SIM_KFD_MMAP_TYPE_EVENTS, SIM_KFD_EVENT_PAGE_SIZE,
                      &err);
    eb = sim_kfd_mmap(b, SIM_KFD_MMAP_TYPE_EVENTS, SIM_KFD_EVENT_PAGE_SIZE,
                      &err);
    g_assert_nonnull(ea);
    g_assert_nonnull(eb);
    g_assert_true(ea != eb);
    g_assert_null(sim_kfd_mmap(a, SIM_KFD_MMAP_TYPE_EVENTS,
                               SIM_KFD_EVENT_PAGE_SIZE * 2, &err));
    /* slot 1 (the event) reads unsignalled */
    g_assert_cmphex(((uint64_t *)ea)[1], ==, SIM_KFD_UNSIGNALED_SLOT);

    da = sim_kfd_mmap(a, db, SIM_KFD_DOORBELL_SLICE_SIZE, &err);
    dbp = sim_kfd_mmap(b, db, SIM_KFD_DOORBELL_SLICE_SIZE, &err);
    g_assert_nonnull(da);
    g_assert_nonnull(dbp);
    g_assert_true(da != dbp);
    g_assert_null(sim_kfd_mmap(a, db | 8, 8, &err));
    g_assert_null(sim_kfd_mmap(a, db, SIM_KFD_DOORBELL_SLICE_SIZE + 1,
                               &err));
    g_assert_null(sim_kfd_mmap(a, SIM_KFD_MMAP_TYPE_DOORBELL |
                               SIM_KFD_MMAP_GPU_ID(g + 1), 4096, &err));
    g_assert_null(sim_kfd_mmap(a, off, 0, &err));
    g_assert_cmpint(err, ==, -EINVAL);
    g_assert_cmpuint(sim_kfd_live_mappings(kfd), ==, 5);

    g_assert_cmpint(sim_kfd_munmap(kfd, pa, 4096), ==, 0);
    g_assert_cmpint(sim_kfd_munmap(kfd, pa, 4096), ==, -EINVAL);
    g_assert_cmpint(sim_kfd_munmap(kfd, ea, SIM_KFD_EVENT_PAGE_SIZE), ==, 0);
    g_assert_cmpint(sim_kfd_munmap(kfd, eb, SIM_KFD_EVENT_PAGE_SIZE), ==, 0);
    g_assert_cmpint(sim_kfd_munmap(kfd, da, 8192), ==, 0);
    g_assert_cmpint(sim_kfd_munmap(kfd, dbp, 8192), ==, 0);
    sim_kfd_close(a);
    sim_kfd_close(b);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

static void test_mmap_lifetime(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *a = open_secondary(kfd);
    uint32_t g = gpu_id(kfd, 0);
    uint64_t before = sim_kfd_global_live_host_bytes();
    uint64_t h, off, avail;
    struct kfd_ioctl_get_available_memory_args am = { .gpu_id = g };
    uint8_t *p, *q;
    int err;

    acquire(a, g, 1);
    g_assert_cmpint(alloc_mem(a, g, 0x100000, 65536, VRAM, &h, &off), ==, 0);
    p = sim_kfd_mmap(a, off, 65536, &err);
    q = sim_kfd_mmap(a, off, 4096, &err);
    g_assert_true(p == q);
    g_assert_cmpint(sim_kfd_ioctl(a, AMDKFD_IOC_AVAILABLE_MEMORY, &am),
                    ==, 0);
    avail = am.available;
    g_assert_cmpuint(avail, ==, 64 * MIB - 65536);

    /* the object goes, the mapping (and its memory) stays */
    g_assert_cmpint(free_mem(a, h), ==, 0);
    memset(p, 0xab, 65536);
    g_assert_cmpuint(p[65535], ==, 0xab);
    g_assert_cmpuint(sim_kfd_global_live_host_bytes(), >=, before + 65536);

    /* and so does the whole context */
    sim_kfd_close(a);
    g_assert_cmpuint(sim_kfd_live_contexts(kfd), ==, 0);
    g_assert_cmpuint(p[4096], ==, 0xab);
    sim_kfd_free(kfd);
    g_assert_cmpint(sim_kfd_munmap(kfd, q, 4096), ==, 0);
    g_assert_cmpuint(p[100], ==, 0xab);
    g_assert_cmpint(sim_kfd_munmap(kfd, p, 65536), ==, 0);
    assert_no_leaks();
}

/* ---- DMA ---- */

static void test_dma_within_context(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *f = open_secondary(kfd);
    uint32_t g = gpu_id(kfd, 0), ev, fence;
    Buf src, dst, fb;
    Queue q;
    Waiter w;
    SimKfdQueueInfo qi;
    unsigned i;

    acquire(f, g, 1);
    queue_new(f, g, 0x1000000, &q);
    buf_new(f, g, 0x100000, 8192, &src);
    buf_new(f, g, 0x200000, 8192, &dst);
    buf_new(f, g, 0x300000, 4096, &fb);
    for (i = 0; i < 8192; i++) {
        src.ptr[i] = i * 7;
    }
    ev = create_event(f, KFD_IOC_EVENT_SIGNAL, true);

    waiter_start(kfd, &w, f, ev);
    emit_copy(&q, 0x100000, 0x200000, 8192);
    emit_fence(&q, 0x300010, 0xc0ffee);
    emit_trap(&q, ev);
    g_assert_cmpint(queue_kick(f, &q), ==, 0);
    waiter_join(&w);

    g_assert_cmpint(w.ret, ==, 0);
    g_assert_cmpuint(w.result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
    g_assert_cmpmem(src.ptr, 8192, dst.ptr, 8192);
    memcpy(&fence, fb.ptr + 0x10, 4);
    g_assert_cmphex(GUINT32_FROM_LE(fence), ==, 0xc0ffee);
    g_assert_cmpuint(queue_rptr(&q), ==, q.wptr);
    g_assert_cmpint(sim_kfd_queue_info(f, q.id, &qi), ==, 0);
    g_assert_cmpuint(qi.packets, ==, 3);
    g_assert_false(qi.halted);
    g_assert_cmpuint(sim_kfd_vm_faults(f), ==, 0);

    /* the ring wraps: run enough packets to go round twice */
    for (i = 0; i < 2 * 4096 / 16; i++) {
        emit_fence(&q, 0x300000, i);
        g_assert_cmpint(queue_kick(f, &q), ==, 0);
    }
    memcpy(&fence, fb.ptr, 4);
    g_assert_cmpuint(GUINT32_FROM_LE(fence), ==, i - 1);

    /* a packet written in two halves runs once it is complete */
    emit_fence(&q, 0x300020, 77);
    g_assert_cmpint(sim_kfd_doorbell_write(f, q.doorbell, 0, q.wptr - 8),
                    ==, 0);
    g_assert_cmpuint(fb.ptr[0x20], ==, 0);
    g_assert_cmpint(queue_kick(f, &q), ==, 0);
    g_assert_cmpuint(fb.ptr[0x20], ==, 77);

    queue_unmap(kfd, &q);
    buf_unmap(kfd, &src);
    buf_unmap(kfd, &dst);
    buf_unmap(kfd, &fb);
    sim_kfd_close(f);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

/*
 * The attack of I3: B's queue names the GPU address of A's secret.  With
 * multiple contexts it faults in B; on a legacy kernel it reads A's data.
 */
static void run_cross_context_copy(bool multi_context)
{
    SimKfd *kfd = new_kfd(multi_context, 1);
    SimKfdFile *a, *b;
    uint32_t g = gpu_id(kfd, 0), mem_ev;
    uint8_t secret[4096], zero[4096] = { 0 };
    struct kfd_event_data data;
    SimKfdContextInfo ia, ib;
    SimKfdQueueInfo qi;
    Buf sec, loot;
    Queue q;
    Waiter w;
    unsigned i;

    if (multi_context) {
        a = open_secondary(kfd);
        b = open_secondary(kfd);
    } else {
        /* CREATE_PROCESS is ENOTTY there: both fds share the primary */
        a = sim_kfd_open(kfd);
        b = sim_kfd_open(kfd);
        g_assert_cmpint(sim_kfd_ioctl(b, AMDKFD_IOC_CREATE_PROCESS, NULL),
                        ==, -ENOTTY);
    }
    acquire(a, g, 1);
    acquire(b, g, multi_context ? 2 : 1);

    for (i = 0; i < sizeof(secret); i++) {
        secret[i] = 0xA0 ^ i;
    }
    buf_new(a, g, 0x100000, 4096, &sec);
    memcpy(sec.ptr, secret, sizeof(secret));

    queue_new(b, g, 0x1000000, &q);
    buf_new(b, g, 0x200000, 4096, &loot);
    mem_ev = create_event(b, KFD_IOC_EVENT_MEMORY, false);
    waiter_start(kfd, &w, b, mem_ev);

    emit_copy(&q, 0x100000, 0x200000, 4096);
    if (multi_context) {
        g_assert_cmpint(queue_kick(b, &q), ==, -EFAULT);
        waiter_join(&w);
        /* the victim's memory event reports the address, to B only */
        g_assert_cmpint(w.ret, ==, 0);
        g_assert_cmpuint(w.result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
        data = w.data;
        g_assert_cmphex(data.memory_exception_data.va, ==, 0x100000);
        g_assert_cmpuint(data.memory_exception_data.gpu_id, ==, g);
        g_assert_cmpuint(data.memory_exception_data.failure.NotPresent,
                         ==, 1);
        g_assert_cmpmem(loot.ptr, 4096, zero, 4096);
        ia = ctx_info(a);
        ib = ctx_info(b);
        g_assert_cmpuint(ia.vm_faults, ==, 0);
        g_assert_cmpuint(ib.vm_faults, ==, 1);
        g_assert_cmphex(ib.last_fault_va, ==, 0x100000);
        g_assert_cmpint(sim_kfd_queue_info(b, q.id, &qi), ==, 0);
        g_assert_true(qi.halted);
        g_assert_cmpuint(qi.error, ==, SIM_KFD_QUEUE_VM_FAULT);
        /* a halted queue stays halted */
        g_assert_cmpint(queue_kick(b, &q), ==, -EIO);
        g_assert_cmpuint(queue_rptr(&q), ==, 0);
    } else {
        g_assert_cmpint(queue_kick(b, &q), ==, 0);
        g_assert_cmpmem(loot.ptr, 4096, secret, 4096);
        g_assert_cmpuint(sim_kfd_vm_faults(b), ==, 0);
        sim_kfd_file_cancel_waits(b);
        waiter_join(&w);
        g_assert_cmpint(w.ret, ==, -EINTR);
    }
    /* A's data is intact either way */
    g_assert_cmpmem(sec.ptr, 4096, secret, 4096);

    buf_unmap(kfd, &sec);
    buf_unmap(kfd, &loot);
    queue_unmap(kfd, &q);
    sim_kfd_close(a);
    sim_kfd_close(b);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

static void test_dma_cross_context_faults(void)
{
    run_cross_context_copy(true);
}

static void test_dma_legacy_shared_attack(void)
{
    run_cross_context_copy(false);
}

static void test_dma_same_va_other_context(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *a = open_secondary(kfd), *b = open_secondary(kfd);
    uint32_t g = gpu_id(kfd, 0);
    Buf sa, sb, db;
    Queue q;

    /* one VA, two GPUVMs: B's queue sees B's object, never A's */
    acquire(a, g, 1);
    acquire(b, g, 2);
    buf_new(a, g, 0x100000, 4096, &sa);
    buf_new(b, g, 0x100000, 4096, &sb);
    buf_new(b, g, 0x200000, 4096, &db);
    memset(sa.ptr, 'A', 4096);
    memset(sb.ptr, 'B', 4096);
    queue_new(b, g, 0x1000000, &q);
    emit_copy(&q, 0x100000, 0x200000, 4096);
    g_assert_cmpint(queue_kick(b, &q), ==, 0);
    g_assert_cmpuint(db.ptr[0], ==, 'B');
    g_assert_cmpuint(db.ptr[4095], ==, 'B');

    buf_unmap(kfd, &sa);
    buf_unmap(kfd, &sb);
    buf_unmap(kfd, &db);
    queue_unmap(kfd, &q);
    sim_kfd_close(a);
    sim_kfd_close(b);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

static void test_dma_partial_range(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *f = open_secondary(kfd);
    uint32_t g = gpu_id(kfd, 0);
    uint8_t zero[8192] = { 0 };
    Buf src, dst;
    Queue q;

    acquire(f, g, 1);
    buf_new(f, g, 0x100000, 4096, &src);
    buf_new(f, g, 0x200000, 8192, &dst);
    memset(src.ptr, 0x11, 4096);
    queue_new(f, g, 0x1000000, &q);

    /* one byte past the source: the fault names the first missing byte */
    emit_copy(&q, 0x100000, 0x200000, 4097);
    g_assert_cmpint(queue_kick(f, &q), ==, -EFAULT);
    g_assert_cmpmem(dst.ptr, 8192, zero, 8192);
    g_assert_cmphex(ctx_info(f).last_fault_va, ==, 0x101000);
    g_assert_cmpuint(ctx_info(f).vm_faults, ==, 1);

    buf_unmap(kfd, &src);
    buf_unmap(kfd, &dst);
    queue_unmap(kfd, &q);
    sim_kfd_close(f);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

static void test_dma_bad_input(void)
{
    SimKfd *kfd = new_kfd(true, 2);
    SimKfdFile *f = open_secondary(kfd), *o = open_secondary(kfd);
    uint32_t g = gpu_id(kfd, 0), g1 = gpu_id(kfd, 1), id;
    uint32_t bad[] = { 0x1234 }, misaligned[] = { 0, 0, 0, 0 };
    SimKfdQueueInfo qi;
    Buf ring;
    Queue q, q2;

    acquire(f, g, 1);
    acquire(f, g1, 2);
    queue_new(f, g, 0x1000000, &q);
    buf_new(f, g, 0x2000000, 4096, &ring);

    /* queue arguments */
    g_assert_cmpint(queue_create(f, g, 0x2000000, 1000, 0x1010000,
                                 KFD_IOC_QUEUE_TYPE_SDMA, NULL, NULL),
                    ==, -EINVAL);
    g_assert_cmpint(queue_create(f, g, 0x2000000, 512, 0x1010000,
                                 KFD_IOC_QUEUE_TYPE_SDMA, NULL, NULL),
                    ==, -EINVAL);
    g_assert_cmpint(queue_create(f, g, 0x2000000, 8192, 0x1010000,
                                 KFD_IOC_QUEUE_TYPE_SDMA, NULL, NULL),
                    ==, -EINVAL);
    g_assert_cmpint(queue_create(f, g, 0x2000040, 2048, 0x1010000,
                                 KFD_IOC_QUEUE_TYPE_SDMA, NULL, NULL),
                    ==, -EINVAL);
    g_assert_cmpint(queue_create(f, g, 0x2000000, 4096, 0x5000000,
                                 KFD_IOC_QUEUE_TYPE_SDMA, NULL, NULL),
                    ==, -EINVAL);
    g_assert_cmpint(queue_create(f, g, 0x2000000, 4096, 0x1010000, 9,
                                 NULL, NULL), ==, -SIM_KFD_ENOTSUPP);
    /* the ring must be mapped on the queue's own node */
    g_assert_cmpint(queue_create(f, g1, 0x2000000, 4096, 0x1010000,
                                 KFD_IOC_QUEUE_TYPE_SDMA, NULL, NULL),
                    ==, -EINVAL);
    /* an AQL queue is accepted; it never runs here */
    g_assert_cmpint(queue_create(f, g, 0x2000000, 4096, 0x1010000,
                                 KFD_IOC_QUEUE_TYPE_COMPUTE_AQL, &id, NULL),
                    ==, 0);
    g_assert_cmpuint(ctx_info(f).n_queues, ==, 2);

    /* doorbells of nothing */
    g_assert_cmpint(sim_kfd_doorbell_write(f, q.doorbell, 8 * 500, 0),
                    ==, -EINVAL);
    g_assert_cmpint(sim_kfd_doorbell_write(f, q.doorbell, 3, 0), ==, -EINVAL);
    g_assert_cmpint(sim_kfd_doorbell_write(f, q.doorbell,
                                           SIM_KFD_DOORBELL_SLICE_SIZE, 0),
                    ==, -EINVAL);
    g_assert_cmpint(sim_kfd_doorbell_write(f, 0, 0, 0), ==, -EINVAL);
    g_assert_cmpint(sim_kfd_doorbell_write(f, UINT64_MAX, 8, 0), ==, -EINVAL);
    /* another context's doorbell offset names its own (absent) queue */
    g_assert_cmpint(sim_kfd_doorbell_write(o, q.doorbell, 0, 0), ==, -EINVAL);

    /* an unknown opcode halts the queue */
    queue_emit(&q, bad, 1);
    g_assert_cmpint(queue_kick(f, &q), ==, -EIO);
    g_assert_cmpint(sim_kfd_queue_info(f, q.id, &qi), ==, 0);
    g_assert_cmpuint(qi.error, ==, SIM_KFD_QUEUE_BAD_PACKET);

    /* a write pointer past the ring, and a misaligned fence */
    queue_new(f, g, 0x3000000, &q2);
    g_assert_cmpint(sim_kfd_doorbell_write(f, q2.doorbell, 0, 8192), ==,
                    -EIO);
    g_assert_cmpint(sim_kfd_queue_info(f, q2.id, &qi), ==, 0);
    g_assert_cmpuint(qi.error, ==, SIM_KFD_QUEUE_BAD_WPTR);
    g_assert_cmpint(sim_kfd_queue_info(f, 999, &qi), ==, -EINVAL);

    {
        struct kfd_ioctl_destroy_queue_args d = { .queue_id = q2.id };

        g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_DESTROY_QUEUE, &d),
                        ==, 0);
        g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_DESTROY_QUEUE, &d),
                        ==, -EINVAL);
    }
    queue_unmap(kfd, &q2);
    queue_new(f, g, 0x4000000, &q2);
    misaligned[0] = SIM_SDMA_HDR(SIM_SDMA_OP_FENCE, 0);
    misaligned[1] = 0x2000002;
    queue_emit(&q2, misaligned, 4);
    g_assert_cmpint(queue_kick(f, &q2), ==, -EIO);

    {
        struct kfd_ioctl_update_queue_args u = {
            .queue_id = 999, .ring_size = 4096, .queue_percentage = 100,
            .ring_base_address = 0x2000000,
        };

        g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_UPDATE_QUEUE, &u),
                        ==, -EFAULT);
        u.queue_id = id;
        u.queue_percentage = 101;
        g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_UPDATE_QUEUE, &u),
                        ==, -EINVAL);
        u.queue_percentage = 50;
        g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_UPDATE_QUEUE, &u),
                        ==, 0);
    }

    buf_unmap(kfd, &ring);
    queue_unmap(kfd, &q);
    queue_unmap(kfd, &q2);
    sim_kfd_close(f);
    sim_kfd_close(o);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

/* ---- SDMA v4 packets ---- */

static SimKfdQueueInfo queue_info(SimKfdFile *f, Queue *q)
{
    SimKfdQueueInfo qi;

    g_assert_cmpint(sim_kfd_queue_info(f, q->id, &qi), ==, 0);
    return qi;
}

static uint32_t buf_u32(Buf *b, uint64_t off)
{
    uint32_t v;

    memcpy(&v, b->ptr + off, 4);
    return le32_to_cpu(v);
}

static uint64_t buf_u64(Buf *b, uint64_t off)
{
    uint64_t v;

    memcpy(&v, b->ptr + off, 8);
    return le64_to_cpu(v);
}

static void buf_set_u32(Buf *b, uint64_t off, uint32_t v)
{
    v = cpu_to_le32(v);
    memcpy(b->ptr + off, &v, 4);
}

static void buf_set_u64(Buf *b, uint64_t off, uint64_t v)
{
    v = cpu_to_le64(v);
    memcpy(b->ptr + off, &v, 8);
}

/* A fresh model with one secondary context, its GPU and a data buffer */
typedef struct Rig {
    SimKfd *kfd;
    SimKfdFile *f;
    uint32_t g;
    Buf data;                   /* 64 KiB at DATA_VA */
    Queue q;                    /* an SDMA queue at QUEUE_VA */
} Rig;

#define DATA_VA     0x100000ULL
#define QUEUE_VA    0x1000000ULL

static void rig_new(Rig *r)
{
    r->kfd = new_kfd(true, 1);
    r->f = open_secondary(r->kfd);
    r->g = gpu_id(r->kfd, 0);
    acquire(r->f, r->g, 1);
    buf_new(r->f, r->g, DATA_VA, 65536, &r->data);
    queue_new(r->f, r->g, QUEUE_VA, &r->q);
}

static void rig_free(Rig *r)
{
    queue_unmap(r->kfd, &r->q);
    buf_unmap(r->kfd, &r->data);
    sim_kfd_close(r->f);
    sim_kfd_free(r->kfd);
    assert_no_leaks();
}

/* A packet that must halt the queue as malformed */
static void assert_bad_packet(const uint32_t *dw, unsigned n)
{
    Rig r;

    rig_new(&r);
    queue_emit(&r.q, dw, n);
    emit_fence(&r.q, DATA_VA, 0x1234);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, -EIO);
    g_assert_true(queue_info(r.f, &r.q).halted);
    g_assert_cmpuint(queue_info(r.f, &r.q).error, ==,
                     SIM_KFD_QUEUE_BAD_PACKET);
    g_assert_cmpuint(queue_rptr(&r.q), ==, 0);
    g_assert_cmpuint(buf_u32(&r.data, 0), ==, 0);
    g_assert_cmpuint(ctx_info(r.f).vm_faults, ==, 0);
    rig_free(&r);
}

/* A packet that must fault at @va */
static void assert_faults(const uint32_t *dw, unsigned n, uint64_t va)
{
    Rig r;

    rig_new(&r);
    queue_emit(&r.q, dw, n);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, -EFAULT);
    g_assert_cmpuint(queue_info(r.f, &r.q).error, ==, SIM_KFD_QUEUE_VM_FAULT);
    g_assert_cmpuint(ctx_info(r.f).vm_faults, ==, 1);
    g_assert_cmphex(ctx_info(r.f).last_fault_va, ==, va);
    g_assert_cmpuint(queue_rptr(&r.q), ==, 0);
    rig_free(&r);
}

static void test_sdma_nop(void)
{
    uint32_t zero[5] = { 0 };
    Rig r;

    rig_new(&r);
    /* the skipped dwords would halt the queue if they ran */
    emit_nop(&r.q, 3, 0xdeadbeef);
    /* ROCr's padding: zero dwords, each a NOP */
    queue_emit(&r.q, zero, ARRAY_SIZE(zero));
    emit_fence(&r.q, DATA_VA + 8, 77);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmpuint(buf_u32(&r.data, 8), ==, 77);
    g_assert_cmpuint(queue_info(r.f, &r.q).packets, ==, 1 + 5 + 1);
    g_assert_cmpuint(queue_rptr(&r.q), ==, r.q.wptr);

    /* a NOP's count is part of the packet: incomplete, it waits */
    emit_nop(&r.q, 2, 0xdeadbeef);
    g_assert_cmpint(sim_kfd_doorbell_write(r.f, r.q.doorbell, 0,
                                           r.q.wptr - 4), ==, 0);
    g_assert_cmpuint(queue_rptr(&r.q), ==, r.q.wptr - 12);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmpuint(queue_rptr(&r.q), ==, r.q.wptr);
    rig_free(&r);

    /* longer than the ring (1024 dwords) */
    {
        uint32_t p[] = { SIM_SDMA_NOP_COUNT(1024) };

        assert_bad_packet(p, 1);
    }
}

static void test_sdma_copy_linear(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *f = open_secondary(kfd);
    uint32_t g = gpu_id(kfd, 0);
    const uint64_t max = SIM_SDMA_COPY_MAX_BYTES;
    Buf src, dst;
    Queue q;
    uint64_t i;

    acquire(f, g, 1);
    buf_new(f, g, 0x1000000, max, &src);
    buf_new(f, g, 0x2000000, max + 4096, &dst);
    queue_new(f, g, 0x4000000, &q);
    for (i = 0; i < max; i++) {
        src.ptr[i] = i * 13 + (i >> 12);
    }

    /* one byte is a count of 0, and exactly one byte moves */
    emit_copy(&q, 0x1000000, 0x2000000, 1);
    g_assert_cmpint(queue_kick(f, &q), ==, 0);
    g_assert_cmpuint(dst.ptr[0], ==, src.ptr[0]);
    g_assert_cmpuint(dst.ptr[1], ==, 0);

    /* the largest count: 0x3fffff, 4 MiB */
    emit_copy(&q, 0x1000000, 0x2000001, max);
    g_assert_cmpint(queue_kick(f, &q), ==, 0);
    g_assert_cmpmem(dst.ptr + 1, max, src.ptr, max);
    g_assert_cmpuint(dst.ptr[max + 1], ==, 0);

    /* bits above the count are not part of it */
    {
        uint32_t p[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_COPY, 0), 0xFFC00000 | 3, 0,
            0x1000000, 0, 0x2000000 + max + 64, 0,
        };

        queue_emit(&q, p, ARRAY_SIZE(p));
        g_assert_cmpint(queue_kick(f, &q), ==, 0);
        g_assert_cmpmem(dst.ptr + max + 64, 4, src.ptr, 4);
        g_assert_cmpuint(dst.ptr[max + 68], ==, 0);
    }

    /* overlapping ranges behave as memmove */
    memcpy(src.ptr, "0123456789", 10);
    emit_copy(&q, 0x1000000, 0x1000002, 8);
    g_assert_cmpint(queue_kick(f, &q), ==, 0);
    g_assert_cmpmem(src.ptr, 10, "0101234567", 10);
    g_assert_cmpuint(sim_kfd_vm_faults(f), ==, 0);
    g_assert_cmpuint(queue_info(f, &q).packets, ==, 4);

    queue_unmap(kfd, &q);
    buf_unmap(kfd, &src);
    buf_unmap(kfd, &dst);
    sim_kfd_close(f);
    sim_kfd_free(kfd);
    assert_no_leaks();

    /* forms the model does not have */
    {
        uint32_t tmz[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_COPY, 0) | SIM_SDMA_COPY_TMZ, 7, 0,
            DATA_VA, 0, DATA_VA + 64, 0,
        };
        uint32_t bcast[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_COPY, 0) | (1U << 27), 7, 0,
            DATA_VA, 0, DATA_VA + 64, 0,
        };
        uint32_t swap[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_COPY, 0), 7, 1U << 16,
            DATA_VA, 0, DATA_VA + 64, 0,
        };
        uint32_t tiled[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_COPY, 1), 7, 0,
            DATA_VA, 0, DATA_VA + 64, 0,
        };

        assert_bad_packet(tmz, ARRAY_SIZE(tmz));
        assert_bad_packet(bcast, ARRAY_SIZE(bcast));
        assert_bad_packet(swap, ARRAY_SIZE(swap));
        assert_bad_packet(tiled, ARRAY_SIZE(tiled));
    }
    /* the destination faults first byte past its object; nothing moves */
    {
        uint32_t p[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_COPY, 0), 15, 0,
            DATA_VA, 0, DATA_VA + 65536 - 8, 0,
        };

        assert_faults(p, ARRAY_SIZE(p), DATA_VA + 65536);
    }
}

/* COPY_LINEAR_SUBWIN as ROCr's BuildCopyRectCommand fills it */
static void emit_subwin(Queue *q, unsigned element, uint64_t src,
                        const uint32_t *sxyz, uint32_t spitch,
                        uint32_t sslice, uint64_t dst, const uint32_t *dxyz,
                        uint32_t dpitch, uint32_t dslice, uint32_t rx,
                        uint32_t ry, uint32_t rz)
{
    uint32_t p[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_COPY, SIM_SDMA_SUBOP_COPY_LINEAR_SUBWIN) |
        (element << 29),
        (uint32_t)src, src >> 32, sxyz[0] | (sxyz[1] << 16),
        sxyz[2] | ((spitch - 1) << 13), sslice - 1,
        (uint32_t)dst, dst >> 32, dxyz[0] | (dxyz[1] << 16),
        dxyz[2] | ((dpitch - 1) << 13), dslice - 1,
        (rx - 1) | ((ry - 1) << 16), rz - 1,
    };

    queue_emit(q, p, ARRAY_SIZE(p));
}

static void test_sdma_copy_subwin(void)
{
    const uint32_t zero[3] = { 0, 0, 0 }, one[3] = { 1, 0, 0 };
    uint32_t s_at[3] = { 1, 2, 0 }, d_at[3] = { 3, 1, 0 };
    unsigned x, y, z;
    Rig r;

    rig_new(&r);
    for (x = 0; x < 4096; x++) {
        buf_set_u32(&r.data, x * 4, x);
    }
    /* 2D: 5 x 3 dwords from a 16-dword pitch to a 10-dword pitch */
    emit_subwin(&r.q, 2, DATA_VA, s_at, 16, 1, DATA_VA + 32768, d_at, 10, 1,
                5, 3, 1);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    for (y = 0; y < 5; y++) {
        for (x = 0; x < 10; x++) {
            bool in = y >= 1 && y < 4 && x >= 3 && x < 8;

            g_assert_cmpuint(buf_u32(&r.data, 32768 + (y * 10 + x) * 4), ==,
                             in ? (y - 1 + 2) * 16 + (x - 3 + 1) : 0);
        }
    }

    /* 3D, bytes, from byte 1: 7 x 2 x 3 from slices of 64 to ones of 40 */
    memset(r.data.ptr + 40000, 0, 4096);
    emit_subwin(&r.q, 0, DATA_VA, one, 32, 64, DATA_VA + 40000, zero, 8,
                40, 7, 2, 3);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    for (z = 0; z < 3; z++) {
        for (y = 0; y < 2; y++) {
            g_assert_cmpmem(r.data.ptr + 40000 + z * 40 + y * 8, 7,
                            r.data.ptr + 1 + z * 64 + y * 32, 7);
            g_assert_cmpuint(r.data.ptr[40000 + z * 40 + y * 8 + 7], ==, 0);
        }
    }
    g_assert_cmpuint(queue_info(r.f, &r.q).packets, ==, 2);
    rig_free(&r);

    {
        /* the destination base is not dword-aligned */
        uint32_t p[13] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_COPY, 4) | (2U << 29),
            DATA_VA, 0, 0, 7U << 13, 0, DATA_VA + 1026, 0, 0, 7U << 13, 0,
            3, 0,
        };
        /* rows of 9 elements in a pitch of 8: they would overlap */
        uint32_t wide[13] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_COPY, 4) | (2U << 29),
            DATA_VA, 0, 0, 7U << 13, 0, DATA_VA + 1024, 0, 0, 15U << 13, 0,
            8 | (3 << 16), 0,
        };
        /* an element of 32 bytes */
        uint32_t big[13] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_COPY, 4) | (5U << 29),
            DATA_VA, 0, 0, 7U << 13, 0, DATA_VA + 1024, 0, 0, 7U << 13, 0,
            3, 0,
        };
        /* slices of 2 rows holding 3 */
        uint32_t deep[13] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_COPY, 4) | (2U << 29),
            DATA_VA, 0, 0, 7U << 13, 15, DATA_VA + 4096, 0, 0, 7U << 13, 31,
            3 | (2 << 16), 1,
        };
        /* 64 rows of 1 KiB from the last KiB of the buffer */
        uint32_t far[13] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_COPY, 4),
            DATA_VA + 65536 - 1024, 0, 0, 1023U << 13, 0, DATA_VA, 0, 0,
            1023U << 13, 0, 1023 | (63 << 16), 0,
        };

        p[6] = DATA_VA + 1026;
        assert_bad_packet(p, ARRAY_SIZE(p));
        assert_bad_packet(wide, ARRAY_SIZE(wide));
        assert_bad_packet(big, ARRAY_SIZE(big));
        assert_bad_packet(deep, ARRAY_SIZE(deep));
        assert_faults(far, ARRAY_SIZE(far), DATA_VA + 65536);
    }
}

static void test_sdma_write_linear(void)
{
    uint32_t data[5] = { 1, 2, 3, 4, 0xfeedface };
    Rig r;
    unsigned i;

    rig_new(&r);
    emit_write(&r.q, DATA_VA + 4, data, 5);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    for (i = 0; i < 5; i++) {
        g_assert_cmphex(buf_u32(&r.data, 4 + i * 4), ==, data[i]);
    }
    g_assert_cmpuint(buf_u32(&r.data, 24), ==, 0);

    /* data that wraps around the end of the ring */
    while ((r.q.wptr & 4095) != 4096 - 24) {
        emit_nop(&r.q, 0, 0);
    }
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    emit_write(&r.q, DATA_VA + 100, data, 5);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    for (i = 0; i < 5; i++) {
        g_assert_cmphex(buf_u32(&r.data, 100 + i * 4), ==, data[i]);
    }

    /* the header is there, not all the data: it waits */
    emit_write(&r.q, DATA_VA + 200, data, 5);
    g_assert_cmpint(sim_kfd_doorbell_write(r.f, r.q.doorbell, 0,
                                           r.q.wptr - 8), ==, 0);
    g_assert_cmpuint(buf_u32(&r.data, 200), ==, 0);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmpuint(buf_u32(&r.data, 216), ==, 0xfeedface);
    g_assert_cmpuint(queue_rptr(&r.q), ==, r.q.wptr);
    rig_free(&r);

    {
        /* more data than the ring holds; misaligned; swapped */
        uint32_t big[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_WRITE, 0), DATA_VA, 0, 1020,
        };
        uint32_t odd[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_WRITE, 0), DATA_VA + 2, 0, 0, 5,
        };
        uint32_t swap[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_WRITE, 0), DATA_VA, 0, 1U << 24, 5,
        };
        uint32_t far[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_WRITE, 0), 0x7000000, 0, 0, 5,
        };

        assert_bad_packet(big, ARRAY_SIZE(big));
        assert_bad_packet(odd, ARRAY_SIZE(odd));
        assert_bad_packet(swap, ARRAY_SIZE(swap));
        assert_faults(far, ARRAY_SIZE(far), 0x7000000);
    }
}

static void test_sdma_fence_forms(void)
{
    uint32_t gpa[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_FENCE, 0) | SIM_SDMA_FENCE_GPA,
        DATA_VA, 0, 1,
    };
    uint32_t policy[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_FENCE, 0) | (3U << 16) | (1U << 20),
        DATA_VA + 4, 0, 0x55,
    };
    uint32_t far[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_FENCE, 0), 0x100, 0x1, 1,
    };
    Rig r;

    /* a physical address would bypass the GPU VM */
    assert_bad_packet(gpa, ARRAY_SIZE(gpa));
    assert_faults(far, ARRAY_SIZE(far), 0x100000100ULL);

    /* cache policy bits (mtype, sys) change nothing */
    rig_new(&r);
    queue_emit(&r.q, policy, ARRAY_SIZE(policy));
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmphex(buf_u32(&r.data, 4), ==, 0x55);
    rig_free(&r);
}

static void test_sdma_poll(void)
{
    static const struct {
        uint32_t value, mask, ref;
        unsigned func;
        bool satisfied;
    } polls[] = {
        { 5, ~0U, 0, SIM_SDMA_FUNC_ALWAYS, true },
        { 4, ~0U, 5, SIM_SDMA_FUNC_LT, true },
        { 5, ~0U, 5, SIM_SDMA_FUNC_LT, false },
        { 5, ~0U, 5, SIM_SDMA_FUNC_LE, true },
        { 6, ~0U, 5, SIM_SDMA_FUNC_LE, false },
        { 0, ~0U, 0, SIM_SDMA_FUNC_EQ, true },
        { 1, ~0U, 0, SIM_SDMA_FUNC_EQ, false },
        { 0x1ff, 0xff, 0xff, SIM_SDMA_FUNC_EQ, true },
        { 0x100, 0xff, 0, SIM_SDMA_FUNC_EQ, true },
        { 1, ~0U, 0, SIM_SDMA_FUNC_NE, true },
        { 0, ~0U, 0, SIM_SDMA_FUNC_NE, false },
        { 5, ~0U, 5, SIM_SDMA_FUNC_GE, true },
        { 4, ~0U, 5, SIM_SDMA_FUNC_GE, false },
        { 6, ~0U, 5, SIM_SDMA_FUNC_GT, true },
        { 5, ~0U, 5, SIM_SDMA_FUNC_GT, false },
        /* unsigned: 0xffffffff is not less than 1 */
        { 0xffffffff, ~0U, 1, SIM_SDMA_FUNC_LT, false },
    };
    Rig r;
    unsigned i;

    rig_new(&r);
    /* both HDP flush forms complete at once, before anything was written */
    emit_hdp_flush_rocr(&r.q);
    emit_hdp_flush_amdgpu(&r.q);
    emit_fence(&r.q, DATA_VA, 1);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmpuint(buf_u32(&r.data, 0), ==, 1);
    g_assert_cmpuint(queue_info(r.f, &r.q).packets, ==, 3);

    for (i = 0; i < ARRAY_SIZE(polls); i++) {
        buf_set_u32(&r.data, 64, polls[i].value);
        buf_set_u32(&r.data, 128, 0);
        emit_poll(&r.q, DATA_VA + 64, polls[i].ref, polls[i].mask,
                  polls[i].func);
        emit_fence(&r.q, DATA_VA + 128, i + 1);
        g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
        g_assert_cmpuint(queue_info(r.f, &r.q).waiting, ==,
                         !polls[i].satisfied);
        g_assert_cmpuint(buf_u32(&r.data, 128), ==,
                         polls[i].satisfied ? i + 1 : 0);
        if (!polls[i].satisfied) {
            /* the queue waits at the poll: the rest has not run */
            g_assert_cmpuint(queue_rptr(&r.q), ==,
                             r.q.wptr - 4 * (SIM_SDMA_POLL_REGMEM_DWORDS +
                                             SIM_SDMA_FENCE_DWORDS));
            /* a doorbell alone looks again and waits again */
            g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
            g_assert_true(queue_info(r.f, &r.q).waiting);
            /* satisfied now (any value does for ALWAYS) */
            buf_set_u32(&r.data, 64, polls[i].func == SIM_SDMA_FUNC_LT ||
                        polls[i].func == SIM_SDMA_FUNC_LE ? 0 :
                        polls[i].func == SIM_SDMA_FUNC_NE ? 9 :
                        polls[i].func == SIM_SDMA_FUNC_EQ ? polls[i].ref :
                        0xfffffff0);
            g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
            g_assert_false(queue_info(r.f, &r.q).waiting);
            g_assert_cmpuint(buf_u32(&r.data, 128), ==, i + 1);
        }
        g_assert_cmpuint(queue_rptr(&r.q), ==, r.q.wptr);
    }
    g_assert_false(queue_info(r.f, &r.q).halted);
    rig_free(&r);

    {
        uint32_t func7[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_POLL_REGMEM, 0) | SIM_SDMA_POLL_MEM |
            SIM_SDMA_POLL_FUNC(7), DATA_VA, 0, 0, ~0U, 0,
        };
        uint32_t odd[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_POLL_REGMEM, 0) | SIM_SDMA_POLL_MEM |
            SIM_SDMA_POLL_FUNC(3), DATA_VA + 1, 0, 0, ~0U, 0,
        };
        uint32_t sub[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_POLL_REGMEM, 1), 0, 0, 0, 0, 0,
        };
        uint32_t far[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_POLL_REGMEM, 0) | SIM_SDMA_POLL_MEM |
            SIM_SDMA_POLL_FUNC(3), 0x8000000, 0, 0, ~0U, 0,
        };

        assert_bad_packet(func7, ARRAY_SIZE(func7));
        assert_bad_packet(odd, ARRAY_SIZE(odd));
        assert_bad_packet(sub, ARRAY_SIZE(sub));
        assert_faults(far, ARRAY_SIZE(far), 0x8000000);
    }
}

/* A poll that another queue of the context satisfies: no doorbell of its */
static void test_sdma_poll_other_queue(void)
{
    Rig r;
    Queue q2;

    rig_new(&r);
    queue_new(r.f, r.g, 0x2000000, &q2);
    emit_poll(&r.q, DATA_VA, 1, ~0U, SIM_SDMA_FUNC_EQ);
    emit_fence(&r.q, DATA_VA + 4, 0xaa);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_true(queue_info(r.f, &r.q).waiting);

    emit_fence(&q2, DATA_VA, 1);
    g_assert_cmpint(queue_kick(r.f, &q2), ==, 0);
    g_assert_false(queue_info(r.f, &r.q).waiting);
    g_assert_cmphex(buf_u32(&r.data, 4), ==, 0xaa);
    g_assert_cmpuint(queue_rptr(&r.q), ==, r.q.wptr);

    queue_unmap(r.kfd, &q2);
    rig_free(&r);
}

/* Wait (up to 5 s) until @q has run up to its write pointer */
static bool queue_settles(SimKfdFile *f, Queue *q)
{
    int i;

    for (i = 0; i < 5000; i++) {
        if (queue_rptr(q) == q->wptr) {
            return true;
        }
        g_usleep(1000);
    }
    return false;
}

/* A CPU store followed by SET_EVENT, as ROCr signals: the model looks */
static void test_sdma_poll_set_event(void)
{
    Rig r;
    uint32_t ev;

    rig_new(&r);
    ev = create_event(r.f, KFD_IOC_EVENT_SIGNAL, true);
    buf_set_u32(&r.data, 0, 1);
    emit_poll(&r.q, DATA_VA, 0, ~0U, SIM_SDMA_FUNC_EQ);
    emit_fence(&r.q, DATA_VA + 4, 0xbb);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_true(queue_info(r.f, &r.q).waiting);

    /* a SET_EVENT with nothing changed: it looks and waits on */
    g_assert_cmpint(set_event(r.f, ev), ==, 0);
    g_assert_true(sim_kfd_global_idle(5 * G_USEC_PER_SEC));
    g_assert_true(queue_info(r.f, &r.q).waiting);
    g_assert_cmpuint(buf_u32(&r.data, 4), ==, 0);

    buf_set_u32(&r.data, 0, 0);
    g_assert_cmpint(set_event(r.f, ev), ==, 0);
    g_assert_true(queue_settles(r.f, &r.q));
    g_assert_cmphex(buf_u32(&r.data, 4), ==, 0xbb);
    g_assert_false(queue_info(r.f, &r.q).waiting);

    /* a context closed while the thread still holds it goes cleanly */
    buf_set_u32(&r.data, 0, 1);
    emit_poll(&r.q, DATA_VA, 0, ~0U, SIM_SDMA_FUNC_EQ);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmpint(set_event(r.f, ev), ==, 0);
    rig_free(&r);
}

static void test_sdma_atomic(void)
{
    static const struct {
        unsigned kind;
        uint32_t old, src, new;
    } ops32[] = {
        { SIM_SDMA_ATOMIC_SWAP, 5, 9, 9 },
        { SIM_SDMA_ATOMIC_ADD, 5, 9, 14 },
        { SIM_SDMA_ATOMIC_ADD, 0xffffffff, 2, 1 },
        { SIM_SDMA_ATOMIC_SUB, 5, 9, 0xfffffffc },
        { SIM_SDMA_ATOMIC_SMIN, 5, 0xffffffff, 0xffffffff },
        { SIM_SDMA_ATOMIC_UMIN, 5, 0xffffffff, 5 },
        { SIM_SDMA_ATOMIC_SMAX, 5, 0xffffffff, 5 },
        { SIM_SDMA_ATOMIC_UMAX, 5, 0xffffffff, 0xffffffff },
        { SIM_SDMA_ATOMIC_AND, 0xf0f0, 0xff00, 0xf000 },
        { SIM_SDMA_ATOMIC_OR, 0xf0f0, 0xff00, 0xfff0 },
        { SIM_SDMA_ATOMIC_XOR, 0xf0f0, 0xff00, 0x0ff0 },
        { SIM_SDMA_ATOMIC_INC, 3, 10, 4 },
        { SIM_SDMA_ATOMIC_INC, 10, 10, 0 },
        { SIM_SDMA_ATOMIC_DEC, 3, 10, 2 },
        { SIM_SDMA_ATOMIC_DEC, 0, 10, 10 },
        { SIM_SDMA_ATOMIC_DEC, 11, 10, 10 },
    };
    Rig r;
    unsigned i, rtn;

    rig_new(&r);
    /* ROCr's completion-signal decrement: ADD_RTN_64 of -1 */
    buf_set_u64(&r.data, 8, 5);
    emit_atomic(&r.q, SIM_SDMA_ATOMIC_ADD64, false, DATA_VA + 8,
                UINT64_MAX, 0);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmpuint(buf_u64(&r.data, 8), ==, 4);
    buf_set_u64(&r.data, 8, 0);
    emit_atomic(&r.q, SIM_SDMA_ATOMIC_ADD64, false, DATA_VA + 8,
                UINT64_MAX, 0);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmphex(buf_u64(&r.data, 8), ==, UINT64_MAX);

    /* 32-bit operations, with and without return; the next dword stays */
    for (rtn = 0; rtn < 2; rtn++) {
        for (i = 0; i < ARRAY_SIZE(ops32); i++) {
            buf_set_u32(&r.data, 16, ops32[i].old);
            buf_set_u32(&r.data, 20, 0x77777777);
            emit_atomic(&r.q, ops32[i].kind +
                        (rtn ? 0 : SIM_SDMA_ATOMIC_NO_RETURN), false,
                        DATA_VA + 16, ops32[i].src | (0xabcdULL << 32), 0);
            g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
            g_assert_cmphex(buf_u32(&r.data, 16), ==, ops32[i].new);
            g_assert_cmphex(buf_u32(&r.data, 20), ==, 0x77777777);
        }
    }
    /* 64-bit ones */
    buf_set_u64(&r.data, 24, 0x100000000ULL);
    emit_atomic(&r.q, SIM_SDMA_ATOMIC_SUB + SIM_SDMA_ATOMIC_64 +
                SIM_SDMA_ATOMIC_NO_RETURN, false, DATA_VA + 24, 1, 0);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmphex(buf_u64(&r.data, 24), ==, 0xffffffffULL);
    emit_atomic(&r.q, SIM_SDMA_ATOMIC_SMIN + SIM_SDMA_ATOMIC_64, false,
                DATA_VA + 24, (uint64_t)-3, 0);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmphex(buf_u64(&r.data, 24), ==, (uint64_t)-3);

    /* compare-swap: once, or (loop) until the compare succeeds */
    buf_set_u64(&r.data, 32, 7);
    emit_atomic(&r.q, SIM_SDMA_ATOMIC_CMPSWAP + SIM_SDMA_ATOMIC_64, false,
                DATA_VA + 32, 100, 6);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmpuint(buf_u64(&r.data, 32), ==, 7);
    emit_atomic(&r.q, SIM_SDMA_ATOMIC_CMPSWAP + SIM_SDMA_ATOMIC_64, false,
                DATA_VA + 32, 100, 7);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmpuint(buf_u64(&r.data, 32), ==, 100);
    emit_atomic(&r.q, SIM_SDMA_ATOMIC_CMPSWAP + SIM_SDMA_ATOMIC_64, true,
                DATA_VA + 32, 200, 150);
    emit_fence(&r.q, DATA_VA + 40, 1);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_true(queue_info(r.f, &r.q).waiting);
    g_assert_cmpuint(buf_u32(&r.data, 40), ==, 0);
    buf_set_u64(&r.data, 32, 150);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmpuint(buf_u64(&r.data, 32), ==, 200);
    g_assert_cmpuint(buf_u32(&r.data, 40), ==, 1);
    g_assert_false(queue_info(r.f, &r.q).halted);
    rig_free(&r);

    {
        uint32_t fadd[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_ATOMIC, 0) | SIM_SDMA_ATOMIC_OP(2),
            DATA_VA, 0, 1, 0, 0, 0, 0,
        };
        uint32_t loop_add[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_ATOMIC, 0) | SIM_SDMA_ATOMIC_LOOP |
            SIM_SDMA_ATOMIC_OP(SIM_SDMA_ATOMIC_ADD), DATA_VA, 0, 1, 0, 0, 0, 0,
        };
        uint32_t odd[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_ATOMIC, 0) |
            SIM_SDMA_ATOMIC_OP(SIM_SDMA_ATOMIC_ADD64), DATA_VA + 4, 0,
            1, 0, 0, 0, 0,
        };
        uint32_t tmz[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_ATOMIC, 0) | (1U << 18) |
            SIM_SDMA_ATOMIC_OP(SIM_SDMA_ATOMIC_ADD64), DATA_VA, 0,
            1, 0, 0, 0, 0,
        };
        uint32_t far[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_ATOMIC, 0) |
            SIM_SDMA_ATOMIC_OP(SIM_SDMA_ATOMIC_ADD64), 0x9000000, 0,
            1, 0, 0, 0, 0,
        };

        assert_bad_packet(fadd, ARRAY_SIZE(fadd));
        assert_bad_packet(loop_add, ARRAY_SIZE(loop_add));
        assert_bad_packet(odd, ARRAY_SIZE(odd));
        assert_bad_packet(tmz, ARRAY_SIZE(tmz));
        assert_faults(far, ARRAY_SIZE(far), 0x9000000);
    }
}

static void test_sdma_const_fill(void)
{
    Rig r;
    unsigned i;

    rig_new(&r);
    /* ROCr's count (bytes - 4) and amdgpu's (bytes - 1) fill the same */
    emit_fill(&r.q, DATA_VA, 0xa5a5a5a5, 4096 - 4);
    emit_fill(&r.q, DATA_VA + 8192, 0x5a5a5a5a, 4096 - 1);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    for (i = 0; i < 1024; i++) {
        g_assert_cmphex(buf_u32(&r.data, i * 4), ==, 0xa5a5a5a5);
        g_assert_cmphex(buf_u32(&r.data, 8192 + i * 4), ==, 0x5a5a5a5a);
    }
    g_assert_cmpuint(buf_u32(&r.data, 4096), ==, 0);
    g_assert_cmpuint(buf_u32(&r.data, 8192 + 4096), ==, 0);
    /* one dword */
    emit_fill(&r.q, DATA_VA + 20000, 42, 0);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmpuint(buf_u32(&r.data, 20000), ==, 42);
    g_assert_cmpuint(buf_u32(&r.data, 20004), ==, 0);
    rig_free(&r);

    {
        uint32_t bytes[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_CONST_FILL, 0), DATA_VA, 0, 1, 3,
        };
        uint32_t odd[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_CONST_FILL, 0) | SIM_SDMA_FILL_DWORD,
            DATA_VA + 2, 0, 1, 3,
        };
        uint32_t swap[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_CONST_FILL, 0) | SIM_SDMA_FILL_DWORD |
            (1U << 16), DATA_VA, 0, 1, 3,
        };
        /* 64 KiB + 4: one dword past the object */
        uint32_t over[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_CONST_FILL, 0) | SIM_SDMA_FILL_DWORD,
            DATA_VA, 0, 1, 65536,
        };

        assert_bad_packet(bytes, ARRAY_SIZE(bytes));
        assert_bad_packet(odd, ARRAY_SIZE(odd));
        assert_bad_packet(swap, ARRAY_SIZE(swap));
        assert_faults(over, ARRAY_SIZE(over), DATA_VA + 65536);
    }
}

static void test_sdma_timestamp(void)
{
    struct kfd_ioctl_get_clock_counters_args c = { 0 };
    uint64_t t0, t1, t2;
    Rig r;

    rig_new(&r);
    c.gpu_id = r.g;
    g_assert_cmpint(sim_kfd_ioctl(r.f, AMDKFD_IOC_GET_CLOCK_COUNTERS, &c),
                    ==, 0);
    t0 = c.gpu_clock_counter;
    emit_timestamp(&r.q, DATA_VA + 8);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_usleep(1000);
    emit_timestamp(&r.q, DATA_VA + 16);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmpint(sim_kfd_ioctl(r.f, AMDKFD_IOC_GET_CLOCK_COUNTERS, &c),
                    ==, 0);
    t1 = buf_u64(&r.data, 8);
    t2 = buf_u64(&r.data, 16);
    /* the clock of GET_CLOCK_COUNTERS, 100 MHz: 1 ms is 100000 ticks */
    g_assert_cmpuint(t0, <=, t1);
    g_assert_cmpuint(t1 + 100000, <=, t2);
    g_assert_cmpuint(t2, <=, c.gpu_clock_counter);
    rig_free(&r);

    {
        uint32_t odd[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_TIMESTAMP, 2), DATA_VA + 4, 0,
        };
        uint32_t local[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_TIMESTAMP, 1), DATA_VA, 0,
        };
        uint32_t far[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_TIMESTAMP, 2), 0xa000000, 0,
        };

        assert_bad_packet(odd, ARRAY_SIZE(odd));
        assert_bad_packet(local, ARRAY_SIZE(local));
        assert_faults(far, ARRAY_SIZE(far), 0xa000000);
    }
}

static void test_sdma_unknown_ops(void)
{
    static const uint32_t ops[] = {
        3, SIM_SDMA_HDR(SIM_SDMA_OP_NOP, 1), 4, 7, 9, 12, 14, 15, 16, 0xff,
        SIM_SDMA_HDR(SIM_SDMA_OP_FENCE, 1), SIM_SDMA_HDR(SIM_SDMA_OP_TRAP, 1),
    };
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(ops); i++) {
        uint32_t p[16] = { ops[i] };

        assert_bad_packet(p, ARRAY_SIZE(p));
    }
}

/*
 * An event page the GPU can write: a GTT object of the context at @va,
 * handed to the first CREATE_EVENT, as ROCr does on a dGPU
 */
static uint32_t create_event_on_page(SimKfdFile *f, uint32_t g, uint64_t va,
                                     Buf *page)
{
    struct kfd_ioctl_create_event_args a = {
        .event_type = KFD_IOC_EVENT_SIGNAL, .auto_reset = 1,
    };

    buf_new(f, g, va, SIM_KFD_EVENT_PAGE_SIZE, page);
    a.event_page_offset = page->handle;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_CREATE_EVENT, &a), ==, 0);
    return a.event_id;
}

/* An amd_signal_t at @off of @b (GPU VA @b->... + off) */
static uint64_t signal_init(Buf *b, uint64_t off, int64_t value,
                            uint64_t mailbox, uint32_t event_id)
{
    memset(b->ptr + off, 0, SIM_SIGNAL_SIZE);
    buf_set_u64(b, off, 1);     /* AMD_SIGNAL_KIND_USER */
    buf_set_u64(b, off + SIM_SIGNAL_VALUE, value);
    buf_set_u64(b, off + SIM_SIGNAL_MAILBOX, mailbox);
    buf_set_u32(b, off + SIM_SIGNAL_EVENT_ID, event_id);
    return off;
}

/*
 * ROCr 5.2.3's SDMA copy (BlitSdma::SubmitCommand): two polls per
 * dependency signal, the HDP flush, the copies, the atomic decrement of
 * the completion signal, its mailbox write and the trap
 */
static void emit_rocr_copy(Queue *q, uint64_t dep_value_va, uint64_t dst,
                           uint64_t src, uint32_t len, uint64_t sig_va,
                           uint64_t mailbox, uint32_t event_id)
{
    if (dep_value_va) {
        emit_poll(q, dep_value_va + 4, 0, ~0U, SIM_SDMA_FUNC_EQ);
        emit_poll(q, dep_value_va, 0, ~0U, SIM_SDMA_FUNC_EQ);
    }
    emit_hdp_flush_rocr(q);
    emit_copy(q, src, dst, len);
    emit_atomic(q, SIM_SDMA_ATOMIC_ADD64, false, sig_va + SIM_SIGNAL_VALUE,
                UINT64_MAX, 0);
    if (mailbox) {
        emit_fence(q, mailbox, event_id);
        emit_trap(q, event_id);
    }
}

static void test_sdma_rocr_copy(void)
{
    Rig r;
    Buf page;
    Waiter w;
    uint32_t ev;
    uint64_t sigs = DATA_VA + 32768, mailbox, *slots;

    rig_new(&r);
    ev = create_event_on_page(r.f, r.g, 0x400000, &page);
    mailbox = 0x400000 + ev * 8ULL;
    slots = (uint64_t *)page.ptr;
    memset(r.data.ptr, 'x', 4096);
    /* completion signal at 32 KiB; a dependency signal after it */
    signal_init(&r.data, 32768, 1, mailbox, ev);
    signal_init(&r.data, 32768 + 64, 1, 0, 0);

    waiter_start(r.kfd, &w, r.f, ev);
    emit_rocr_copy(&r.q, sigs + 64 + SIM_SIGNAL_VALUE, DATA_VA + 8192,
                   DATA_VA, 4096, sigs, mailbox, ev);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    /* waits on the dependency (value 1: the low half is not 0) */
    g_assert_true(queue_info(r.f, &r.q).waiting);
    g_assert_cmpuint(r.data.ptr[8192], ==, 0);

    buf_set_u64(&r.data, 32768 + 64 + SIM_SIGNAL_VALUE, 0);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    waiter_join(&w);
    g_assert_cmpint(w.ret, ==, 0);
    g_assert_cmpuint(w.result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
    g_assert_cmpmem(r.data.ptr + 8192, 4096, r.data.ptr, 4096);
    g_assert_cmpint(buf_u64(&r.data, 32768 + SIM_SIGNAL_VALUE), ==, 0);
    /* the KFD acknowledged the mailbox */
    g_assert_cmphex(slots[ev], ==, SIM_KFD_UNSIGNALED_SLOT);
    g_assert_cmpuint(queue_rptr(&r.q), ==, r.q.wptr);
    g_assert_cmpuint(queue_info(r.f, &r.q).packets, ==, 2 + 1 + 1 + 1 + 2);

    /* a 64-bit dependency: the high half alone keeps it waiting */
    buf_set_u64(&r.data, 32768 + SIM_SIGNAL_VALUE, 1);
    buf_set_u64(&r.data, 32768 + 64 + SIM_SIGNAL_VALUE, 1ULL << 32);
    emit_rocr_copy(&r.q, sigs + 64 + SIM_SIGNAL_VALUE, DATA_VA + 16384,
                   DATA_VA, 16, sigs, 0, 0);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_true(queue_info(r.f, &r.q).waiting);
    buf_set_u64(&r.data, 32768 + 64 + SIM_SIGNAL_VALUE, 0);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmpint(buf_u64(&r.data, 32768 + SIM_SIGNAL_VALUE), ==, 0);
    g_assert_cmpmem(r.data.ptr + 16384, 16, r.data.ptr, 16);

    buf_unmap(r.kfd, &page);
    rig_free(&r);
}

/* A trap whose context names no event: the events whose slots are set */
static void test_sdma_trap_slots(void)
{
    uint32_t ev[3], result;
    uint64_t *slots;
    Buf page;
    Rig r;
    int i;

    rig_new(&r);
    ev[0] = create_event_on_page(r.f, r.g, 0x400000, &page);
    ev[1] = create_event(r.f, KFD_IOC_EVENT_SIGNAL, true);
    ev[2] = create_event(r.f, KFD_IOC_EVENT_SIGNAL, true);
    slots = (uint64_t *)page.ptr;

    /* the GPU writes the mailboxes of 0 and 2, then traps with id 0 */
    emit_fence(&r.q, 0x400000 + ev[0] * 8ULL, ev[0]);
    emit_fence(&r.q, 0x400000 + ev[2] * 8ULL, ev[2]);
    emit_trap(&r.q, 0);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    for (i = 0; i < 3; i++) {
        g_assert_cmpint(wait_event(r.f, ev[i], 0, &result, NULL), ==, 0);
        g_assert_cmpuint(result, ==, i == 1 ? KFD_IOC_WAIT_RESULT_TIMEOUT :
                         KFD_IOC_WAIT_RESULT_COMPLETE);
        g_assert_cmphex(slots[ev[i]], ==, SIM_KFD_UNSIGNALED_SLOT);
    }
    /* only 28 bits of the context are the id */
    emit_trap(&r.q, 0xF0000000 | ev[1]);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmpint(wait_event(r.f, ev[1], 0, &result, NULL), ==, 0);
    g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);

    buf_unmap(r.kfd, &page);
    rig_free(&r);
}

/* A big ring full of one-dword NOPs: bounded, and other calls go on */
static void test_sdma_big_ring(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *f = open_secondary(kfd);
    uint32_t g = gpu_id(kfd, 0), id;
    uint64_t doorbell;
    Buf ring, ptrs;
    int64_t t0;
    uint64_t rptr;

    acquire(f, g, 1);
    buf_new(f, g, 0x1000000, 1 * MIB, &ring);
    buf_new(f, g, 0x2000000, 4096, &ptrs);
    g_assert_cmpint(queue_create(f, g, 0x1000000, 1 * MIB, 0x2000000,
                                 KFD_IOC_QUEUE_TYPE_SDMA, &id, &doorbell),
                    ==, 0);
    t0 = g_get_monotonic_time();
    g_assert_cmpint(sim_kfd_doorbell_write(f, doorbell, 0, 1 * MIB), ==, 0);
    g_test_message("%u NOPs in %" PRId64 " us", (unsigned)(MIB / 4),
                   g_get_monotonic_time() - t0);
    memcpy(&rptr, ptrs.ptr, 8);
    g_assert_cmpuint(le64_to_cpu(rptr), ==, 1 * MIB);
    /* a write pointer more than a ring ahead is refused */
    g_assert_cmpint(sim_kfd_doorbell_write(f, doorbell, 0, 2 * MIB + 4),
                    ==, -EIO);

    buf_unmap(kfd, &ring);
    buf_unmap(kfd, &ptrs);
    sim_kfd_close(f);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

/* An inactive queue keeps its work and runs once UPDATE_QUEUE maps it */
static void test_sdma_inactive(void)
{
    struct kfd_ioctl_update_queue_args u = {
        .ring_base_address = QUEUE_VA, .ring_size = 4096,
        .queue_percentage = 0, .queue_priority = 7,
    };
    Rig r;

    rig_new(&r);
    u.queue_id = r.q.id;
    g_assert_cmpint(sim_kfd_ioctl(r.f, AMDKFD_IOC_UPDATE_QUEUE, &u), ==, 0);
    emit_fence(&r.q, DATA_VA, 5);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    g_assert_cmpuint(buf_u32(&r.data, 0), ==, 0);
    u.queue_percentage = 100;
    g_assert_cmpint(sim_kfd_ioctl(r.f, AMDKFD_IOC_UPDATE_QUEUE, &u), ==, 0);
    g_assert_cmpuint(buf_u32(&r.data, 0), ==, 5);
    g_assert_cmpuint(queue_rptr(&r.q), ==, r.q.wptr);
    rig_free(&r);
}

/* ---- AQL queues ---- */

/*
 * An AQL queue as ROCr makes one: a ring of 64 packets at @va with every
 * header INVALID, its read and write indices in an amd_queue_t at
 * @va + 64 KiB
 */
typedef struct Aql {
    Buf ring;
    Buf amdq;
    uint64_t ring_va;
    uint64_t amdq_va;
    uint32_t slots;
    uint32_t id;
    uint64_t doorbell;
    uint64_t widx;
} Aql;

#define AQL_VA      0x3000000ULL

static uint16_t aql_header(Aql *q, uint64_t idx)
{
    uint16_t h;

    memcpy(&h, q->ring.ptr + (idx % q->slots) * SIM_AQL_PACKET_SIZE, 2);
    return le16_to_cpu(h);
}

static void aql_set_header(Aql *q, uint64_t idx, uint16_t h)
{
    h = cpu_to_le16(h);
    memcpy(q->ring.ptr + (idx % q->slots) * SIM_AQL_PACKET_SIZE, &h, 2);
}

static int aql_create(SimKfdFile *f, uint32_t g, Aql *q, uint64_t rptr,
                      uint64_t wptr, uint64_t csa, uint32_t csa_size)
{
    struct kfd_ioctl_create_queue_args a = {
        .ring_base_address = q->ring_va,
        .write_pointer_address = wptr,
        .read_pointer_address = rptr,
        .ring_size = q->slots * SIM_AQL_PACKET_SIZE,
        .gpu_id = g,
        .queue_type = KFD_IOC_QUEUE_TYPE_COMPUTE_AQL,
        .queue_percentage = 100,
        .queue_priority = 7,
        .ctx_save_restore_address = csa,
        .ctx_save_restore_size = csa_size,
    };
    int ret = sim_kfd_ioctl(f, AMDKFD_IOC_CREATE_QUEUE, &a);

    q->id = a.queue_id;
    q->doorbell = a.doorbell_offset;
    return ret;
}

static void aql_alloc(SimKfdFile *f, uint32_t g, uint64_t va, Aql *q)
{
    uint32_t i;

    memset(q, 0, sizeof(*q));
    q->ring_va = va;
    q->amdq_va = va + 0x10000;
    q->slots = 4096 / SIM_AQL_PACKET_SIZE;
    buf_new(f, g, q->ring_va, 4096, &q->ring);
    buf_new(f, g, q->amdq_va, 4096, &q->amdq);
    for (i = 0; i < q->slots; i++) {
        aql_set_header(q, i, SIM_AQL_TYPE_INVALID);
    }
}

static void aql_new(SimKfdFile *f, uint32_t g, uint64_t va, Aql *q)
{
    aql_alloc(f, g, va, q);
    g_assert_cmpint(aql_create(f, g, q, q->amdq_va + SIM_AMD_QUEUE_READ_ID,
                               q->amdq_va + SIM_AMD_QUEUE_WRITE_ID, 0, 0),
                    ==, 0);
}

static void aql_unmap(SimKfd *kfd, Aql *q)
{
    buf_unmap(kfd, &q->ring);
    buf_unmap(kfd, &q->amdq);
}

/* Write a packet: the body, then the header, as a producer must */
static void aql_put_at(Aql *q, uint64_t idx, const uint8_t *pkt,
                       bool header)
{
    uint8_t *slot = q->ring.ptr + (idx % q->slots) * SIM_AQL_PACKET_SIZE;

    memcpy(slot + 2, pkt + 2, SIM_AQL_PACKET_SIZE - 2);
    if (header) {
        __atomic_thread_fence(__ATOMIC_RELEASE);
        memcpy(slot, pkt, 2);
    }
}

static void aql_packet(Aql *q, uint16_t header, const uint64_t *deps,
                       uint64_t completion)
{
    uint8_t pkt[SIM_AQL_PACKET_SIZE] = { 0 };
    uint16_t h = cpu_to_le16(header);
    uint64_t v;
    unsigned i;

    memcpy(pkt, &h, 2);
    for (i = 0; deps && i < SIM_AQL_DEP_SIGNALS; i++) {
        v = cpu_to_le64(deps[i]);
        memcpy(pkt + SIM_AQL_DEP_SIGNAL_OFFSET + i * 8, &v, 8);
    }
    v = cpu_to_le64(completion);
    memcpy(pkt + SIM_AQL_COMPLETION_OFFSET, &v, 8);
    aql_put_at(q, q->widx++, pkt, true);
}

static void aql_barrier(Aql *q, bool and, const uint64_t *deps,
                        uint64_t completion)
{
    aql_packet(q, (and ? SIM_AQL_TYPE_BARRIER_AND : SIM_AQL_TYPE_BARRIER_OR) |
               SIM_AQL_HDR_BARRIER | (2 << 9) | (2 << 11), deps, completion);
}

/* The doorbell carries the index of the last packet written */
static int aql_ring_at(SimKfdFile *f, Aql *q, uint64_t last)
{
    return sim_kfd_doorbell_write(f, q->doorbell, 0, last);
}

static int aql_ring(SimKfdFile *f, Aql *q)
{
    return aql_ring_at(f, q, q->widx - 1);
}

static uint64_t aql_rptr(Aql *q)
{
    return buf_u64(&q->amdq, SIM_AMD_QUEUE_READ_ID);
}

static SimKfdQueueInfo aql_info(SimKfdFile *f, Aql *q)
{
    SimKfdQueueInfo qi;

    g_assert_cmpint(sim_kfd_queue_info(f, q->id, &qi), ==, 0);
    return qi;
}

/* Signals live in the rig's data buffer: VA DATA_VA + @off */
#define SIG(off)    (DATA_VA + (off))

static int64_t sig_value(Rig *r, uint64_t off)
{
    return buf_u64(&r->data, off + SIM_SIGNAL_VALUE);
}

static void sig_set(Rig *r, uint64_t off, int64_t v)
{
    buf_set_u64(&r->data, off + SIM_SIGNAL_VALUE, v);
}

static void test_aql_barrier_and(void)
{
    uint64_t deps[5] = { 0 };
    Rig r;
    Aql q;

    rig_new(&r);
    aql_new(r.f, r.g, AQL_VA, &q);
    signal_init(&r.data, 0, 1, 0, 0);
    signal_init(&r.data, 64, 1, 0, 0);
    signal_init(&r.data, 128, 0, 0, 0);
    signal_init(&r.data, 192, 1, 0, 0);
    signal_init(&r.data, 256, 1, 0, 0);

    /* no dependency at all: completes at once */
    aql_barrier(&q, true, NULL, SIG(0));
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    g_assert_cmpint(sig_value(&r, 0), ==, 0);
    g_assert_cmpuint(aql_rptr(&q), ==, 1);
    /* the type is INVALID now; the other header bits stay */
    g_assert_cmphex(aql_header(&q, 0), ==, SIM_AQL_TYPE_INVALID |
                    SIM_AQL_HDR_BARRIER | (2 << 9) | (2 << 11));
    g_assert_cmpuint(aql_info(r.f, &q).packets, ==, 1);

    /* signal 64 is not done: the queue waits there, in order */
    deps[0] = SIG(64);
    deps[2] = SIG(128);
    aql_barrier(&q, true, deps, SIG(192));
    aql_barrier(&q, true, NULL, SIG(256));
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    g_assert_true(aql_info(r.f, &q).waiting);
    g_assert_cmpuint(aql_rptr(&q), ==, 1);
    g_assert_cmpint(sig_value(&r, 192), ==, 1);
    g_assert_cmpint(sig_value(&r, 256), ==, 1);
    g_assert_cmpuint(aql_header(&q, 1) & 0xff, ==, SIM_AQL_TYPE_BARRIER_AND);
    /* a doorbell looks again and waits again */
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    g_assert_cmpuint(aql_rptr(&q), ==, 1);

    /* negative is not done either */
    sig_set(&r, 64, -1);
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    g_assert_cmpuint(aql_rptr(&q), ==, 1);

    sig_set(&r, 64, 0);
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    g_assert_false(aql_info(r.f, &q).waiting);
    g_assert_cmpuint(aql_rptr(&q), ==, 3);
    g_assert_cmpint(sig_value(&r, 192), ==, 0);
    g_assert_cmpint(sig_value(&r, 256), ==, 0);
    /* dependencies are read, never written */
    g_assert_cmpint(sig_value(&r, 64), ==, 0);
    g_assert_cmpint(sig_value(&r, 128), ==, 0);
    g_assert_cmpuint(ctx_info(r.f).vm_faults, ==, 0);

    aql_unmap(r.kfd, &q);
    rig_free(&r);
}

static void test_aql_barrier_or(void)
{
    uint64_t deps[5] = { 0 };
    Rig r;
    Aql q;

    rig_new(&r);
    aql_new(r.f, r.g, AQL_VA, &q);
    signal_init(&r.data, 0, 1, 0, 0);
    signal_init(&r.data, 64, 1, 0, 0);
    signal_init(&r.data, 128, 1, 0, 0);

    /* the 0 handle is not a satisfied dependency for OR */
    deps[1] = SIG(0);
    deps[4] = SIG(64);
    aql_barrier(&q, false, deps, SIG(128));
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    g_assert_true(aql_info(r.f, &q).waiting);
    sig_set(&r, 64, 0);
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    g_assert_cmpuint(aql_rptr(&q), ==, 1);
    g_assert_cmpint(sig_value(&r, 128), ==, 0);

    /* without any signal, OR waits for ever, and costs nothing meanwhile */
    aql_barrier(&q, false, NULL, 0);
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    g_assert_true(aql_info(r.f, &q).waiting);
    g_assert_cmpuint(aql_rptr(&q), ==, 1);
    g_assert_false(aql_info(r.f, &q).halted);

    aql_unmap(r.kfd, &q);
    rig_free(&r);
}

/* The barrier's dependency is decremented by an SDMA queue, as ROCr does */
static void test_aql_barrier_sdma(void)
{
    uint64_t deps[5] = { SIG(0) };
    Rig r;
    Aql q;

    rig_new(&r);
    aql_new(r.f, r.g, AQL_VA, &q);
    signal_init(&r.data, 0, 1, 0, 0);
    signal_init(&r.data, 64, 1, 0, 0);
    aql_barrier(&q, true, deps, SIG(64));
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    g_assert_true(aql_info(r.f, &q).waiting);

    emit_copy(&r.q, DATA_VA + 4096, DATA_VA + 8192, 64);
    emit_atomic(&r.q, SIM_SDMA_ATOMIC_ADD64, false, SIG(0) + SIM_SIGNAL_VALUE,
                UINT64_MAX, 0);
    g_assert_cmpint(queue_kick(r.f, &r.q), ==, 0);
    /* in the SDMA doorbell's thread: no doorbell of the AQL queue */
    g_assert_cmpuint(aql_rptr(&q), ==, 1);
    g_assert_cmpint(sig_value(&r, 64), ==, 0);

    aql_unmap(r.kfd, &q);
    rig_free(&r);
}

/* The CPU stores to an interrupt signal and sets its event */
static void test_aql_set_event(void)
{
    uint64_t deps[5] = { SIG(0) };
    uint32_t ev;
    Rig r;
    Aql q;
    int i;

    rig_new(&r);
    aql_new(r.f, r.g, AQL_VA, &q);
    ev = create_event(r.f, KFD_IOC_EVENT_SIGNAL, false);
    signal_init(&r.data, 0, 1, 0, ev);
    signal_init(&r.data, 64, 1, 0, 0);
    aql_barrier(&q, true, deps, SIG(64));
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    g_assert_true(aql_info(r.f, &q).waiting);

    sig_set(&r, 0, 0);
    g_assert_cmpint(set_event(r.f, ev), ==, 0);
    for (i = 0; i < 5000 && aql_rptr(&q) != 1; i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(aql_rptr(&q), ==, 1);
    g_assert_cmpint(sig_value(&r, 64), ==, 0);

    aql_unmap(r.kfd, &q);
    rig_free(&r);
}

/* A completion signal with an event: mailbox, interrupt, timestamps */
static void test_aql_completion_event(void)
{
    uint64_t mailbox, *slots;
    uint32_t ev, result;
    Buf page;
    Waiter w;
    Rig r;
    Aql q;

    rig_new(&r);
    aql_new(r.f, r.g, AQL_VA, &q);
    ev = create_event_on_page(r.f, r.g, 0x400000, &page);
    slots = (uint64_t *)page.ptr;
    mailbox = 0x400000 + ev * 8ULL;
    signal_init(&r.data, 0, 2, mailbox, ev);

    waiter_start(r.kfd, &w, r.f, ev);
    aql_barrier(&q, true, NULL, SIG(0));
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    waiter_join(&w);
    g_assert_cmpint(w.ret, ==, 0);
    g_assert_cmpuint(w.result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
    g_assert_cmpint(sig_value(&r, 0), ==, 1);
    /* the CP wrote the mailbox and the KFD acknowledged it */
    g_assert_cmphex(slots[ev], ==, SIM_KFD_UNSIGNALED_SLOT);
    /* no profiling asked for: no timestamps */
    g_assert_cmpuint(buf_u64(&r.data, SIM_SIGNAL_START_TS), ==, 0);

    /* with AMD_QUEUE_PROPERTIES_ENABLE_PROFILING */
    buf_set_u32(&q.amdq, SIM_AMD_QUEUE_PROPERTIES, SIM_AMD_QUEUE_PROFILING);
    aql_barrier(&q, true, NULL, SIG(0));
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    g_assert_cmpint(sig_value(&r, 0), ==, 0);
    g_assert_cmpuint(buf_u64(&r.data, SIM_SIGNAL_START_TS), !=, 0);
    g_assert_cmpuint(buf_u64(&r.data, SIM_SIGNAL_END_TS), >=,
                     buf_u64(&r.data, SIM_SIGNAL_START_TS));
    /* nobody waited: the event stays signalled */
    g_assert_cmpint(wait_event(r.f, ev, 0, &result, NULL), ==, 0);
    g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);

    buf_unmap(r.kfd, &page);
    aql_unmap(r.kfd, &q);
    rig_free(&r);
}

static void test_aql_doorbell(void)
{
    uint8_t pkt[SIM_AQL_PACKET_SIZE] = { SIM_AQL_TYPE_BARRIER_AND };
    Rig r;
    Aql q;
    unsigned i;

    rig_new(&r);
    aql_new(r.f, r.g, AQL_VA, &q);
    for (i = 0; i < 3; i++) {
        aql_barrier(&q, true, NULL, 0);
    }
    /* the value is the last packet's index: up to it, no further */
    g_assert_cmpint(aql_ring_at(r.f, &q, 0), ==, 0);
    g_assert_cmpuint(aql_rptr(&q), ==, 1);
    g_assert_cmpuint(aql_header(&q, 1) & 0xff, ==, SIM_AQL_TYPE_BARRIER_AND);
    g_assert_cmpint(aql_ring_at(r.f, &q, 2), ==, 0);
    g_assert_cmpuint(aql_rptr(&q), ==, 3);

    /* two producers: 4 is written first, 3 (reserved earlier) later */
    aql_put_at(&q, 3, pkt, false);
    aql_put_at(&q, 4, pkt, true);
    q.widx = 5;
    g_assert_cmpint(aql_ring_at(r.f, &q, 4), ==, 0);
    g_assert_cmpuint(aql_rptr(&q), ==, 3);
    g_assert_false(aql_info(r.f, &q).waiting);
    aql_put_at(&q, 3, pkt, true);
    /* a lower doorbell value: the highest one still counts */
    g_assert_cmpint(aql_ring_at(r.f, &q, 3), ==, 0);
    g_assert_cmpuint(aql_rptr(&q), ==, 5);

    /* a doorbell far ahead finds only INVALID headers */
    g_assert_cmpint(aql_ring_at(r.f, &q, UINT64_MAX), ==, 0);
    g_assert_cmpuint(aql_rptr(&q), ==, 5);

    /* round the ring twice more */
    for (i = 0; i < 150; i++) {
        aql_barrier(&q, true, NULL, 0);
        if (i % 10 == 9) {
            g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
        }
    }
    g_assert_cmpuint(aql_rptr(&q), ==, 155);
    for (i = 0; i < q.slots; i++) {
        g_assert_cmpuint(aql_header(&q, i) & 0xff, ==, SIM_AQL_TYPE_INVALID);
    }
    g_assert_cmpuint(aql_info(r.f, &q).packets, ==, 155);

    aql_unmap(r.kfd, &q);
    rig_free(&r);
}

/* A whole ring of packets with one doorbell: one ring per pass */
static void test_aql_full_ring(void)
{
    Rig r;
    Aql q;
    unsigned i;

    rig_new(&r);
    aql_new(r.f, r.g, AQL_VA, &q);
    signal_init(&r.data, 0, 64, 0, 0);
    for (i = 0; i < q.slots; i++) {
        aql_barrier(&q, true, NULL, SIG(0));
    }
    g_assert_cmpint(aql_ring_at(r.f, &q, UINT64_MAX), ==, 0);
    g_assert_cmpuint(aql_rptr(&q), ==, q.slots);
    g_assert_cmpint(sig_value(&r, 0), ==, 0);

    aql_unmap(r.kfd, &q);
    rig_free(&r);
}

/* What a packet the model cannot run does to a queue ROCr made */
static void check_aql_error(uint16_t header, uint64_t expect_code)
{
    uint32_t ev, result;
    Buf page;
    Rig r;
    Aql q;

    rig_new(&r);
    aql_new(r.f, r.g, AQL_VA, &q);
    ev = create_event_on_page(r.f, r.g, 0x400000, &page);
    /* the queue's inactive signal: an interrupt signal, value 0 */
    signal_init(&r.data, 1024, 0, 0x400000 + ev * 8ULL, ev);
    buf_set_u64(&q.amdq, SIM_AMD_QUEUE_INACTIVE_SIGNAL, SIG(1024));
    signal_init(&r.data, 0, 1, 0, 0);
    signal_init(&r.data, 64, 1, 0, 0);
    signal_init(&r.data, 128, 1, 0, 0);

    aql_barrier(&q, true, NULL, SIG(0));
    aql_packet(&q, header, NULL, SIG(64));
    aql_barrier(&q, true, NULL, SIG(128));
    g_assert_cmpint(aql_ring(r.f, &q), ==, -EIO);
    g_assert_true(aql_info(r.f, &q).halted);
    g_assert_cmpuint(aql_info(r.f, &q).error, ==,
                     SIM_KFD_QUEUE_UNSUPPORTED_PACKET);
    /* the queue stopped at the packet, which is still there */
    g_assert_cmpuint(aql_rptr(&q), ==, 1);
    g_assert_cmphex(aql_header(&q, 1), ==, header);
    g_assert_cmpint(sig_value(&r, 0), ==, 0);
    g_assert_cmpint(sig_value(&r, 64), ==, 1);
    g_assert_cmpint(sig_value(&r, 128), ==, 1);
    /* the CP's error code, and the inactive signal's event */
    g_assert_cmpint(sig_value(&r, 1024), ==, expect_code);
    g_assert_cmpint(wait_event(r.f, ev, 0, &result, NULL), ==, 0);
    g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
    g_assert_cmpuint(ctx_info(r.f).vm_faults, ==, 0);
    /* and it stays so */
    g_assert_cmpint(aql_ring(r.f, &q), ==, -EIO);
    g_assert_cmpint(sig_value(&r, 128), ==, 1);

    buf_unmap(r.kfd, &page);
    aql_unmap(r.kfd, &q);
    rig_free(&r);
}

static void test_aql_dispatch_error(void)
{
    Rig r;
    Aql q;

    check_aql_error(SIM_AQL_TYPE_KERNEL_DISPATCH | SIM_AQL_HDR_BARRIER |
                    (2 << 9) | (2 << 11), SIM_AQL_ERR_INVALID_PACKET);
    check_aql_error(SIM_AQL_TYPE_AGENT_DISPATCH, SIM_AQL_ERR_INVALID_PACKET);
    check_aql_error(SIM_AQL_TYPE_VENDOR_SPECIFIC, SIM_AQL_ERR_VENDOR_PACKET);
    check_aql_error(9, SIM_AQL_ERR_INVALID_PACKET);
    check_aql_error(0xff, SIM_AQL_ERR_INVALID_PACKET);

    /* a misaligned signal handle makes the packet malformed */
    rig_new(&r);
    aql_new(r.f, r.g, AQL_VA, &q);
    signal_init(&r.data, 1024, 0, 0, 0);
    buf_set_u64(&q.amdq, SIM_AMD_QUEUE_INACTIVE_SIGNAL, SIG(1024));
    aql_barrier(&q, true, NULL, SIG(4));
    g_assert_cmpint(aql_ring(r.f, &q), ==, -EIO);
    g_assert_cmpuint(aql_info(r.f, &q).error, ==,
                     SIM_KFD_QUEUE_UNSUPPORTED_PACKET);
    g_assert_cmpint(sig_value(&r, 1024), ==, SIM_AQL_ERR_INVALID_PACKET);
    aql_unmap(r.kfd, &q);
    rig_free(&r);

    /* pointers in no amd_queue_t: the queue just stops */
    rig_new(&r);
    aql_alloc(r.f, r.g, AQL_VA, &q);
    g_assert_cmpint(aql_create(r.f, r.g, &q, q.amdq_va, q.amdq_va + 8, 0, 0),
                    ==, 0);
    aql_packet(&q, SIM_AQL_TYPE_KERNEL_DISPATCH, NULL, 0);
    g_assert_cmpint(aql_ring(r.f, &q), ==, -EIO);
    g_assert_cmpuint(aql_info(r.f, &q).error, ==,
                     SIM_KFD_QUEUE_UNSUPPORTED_PACKET);
    g_assert_cmpuint(buf_u64(&q.amdq, 0), ==, 0);
    aql_unmap(r.kfd, &q);
    rig_free(&r);
}

/*
 * A rig with an AQL queue whose context save area (at 0x5000000) sends
 * the KFD's exception report to the signal at data offset @payload_sig
 * and the new event *@ev, the runtime enabled
 */
static void aql_runtime_rig(Rig *r, Aql *q, Buf *csa, unsigned payload_sig,
                            uint32_t *ev)
{
    struct kfd_ioctl_runtime_enable_args re = {
        .mode_mask = KFD_RUNTIME_ENABLE_MODE_ENABLE_MASK,
    };
    struct kfd_context_save_area_header *hdr;

    rig_new(r);
    aql_alloc(r->f, r->g, AQL_VA, q);
    buf_new(r->f, r->g, 0x5000000, 65536, csa);
    g_assert_cmpint(aql_create(r->f, r->g, q,
                               q->amdq_va + SIM_AMD_QUEUE_READ_ID,
                               q->amdq_va + SIM_AMD_QUEUE_WRITE_ID,
                               0x5000000, 65536), ==, 0);
    g_assert_cmpint(sim_kfd_ioctl(r->f, AMDKFD_IOC_RUNTIME_ENABLE, &re),
                    ==, 0);
    *ev = create_event(r->f, KFD_IOC_EVENT_SIGNAL, false);
    hdr = (void *)csa->ptr;
    hdr->err_payload_addr = cpu_to_le64(SIG(payload_sig) + SIM_SIGNAL_VALUE);
    hdr->err_event_id = cpu_to_le32(*ev);
}

/* With the runtime enabled, the KFD's report in the context save area */
static void test_aql_runtime_exception(void)
{
    uint32_t ev, result, ec;
    unsigned vendor;
    Buf csa;
    Rig r;
    Aql q;

    for (vendor = 0; vendor < 2; vendor++) {
        aql_runtime_rig(&r, &q, &csa, 0, &ev);
        signal_init(&r.data, 0, 1ULL << 40, 0, 0);

        aql_packet(&q, vendor ? SIM_AQL_TYPE_VENDOR_SPECIFIC :
                   SIM_AQL_TYPE_AGENT_DISPATCH, NULL, 0);
        g_assert_cmpint(aql_ring(r.f, &q), ==, -EIO);
        /*
         * KFD_EC_MASK(x) is 1ULL << (x - 1) without parentheses around x:
         * the code goes in as one value, the bits spelled out
         */
        ec = vendor ? EC_QUEUE_PACKET_VENDOR_UNSUPPORTED :
                      EC_QUEUE_PACKET_UNSUPPORTED;
        g_assert_cmphex(sig_value(&r, 0), ==, (1ULL << 40) |
                        KFD_EC_MASK(ec));
        g_assert_cmphex(sig_value(&r, 0), ==, (1ULL << 40) |
                        (vendor ? 1ULL << 22 : 1ULL << 19));
        g_assert_cmpint(wait_event(r.f, ev, 0, &result, NULL), ==, 0);
        g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);

        buf_unmap(r.kfd, &csa);
        aql_unmap(r.kfd, &q);
        rig_free(&r);
    }
}

/*
 * AMD's PM4_IB vendor packet as ROCr writes one: an INDIRECT_BUFFER jump
 * to @dwords of PM4 at @ib
 */
static void aql_pm4(Aql *q, uint64_t ib, uint32_t dwords, uint64_t completion)
{
    uint8_t pkt[SIM_AQL_PACKET_SIZE] = { 0 };

    stw_le_p(pkt, SIM_AQL_TYPE_VENDOR_SPECIFIC | SIM_AQL_HDR_BARRIER |
             (2 << 9) | (2 << 11));
    stw_le_p(pkt + 2, SIM_AQL_PM4_IB);
    stl_le_p(pkt + 4, SIM_PM4_HDR(SIM_PM4_OP_INDIRECT_BUFFER, 4));
    stq_le_p(pkt + 8, ib);
    stl_le_p(pkt + 16, dwords | (1U << 23));
    stl_le_p(pkt + 20, 10);
    stq_le_p(pkt + 56, completion);
    aql_put_at(q, q->widx++, pkt, true);
}

/* NOP and ACQUIRE_MEM complete; anything else is an unsupported packet */
static void test_aql_pm4(void)
{
    uint32_t ib[10] = {
        SIM_PM4_HDR(SIM_PM4_OP_ACQUIRE_MEM, 7), 0x28c00000, 0xffffffff,
        0, 0, 0, 10,
        SIM_PM4_HDR(SIM_PM4_OP_NOP, 2), 0,
        0x80000000,             /* a type-2 filler */
    };
    unsigned i;
    Rig r;
    Aql q;

    rig_new(&r);
    aql_new(r.f, r.g, AQL_VA, &q);
    signal_init(&r.data, 0, 1, 0, 0);
    signal_init(&r.data, 64, 1, 0, 0);
    signal_init(&r.data, 1024, 0, 0, 0);
    buf_set_u64(&q.amdq, SIM_AMD_QUEUE_INACTIVE_SIGNAL, SIG(1024));
    for (i = 0; i < ARRAY_SIZE(ib); i++) {
        stl_le_p(r.data.ptr + 4096 + i * 4, ib[i]);
    }
    aql_pm4(&q, DATA_VA + 4096, ARRAY_SIZE(ib), SIG(0));
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    g_assert_cmpuint(aql_rptr(&q), ==, 1);
    g_assert_cmpint(sig_value(&r, 0), ==, 0);

    /* a WRITE_DATA (0x37), or a count beyond the buffer */
    stl_le_p(r.data.ptr + 4096 + 7 * 4, SIM_PM4_HDR(0x37, 2));
    aql_pm4(&q, DATA_VA + 4096, ARRAY_SIZE(ib), SIG(64));
    g_assert_cmpint(aql_ring(r.f, &q), ==, -EIO);
    g_assert_cmpuint(aql_info(r.f, &q).error, ==,
                     SIM_KFD_QUEUE_UNSUPPORTED_PACKET);
    g_assert_cmpuint(aql_rptr(&q), ==, 1);
    g_assert_cmpint(sig_value(&r, 64), ==, 1);
    g_assert_cmpint(sig_value(&r, 1024), ==, SIM_AQL_ERR_VENDOR_PACKET);
    aql_unmap(r.kfd, &q);
    rig_free(&r);

    rig_new(&r);
    aql_new(r.f, r.g, AQL_VA, &q);
    stl_le_p(r.data.ptr + 4096, SIM_PM4_HDR(SIM_PM4_OP_NOP, 9));
    aql_pm4(&q, DATA_VA + 4096, 4, 0);
    g_assert_cmpint(aql_ring(r.f, &q), ==, -EIO);
    g_assert_cmpuint(aql_info(r.f, &q).error, ==,
                     SIM_KFD_QUEUE_UNSUPPORTED_PACKET);
    aql_unmap(r.kfd, &q);
    rig_free(&r);

    /* the buffer outside the GPUVM */
    rig_new(&r);
    aql_new(r.f, r.g, AQL_VA, &q);
    aql_pm4(&q, 0x7000000, 4, 0);
    g_assert_cmpint(aql_ring(r.f, &q), ==, -EFAULT);
    g_assert_cmphex(ctx_info(r.f).last_fault_va, ==, 0x7000000);
    aql_unmap(r.kfd, &q);
    rig_free(&r);
}

/* ---- kernel dispatches: the gfx9 shader interpreter ---- */

#define CODE_VA     0x6000000ULL
#define KARG_OFF    8192        /* kernel arguments, in the rig's data */
#define OUT_OFF     16384       /* what the kernels store, likewise */

/* compute_pgm_rsrc2: two user SGPRs (the kernarg pointer), TGID_X */
#define KRSRC2      ((2 << 1) | (1 << 7))
#define KPROPS      (1 << 3)

/*
 * gfx906 code, hand-encoded (llvm-mc -mcpu=gfx906 agrees):
 * out[gid] = gid * gid + 0x1000 for gid < n, with workgroups of 64
 */
static const uint32_t k_store[] = {
    0xc0060100, 0x00000000,     /* s_load_dwordx2 s[4:5], s[0:1], 0 */
    0xc0020180, 0x00000008,     /* s_load_dword s6, s[0:1], 8 */
    0x8e038602,                 /* s_lshl_b32 s3, s2, 6 */
    0x68020003,                 /* v_add_u32 v1, s3, v0 */
    0xbf8cc07f,                 /* s_waitcnt lgkmcnt(0) */
    0x7d980206,                 /* v_cmp_gt_u32 vcc, s6, v1 */
    0xbe88206a,                 /* s_and_saveexec_b64 s[8:9], vcc */
    0xbf88000a,                 /* s_cbranch_execz +10 (to s_endpgm) */
    0x24040282,                 /* v_lshlrev_b32 v2, 2, v1 */
    0x7e060205,                 /* v_mov_b32 v3, s5 */
    0x32040404,                 /* v_add_co_u32 v2, vcc, s4, v2 */
    0x38060680,                 /* v_addc_co_u32 v3, vcc, 0, v3, vcc */
    0xd2850004, 0x00020301,     /* v_mul_lo_u32 v4, v1, v1 */
    0x680808ff, 0x00001000,     /* v_add_u32 v4, 0x1000, v4 */
    0xdc708000, 0x007f0402,     /* global_store_dword v[2:3], v4, off */
    0xbf810000,                 /* s_endpgm */
};

/* A store of v0 to the address in the kernel arguments */
static const uint32_t k_store_at[] = {
    0xc0060100, 0x00000000,     /* s_load_dwordx2 s[4:5], s[0:1], 0 */
    0xbf8cc07f,                 /* s_waitcnt lgkmcnt(0) */
    0x7e040204,                 /* v_mov_b32 v2, s4 */
    0x7e060205,                 /* v_mov_b32 v3, s5 */
    0xdc708000, 0x007f0002,     /* global_store_dword v[2:3], v0, off */
    0xbf810000,                 /* s_endpgm */
};

static const uint32_t k_loop[] = {
    0xbf82ffff,                 /* s_branch -1: itself, for ever */
};

/* The same with a 64-lane 16-byte load in the loop: the costly kind */
static const uint32_t k_load_loop[] = {
    0xc0060100, 0x00000000,     /* s_load_dwordx2 s[4:5], s[0:1], 0 */
    0xbf8cc07f,                 /* s_waitcnt lgkmcnt(0) */
    0x7e040204,                 /* v_mov_b32 v2, s4 */
    0x7e060205,                 /* v_mov_b32 v3, s5 */
    0xdc5c8000, 0x047f0002,     /* global_load_dwordx4 v[4:7], v[2:3], off */
    0xbf82fffd,                 /* s_branch -3: to the load */
};

static const uint32_t k_illegal[] = {
    0xe0700000, 0x80000000,     /* buffer_store_dword: MUBUF, not modelled */
    0xbf810000,
};

/*
 * Two waves and a barrier: each work-item puts tid + 256 in the LDS,
 * then, after s_barrier, reads its mirror's (127 - tid) and stores it to
 * out[tid]; every lane adds 1 to out[128] with a global atomic
 */
static const uint32_t k_lds[] = {
    0xc0060100, 0x00000000,     /* s_load_dwordx2 s[4:5], s[0:1], 0 */
    0x24020082,                 /* v_lshlrev_b32 v1, 2, v0 */
    0x680400ff, 0x00000100,     /* v_add_u32 v2, 0x100, v0 */
    0xd81a0000, 0x00000201,     /* ds_write_b32 v1, v2 */
    0xbf8cc07f,                 /* s_waitcnt lgkmcnt(0) */
    0xbf8a0000,                 /* s_barrier */
    0x6a0600ff, 0x0000007f,     /* v_sub_u32 v3, 0x7f, v0 */
    0x24060682,                 /* v_lshlrev_b32 v3, 2, v3 */
    0xd86c0000, 0x04000003,     /* ds_read_b32 v4, v3 */
    0xbf8cc07f,                 /* s_waitcnt lgkmcnt(0) */
    0x7e0a0205,                 /* v_mov_b32 v5, s5 */
    0x320c0204,                 /* v_add_co_u32 v6, vcc, s4, v1 */
    0x380e0a80,                 /* v_addc_co_u32 v7, vcc, 0, v5, vcc */
    0xdc708000, 0x007f0406,     /* global_store_dword v[6:7], v4, off */
    0x7e100281,                 /* v_mov_b32 v8, 1 */
    0x7e1202ff, 0x00000200,     /* v_mov_b32 v9, 0x200 */
    0xdd088000, 0x00040809,     /* global_atomic_add v9, v8, s[4:5] */
    0xbf810000,                 /* s_endpgm */
};

/* An LDS store past the group segment (none) */
static const uint32_t k_lds_bad[] = {
    0x7e0202ff, 0x00010000,     /* v_mov_b32 v1, 0x10000 */
    0xd81a0000, 0x00000001,     /* ds_write_b32 v1, v0 */
    0xbf810000,
};

static const uint32_t k_trap[] = {
    0xbf920002,                 /* s_trap 2 */
    0xbf810000,
};

/* A kernel descriptor at the start of @code, the code at byte 256 */
static void kernel_put(Buf *code, const uint32_t *insns, unsigned n,
                       unsigned vgprs)
{
    unsigned i;

    memset(code->ptr, 0, 256 + n * 4);
    stl_le_p(code->ptr + 8, 16);                /* kernarg_size */
    stq_le_p(code->ptr + 16, 256);              /* entry offset */
    stl_le_p(code->ptr + 48, (vgprs + 3) / 4 - 1);
    stl_le_p(code->ptr + 52, KRSRC2);
    stw_le_p(code->ptr + 56, KPROPS);
    for (i = 0; i < n; i++) {
        stl_le_p(code->ptr + 256 + i * 4, insns[i]);
    }
}

/* A rig with an AQL queue and a code object holding @insns */
static void isa_rig_new(Rig *r, Aql *q, Buf *code, const uint32_t *insns,
                        unsigned n, unsigned vgprs)
{
    rig_new(r);
    aql_new(r->f, r->g, AQL_VA, q);
    buf_new(r->f, r->g, CODE_VA, 4096, code);
    kernel_put(code, insns, n, vgprs);
}

static void isa_rig_free(Rig *r, Aql *q, Buf *code)
{
    buf_unmap(r->kfd, code);
    aql_unmap(r->kfd, q);
    rig_free(r);
}

static void aql_dispatch(Aql *q, uint16_t wg, uint32_t grid, uint64_t ko,
                         uint64_t kernarg, uint64_t completion)
{
    uint8_t pkt[SIM_AQL_PACKET_SIZE] = { 0 };

    stw_le_p(pkt, SIM_AQL_TYPE_KERNEL_DISPATCH | SIM_AQL_HDR_BARRIER |
             (2 << 9) | (2 << 11));
    stw_le_p(pkt + 2, 1);                       /* one dimension */
    stw_le_p(pkt + 4, wg);
    stw_le_p(pkt + 6, 1);
    stw_le_p(pkt + 8, 1);
    stl_le_p(pkt + 12, grid);
    stl_le_p(pkt + 16, 1);
    stl_le_p(pkt + 20, 1);
    stq_le_p(pkt + 32, ko);
    stq_le_p(pkt + 40, kernarg);
    stq_le_p(pkt + 56, completion);
    aql_put_at(q, q->widx++, pkt, true);
}

/*
 * VOPC in the VOP3 encoding is VOP3a: |v1| > 1.0 with v1 = -2.0 holds,
 * so the stored mask is the one lane's bit
 */
static const uint32_t k_cmp_abs[] = {
    0x7e0202f5,                 /* v_mov_b32 v1, -2.0 */
    0xd0440104, 0x0001e501,     /* v_cmp_gt_f32 s[4:5], |v1|, 1.0 */
    0xc0060180, 0x00000000,     /* s_load_dwordx2 s[6:7], s[0:1], 0 */
    0xbf8cc07f,                 /* s_waitcnt lgkmcnt(0) */
    0x7e040206,                 /* v_mov_b32 v2, s6 */
    0x7e060207,                 /* v_mov_b32 v3, s7 */
    0x7e080204,                 /* v_mov_b32 v4, s4 */
    0xdc708000, 0x007f0402,     /* global_store_dword v[2:3], v4, off */
    0xbf810000,                 /* s_endpgm */
};

static void test_isa_vop3_cmp_abs(void)
{
    Buf code;
    Rig r;
    Aql q;

    isa_rig_new(&r, &q, &code, k_cmp_abs, ARRAY_SIZE(k_cmp_abs), 5);
    signal_init(&r.data, 0, 1, 0, 0);
    buf_set_u64(&r.data, KARG_OFF, DATA_VA + OUT_OFF);
    stl_le_p(r.data.ptr + OUT_OFF, 0xdeadbeef);
    aql_dispatch(&q, 1, 1, CODE_VA, DATA_VA + KARG_OFF, SIG(0));
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    g_assert_false(aql_info(r.f, &q).halted);
    g_assert_cmpint(sig_value(&r, 0), ==, 0);
    g_assert_cmphex(ldl_le_p(r.data.ptr + OUT_OFF), ==, 1);

    isa_rig_free(&r, &q, &code);
}

/* A kernel that stores runs, its completion signal completes */
static void test_isa_store(void)
{
    SimKfdQueueInfo qi;
    uint32_t i, v;
    Buf code;
    Rig r;
    Aql q;

    isa_rig_new(&r, &q, &code, k_store, ARRAY_SIZE(k_store), 5);
    signal_init(&r.data, 0, 1, 0, 0);
    signal_init(&r.data, 64, 1, 0, 0);
    for (i = 0; i < 256; i++) {
        stl_le_p(r.data.ptr + OUT_OFF + i * 4, 0xdeadbeef);
    }
    buf_set_u64(&r.data, KARG_OFF, DATA_VA + OUT_OFF);
    stl_le_p(r.data.ptr + KARG_OFF + 8, 90);
    buf_set_u64(&r.data, KARG_OFF + 16, DATA_VA + OUT_OFF + 512);
    stl_le_p(r.data.ptr + KARG_OFF + 24, 64);

    /* 100 work-items in two workgroups, the second partial; 90 store */
    aql_dispatch(&q, 64, 100, CODE_VA, DATA_VA + KARG_OFF, SIG(0));
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    qi = aql_info(r.f, &q);
    g_assert_false(qi.halted);
    g_assert_cmpuint(aql_rptr(&q), ==, 1);
    g_assert_cmpint(sig_value(&r, 0), ==, 0);
    for (i = 0; i < 128; i++) {
        v = ldl_le_p(r.data.ptr + OUT_OFF + i * 4);
        g_assert_cmphex(v, ==, i < 90 ? i * i + 0x1000 : 0xdeadbeef);
    }
    /* two waves of 16 instructions */
    g_assert_cmpuint(qi.dispatches, ==, 1);
    g_assert_cmpuint(qi.last_wave_instructions, ==, 32);

    /* n = 64: the second wave has no lane left and branches to the end */
    aql_dispatch(&q, 64, 100, CODE_VA, DATA_VA + KARG_OFF + 16, SIG(64));
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    qi = aql_info(r.f, &q);
    g_assert_cmpint(sig_value(&r, 64), ==, 0);
    for (i = 0; i < 100; i++) {
        v = ldl_le_p(r.data.ptr + OUT_OFF + 512 + i * 4);
        g_assert_cmphex(v, ==, i < 64 ? i * i + 0x1000 : 0xdeadbeef);
    }
    g_assert_cmpuint(qi.dispatches, ==, 2);
    g_assert_cmpuint(qi.last_wave_instructions, ==, 16 + 9);
    g_assert_cmpuint(qi.wave_instructions, ==, 32 + 25);

    isa_rig_free(&r, &q, &code);
}

/* Waves of a workgroup meet at s_barrier and share its LDS */
static void test_isa_lds(void)
{
    SimKfdQueueInfo qi;
    uint32_t i;
    Buf code;
    Rig r;
    Aql q;

    isa_rig_new(&r, &q, &code, k_lds, ARRAY_SIZE(k_lds), 10);
    stl_le_p(code.ptr, 512);                    /* group segment */
    signal_init(&r.data, 0, 1, 0, 0);
    buf_set_u64(&r.data, KARG_OFF, DATA_VA + OUT_OFF);
    stl_le_p(r.data.ptr + OUT_OFF + 512, 1000);
    aql_dispatch(&q, 128, 128, CODE_VA, DATA_VA + KARG_OFF, SIG(0));
    g_assert_cmpint(aql_ring(r.f, &q), ==, 0);
    qi = aql_info(r.f, &q);
    g_assert_false(qi.halted);
    g_assert_cmpint(sig_value(&r, 0), ==, 0);
    for (i = 0; i < 128; i++) {
        g_assert_cmpuint(ldl_le_p(r.data.ptr + OUT_OFF + i * 4), ==,
                         127 - i + 256);
    }
    g_assert_cmpuint(ldl_le_p(r.data.ptr + OUT_OFF + 512), ==, 1000 + 128);
    g_assert_cmpuint(qi.last_wave_instructions, ==, 2 * 18);

    isa_rig_free(&r, &q, &code);
}

/*
 * A kernel the interpreter cannot run stops the queue at the packet as a
 * wave's exception: ROCr's code, and with the runtime enabled the KFD's
 */
static void run_isa_error(const uint32_t *insns, unsigned n, uint32_t ec,
                          uint32_t error)
{
    uint32_t ev, result;
    SimKfdQueueInfo qi;
    Buf code, csa;
    Rig r;
    Aql q;

    aql_runtime_rig(&r, &q, &csa, 256, &ev);
    signal_init(&r.data, 256, 0, 0, 0);
    signal_init(&r.data, 1024, 0, 0, 0);
    buf_set_u64(&q.amdq, SIM_AMD_QUEUE_INACTIVE_SIGNAL, SIG(1024));
    signal_init(&r.data, 0, 1, 0, 0);
    buf_set_u64(&r.data, KARG_OFF, DATA_VA + OUT_OFF);
    buf_new(r.f, r.g, CODE_VA, 4096, &code);
    kernel_put(&code, insns, n, 8);

    aql_dispatch(&q, 64, 64, CODE_VA, DATA_VA + KARG_OFF, SIG(0));
    g_assert_cmpint(aql_ring(r.f, &q), ==, -EIO);
    qi = aql_info(r.f, &q);
    g_assert_true(qi.halted);
    g_assert_cmpuint(qi.error, ==, error);
    g_assert_cmpuint(aql_rptr(&q), ==, 0);
    g_assert_cmpint(sig_value(&r, 0), ==, 1);
    g_assert_cmphex(sig_value(&r, 1024), ==,
                    ec == EC_QUEUE_WAVE_ILLEGAL_INSTRUCTION ?
                    SIM_AQL_ERR_ILLEGAL_INSTRUCTION :
                    SIM_AQL_ERR_WAVE_EXCEPTION);
    g_assert_cmphex(sig_value(&r, 256), ==, KFD_EC_MASK(ec));
    g_assert_cmpint(wait_event(r.f, ev, 0, &result, NULL), ==, 0);
    g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
    g_assert_cmpuint(ctx_info(r.f).vm_faults, ==, 0);
    if (error == SIM_KFD_QUEUE_WAVE_BUDGET) {
        /* a memory instruction costs one unit per active lane */
        g_assert_cmpuint(qi.last_wave_instructions, <=, SIM_ISA_BUDGET);
        g_assert_cmpuint(qi.last_wave_instructions, >=, SIM_ISA_BUDGET / 64);
        g_test_message("%u wave instructions in %.1f ms: %.1f ns each",
                       (unsigned)qi.last_wave_instructions,
                       qi.last_dispatch_ns / 1e6,
                       (double)qi.last_dispatch_ns /
                       qi.last_wave_instructions);
    }

    buf_unmap(r.kfd, &code);
    buf_unmap(r.kfd, &csa);
    aql_unmap(r.kfd, &q);
    rig_free(&r);
}

static void test_isa_illegal(void)
{
    run_isa_error(k_illegal, ARRAY_SIZE(k_illegal),
                  EC_QUEUE_WAVE_ILLEGAL_INSTRUCTION,
                  SIM_KFD_QUEUE_ILLEGAL_INSTRUCTION);
}

/*
 * Register operands at the top of the files (8 VGPRs here, 102 SGPRs):
 * a multi-dword operand that would pass the last register is illegal
 */
static void test_isa_register_bounds(void)
{
    static const uint32_t k[][3] = {
        { 0xdc5c8000, 0x057f0000 },     /* global_load_dwordx4 v[5:8] */
        { 0xdc7c8000, 0x007f0500 },     /* global_store_dwordx4 v[5:8] */
        { 0xd28f0007, 0x00020080 },     /* v_lshlrev_b64 v[7:8], 0, v[0:1] */
        { 0xd28f0000, 0x00020e80 },     /* v_lshlrev_b64 v[0:1], 0, v[7:8] */
        { 0xd1e86a07, 0x04020100 },     /* v_mad_u64_u32 v[7:8], vcc, ... */
        { 0xd8ec0000, 0x07000000 },     /* ds_read_b64 v[7:8], v0 */
        { 0xc0121600, 0x00000000 },     /* s_load_dwordx16 s[88:103] */
        { 0xbee50180, 0xbf810000 },     /* s_mov_b64 s[101:102], 0 */
    };
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(k); i++) {
        uint32_t insns[3] = { k[i][0], k[i][1], 0xbf810000 };

        run_isa_error(insns, 3, EC_QUEUE_WAVE_ILLEGAL_INSTRUCTION,
                      SIM_KFD_QUEUE_ILLEGAL_INSTRUCTION);
    }
}

/* LDS out of the group segment: the wave's memory violation (EC 5) */
static void test_isa_lds_violation(void)
{
    run_isa_error(k_lds_bad, ARRAY_SIZE(k_lds_bad),
                  EC_QUEUE_WAVE_MEMORY_VIOLATION,
                  SIM_KFD_QUEUE_WAVE_EXCEPTION);
}

/* s_trap (as abort() or an assert in a kernel): EC_QUEUE_WAVE_TRAP */
static void test_isa_trap(void)
{
    run_isa_error(k_trap, ARRAY_SIZE(k_trap), EC_QUEUE_WAVE_TRAP,
                  SIM_KFD_QUEUE_WAVE_EXCEPTION);
}

/* A kernel that never ends is stopped by the budget, not run for ever */
static void test_isa_budget(void)
{
    run_isa_error(k_loop, ARRAY_SIZE(k_loop), EC_QUEUE_WAVE_ABORT,
                  SIM_KFD_QUEUE_WAVE_BUDGET);
    run_isa_error(k_load_loop, ARRAY_SIZE(k_load_loop), EC_QUEUE_WAVE_ABORT,
                  SIM_KFD_QUEUE_WAVE_BUDGET);
}

/*
 * Hostile code: random instruction words (biased to the encodings the
 * interpreter decodes) and random descriptor fields end in a completed
 * dispatch or a halted queue, never a crash or a hang
 */
static void test_isa_random(void)
{
    static const uint32_t prefix[] = {
        0x80000000, 0xbe800000, 0xbf000000, 0xb0000000, 0xbf800000,
        0xc0000000, 0x00000000, 0x7e000000, 0x7c000000, 0xd0000000,
        0xd1000000, 0xd2000000, 0xdc000000, 0xd8000000,
    };
    unsigned iter, i, done = 0, halted = 0;
    SimKfdQueueInfo qi;
    Buf code;
    Rig r;
    Aql q;

    for (iter = 0; iter < 300; iter++) {
        isa_rig_new(&r, &q, &code, k_store, ARRAY_SIZE(k_store), 5);
        stl_le_p(code.ptr, g_test_rand_int_range(0, 4096));
        stl_le_p(code.ptr + 48, g_test_rand_int());
        stl_le_p(code.ptr + 52, g_test_rand_int() & ~1U);
        stw_le_p(code.ptr + 56, g_test_rand_int() & 0x3ff);
        for (i = 0; i < 256; i++) {
            uint32_t w = g_test_rand_int();

            if (g_test_rand_bit()) {
                w = (w & 0x00ffffff) |
                    prefix[g_test_rand_int_range(0, ARRAY_SIZE(prefix))];
            }
            stl_le_p(code.ptr + 256 + i * 4, w);
        }
        if (iter & 1) {
            /* a working kernel with a few bits flipped */
            const uint32_t *k = iter & 2 ? k_lds : k_store;
            unsigned n = iter & 2 ? ARRAY_SIZE(k_lds) : ARRAY_SIZE(k_store);

            for (i = 0; i < n; i++) {
                stl_le_p(code.ptr + 256 + i * 4, k[i]);
            }
            for (i = 0; i < 3; i++) {
                unsigned at = 256 + g_test_rand_int_range(0, n) * 4;

                stl_le_p(code.ptr + at, ldl_le_p(code.ptr + at) ^
                         (1U << g_test_rand_int_range(0, 32)));
            }
            stl_le_p(code.ptr + 48, 2);         /* 12 VGPRs */
            stl_le_p(code.ptr + 52, KRSRC2);
            stw_le_p(code.ptr + 56, KPROPS);
            buf_set_u64(&r.data, KARG_OFF, DATA_VA + OUT_OFF);
        }
        for (i = 0; i < 64; i++) {
            buf_set_u64(&r.data, KARG_OFF + i * 8, g_test_rand_bit() ?
                        DATA_VA + g_test_rand_int_range(0, 65536) :
                        g_test_rand_int());
        }
        aql_dispatch(&q, g_test_rand_int_range(1, 300),
                     g_test_rand_int_range(1, 2000), CODE_VA,
                     DATA_VA + KARG_OFF, 0);
        aql_ring(r.f, &q);
        qi = aql_info(r.f, &q);
        if (qi.halted) {
            halted++;
        } else {
            g_assert_cmpuint(aql_rptr(&q), ==, 1);
            done++;
        }
        isa_rig_free(&r, &q, &code);
    }
    g_test_message("random kernels: %u completed, %u halted", done, halted);
}

/* A store outside the GPUVM is the context's VM fault */
static void test_isa_fault(void)
{
    uint32_t mem_ev, result;
    struct kfd_event_data data;
    Buf code;
    Rig r;
    Aql q;

    rig_new(&r);
    aql_new(r.f, r.g, AQL_VA, &q);
    mem_ev = create_event(r.f, KFD_IOC_EVENT_MEMORY, false);
    buf_new(r.f, r.g, CODE_VA, 4096, &code);
    kernel_put(&code, k_store_at, ARRAY_SIZE(k_store_at), 4);
    signal_init(&r.data, 0, 1, 0, 0);
    buf_set_u64(&r.data, KARG_OFF, 0x7000010);
    aql_dispatch(&q, 64, 64, CODE_VA, DATA_VA + KARG_OFF, SIG(0));
    g_assert_cmpint(aql_ring(r.f, &q), ==, -EFAULT);
    g_assert_cmpuint(aql_info(r.f, &q).error, ==, SIM_KFD_QUEUE_VM_FAULT);
    g_assert_cmpuint(aql_rptr(&q), ==, 0);
    g_assert_cmpint(sig_value(&r, 0), ==, 1);
    g_assert_cmphex(ctx_info(r.f).last_fault_va, ==, 0x7000010);
    g_assert_cmpint(wait_event(r.f, mem_ev, 0, &result, &data), ==, 0);
    g_assert_cmphex(data.memory_exception_data.va, ==, 0x7000000);
    g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);

    isa_rig_free(&r, &q, &code);
}

/* Malformed dispatches: the CP's packet error, nothing runs */
static void test_isa_bad_dispatch(void)
{
    static const struct {
        uint16_t wg;
        uint32_t grid;
        uint64_t ko;
    } bad[] = {
        { 0, 64, CODE_VA },             /* an empty workgroup */
        { 64, 0, CODE_VA },             /* an empty grid */
        { 64, 64, CODE_VA + 8 },        /* a misaligned kernel object */
        { 64, 64, 0 },
    };
    unsigned i;
    Buf code;
    Rig r;
    Aql q;

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        isa_rig_new(&r, &q, &code, k_store, ARRAY_SIZE(k_store), 5);
        signal_init(&r.data, 1024, 0, 0, 0);
        buf_set_u64(&q.amdq, SIM_AMD_QUEUE_INACTIVE_SIGNAL, SIG(1024));
        aql_dispatch(&q, bad[i].wg, bad[i].grid, bad[i].ko,
                     DATA_VA + KARG_OFF, 0);
        g_assert_cmpint(aql_ring(r.f, &q), ==, -EIO);
        g_assert_cmpuint(aql_info(r.f, &q).error, ==,
                         SIM_KFD_QUEUE_UNSUPPORTED_PACKET);
        g_assert_cmpuint(aql_info(r.f, &q).last_wave_instructions, ==, 0);
        g_assert_cmpint(sig_value(&r, 1024), ==, SIM_AQL_ERR_INVALID_PACKET);
        isa_rig_free(&r, &q, &code);
    }
}

/* Every address a packet names goes through the GPU VM */
static void check_aql_fault(uint64_t dep, uint64_t completion,
                            uint64_t mailbox, uint64_t fault_va)
{
    uint64_t deps[5] = { dep };
    SimKfdFile *other;
    uint32_t mem_ev, result;
    struct kfd_event_data data;
    Rig r;
    Aql q;

    rig_new(&r);
    other = open_secondary(r.kfd);
    aql_new(r.f, r.g, AQL_VA, &q);
    mem_ev = create_event(r.f, KFD_IOC_EVENT_MEMORY, false);
    signal_init(&r.data, 0, 1, mailbox, 5);
    aql_barrier(&q, true, dep ? deps : NULL, completion);
    g_assert_cmpint(aql_ring(r.f, &q), ==, -EFAULT);
    g_assert_cmpuint(aql_info(r.f, &q).error, ==, SIM_KFD_QUEUE_VM_FAULT);
    g_assert_cmpuint(aql_rptr(&q), ==, 0);
    g_assert_cmphex(ctx_info(r.f).last_fault_va, ==, fault_va);
    g_assert_cmpint(wait_event(r.f, mem_ev, 0, &result, &data), ==, 0);
    g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
    g_assert_cmphex(data.memory_exception_data.va, ==, fault_va & ~4095ULL);
    g_assert_cmpuint(ctx_info(other).vm_faults, ==, 0);

    sim_kfd_close(other);
    aql_unmap(r.kfd, &q);
    rig_free(&r);
}

static void test_aql_faults(void)
{
    /* a dependency, a completion signal, a mailbox nobody mapped */
    check_aql_fault(0x7000000, 0, 0, 0x7000000 + SIM_SIGNAL_VALUE);
    check_aql_fault(0, 0x7000000, 0, 0x7000000);
    check_aql_fault(0, SIG(0), 0x7000040, 0x7000040);
    /* a signal across the end of its object */
    check_aql_fault(0, SIG(65536 - 16), 0, DATA_VA + 65536);
}

/*
 * I3 on AQL: B's barrier names A's signal as its completion signal.  With
 * multiple contexts B faults and A's signal is untouched; on a legacy
 * kernel (one shared context) B decrements it.
 */
static void run_aql_cross_context(bool multi_context)
{
    SimKfd *kfd = new_kfd(multi_context, 1);
    SimKfdFile *a = multi_context ? open_secondary(kfd) : sim_kfd_open(kfd);
    SimKfdFile *b = multi_context ? open_secondary(kfd) : sim_kfd_open(kfd);
    uint32_t g = gpu_id(kfd, 0);
    uint64_t deps[5] = { 0x100040 };
    Buf sa;
    Aql q;

    acquire(a, g, 1);
    acquire(b, g, multi_context ? 2 : 1);
    buf_new(a, g, 0x100000, 4096, &sa);
    signal_init(&sa, 0, 7, 0, 0);
    signal_init(&sa, 64, 0, 0, 0);
    aql_new(b, g, AQL_VA, &q);
    aql_barrier(&q, true, deps, 0x100000);
    if (multi_context) {
        g_assert_cmpint(aql_ring(b, &q), ==, -EFAULT);
        g_assert_cmpuint(ctx_info(b).vm_faults, ==, 1);
        g_assert_cmphex(ctx_info(b).last_fault_va, ==,
                        0x100040 + SIM_SIGNAL_VALUE);
        g_assert_cmpuint(ctx_info(a).vm_faults, ==, 0);
        g_assert_cmpint(buf_u64(&sa, SIM_SIGNAL_VALUE), ==, 7);
    } else {
        g_assert_cmpint(aql_ring(b, &q), ==, 0);
        g_assert_cmpint(buf_u64(&sa, SIM_SIGNAL_VALUE), ==, 6);
        g_assert_cmpuint(sim_kfd_vm_faults(b), ==, 0);
    }

    buf_unmap(kfd, &sa);
    aql_unmap(kfd, &q);
    sim_kfd_close(a);
    sim_kfd_close(b);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

static void test_aql_cross_context_faults(void)
{
    run_aql_cross_context(true);
}

static void test_aql_legacy_shared_attack(void)
{
    run_aql_cross_context(false);
}

/*
 * Two threads on one context: one queues barriers, each on a signal the
 * other releases with a CPU store and then either the AQL doorbell or an
 * SDMA fence (whose progress re-examines the AQL queue)
 */
typedef struct AqlStress {
    Rig *r;
    Aql *q;
    unsigned rounds;
    unsigned queued;            /* barriers queued, atomic */
} AqlStress;

static gpointer aql_stress_setter(gpointer opaque)
{
    AqlStress *s = opaque;
    unsigned i;

    for (i = 0; i < s->rounds; i++) {
        /* barrier i is queued and at the head */
        while (__atomic_load_n(&s->queued, __ATOMIC_ACQUIRE) <= i ||
               aql_rptr(s->q) < i) {
            g_usleep(50);
        }
        sig_set(s->r, 64 * (i % 8), 0);
        if (i & 1) {
            g_assert_cmpint(aql_ring_at(s->r->f, s->q, i), ==, 0);
        } else {
            emit_fence(&s->r->q, DATA_VA + 4096, i);
            g_assert_cmpint(queue_kick(s->r->f, &s->r->q), ==, 0);
        }
    }
    return NULL;
}

static void test_aql_stress(void)
{
    const unsigned rounds = 400;
    uint64_t deps[5] = { 0 };
    AqlStress s = { 0 };
    GThread *t;
    Rig r;
    Aql q;
    unsigned i;

    rig_new(&r);
    aql_new(r.f, r.g, AQL_VA, &q);
    s.r = &r;
    s.q = &q;
    s.rounds = rounds;
    t = g_thread_new("setter", aql_stress_setter, &s);
    for (i = 0; i < rounds; i++) {
        /* the signal's last barrier (i - 8) is done before it is re-armed */
        while (i >= 8 && aql_rptr(&q) < i - 7) {
            g_usleep(50);
        }
        signal_init(&r.data, 64 * (i % 8), 1, 0, 0);
        deps[0] = SIG(64 * (i % 8));
        aql_barrier(&q, true, deps, 0);
        g_assert_cmpint(aql_ring_at(r.f, &q, i), ==, 0);
        __atomic_store_n(&s.queued, i + 1, __ATOMIC_RELEASE);
    }
    g_thread_join(t);
    g_assert_cmpuint(aql_rptr(&q), ==, rounds);
    g_assert_false(aql_info(r.f, &q).halted);
    aql_unmap(r.kfd, &q);
    rig_free(&r);
}

/* ---- hostile packets ---- */

/* A guest address: mostly in the rig's data buffer, sometimes not */
static uint64_t fuzz_va(GRand *rnd, uint64_t align)
{
    switch (g_rand_int_range(rnd, 0, 400)) {
    case 0:
        return g_rand_int(rnd) | ((uint64_t)g_rand_int(rnd) << 32);
    case 1:
        return DATA_VA + 65536 - g_rand_int_range(rnd, 0, 64);
    case 2:
        return DATA_VA + g_rand_int_range(rnd, 0, 65536);
    default:
        return DATA_VA + (g_rand_int_range(rnd, 0, 65536) & ~(align - 1));
    }
}

/* One SDMA packet, well formed more often than not */
static void fuzz_sdma_packet(GRand *rnd, Queue *q)
{
    uint64_t va = fuzz_va(rnd, 8), va2 = fuzz_va(rnd, 8);
    uint32_t junk[8], i;

    static const unsigned atomics[] = {
        SIM_SDMA_ATOMIC_SWAP, SIM_SDMA_ATOMIC_CMPSWAP, SIM_SDMA_ATOMIC_ADD,
        SIM_SDMA_ATOMIC_SUB, SIM_SDMA_ATOMIC_UMAX, SIM_SDMA_ATOMIC_DEC,
    };

    switch (g_rand_int_range(rnd, 0, 400)) {
    case 0:
        emit_nop(q, g_rand_int_range(rnd, 0, 8), g_rand_int(rnd));
        break;
    case 1 ... 20:
        emit_copy(q, va, va2, g_rand_int_range(rnd, 1, 1024));
        break;
    case 21 ... 40:
        for (i = 0; i < 8; i++) {
            junk[i] = g_rand_int(rnd);
        }
        emit_write(q, va, junk, g_rand_int_range(rnd, 1, 9));
        break;
    case 41 ... 80:
        emit_fence(q, va, g_rand_int(rnd));
        break;
    case 81 ... 100:
        emit_trap(q, g_rand_int_range(rnd, 0, 8));
        break;
    case 101 ... 140:
        /* mostly on a half of a signal's value, as ROCr polls */
        if (g_rand_int_range(rnd, 0, 8)) {
            va = DATA_VA + g_rand_int_range(rnd, 0, 1024) * SIM_SIGNAL_SIZE +
                 SIM_SIGNAL_VALUE + 4 * g_rand_int_range(rnd, 0, 2);
        }
        emit_poll(q, va, g_rand_int_range(rnd, 0, 20) == 0,
                  g_rand_int_range(rnd, 0, 20) ? ~0U : g_rand_int(rnd),
                  g_rand_int_range(rnd, 0, 50) ? SIM_SDMA_FUNC_EQ :
                  g_rand_int_range(rnd, 0, 8));
        break;
    case 141 ... 200:
        emit_atomic(q, g_rand_int_range(rnd, 0, 20) ?
                    atomics[g_rand_int_range(rnd, 0, ARRAY_SIZE(atomics))] +
                    g_rand_int_range(rnd, 0, 4) * 32 :
                    g_rand_int_range(rnd, 0, 128),
                    g_rand_int_range(rnd, 0, 50) == 0, va,
                    g_rand_int(rnd), g_rand_int_range(rnd, 0, 2));
        break;
    case 201 ... 220:
        emit_fill(q, va, g_rand_int(rnd), g_rand_int_range(rnd, 0, 20000));
        break;
    case 221 ... 240:
        emit_timestamp(q, va);
        break;
    case 242 ... 260: {
        /* mostly a geometric rectangle, sometimes not */
        uint32_t rx = g_rand_int_range(rnd, 1, 40);
        uint32_t ry = g_rand_int_range(rnd, 1, 8);
        uint32_t rz = g_rand_int_range(rnd, 1, 4);
        unsigned element = g_rand_int_range(rnd, 0, 40) ?
                           g_rand_int_range(rnd, 0, 3) : 5;
        uint32_t pitch, slice;

        for (i = 0; i < 3; i++) {
            junk[i] = g_rand_int_range(rnd, 0, 4);
        }
        pitch = junk[0] + rx + g_rand_int_range(rnd, 0, 8) -
                !g_rand_int_range(rnd, 0, 30);
        slice = pitch * (junk[1] + ry) + g_rand_int_range(rnd, 0, 8);
        emit_subwin(q, element, va & ~3ULL, junk, pitch, slice, va2 & ~3ULL,
                    junk, pitch, slice, rx, ry, rz);
        break;
    }
    case 241:
        junk[0] = g_rand_int(rnd);
        queue_emit(q, junk, 1);
        break;
    default:
        if (g_rand_int_range(rnd, 0, 2)) {
            emit_hdp_flush_rocr(q);
        } else {
            emit_copy(q, DATA_VA + g_rand_int_range(rnd, 0, 32768),
                      DATA_VA + 32768 + g_rand_int_range(rnd, 0, 16384),
                      g_rand_int_range(rnd, 1, 16384));
        }
        break;
    }
}

/* One AQL packet: barriers on signals in the buffer, some other types */
static void fuzz_aql_packet(GRand *rnd, Aql *q)
{
    uint64_t deps[5];
    uint16_t hdr;
    unsigned i;

    for (i = 0; i < 5; i++) {
        deps[i] = g_rand_int_range(rnd, 0, 3) ? 0 :
                  g_rand_int_range(rnd, 0, 8) ? fuzz_va(rnd, 64) :
                  fuzz_va(rnd, 1);
    }
    switch (g_rand_int_range(rnd, 0, 40)) {
    case 0:
        hdr = g_rand_int(rnd);
        break;
    case 1:
        hdr = SIM_AQL_TYPE_KERNEL_DISPATCH;
        break;
    case 2 ... 10:
        hdr = SIM_AQL_TYPE_BARRIER_OR;
        break;
    default:
        hdr = SIM_AQL_TYPE_BARRIER_AND;
        break;
    }
    aql_packet(q, hdr, deps, g_rand_int_range(rnd, 0, 2) ?
               fuzz_va(rnd, 64) : 0);
}

#define FUZZ_ROUNDS 200

static void test_fuzz(void)
{
    GRand *rnd = g_rand_new_with_seed(0x5eed);
    unsigned errors[5] = { 0 };
    uint64_t packets = 0;
    unsigned round, i, k;
    uint32_t ev;
    Rig r;
    Aql q;

    for (round = 0; round < FUZZ_ROUNDS; round++) {
        rig_new(&r);
        aql_new(r.f, r.g, AQL_VA, &q);
        ev = create_event(r.f, KFD_IOC_EVENT_SIGNAL, false);
        /* signals everywhere: kind, value 0 or 1, mailbox, id */
        for (i = 0; i < 65536; i += SIM_SIGNAL_SIZE) {
            signal_init(&r.data, i, g_rand_int_range(rnd, 0, 2),
                        g_rand_int_range(rnd, 0, 4) ? 0 : fuzz_va(rnd, 8),
                        g_rand_int_range(rnd, 0, 4) ? ev :
                        g_rand_int(rnd));
        }
        if (round & 1) {
            buf_set_u64(&q.amdq, SIM_AMD_QUEUE_INACTIVE_SIGNAL,
                        fuzz_va(rnd, 64));
            buf_set_u32(&q.amdq, SIM_AMD_QUEUE_PROPERTIES, g_rand_int(rnd));
        }
        for (i = 0; i < 16; i++) {
            /* at most 3 KiB of SDMA packets and 32 AQL packets a kick */
            uint64_t start = r.q.wptr;

            while (r.q.wptr - start < 3072 - 64 &&
                   r.q.wptr - queue_rptr(&r.q) < 3072 - 64) {
                fuzz_sdma_packet(rnd, &r.q);
            }
            for (k = 0; k < 32 && q.widx - aql_rptr(&q) < q.slots; k++) {
                fuzz_aql_packet(rnd, &q);
            }
            queue_kick(r.f, &r.q);
            aql_ring_at(r.f, &q, g_rand_int_range(rnd, 0, 4) ?
                        q.widx - 1 : UINT64_MAX);
            /* the CPU releases some signals, as ROCr would */
            for (k = 0; k < 256; k++) {
                sig_set(&r, (g_rand_int_range(rnd, 0, 1024) * 64), 0);
            }
            set_event(r.f, ev);
        }
        g_assert_true(sim_kfd_global_idle(5 * G_USEC_PER_SEC));
        packets += queue_info(r.f, &r.q).packets + aql_info(r.f, &q).packets;
        errors[queue_info(r.f, &r.q).error]++;
        errors[aql_info(r.f, &q).error]++;
        aql_unmap(r.kfd, &q);
        rig_free(&r);
    }
    g_test_message("%" PRIu64 " packets; stops: none %u fault %u bad %u "
                   "wptr %u unsupported %u", packets, errors[0], errors[1],
                   errors[2], errors[3], errors[4]);
    g_rand_free(rnd);
}

/* ---- events ---- */

static void test_wait_timeout(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *f = open_secondary(kfd);
    uint32_t id = create_event(f, KFD_IOC_EVENT_SIGNAL, true), result;
    int64_t t0 = g_get_monotonic_time();
    struct kfd_event_data d[2] = { { .event_id = id }, { .event_id = id } };
    struct kfd_ioctl_wait_events_args a = {
        .events_ptr = (uintptr_t)d, .num_events = 2, .timeout = 0,
        .wait_for_all = 1,
    };

    g_assert_cmpint(wait_event(f, id, 50, &result, NULL), ==, 0);
    g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_TIMEOUT);
    g_assert_cmpint(g_get_monotonic_time() - t0, >=, 50000);

    g_assert_cmpint(wait_event(f, id, 0, &result, NULL), ==, 0);
    g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_TIMEOUT);

    /* auto-reset: one wait consumes one signal */
    g_assert_cmpint(set_event(f, id), ==, 0);
    g_assert_cmpint(wait_event(f, id, 0, &result, NULL), ==, 0);
    g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
    g_assert_cmpint(wait_event(f, id, 0, &result, NULL), ==, 0);
    g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_TIMEOUT);

    /* reset clears a pending signal */
    {
        struct kfd_ioctl_reset_event_args r = { .event_id = id };

        g_assert_cmpint(set_event(f, id), ==, 0);
        g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_RESET_EVENT, &r), ==, 0);
        g_assert_cmpint(wait_event(f, id, 0, &result, NULL), ==, 0);
        g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_TIMEOUT);
    }

    /* event ages: a stale age completes at once and reports the new one */
    {
        struct kfd_event_data out;
        struct kfd_event_data in = { .event_id = id };
        struct kfd_ioctl_wait_events_args aw = {
            .events_ptr = (uintptr_t)&in, .num_events = 1, .timeout = 0,
        };

        in.signal_event_data.last_event_age = 1;
        g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_WAIT_EVENTS, &aw), ==, 0);
        g_assert_cmpuint(aw.wait_result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
        out = in;
        g_assert_cmpuint(out.signal_event_data.last_event_age, >, 1);
        aw.timeout = 10;
        g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_WAIT_EVENTS, &aw), ==, 0);
        g_assert_cmpuint(aw.wait_result, ==, KFD_IOC_WAIT_RESULT_TIMEOUT);
    }

    /* wait for all of a list; zero events complete at once */
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_WAIT_EVENTS, &a), ==, 0);
    g_assert_cmpuint(a.wait_result, ==, KFD_IOC_WAIT_RESULT_TIMEOUT);
    a.num_events = 0;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_WAIT_EVENTS, &a), ==, 0);
    g_assert_cmpuint(a.wait_result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);

    sim_kfd_close(f);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

static void test_wait_cross_thread(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *a = open_secondary(kfd), *b = open_secondary(kfd);
    uint32_t ea = create_event(a, KFD_IOC_EVENT_SIGNAL, true);
    uint32_t eb = create_event(b, KFD_IOC_EVENT_SIGNAL, true);
    uint32_t result;
    Waiter wa, wb;

    waiter_start(kfd, &wa, a, ea);
    waiter_start(kfd, &wb, b, eb);
    g_assert_cmpuint(sim_kfd_blocked_waiters(kfd), ==, 2);

    /* I5: signalling A wakes A's waiter only */
    g_assert_cmpint(set_event(a, ea), ==, 0);
    waiter_join(&wa);
    g_assert_cmpint(wa.ret, ==, 0);
    g_assert_cmpuint(wa.result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
    g_usleep(20000);
    g_assert_cmpuint(sim_kfd_blocked_waiters(kfd), ==, 1);
    /* the waiter consumed the auto-reset signal */
    g_assert_cmpint(wait_event(a, ea, 0, &result, NULL), ==, 0);
    g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_TIMEOUT);

    g_assert_cmpint(set_event(b, eb), ==, 0);
    waiter_join(&wb);
    g_assert_cmpint(wb.ret, ==, 0);
    g_assert_cmpuint(wb.result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);

    sim_kfd_close(a);
    sim_kfd_close(b);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

static void test_wait_cancel(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *a = open_secondary(kfd), *b = open_secondary(kfd);
    uint32_t ea = create_event(a, KFD_IOC_EVENT_SIGNAL, false);
    uint32_t eb = create_event(b, KFD_IOC_EVENT_SIGNAL, false);
    uint32_t ex = create_event(b, KFD_IOC_EVENT_SIGNAL, false);
    Waiter w, w2;

    /* cancel: the waiter returns EINTR and the file stays usable */
    waiter_start(kfd, &w, a, ea);
    sim_kfd_file_cancel_waits(a);
    waiter_join(&w);
    g_assert_cmpint(w.ret, ==, -EINTR);
    g_assert_cmpuint(w.result, ==, KFD_IOC_WAIT_RESULT_FAIL);
    g_assert_cmpint(set_event(a, ea), ==, 0);
    {
        struct kfd_ioctl_reset_event_args r = { .event_id = ea };

        g_assert_cmpint(sim_kfd_ioctl(a, AMDKFD_IOC_RESET_EVENT, &r), ==, 0);
    }

    /* shutdown: waits fail now and also when they start later */
    {
        SimKfdFile *c = open_secondary(kfd);
        uint32_t ec = create_event(c, KFD_IOC_EVENT_SIGNAL, false);
        struct kfd_event_data ev = { .event_id = ec };
        struct kfd_ioctl_wait_events_args wa = {
            .events_ptr = (uintptr_t)&ev,
            .num_events = 1,
            .timeout = 10000,
        };
        gint64 t0;

        waiter_start(kfd, &w, c, ec);
        sim_kfd_file_shutdown(c);
        waiter_join(&w);
        g_assert_cmpint(w.ret, ==, -EINTR);
        t0 = g_get_monotonic_time();
        g_assert_cmpint(sim_kfd_ioctl(c, AMDKFD_IOC_WAIT_EVENTS, &wa), ==,
                        -EINTR);
        g_assert_cmpint(g_get_monotonic_time() - t0, <, G_USEC_PER_SEC);
        sim_kfd_close(c);
    }

    /* destroying the event under a waiter fails the wait */
    waiter_start(kfd, &w, b, ex);
    g_assert_cmpint(destroy_event(b, ex), ==, 0);
    waiter_join(&w);
    g_assert_cmpint(w.ret, ==, -EIO);
    g_assert_cmpuint(w.result, ==, KFD_IOC_WAIT_RESULT_FAIL);

    /* closing the file wakes its waiter and then frees the context */
    waiter_start(kfd, &w, b, eb);
    waiter_start(kfd, &w2, a, ea);
    sim_kfd_close(b);
    waiter_join(&w);
    g_assert_cmpint(w.ret, ==, -EINTR);
    g_assert_cmpuint(sim_kfd_live_contexts(kfd), ==, 2);
    /* I6: A keeps working */
    g_assert_cmpuint(sim_kfd_blocked_waiters(kfd), ==, 1);
    g_assert_cmpint(set_event(a, ea), ==, 0);
    waiter_join(&w2);
    g_assert_cmpint(w2.ret, ==, 0);

    sim_kfd_close(a);
    g_assert_cmpuint(sim_kfd_live_contexts(kfd), ==, 0);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

static void test_event_page_user_bo(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *f = open_secondary(kfd);
    uint32_t g = gpu_id(kfd, 0);
    struct kfd_ioctl_create_event_args a = {
        .event_type = KFD_IOC_EVENT_SIGNAL,
    };
    uint64_t small, page, off;
    uint64_t *slots, *ev_map;
    int err;

    acquire(f, g, 1);
    g_assert_cmpint(alloc_mem(f, g, 0x100000, 4096, GTT, &small, NULL), ==, 0);
    g_assert_cmpint(alloc_mem(f, g, 0x200000, SIM_KFD_EVENT_PAGE_SIZE, GTT,
                              &page, &off), ==, 0);

    a.event_page_offset = small;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_CREATE_EVENT, &a), ==, -EINVAL);
    a.event_page_offset = page + 1;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_CREATE_EVENT, &a), ==, -EINVAL);
    a.event_page_offset = page;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_CREATE_EVENT, &a), ==, 0);
    g_assert_cmpuint(a.event_id, ==, 1);
    g_assert_cmphex(a.event_page_offset, ==, SIM_KFD_MMAP_TYPE_EVENTS);
    /* the page is set once */
    a.event_page_offset = page;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_CREATE_EVENT, &a), ==, -EINVAL);
    /* and its object cannot be freed under the events */
    g_assert_cmpint(free_mem(f, page), ==, -EPERM);

    slots = sim_kfd_mmap(f, off, SIM_KFD_EVENT_PAGE_SIZE, &err);
    ev_map = sim_kfd_mmap(f, SIM_KFD_MMAP_TYPE_EVENTS,
                          SIM_KFD_EVENT_PAGE_SIZE, &err);
    g_assert_true(slots == ev_map);
    g_assert_cmphex(slots[1], ==, SIM_KFD_UNSIGNALED_SLOT);

    /* non-signal events take ids of their own */
    a.event_page_offset = 0;
    a.event_type = KFD_IOC_EVENT_MEMORY;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_CREATE_EVENT, &a), ==, 0);
    g_assert_cmphex(a.event_id, ==, 0x80000000);
    g_assert_cmpint(set_event(f, a.event_id), ==, -EINVAL);

    g_assert_cmpint(sim_kfd_munmap(kfd, slots, SIM_KFD_EVENT_PAGE_SIZE),
                    ==, 0);
    g_assert_cmpint(sim_kfd_munmap(kfd, ev_map, SIM_KFD_EVENT_PAGE_SIZE),
                    ==, 0);
    sim_kfd_close(f);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

static int try_create_signal_event(SimKfdFile *f)
{
    /* event_page_offset is in/out: start from zero every time */
    struct kfd_ioctl_create_event_args a = {
        .event_type = KFD_IOC_EVENT_SIGNAL,
    };

    return sim_kfd_ioctl(f, AMDKFD_IOC_CREATE_EVENT, &a);
}

static void test_event_limit(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *f = open_secondary(kfd);
    unsigned i, n = 0;
    void *p;
    int err;

    /* before the page is mapped, 255 slots (slot 0 is reserved) */
    while (try_create_signal_event(f) == 0) {
        n++;
        g_assert_cmpuint(n, <, 10000);
    }
    g_assert_cmpuint(n, ==, 255);
    g_assert_cmpint(try_create_signal_event(f), ==, -ENOSPC);
    /* mapping the whole page opens all of them */
    p = sim_kfd_mmap(f, SIM_KFD_MMAP_TYPE_EVENTS, SIM_KFD_EVENT_PAGE_SIZE,
                     &err);
    g_assert_nonnull(p);
    for (i = 0; try_create_signal_event(f) == 0; i++) {
        g_assert_cmpuint(i, <, 10000);
    }
    g_assert_cmpuint(n + i, ==, KFD_SIGNAL_EVENT_LIMIT - 1);
    g_assert_cmpuint(ctx_info(f).n_events, ==, KFD_SIGNAL_EVENT_LIMIT - 1);
    sim_kfd_close(f);
    g_assert_cmpint(sim_kfd_munmap(kfd, p, SIM_KFD_EVENT_PAGE_SIZE), ==, 0);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

/* ---- refusals and bounds ---- */

static void test_refusals(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *p = sim_kfd_open(kfd), *s = open_secondary(kfd);
    uint32_t g = gpu_id(kfd, 0);
    struct kfd_ioctl_svm_args svm = { .start_addr = 0x100000,
                                      .size = 0x1000 };
    struct kfd_ioctl_dbg_trap_args dbg = { 0 };
    struct kfd_ioctl_criu_args criu = { 0 };
    uint64_t h;

    acquire(p, g, 1);
    acquire(s, g, 2);
    /* upstream refuses these on a secondary with EOPNOTSUPP */
    g_assert_cmpint(sim_kfd_ioctl(s, AMDKFD_IOC_SVM, &svm), ==, -EOPNOTSUPP);
    g_assert_cmpint(alloc_mem(s, g, 0x100000, 4096,
                              KFD_IOC_ALLOC_MEM_FLAGS_USERPTR, &h, NULL),
                    ==, -EOPNOTSUPP);
    g_assert_cmpint(sim_kfd_ioctl(s, AMDKFD_IOC_DBG_TRAP, &dbg),
                    ==, -EOPNOTSUPP);
    /* the primary answers differently */
    g_assert_cmpint(sim_kfd_ioctl(p, AMDKFD_IOC_SVM, &svm), ==, -EPERM);
    svm.size = 1;
    g_assert_cmpint(sim_kfd_ioctl(p, AMDKFD_IOC_SVM, &svm), ==, -EINVAL);
    g_assert_cmpint(alloc_mem(p, g, 0x100000, 4096,
                              KFD_IOC_ALLOC_MEM_FLAGS_USERPTR, &h, NULL),
                    ==, -EINVAL);
    g_assert_cmpint(sim_kfd_ioctl(p, AMDKFD_IOC_DBG_TRAP, &dbg), ==, -EINVAL);
    /* not modelled */
    g_assert_cmpint(sim_kfd_ioctl(s, AMDKFD_IOC_CRIU_OP, &criu),
                    ==, -EOPNOTSUPP);
    g_assert_cmpuint(ctx_info(s).n_objects, ==, 0);

    /* runtime enable, once */
    {
        struct kfd_ioctl_runtime_enable_args r = {
            .mode_mask = KFD_RUNTIME_ENABLE_MODE_ENABLE_MASK,
        };

        g_assert_cmpint(sim_kfd_ioctl(s, AMDKFD_IOC_RUNTIME_ENABLE, &r),
                        ==, 0);
        g_assert_true(ctx_info(s).runtime_enabled);
        g_assert_false(ctx_info(p).runtime_enabled);
        g_assert_cmpint(sim_kfd_ioctl(s, AMDKFD_IOC_RUNTIME_ENABLE, &r),
                        ==, -EBUSY);
        r.mode_mask = 0;
        g_assert_cmpint(sim_kfd_ioctl(s, AMDKFD_IOC_RUNTIME_ENABLE, &r),
                        ==, 0);
    }
    sim_kfd_close(p);
    sim_kfd_close(s);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

static void test_bounds(void)
{
    SimKfd *kfd = new_kfd(true, 2);
    SimKfdFile *f = open_secondary(kfd);
    uint32_t g = gpu_id(kfd, 0), g1 = gpu_id(kfd, 1);
    uint32_t ids[3] = { g, g1, g };
    uint64_t h, h2, off;
    struct kfd_ioctl_map_memory_to_gpu_args m = { 0 };
    struct kfd_ioctl_wait_events_args w = { 0 };
    struct kfd_ioctl_get_process_apertures_new_args ap = { 0 };
    struct kfd_process_device_apertures aps[2];

    acquire(f, g, 1);
    acquire(f, g1, 2);

    /* sizes */
    g_assert_cmpint(alloc_mem(f, g, 0x100000, 0, VRAM, &h, NULL), ==, -EINVAL);
    g_assert_cmpint(alloc_mem(f, g, 0x100000, UINT64_MAX, VRAM, &h, NULL),
                    ==, -ENOMEM);
    g_assert_cmpint(alloc_mem(f, g, 0x100000, UINT64_MAX - 4096, GTT, &h,
                              NULL), ==, -ENOMEM);
    g_assert_cmpint(alloc_mem(f, g, 0x100000, 64 * MIB + 1, VRAM, &h, NULL),
                    ==, -ENOMEM);
    g_assert_cmpint(alloc_mem(f, g, 0x100000, 4096, 0, &h, NULL), ==, -EINVAL);
    g_assert_cmpint(alloc_mem(f, g, 0x100000, 4096, VRAM | GTT, &h, NULL),
                    ==, -EINVAL);
    g_assert_cmpint(alloc_mem(f, 0, 0x100000, 4096, VRAM, &h, NULL),
                    ==, -EINVAL);
    g_assert_cmpint(alloc_mem(f, g, 0x100000, 4096,
                              KFD_IOC_ALLOC_MEM_FLAGS_DOORBELL, &h, NULL),
                    ==, -EINVAL);
    g_assert_cmpint(alloc_mem(f, g, 0x100000, 8192,
                              KFD_IOC_ALLOC_MEM_FLAGS_MMIO_REMAP, &h, NULL),
                    ==, -EINVAL);
    /* the whole VRAM of a node fits, once */
    g_assert_cmpint(alloc_mem(f, g, 0x100000, 64 * MIB, VRAM, &h, NULL), ==, 0);
    g_assert_cmpint(alloc_mem(f, g, 0x100000, 4096, VRAM, &h2, NULL),
                    ==, -ENOMEM);
    g_assert_cmpint(alloc_mem(f, g1, 0x100000, 4096, VRAM, &h2, NULL), ==, 0);
    g_assert_cmpint(free_mem(f, h), ==, 0);
    g_assert_cmpint(free_mem(f, h2), ==, 0);

    /* GPU addresses */
    g_assert_cmpint(alloc_mem(f, g, 0, 4096, VRAM, &h, NULL), ==, 0);
    g_assert_cmpint(map_mem(f, h, g), ==, -EINVAL);
    g_assert_cmpint(free_mem(f, h), ==, 0);
    g_assert_cmpint(alloc_mem(f, g, 0x100800, 4096, VRAM, &h, NULL), ==, 0);
    g_assert_cmpint(map_mem(f, h, g), ==, -EINVAL);
    g_assert_cmpint(free_mem(f, h), ==, 0);
    g_assert_cmpint(alloc_mem(f, g, SIM_KFD_GPUVM_LIMIT + 1 - 4096, 8192,
                              VRAM, &h, NULL), ==, 0);
    g_assert_cmpint(map_mem(f, h, g), ==, -EINVAL);
    g_assert_cmpint(free_mem(f, h), ==, 0);
    g_assert_cmpint(alloc_mem(f, g, UINT64_MAX & ~4095ULL, 4096, VRAM, &h,
                              NULL), ==, 0);
    g_assert_cmpint(map_mem(f, h, g), ==, -EINVAL);
    g_assert_cmpint(free_mem(f, h), ==, 0);
    /* overlaps */
    g_assert_cmpint(alloc_mem(f, g, 0x100000, 8192, VRAM, &h, NULL), ==, 0);
    g_assert_cmpint(alloc_mem(f, g, 0x101000, 4096, VRAM, &h2, NULL), ==, 0);
    g_assert_cmpint(map_mem(f, h, g), ==, 0);
    g_assert_cmpint(map_mem(f, h, g), ==, 0);
    g_assert_cmpint(map_mem(f, h2, g), ==, -EINVAL);
    /* each node has a GPUVM of its own */
    g_assert_cmpint(map_mem(f, h2, g1), ==, 0);
    g_assert_cmpint(unmap_mem(f, h2, g1), ==, 0);

    /* device id arrays */
    m.handle = h;
    m.device_ids_array_ptr = (uintptr_t)ids;
    m.n_devices = 0;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_MAP_MEMORY_TO_GPU, &m),
                    ==, -EINVAL);
    m.n_devices = 2;
    m.n_success = 3;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_MAP_MEMORY_TO_GPU, &m),
                    ==, -EINVAL);
    m.n_devices = UINT32_MAX;
    m.n_success = 0;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_MAP_MEMORY_TO_GPU, &m),
                    ==, -ENOMEM);
    m.n_devices = 3;
    m.device_ids_array_ptr = 0;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_MAP_MEMORY_TO_GPU, &m),
                    ==, -EFAULT);
    m.device_ids_array_ptr = (uintptr_t)ids;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_MAP_MEMORY_TO_GPU, &m), ==, 0);
    g_assert_cmpuint(m.n_success, ==, 3);
    ids[1] = 0xdead;
    m.n_success = 0;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_MAP_MEMORY_TO_GPU, &m),
                    ==, -EINVAL);
    g_assert_cmpuint(m.n_success, ==, 1);
    g_assert_cmpint(unmap_mem(f, h, g), ==, 0);
    g_assert_cmpint(unmap_mem(f, h, g1), ==, 0);
    g_assert_cmpuint(ctx_info(f).gpuvm_mapped_bytes, ==, 0);
    g_assert_cmpint(free_mem(f, h), ==, 0);
    g_assert_cmpint(free_mem(f, h2), ==, 0);

    /* doorbell and MMIO objects */
    g_assert_cmpint(alloc_mem(f, g, 0x400000, SIM_KFD_DOORBELL_SLICE_SIZE,
                              KFD_IOC_ALLOC_MEM_FLAGS_DOORBELL, &h, &off),
                    ==, 0);
    g_assert_cmphex(off, ==, SIM_KFD_MMAP_TYPE_DOORBELL |
                    SIM_KFD_MMAP_GPU_ID(g));
    g_assert_cmpint(free_mem(f, h), ==, 0);
    g_assert_cmpint(alloc_mem(f, g, 0x500000, 4096,
                              KFD_IOC_ALLOC_MEM_FLAGS_MMIO_REMAP, &h, &off),
                    ==, 0);
    g_assert_cmphex(off, ==, SIM_KFD_MMAP_TYPE_MMIO | SIM_KFD_MMAP_GPU_ID(g));
    g_assert_cmpint(free_mem(f, h), ==, 0);

    /* event waits */
    w.num_events = SIM_KFD_MAX_WAIT_EVENTS + 1;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_WAIT_EVENTS, &w), ==, -EINVAL);
    w.num_events = 1;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_WAIT_EVENTS, &w), ==, -EFAULT);

    /* apertures: a query, then exactly as many entries as given room */
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_GET_PROCESS_APERTURES_NEW,
                                  &ap), ==, 0);
    g_assert_cmpuint(ap.num_of_nodes, ==, 2);
    ap.num_of_nodes = 1;
    ap.kfd_process_device_apertures_ptr = (uintptr_t)aps;
    memset(aps, 0xee, sizeof(aps));
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_GET_PROCESS_APERTURES_NEW,
                                  &ap), ==, 0);
    g_assert_cmpuint(ap.num_of_nodes, ==, 1);
    g_assert_cmpuint(aps[0].gpu_id, ==, g);
    g_assert_cmphex(aps[0].gpuvm_base, ==, SIM_KFD_GPUVM_BASE);
    g_assert_cmphex(aps[0].gpuvm_limit, ==, SIM_KFD_GPUVM_LIMIT);
    g_assert_cmphex(aps[1].gpu_id, ==, 0xeeeeeeee);
    ap.num_of_nodes = UINT32_MAX;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_GET_PROCESS_APERTURES_NEW,
                                  &ap), ==, 0);
    g_assert_cmpuint(ap.num_of_nodes, ==, 2);
    g_assert_cmpuint(aps[1].gpu_id, ==, g1);
    ap.kfd_process_device_apertures_ptr = 0;
    g_assert_cmpint(sim_kfd_ioctl(f, AMDKFD_IOC_GET_PROCESS_APERTURES_NEW,
                                  &ap), ==, -EFAULT);

    sim_kfd_close(f);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

/* ---- leaks and concurrency ---- */

typedef struct Stress {
    SimKfd *kfd;
    unsigned seed;
} Stress;

static gpointer stress_run(gpointer opaque)
{
    Stress *s = opaque;
    uint32_t g = gpu_id(s->kfd, 0);
    unsigned i;

    for (i = 0; i < 100; i++) {
        SimKfdFile *f = open_secondary(s->kfd);
        uint32_t ev = create_event(f, KFD_IOC_EVENT_SIGNAL, true);
        uint32_t result;
        Buf src, dst;
        Queue q;

        acquire(f, g, 1);
        buf_new(f, g, 0x100000, 4096, &src);
        buf_new(f, g, 0x200000, 4096, &dst);
        queue_new(f, g, 0x1000000, &q);
        memset(src.ptr, s->seed + i, 4096);
        emit_copy(&q, 0x100000, 0x200000, 4096);
        emit_trap(&q, ev);
        g_assert_cmpint(queue_kick(f, &q), ==, 0);
        g_assert_cmpint(wait_event(f, ev, 1000, &result, NULL), ==, 0);
        g_assert_cmpuint(result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
        g_assert_cmpuint(dst.ptr[123], ==, (uint8_t)(s->seed + i));
        /* leave half of the mappings for after the close */
        if (i & 1) {
            queue_unmap(s->kfd, &q);
            sim_kfd_close(f);
        } else {
            sim_kfd_close(f);
            queue_unmap(s->kfd, &q);
        }
        buf_unmap(s->kfd, &src);
        buf_unmap(s->kfd, &dst);
    }
    return NULL;
}

static void test_stress_threads(void)
{
    SimKfd *kfd = new_kfd(true, 1);
    SimKfdFile *p = sim_kfd_open(kfd);
    Stress s[4];
    GThread *t[4];
    unsigned i;

    for (i = 0; i < 4; i++) {
        s[i].kfd = kfd;
        s[i].seed = i * 50;
        t[i] = g_thread_new("stress", stress_run, &s[i]);
    }
    for (i = 0; i < 4; i++) {
        g_thread_join(t[i]);
    }
    g_assert_cmpuint(sim_kfd_live_contexts(kfd), ==, 1);
    g_assert_cmpuint(sim_kfd_live_mappings(kfd), ==, 0);
    sim_kfd_close(p);
    g_assert_cmpuint(sim_kfd_live_host_bytes(kfd), ==, 0);
    sim_kfd_free(kfd);
    assert_no_leaks();
}

static void test_teardown_with_everything(void)
{
    SimKfd *kfd = new_kfd(true, 2);
    SimKfdFile *f[8];
    uint32_t g = gpu_id(kfd, 0), g1 = gpu_id(kfd, 1);
    unsigned i;

    /* contexts holding objects, mappings, events and queues all go */
    for (i = 0; i < 8; i++) {
        uint32_t ids[2] = { g, g1 };
        struct kfd_ioctl_map_memory_to_gpu_args m = {
            .device_ids_array_ptr = (uintptr_t)ids, .n_devices = 2,
        };
        uint64_t h;
        Queue q;

        f[i] = i ? open_secondary(kfd) : sim_kfd_open(kfd);
        acquire(f[i], g, 1);
        acquire(f[i], g1, 2);
        g_assert_cmpint(alloc_mem(f[i], g, 0x100000, 1 * MIB, VRAM, &h, NULL),
                        ==, 0);
        m.handle = h;
        g_assert_cmpint(sim_kfd_ioctl(f[i], AMDKFD_IOC_MAP_MEMORY_TO_GPU, &m),
                        ==, 0);
        create_event(f[i], KFD_IOC_EVENT_SIGNAL, false);
        create_event(f[i], KFD_IOC_EVENT_MEMORY, false);
        queue_new(f[i], g, 0x1000000, &q);
        queue_unmap(kfd, &q);
    }
    g_assert_cmpuint(sim_kfd_global_live_contexts(), ==, 8);
    g_assert_cmpuint(sim_kfd_global_live_host_bytes(), >=, 8 * MIB);
    /* the model may go first: it lives on until its last file closes */
    sim_kfd_free(kfd);
    for (i = 0; i < 8; i++) {
        sim_kfd_close(f[7 - i]);
    }
    assert_no_leaks();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/amdkfd-mc-sim/config", test_config);
    g_test_add_func("/amdkfd-mc-sim/version", test_version);
    g_test_add_func("/amdkfd-mc-sim/contexts/primary-secondary",
                    test_primary_secondary);
    g_test_add_func("/amdkfd-mc-sim/contexts/many", test_many_contexts);
    g_test_add_func("/amdkfd-mc-sim/contexts/acquire-vm", test_acquire_vm);
    g_test_add_func("/amdkfd-mc-sim/isolation/handles", test_handles);
    g_test_add_func("/amdkfd-mc-sim/isolation/events",
                    test_events_isolation);
    g_test_add_func("/amdkfd-mc-sim/isolation/events-legacy-shared",
                    test_events_legacy_shared);
    g_test_add_func("/amdkfd-mc-sim/isolation/mmap", test_mmap_isolation);
    g_test_add_func("/amdkfd-mc-sim/mmap/lifetime", test_mmap_lifetime);
    g_test_add_func("/amdkfd-mc-sim/dma/within-context",
                    test_dma_within_context);
    g_test_add_func("/amdkfd-mc-sim/dma/cross-context-faults",
                    test_dma_cross_context_faults);
    g_test_add_func("/amdkfd-mc-sim/dma/legacy-shared-attack",
                    test_dma_legacy_shared_attack);
    g_test_add_func("/amdkfd-mc-sim/dma/same-va-other-context",
                    test_dma_same_va_other_context);
    g_test_add_func("/amdkfd-mc-sim/dma/partial-range",
                    test_dma_partial_range);
    g_test_add_func("/amdkfd-mc-sim/dma/bad-input", test_dma_bad_input);
    g_test_add_func("/amdkfd-mc-sim/sdma/nop", test_sdma_nop);
    g_test_add_func("/amdkfd-mc-sim/sdma/copy-linear", test_sdma_copy_linear);
    g_test_add_func("/amdkfd-mc-sim/sdma/copy-subwin", test_sdma_copy_subwin);
    g_test_add_func("/amdkfd-mc-sim/sdma/write-linear",
                    test_sdma_write_linear);
    g_test_add_func("/amdkfd-mc-sim/sdma/fence-forms", test_sdma_fence_forms);
    g_test_add_func("/amdkfd-mc-sim/sdma/poll", test_sdma_poll);
    g_test_add_func("/amdkfd-mc-sim/sdma/poll-other-queue",
                    test_sdma_poll_other_queue);
    g_test_add_func("/amdkfd-mc-sim/sdma/poll-set-event",
                    test_sdma_poll_set_event);
    g_test_add_func("/amdkfd-mc-sim/sdma/atomic", test_sdma_atomic);
    g_test_add_func("/amdkfd-mc-sim/sdma/const-fill", test_sdma_const_fill);
    g_test_add_func("/amdkfd-mc-sim/sdma/timestamp", test_sdma_timestamp);
    g_test_add_func("/amdkfd-mc-sim/sdma/unknown-ops", test_sdma_unknown_ops);
    g_test_add_func("/amdkfd-mc-sim/sdma/rocr-copy", test_sdma_rocr_copy);
    g_test_add_func("/amdkfd-mc-sim/sdma/trap-slots", test_sdma_trap_slots);
    g_test_add_func("/amdkfd-mc-sim/sdma/big-ring", test_sdma_big_ring);
    g_test_add_func("/amdkfd-mc-sim/sdma/inactive", test_sdma_inactive);
    g_test_add_func("/amdkfd-mc-sim/aql/barrier-and", test_aql_barrier_and);
    g_test_add_func("/amdkfd-mc-sim/aql/barrier-or", test_aql_barrier_or);
    g_test_add_func("/amdkfd-mc-sim/aql/barrier-sdma", test_aql_barrier_sdma);
    g_test_add_func("/amdkfd-mc-sim/aql/set-event", test_aql_set_event);
    g_test_add_func("/amdkfd-mc-sim/aql/completion-event",
                    test_aql_completion_event);
    g_test_add_func("/amdkfd-mc-sim/aql/doorbell", test_aql_doorbell);
    g_test_add_func("/amdkfd-mc-sim/aql/full-ring", test_aql_full_ring);
    g_test_add_func("/amdkfd-mc-sim/aql/dispatch-error",
                    test_aql_dispatch_error);
    g_test_add_func("/amdkfd-mc-sim/aql/runtime-exception",
                    test_aql_runtime_exception);
    g_test_add_func("/amdkfd-mc-sim/aql/faults", test_aql_faults);
    g_test_add_func("/amdkfd-mc-sim/aql/pm4", test_aql_pm4);
    g_test_add_func("/amdkfd-mc-sim/aql/isa-store", test_isa_store);
    g_test_add_func("/amdkfd-mc-sim/aql/isa-lds", test_isa_lds);
    g_test_add_func("/amdkfd-mc-sim/aql/isa-vop3-cmp-abs",
                    test_isa_vop3_cmp_abs);
    g_test_add_func("/amdkfd-mc-sim/aql/isa-illegal", test_isa_illegal);
    g_test_add_func("/amdkfd-mc-sim/aql/isa-register-bounds",
                    test_isa_register_bounds);
    g_test_add_func("/amdkfd-mc-sim/aql/isa-lds-violation",
                    test_isa_lds_violation);
    g_test_add_func("/amdkfd-mc-sim/aql/isa-trap", test_isa_trap);
    g_test_add_func("/amdkfd-mc-sim/aql/isa-budget", test_isa_budget);
    g_test_add_func("/amdkfd-mc-sim/aql/isa-fault", test_isa_fault);
    g_test_add_func("/amdkfd-mc-sim/aql/isa-random", test_isa_random);
    g_test_add_func("/amdkfd-mc-sim/aql/isa-bad-dispatch",
                    test_isa_bad_dispatch);
    g_test_add_func("/amdkfd-mc-sim/aql/cross-context-faults",
                    test_aql_cross_context_faults);
    g_test_add_func("/amdkfd-mc-sim/aql/legacy-shared-attack",
                    test_aql_legacy_shared_attack);
    g_test_add_func("/amdkfd-mc-sim/aql/stress", test_aql_stress);
    g_test_add_func("/amdkfd-mc-sim/fuzz", test_fuzz);
    g_test_add_func("/amdkfd-mc-sim/events/wait-timeout", test_wait_timeout);
    g_test_add_func("/amdkfd-mc-sim/events/cross-thread",
                    test_wait_cross_thread);
    g_test_add_func("/amdkfd-mc-sim/events/cancel", test_wait_cancel);
    g_test_add_func("/amdkfd-mc-sim/events/page-user-bo",
                    test_event_page_user_bo);
    g_test_add_func("/amdkfd-mc-sim/events/limit", test_event_limit);
    g_test_add_func("/amdkfd-mc-sim/refusals", test_refusals);
    g_test_add_func("/amdkfd-mc-sim/bounds", test_bounds);
    g_test_add_func("/amdkfd-mc-sim/leaks/teardown",
                    test_teardown_with_everything);
    g_test_add_func("/amdkfd-mc-sim/leaks/stress-threads",
                    test_stress_threads);

    return g_test_run();
}
