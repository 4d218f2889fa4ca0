/*
 * amdkfd-mc "sim" backend: user queues, doorbells and their scheduling
 *
 * The queue ioctls, the doorbells and what runs a queue: the thread that
 * wrote its doorbell, the thread whose queue made progress (it looks at
 * the context's waiting queues again) and, after a SET_EVENT, a
 * short-lived thread of the model.  The engines themselves are in
 * sdma.c (SDMA v4 packets) and aql.c (AQL packets); the
 * formats are described in sim-kfd.h.  Every address goes through the
 * GPUVM of the context that owns the queue, on the queue's node, so a
 * queue can only touch memory its own context mapped.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "internal.h"

/* Queue ring bases are programmed in units of 256 bytes */
#define SIM_KFD_RING_ALIGN          256

void sim_queues_init(SimCtx *ctx)
{
    ctx->queues = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                        NULL, sim_queue_free);
    sim_ida_init(&ctx->queue_ids, 0, SIM_KFD_MAX_QUEUES);
}

void sim_queue_free(gpointer opaque)
{
    SimQueue *q = opaque;

    g_free(q->isa_mem);
    g_free(q);
}

void sim_queues_fini_locked(SimCtx *ctx)
{
    g_hash_table_destroy(ctx->queues);
    sim_ida_destroy(&ctx->queue_ids);
    ctx->n_waiting = 0;
}

static bool sim_queue_type_is_sdma(uint32_t type)
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

static bool sim_queue_active(SimQueue *q)
{
    return q->ring_size && (q->percentage & 0xFF) && (q->aql || q->sdma);
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
    q->aql = a->queue_type == KFD_IOC_QUEUE_TYPE_COMPUTE_AQL;
    q->sdma = sim_queue_type_is_sdma(a->queue_type);
    q->ring_va = a->ring_base_address;
    q->ring_size = a->ring_size;
    q->rptr_va = a->read_pointer_address;
    q->wptr_va = a->write_pointer_address;
    if (q->aql && a->ctx_save_restore_address) {
        q->csa_va = a->ctx_save_restore_address;
        q->csa_size = a->ctx_save_restore_size;
    }
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
    SimQueue *q = sim_queue_idle_locked(ctx, a->queue_id);

    if (!q) {
        return -EINVAL;
    }
    sim_queue_set_waiting(ctx, q, false);
    g_hash_table_remove(ctx->queues, GUINT_TO_POINTER(a->queue_id));
    sim_ida_put(&ctx->queue_ids, a->queue_id);
    return 0;
}

static void sim_ctx_kick_locked(SimCtx *ctx, SimQueue *q);

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
    /* a queue mapped again goes on with the work it has */
    if (sim_queue_active(q) && !q->halted) {
        sim_ctx_kick_locked(ctx, q);
    }
    return 0;
}

/* ---- shared by the engines ---- */

SimRun sim_queue_halt(SimQueue *q, uint32_t error)
{
    if (!q->halted) {
        q->halted = true;
        q->error = error;
    }
    return SIM_RUN_STOP;
}

SimRun sim_queue_fault(SimCtx *ctx, SimQueue *q, uint64_t va)
{
    sim_ctx_vm_fault_locked(ctx, q->node, va);
    return sim_queue_halt(q, SIM_KFD_QUEUE_VM_FAULT);
}

void sim_queue_set_waiting(SimCtx *ctx, SimQueue *q, bool waiting)
{
    if (q->waiting != waiting) {
        q->waiting = waiting;
        if (waiting) {
            ctx->n_waiting++;
        } else {
            ctx->n_waiting--;
        }
    }
}

void *sim_queue_mem(SimCtx *ctx, SimQueue *q, uint64_t va, uint64_t len,
                    SimMem **mem)
{
    SimMem *m;
    uint64_t fault;
    void *p = sim_vm_translate_mem(&ctx->pdd[q->node], va, len, &fault, &m);

    if (!p) {
        sim_queue_fault(ctx, q, fault);
        return NULL;
    }
    if (mem) {
        *mem = m;
    }
    return p;
}

bool sim_queue_read(SimCtx *ctx, SimQueue *q, uint64_t va, void *buf,
                    uint32_t len)
{
    void *p = sim_queue_mem(ctx, q, va, len, NULL);

    if (p) {
        memcpy(buf, p, len);
    }
    return p != NULL;
}

bool sim_queue_write(SimCtx *ctx, SimQueue *q, uint64_t va, const void *buf,
                     uint32_t len)
{
    void *p = sim_queue_mem(ctx, q, va, len, NULL);

    if (p) {
        memcpy(p, buf, len);
    }
    return p != NULL;
}

bool sim_ring_pin(SimCtx *ctx, SimQueue *q, SimRing *r)
{
    r->size = q->ring_size;
    r->ptr = sim_queue_mem(ctx, q, q->ring_va, q->ring_size, &r->mem);
    if (r->ptr) {
        r->mem->refs++;
    }
    return r->ptr != NULL;
}

void sim_ring_unpin(SimRing *r)
{
    sim_mem_put_locked(r->mem);
    r->mem = NULL;
    r->ptr = NULL;
}

bool sim_ring_yield(SimCtx *ctx, SimQueue *q, SimRing *r)
{
    sim_ring_unpin(r);
    g_mutex_unlock(&ctx->kfd->lock);
    g_thread_yield();
    g_mutex_lock(&ctx->kfd->lock);
    /* the queue is busy, so its ring is the same; its mapping may not be */
    return sim_ring_pin(ctx, q, r);
}

/*
 * A copy may move megabytes: the model's lock is dropped meanwhile, with
 * both objects' memory pinned, so that other contexts (and this one's
 * other calls) go on.  The queue is busy, which keeps it alive.
 */
void sim_copy_unlocked(SimCtx *ctx, void *dst, SimMem *dst_mem,
                       const void *src, SimMem *src_mem, uint64_t len)
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

void sim_fill_unlocked(SimCtx *ctx, void *dst, SimMem *dst_mem,
                       uint32_t pattern, uint64_t dwords)
{
    SimKfd *kfd = ctx->kfd;
    uint32_t le = cpu_to_le32(pattern);
    uint8_t *p = dst;
    uint64_t i;

    dst_mem->refs++;
    g_mutex_unlock(&kfd->lock);
    for (i = 0; i < dwords; i++) {
        memcpy(p + i * 4, &le, 4);
    }
    g_mutex_lock(&kfd->lock);
    sim_mem_put_locked(dst_mem);
}

/* ---- scheduling ---- */

/* One pass over @q; true if it completed a packet */
static bool sim_queue_pass_locked(SimCtx *ctx, SimQueue *q)
{
    if (q->halted || !sim_queue_active(q)) {
        return false;
    }
    sim_queue_set_waiting(ctx, q, false);
    return q->aql ? sim_aql_pass_locked(ctx, q) :
                    sim_sdma_pass_locked(ctx, q);
}

/*
 * Run @q unless a thread runs it already, which then goes on with it.
 * True if this thread completed a packet.
 */
static bool sim_queue_run_locked(SimCtx *ctx, SimQueue *q)
{
    bool progress = false;

    if (q->busy) {
        q->rung = true;
        return false;
    }
    q->busy = true;
    do {
        q->rung = false;
        progress |= sim_queue_pass_locked(ctx, q);
    } while (q->rung && !q->halted && !ctx->stopping);
    q->busy = false;
    g_cond_broadcast(&ctx->kfd->cond);
    return progress;
}

/* Run the context's waiting queues once; true if any made progress */
static bool sim_ctx_recheck_once_locked(SimCtx *ctx)
{
    g_autofree uint32_t *ids = NULL;
    GHashTableIter it;
    gpointer value;
    unsigned n = 0, i;
    bool progress = false;

    if (!ctx->n_waiting) {
        return false;
    }
    /* by id: queues may come and go while a pass drops the lock */
    ids = g_new(uint32_t, ctx->n_waiting);
    g_hash_table_iter_init(&it, ctx->queues);
    while (n < ctx->n_waiting && g_hash_table_iter_next(&it, NULL, &value)) {
        SimQueue *q = value;

        if (q->waiting) {
            ids[n++] = q->id;
        }
    }
    for (i = 0; i < n; i++) {
        SimQueue *q = g_hash_table_lookup(ctx->queues,
                                          GUINT_TO_POINTER(ids[i]));

        if (q && q->waiting && !q->halted) {
            progress |= sim_queue_run_locked(ctx, q);
        }
    }
    return progress;
}

/*
 * Re-examine the waiting queues for as long as some queue makes
 * progress, since progress may release other queues.  A round goes on
 * only if a packet completed, so without new packets this ends by
 * itself; the bound is for a vCPU that keeps writing packets (a chain
 * of dependencies between queues resolves a step or more per round).
 */
static void sim_ctx_recheck_locked(SimCtx *ctx)
{
    unsigned round;

    for (round = 0; round < SIM_KFD_MAX_RECHECK_ROUNDS; round++) {
        if (!sim_ctx_recheck_once_locked(ctx)) {
            break;
        }
    }
}

/* Run @q and then whatever its progress released */
static void sim_ctx_kick_locked(SimCtx *ctx, SimQueue *q)
{
    if (sim_queue_run_locked(ctx, q)) {
        sim_ctx_recheck_locked(ctx);
    }
}

static gpointer sim_recheck_thread(gpointer opaque)
{
    SimCtx *ctx = opaque;
    SimKfd *kfd = ctx->kfd;

    g_mutex_lock(&kfd->lock);
    while (ctx->recheck_wanted) {
        ctx->recheck_wanted = false;
        /* a context that only this thread still holds is dead */
        if (ctx->refs > 1) {
            sim_ctx_recheck_locked(ctx);
        }
    }
    ctx->recheck_running = false;
    sim_ctx_put_locked(ctx);
    kfd->engine_threads--;
    g_cond_broadcast(&kfd->cond);
    /* the model may go with this: touch nothing of it afterwards */
    sim_kfd_unlock(kfd);
    sim_global_engine_threads_add(-1);
    return NULL;
}

void sim_ctx_recheck_async_locked(SimCtx *ctx)
{
    GThread *t;

    if (!ctx->n_waiting) {
        return;
    }
    ctx->recheck_wanted = true;
    if (ctx->recheck_running) {
        return;
    }
    /* the thread's references, taken before it can run */
    ctx->recheck_running = true;
    ctx->refs++;
    ctx->kfd->engine_threads++;
    sim_global_engine_threads_add(1);
    t = g_thread_try_new("sim-kfd-recheck", sim_recheck_thread, ctx, NULL);
    if (!t) {
        /* then the queues wait for their next doorbell */
        ctx->recheck_wanted = false;
        ctx->recheck_running = false;
        ctx->kfd->engine_threads--;
        sim_global_engine_threads_add(-1);
        sim_ctx_put_locked(ctx);
        return;
    }
    g_thread_unref(t);
}

/* ---- doorbells ---- */

/* Take the doorbell's value as the queue's new write pointer */
static int sim_queue_doorbell(SimQueue *q, uint64_t value)
{
    if (q->aql) {
        /* the id of the last packet written; the highest one counts */
        uint64_t end = value == UINT64_MAX ? value : value + 1;

        q->wptr = MAX(q->wptr, end);
        return 0;
    }
    if (q->sdma && ((value & 3) || value - q->rptr > q->ring_size)) {
        sim_queue_halt(q, SIM_KFD_QUEUE_BAD_WPTR);
        return -EIO;
    }
    q->wptr = value;
    return 0;
}

int sim_doorbell_locked(SimCtx *ctx, uint64_t offset, uint64_t value)
{
    uint32_t gpu_id = (offset >> SIM_KFD_MMAP_GPU_ID_SHIFT) & 0xFFFF;
    uint64_t in_slice = offset & SIM_KFD_MMAP_OFFSET_MASK;
    uint64_t value_le = cpu_to_le64(value);
    bool progress;
    SimMem *db;
    SimQueue *q;
    int node, ret = 0;

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
    if (q->halted) {
        return -EIO;
    }
    if (sim_queue_doorbell(q, value)) {
        return -EIO;
    }
    progress = sim_queue_run_locked(ctx, q);
    /* before the lock is dropped again, while @q surely exists */
    if (q->halted) {
        ret = q->error == SIM_KFD_QUEUE_VM_FAULT ? -EFAULT : -EIO;
    }
    if (progress) {
        sim_ctx_recheck_locked(ctx);
    }
    return ret;
}
