/*
 * amdkfd-mc "sim" backend: user queues and the SDMA-style DMA engine
 *
 * SDMA queues execute the packets described in sim-kfd.h when their
 * doorbell is written; compute queues are accepted and never execute.
 * Every address goes through the GPUVM of the context that owns the
 * queue, on the queue's node, so a queue can only touch memory its own
 * context mapped.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "sim-kfd-int.h"

#define SIM_KFD_PKT_MAX_DWORDS      SIM_KFD_PKT_LINEAR_COPY_DWORDS

/* SDMA ring bases are programmed in units of 256 bytes */
#define SIM_KFD_RING_ALIGN          256

void sim_queues_init(SimCtx *ctx)
{
    ctx->queues = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                        NULL, g_free);
    sim_ida_init(&ctx->queue_ids, 0, SIM_KFD_MAX_QUEUES);
}

void sim_queues_fini_locked(SimCtx *ctx)
{
    g_hash_table_destroy(ctx->queues);
    sim_ida_destroy(&ctx->queue_ids);
}

static bool sim_queue_is_sdma(uint32_t type)
{
    return type == KFD_IOC_QUEUE_TYPE_SDMA ||
           type == KFD_IOC_QUEUE_TYPE_SDMA_XGMI ||
           type == KFD_IOC_QUEUE_TYPE_SDMA_BY_ENG_ID;
}

static bool sim_is_pow2(uint32_t x)
{
    return x && !(x & (x - 1));
}

/* Checks shared by CREATE_QUEUE and UPDATE_QUEUE */
static int sim_queue_check_args(uint32_t percentage, uint32_t priority,
                                uint32_t ring_size)
{
    /* bits above the low byte of the percentage select an XCC */
    if ((percentage & 0xFF) > KFD_MAX_QUEUE_PERCENTAGE ||
        priority > KFD_MAX_QUEUE_PRIORITY ||
        (ring_size && !sim_is_pow2(ring_size))) {
        return -EINVAL;
    }
    return 0;
}

/* As 6.12 does, want the ring and pointers in memory the GPUVM maps */
static int sim_queue_check_ring(SimCtx *ctx, unsigned node, uint64_t ring,
                                uint32_t size, uint64_t rptr, uint64_t wptr)
{
    SimPdd *pdd = &ctx->pdd[node];
    uint64_t fault;

    if (!size) {
        return 0;
    }
    if (size < KFD_MIN_QUEUE_RING_SIZE || (ring % SIM_KFD_RING_ALIGN) ||
        !sim_vm_translate(pdd, ring, size, &fault) ||
        !sim_vm_translate(pdd, rptr, 8, &fault) ||
        !sim_vm_translate(pdd, wptr, 8, &fault)) {
        return -EINVAL;
    }
    return 0;
}

int sim_ioc_create_queue(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_create_queue_args *a = arg;
    SimQueue *q;
    int64_t id;
    int node, ret;

    ret = sim_queue_check_args(a->queue_percentage, a->queue_priority,
                               a->ring_size);
    if (ret) {
        return ret;
    }
    switch (a->queue_type) {
    case KFD_IOC_QUEUE_TYPE_COMPUTE:
    case KFD_IOC_QUEUE_TYPE_COMPUTE_AQL:
    case KFD_IOC_QUEUE_TYPE_SDMA:
    case KFD_IOC_QUEUE_TYPE_SDMA_XGMI:
    case KFD_IOC_QUEUE_TYPE_SDMA_BY_ENG_ID:
        break;
    default:
        return -SIM_KFD_ENOTSUPP;
    }
    node = sim_node_by_gpu_id(ctx->kfd, a->gpu_id);
    if (node < 0) {
        return -EINVAL;
    }
    if (!ctx->pdd[node].acquired) {
        return -ESRCH;
    }
    if (a->queue_type == KFD_IOC_QUEUE_TYPE_SDMA_BY_ENG_ID &&
        a->sdma_engine_id >= SIM_KFD_NUM_SDMA_ENGINES) {
        return -EINVAL;
    }
    ret = sim_queue_check_ring(ctx, node, a->ring_base_address, a->ring_size,
                               a->read_pointer_address,
                               a->write_pointer_address);
    if (ret) {
        return ret;
    }
    if (!sim_pdd_doorbell_locked(ctx, node)) {
        return -ENOMEM;
    }
    id = sim_ida_get(&ctx->queue_ids);
    if (id < 0) {
        return -ENOMEM;
    }

    q = g_new0(SimQueue, 1);
    q->id = id;
    q->node = node;
    q->type = a->queue_type;
    q->ring_va = a->ring_base_address;
    q->ring_size = a->ring_size;
    q->rptr_va = a->read_pointer_address;
    q->wptr_va = a->write_pointer_address;
    q->percentage = a->queue_percentage;
    q->priority = a->queue_priority;
    g_hash_table_insert(ctx->queues, GUINT_TO_POINTER(q->id), q);

    /* the doorbell index within the slice is the queue id */
    a->queue_id = id;
    a->doorbell_offset = SIM_KFD_MMAP_TYPE_DOORBELL |
                         SIM_KFD_MMAP_GPU_ID(a->gpu_id) |
                         (uint64_t)id * SIM_KFD_DOORBELL_SIZE;
    return 0;
}

/* The queue @id once no thread runs it, as the kernel preempts first */
static SimQueue *sim_queue_idle_locked(SimCtx *ctx, uint32_t id)
{
    SimQueue *q;

    while ((q = g_hash_table_lookup(ctx->queues, GUINT_TO_POINTER(id))) &&
           q->busy) {
        g_cond_wait(&ctx->kfd->cond, &ctx->kfd->lock);
    }
    return q;
}

int sim_ioc_destroy_queue(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_destroy_queue_args *a = arg;

    if (!sim_queue_idle_locked(ctx, a->queue_id) ||
        !g_hash_table_remove(ctx->queues, GUINT_TO_POINTER(a->queue_id))) {
        return -EINVAL;
    }
    sim_ida_put(&ctx->queue_ids, a->queue_id);
    return 0;
}

int sim_ioc_update_queue(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_update_queue_args *a = arg;
    SimQueue *q;
    int ret;

    ret = sim_queue_check_args(a->queue_percentage, a->queue_priority,
                               a->ring_size);
    if (ret) {
        return ret;
    }
    q = sim_queue_idle_locked(ctx, a->queue_id);
    if (!q) {
        /* sic: the kernel reports a missing queue as EFAULT here */
        return -EFAULT;
    }
    ret = sim_queue_check_ring(ctx, q->node, a->ring_base_address,
                               a->ring_size, q->rptr_va, q->wptr_va);
    if (ret) {
        return ret;
    }
    q->ring_va = a->ring_base_address;
    q->ring_size = a->ring_size;
    q->percentage = a->queue_percentage;
    q->priority = a->queue_priority;
    return 0;
}

/* ---- engine ---- */

static int sim_queue_halt(SimQueue *q, uint32_t error, int ret)
{
    q->halted = true;
    q->error = error;
    return ret;
}

static int sim_queue_fault(SimCtx *ctx, SimQueue *q, uint64_t va)
{
    sim_ctx_vm_fault_locked(ctx, q->node, va);
    return sim_queue_halt(q, SIM_KFD_QUEUE_VM_FAULT, -EFAULT);
}

static uint32_t sim_ring_dw(const uint8_t *ring, uint32_t size, uint64_t ptr)
{
    uint32_t v;

    memcpy(&v, ring + (ptr & (size - 1)), sizeof(v));
    return GUINT32_FROM_LE(v);
}

/* Length of the packet that @hdr starts, 0 if it is malformed */
static uint32_t sim_pkt_dwords(uint32_t hdr)
{
    if (hdr >> 8) {
        return 0;
    }
    switch (hdr) {
    case SIM_KFD_PKT_NOP:
        return SIM_KFD_PKT_NOP_DWORDS;
    case SIM_KFD_PKT_LINEAR_COPY:
        return SIM_KFD_PKT_LINEAR_COPY_DWORDS;
    case SIM_KFD_PKT_FENCE:
        return SIM_KFD_PKT_FENCE_DWORDS;
    case SIM_KFD_PKT_TRAP:
        return SIM_KFD_PKT_TRAP_DWORDS;
    default:
        return 0;
    }
}

static uint64_t sim_dw64(const uint32_t *dw)
{
    return dw[0] | ((uint64_t)dw[1] << 32);
}

/*
 * A copy may move gigabytes: the model's lock is dropped meanwhile, with
 * both objects' memory pinned, so that other contexts (and this one's
 * other calls) go on.  The queue is busy, which keeps it alive.
 */
static void sim_copy_unlocked(SimCtx *ctx, void *dst, SimMem *dst_mem,
                              const void *src, SimMem *src_mem, uint32_t len)
{
    SimKfd *kfd = ctx->kfd;

    dst_mem->refs++;
    src_mem->refs++;
    g_mutex_unlock(&kfd->lock);
    memmove(dst, src, len);
    g_mutex_lock(&kfd->lock);
    sim_mem_put_locked(dst_mem);
    sim_mem_put_locked(src_mem);
}

static int sim_pkt_exec_locked(SimCtx *ctx, SimQueue *q, const uint32_t *dw)
{
    SimPdd *pdd = &ctx->pdd[q->node];
    SimMem *src_mem, *dst_mem;
    uint64_t fault, va;
    uint32_t v;
    void *src, *dst;

    switch (dw[0]) {
    case SIM_KFD_PKT_LINEAR_COPY:
        if (!dw[1]) {
            return 0;
        }
        /* both ranges are checked before a single byte moves */
        src = sim_vm_translate_mem(pdd, sim_dw64(&dw[2]), dw[1], &fault,
                                   &src_mem);
        if (!src) {
            return sim_queue_fault(ctx, q, fault);
        }
        dst = sim_vm_translate_mem(pdd, sim_dw64(&dw[4]), dw[1], &fault,
                                   &dst_mem);
        if (!dst) {
            return sim_queue_fault(ctx, q, fault);
        }
        sim_copy_unlocked(ctx, dst, dst_mem, src, src_mem, dw[1]);
        return 0;
    case SIM_KFD_PKT_FENCE:
        va = sim_dw64(&dw[1]);
        if (va & 3) {
            return sim_queue_halt(q, SIM_KFD_QUEUE_BAD_PACKET, -EIO);
        }
        dst = sim_vm_translate(pdd, va, 4, &fault);
        if (!dst) {
            return sim_queue_fault(ctx, q, fault);
        }
        v = GUINT32_TO_LE(dw[3]);
        memcpy(dst, &v, sizeof(v));
        return 0;
    case SIM_KFD_PKT_TRAP:
        sim_event_gpu_signal_locked(ctx, dw[1]);
        return 0;
    default:
        return 0;
    }
}

static int sim_queue_pass_locked(SimCtx *ctx, SimQueue *q, uint64_t wptr)
{
    SimPdd *pdd = &ctx->pdd[q->node];
    uint32_t dw[SIM_KFD_PKT_MAX_DWORDS];
    uint64_t fault, rptr_le;
    uint32_t len, i;
    SimMem *ring_mem;
    uint8_t *ring;
    void *rp;
    int ret = 0;

    if (q->halted) {
        return -EIO;
    }
    /* compute queues never run; inactive queues keep their work */
    if (!sim_queue_is_sdma(q->type) || !q->ring_size ||
        !(q->percentage & 0xFF)) {
        return 0;
    }
    if ((wptr & 3) || wptr - q->rptr > q->ring_size) {
        return sim_queue_halt(q, SIM_KFD_QUEUE_BAD_WPTR, -EIO);
    }
    ring = sim_vm_translate_mem(pdd, q->ring_va, q->ring_size, &fault,
                                &ring_mem);
    if (!ring) {
        return sim_queue_fault(ctx, q, fault);
    }
    /* copies drop the lock: the ring's memory must stay */
    ring_mem->refs++;

    while (q->rptr != wptr) {
        dw[0] = sim_ring_dw(ring, q->ring_size, q->rptr);
        len = sim_pkt_dwords(dw[0]);
        if (!len) {
            ret = sim_queue_halt(q, SIM_KFD_QUEUE_BAD_PACKET, -EIO);
            break;
        }
        if (wptr - q->rptr < len * 4) {
            /* the rest of the packet comes with a later doorbell */
            break;
        }
        for (i = 1; i < len; i++) {
            dw[i] = sim_ring_dw(ring, q->ring_size, q->rptr + i * 4);
        }
        ret = sim_pkt_exec_locked(ctx, q, dw);
        if (ret) {
            break;
        }
        q->rptr += len * 4;
        q->packets++;

        rp = sim_vm_translate(pdd, q->rptr_va, sizeof(rptr_le), &fault);
        if (!rp) {
            ret = sim_queue_fault(ctx, q, fault);
            break;
        }
        rptr_le = GUINT64_TO_LE(q->rptr);
        memcpy(rp, &rptr_le, sizeof(rptr_le));
    }
    sim_mem_put_locked(ring_mem);
    return ret;
}

static int sim_queue_run_locked(SimCtx *ctx, SimQueue *q, uint64_t wptr)
{
    int ret;

    if (q->busy) {
        /* the thread that runs the queue picks it up */
        q->rung = true;
        q->rung_wptr = wptr;
        return q->halted ? -EIO : 0;
    }
    q->busy = true;
    for (;;) {
        ret = sim_queue_pass_locked(ctx, q, wptr);
        if (ret || !q->rung) {
            break;
        }
        q->rung = false;
        wptr = q->rung_wptr;
    }
    q->busy = false;
    q->rung = false;
    g_cond_broadcast(&ctx->kfd->cond);
    return ret;
}

int sim_doorbell_locked(SimCtx *ctx, uint64_t offset, uint64_t value)
{
    uint32_t gpu_id = (offset >> SIM_KFD_MMAP_GPU_ID_SHIFT) & 0xFFFF;
    uint64_t in_slice = offset & SIM_KFD_MMAP_OFFSET_MASK;
    uint64_t value_le = GUINT64_TO_LE(value);
    SimMem *db;
    SimQueue *q;
    int node;

    if ((offset & SIM_KFD_MMAP_TYPE_MASK) != SIM_KFD_MMAP_TYPE_DOORBELL ||
        in_slice >= SIM_KFD_DOORBELL_SLICE_SIZE ||
        (in_slice % SIM_KFD_DOORBELL_SIZE)) {
        return -EINVAL;
    }
    node = sim_node_by_gpu_id(ctx->kfd, gpu_id);
    if (node < 0) {
        return -EINVAL;
    }
    /* keep the last value visible to readers of the doorbell page */
    db = sim_pdd_doorbell_locked(ctx, node);
    if (db) {
        memcpy((uint8_t *)db->ptr + in_slice, &value_le, sizeof(value_le));
    }
    q = g_hash_table_lookup(ctx->queues,
                            GUINT_TO_POINTER(in_slice /
                                             SIM_KFD_DOORBELL_SIZE));
    if (!q || q->node != (unsigned)node) {
        return -EINVAL;
    }
    return sim_queue_run_locked(ctx, q, value);
}
