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

static void emit_copy(Queue *q, uint64_t src, uint64_t dst, uint32_t len)
{
    uint32_t p[] = {
        SIM_KFD_PKT_LINEAR_COPY, len, (uint32_t)src, src >> 32,
        (uint32_t)dst, dst >> 32,
    };

    queue_emit(q, p, ARRAY_SIZE(p));
}

static void emit_fence(Queue *q, uint64_t va, uint32_t value)
{
    uint32_t p[] = { SIM_KFD_PKT_FENCE, (uint32_t)va, va >> 32, value };

    queue_emit(q, p, ARRAY_SIZE(p));
}

static void emit_trap(Queue *q, uint32_t event_id)
{
    uint32_t p[] = { SIM_KFD_PKT_TRAP, event_id };

    queue_emit(q, p, ARRAY_SIZE(p));
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
    /* compute queues are accepted and never run */
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
    misaligned[0] = SIM_KFD_PKT_FENCE;
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
