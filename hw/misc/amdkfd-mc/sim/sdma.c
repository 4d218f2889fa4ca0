/*
 * amdkfd-mc "sim" backend: the SDMA engine (SDMA v4 packets)
 *
 * Runs the packets of SDMA queues as sim-kfd.h describes them.  The
 * layouts are those of amdgpu's vega10_sdma_pkt_open.h; the packets a
 * client needs most are the ones ROCr's BlitSdmaV4 writes (HDP flush,
 * COPY_LINEAR, polls on dependency signals, the ADD64 atomic that
 * decrements a completion signal, the FENCE to its mailbox and the TRAP
 * that interrupts, CONST_FILL and GET_GLOBAL timestamps).
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/atomic.h"
#include "internal.h"

/* The longest fixed-size packet, read whole before it runs */
#define SIM_SDMA_MAX_FIXED_DWORDS   SIM_SDMA_COPY_SUBWIN_DWORDS

/* Header bits of forms the model does not have */
#define SIM_SDMA_COPY_ENCRYPT       (1U << 16)
#define SIM_SDMA_COPY_BROADCAST     (1U << 27)
#define SIM_SDMA_ATOMIC_TMZ         (1U << 18)

/* Tries of an atomic against concurrent CPU stores before it waits */
#define SIM_SDMA_ATOMIC_TRIES       1000

static uint32_t sim_ring_dw(const SimRing *r, uint64_t ptr)
{
    uint32_t v;

    memcpy(&v, r->ptr + (ptr & (r->size - 1)), sizeof(v));
    return le32_to_cpu(v);
}

static uint64_t sim_dw64(const uint32_t *dw)
{
    return dw[0] | ((uint64_t)dw[1] << 32);
}

/*
 * Length in dwords of the packet that starts at @ptr, of which @avail
 * bytes are written; 0 if it is malformed, and *more if its length is
 * not known yet
 */
static uint32_t sim_sdma_len(const SimRing *r, uint64_t ptr, uint64_t avail,
                             bool *more)
{
    uint32_t hdr = sim_ring_dw(r, ptr);
    uint32_t op = hdr & 0xFF, sub_op = (hdr >> 8) & 0xFF;
    uint64_t len;

    *more = false;
    switch (op) {
    case SIM_SDMA_OP_NOP:
        len = sub_op ? 0 : 1 + ((hdr >> 16) & 0x3FFF);
        break;
    case SIM_SDMA_OP_COPY:
        len = sub_op == SIM_SDMA_SUBOP_COPY_LINEAR ?
              SIM_SDMA_COPY_LINEAR_DWORDS :
              sub_op == SIM_SDMA_SUBOP_COPY_LINEAR_SUBWIN ?
              SIM_SDMA_COPY_SUBWIN_DWORDS : 0;
        break;
    case SIM_SDMA_OP_WRITE:
        if (sub_op != SIM_SDMA_SUBOP_WRITE_LINEAR) {
            return 0;
        }
        if (avail < SIM_SDMA_WRITE_LINEAR_DWORDS * 4) {
            *more = true;
            return 0;
        }
        len = SIM_SDMA_WRITE_LINEAR_DWORDS + 1 +
              (sim_ring_dw(r, ptr + 12) & 0xFFFFF);
        break;
    case SIM_SDMA_OP_FENCE:
        len = sub_op ? 0 : SIM_SDMA_FENCE_DWORDS;
        break;
    case SIM_SDMA_OP_TRAP:
        len = sub_op ? 0 : SIM_SDMA_TRAP_DWORDS;
        break;
    case SIM_SDMA_OP_POLL_REGMEM:
        len = sub_op ? 0 : SIM_SDMA_POLL_REGMEM_DWORDS;
        break;
    case SIM_SDMA_OP_ATOMIC:
        len = sub_op ? 0 : SIM_SDMA_ATOMIC_DWORDS;
        break;
    case SIM_SDMA_OP_CONST_FILL:
        len = sub_op ? 0 : SIM_SDMA_CONST_FILL_DWORDS;
        break;
    case SIM_SDMA_OP_TIMESTAMP:
        len = sub_op == SIM_SDMA_SUBOP_TIMESTAMP_GET_GLOBAL ?
              SIM_SDMA_TIMESTAMP_DWORDS : 0;
        break;
    default:
        return 0;
    }
    /* a packet longer than the ring can never be complete */
    return len * 4 <= r->size ? len : 0;
}

static SimRun sim_sdma_bad(SimQueue *q)
{
    return sim_queue_halt(q, SIM_KFD_QUEUE_BAD_PACKET);
}

static SimRun sim_sdma_copy(SimCtx *ctx, SimQueue *q, const uint32_t *dw)
{
    uint64_t len = (dw[1] & 0x3FFFFF) + 1;
    SimMem *src_mem, *dst_mem;
    void *src, *dst;

    if ((dw[0] & (SIM_SDMA_COPY_ENCRYPT | SIM_SDMA_COPY_TMZ |
                  SIM_SDMA_COPY_BROADCAST)) ||
        (dw[2] & (3U << 16 | 3U << 24))) {
        return sim_sdma_bad(q);
    }
    /* both ranges are checked before a single byte moves */
    src = sim_queue_mem(ctx, q, sim_dw64(&dw[3]), len, &src_mem);
    if (!src) {
        return SIM_RUN_STOP;
    }
    dst = sim_queue_mem(ctx, q, sim_dw64(&dw[5]), len, &dst_mem);
    if (!dst) {
        return SIM_RUN_STOP;
    }
    sim_copy_unlocked(ctx, dst, dst_mem, src, src_mem, len);
    return SIM_RUN_DONE;
}

/* One side of a sub-window copy, in elements */
typedef struct SimWindow {
    uint64_t base;              /* dword-aligned */
    uint64_t x, y, z;
    uint64_t pitch, slice;      /* elements per row and per slice */
    uint8_t *host;
    SimMem *mem;
} SimWindow;

static void sim_window_get(SimWindow *w, const uint32_t *dw)
{
    w->base = sim_dw64(&dw[0]);
    w->x = dw[2] & 0x3FFF;
    w->y = (dw[2] >> 16) & 0x3FFF;
    w->z = dw[3] & 0x7FF;
    w->pitch = ((dw[3] >> 13) & 0x7FFFF) + 1;
    w->slice = (dw[4] & 0xFFFFFFF) + 1;
}

/*
 * Where the window's first element is and how many bytes its rectangle
 * spans; false unless rows do not overlap each other (nor slices), which
 * bounds the bytes moved by the span, that is by one object
 */
static bool sim_window_span(SimWindow *w, uint64_t rx, uint64_t ry,
                            uint64_t rz, unsigned shift, uint64_t *start,
                            uint64_t *span)
{
    uint64_t first, last;

    if ((w->base & 3) || w->x + rx > w->pitch ||
        (rz > 1 && (w->y + ry) * w->pitch > w->slice)) {
        return false;
    }
    first = (w->z * w->slice + w->y * w->pitch + w->x) << shift;
    last = (((w->z + rz - 1) * w->slice + (w->y + ry - 1) * w->pitch +
             w->x + rx) << shift);
    *start = w->base + first;
    *span = last - first;
    return *start >= w->base;
}

/*
 * COPY_LINEAR_SUBWIN (ROCr's rect copy): rectangles of elements between
 * pitched, sliced windows; the field values are counts minus one
 */
static SimRun sim_sdma_copy_subwin(SimCtx *ctx, SimQueue *q,
                                   const uint32_t *dw)
{
    unsigned shift = dw[0] >> 29;
    uint64_t rx = (dw[11] & 0x3FFF) + 1, ry = ((dw[11] >> 16) & 0x3FFF) + 1;
    uint64_t rz = (dw[12] & 0x7FF) + 1, start[2], span[2], y, z;
    SimKfd *kfd = ctx->kfd;
    SimWindow w[2];
    unsigned i;

    sim_window_get(&w[0], &dw[1]);
    sim_window_get(&w[1], &dw[6]);
    if (shift > 4 || (dw[0] & SIM_SDMA_COPY_TMZ) ||
        (dw[12] & (3U << 16 | 3U << 24))) {
        return sim_sdma_bad(q);
    }
    for (i = 0; i < 2; i++) {
        if (!sim_window_span(&w[i], rx, ry, rz, shift, &start[i],
                             &span[i])) {
            return sim_sdma_bad(q);
        }
    }
    /* both rectangles are checked before a single byte moves */
    for (i = 0; i < 2; i++) {
        w[i].host = sim_queue_mem(ctx, q, start[i], span[i], &w[i].mem);
        if (!w[i].host) {
            return SIM_RUN_STOP;
        }
    }
    w[0].mem->refs++;
    w[1].mem->refs++;
    g_mutex_unlock(&kfd->lock);
    for (z = 0; z < rz; z++) {
        for (y = 0; y < ry; y++) {
            memmove(w[1].host + ((z * w[1].slice + y * w[1].pitch) << shift),
                    w[0].host + ((z * w[0].slice + y * w[0].pitch) << shift),
                    rx << shift);
        }
    }
    g_mutex_lock(&kfd->lock);
    sim_mem_put_locked(w[0].mem);
    sim_mem_put_locked(w[1].mem);
    return SIM_RUN_DONE;
}

/* WRITE_LINEAR: the data follows the packet's first four dwords */
static SimRun sim_sdma_write(SimCtx *ctx, SimQueue *q, const SimRing *r,
                             uint64_t ptr, const uint32_t *dw)
{
    uint64_t va = sim_dw64(&dw[1]);
    uint64_t len = ((dw[3] & 0xFFFFF) + 1) * 4;
    uint64_t off = (ptr + SIM_SDMA_WRITE_LINEAR_DWORDS * 4) & (r->size - 1);
    uint64_t first = MIN(len, r->size - off);
    SimMem *dst_mem;
    uint8_t *dst;

    if ((dw[0] & (SIM_SDMA_COPY_ENCRYPT | SIM_SDMA_COPY_TMZ)) ||
        (dw[3] & (3U << 24)) || (va & 3)) {
        return sim_sdma_bad(q);
    }
    dst = sim_queue_mem(ctx, q, va, len, &dst_mem);
    if (!dst) {
        return SIM_RUN_STOP;
    }
    /* the data may wrap around the end of the ring */
    sim_copy_unlocked(ctx, dst, dst_mem, r->ptr + off, r->mem, first);
    if (first < len) {
        sim_copy_unlocked(ctx, dst + first, dst_mem, r->ptr, r->mem,
                          len - first);
    }
    return SIM_RUN_DONE;
}

static SimRun sim_sdma_fence(SimCtx *ctx, SimQueue *q, const uint32_t *dw)
{
    uint64_t va = sim_dw64(&dw[1]);
    uint32_t v = cpu_to_le32(dw[3]);

    /* a physical address would bypass the GPUVM: not for a user queue */
    if ((dw[0] & SIM_SDMA_FENCE_GPA) || (va & 3)) {
        return sim_sdma_bad(q);
    }
    return sim_queue_write(ctx, q, va, &v, 4) ? SIM_RUN_DONE : SIM_RUN_STOP;
}

static bool sim_sdma_compare(uint32_t v, uint32_t ref, unsigned func)
{
    switch (func) {
    case SIM_SDMA_FUNC_ALWAYS:
        return true;
    case SIM_SDMA_FUNC_LT:
        return v < ref;
    case SIM_SDMA_FUNC_LE:
        return v <= ref;
    case SIM_SDMA_FUNC_EQ:
        return v == ref;
    case SIM_SDMA_FUNC_NE:
        return v != ref;
    case SIM_SDMA_FUNC_GE:
        return v >= ref;
    default:
        return v > ref;
    }
}

static SimRun sim_sdma_poll(SimCtx *ctx, SimQueue *q, const uint32_t *dw)
{
    unsigned func = (dw[0] >> 28) & 7;
    uint64_t va = sim_dw64(&dw[1]);
    uint32_t v;

    /* registers and the HDP: the model has neither, so nothing to wait */
    if (!(dw[0] & SIM_SDMA_POLL_MEM)) {
        return SIM_RUN_DONE;
    }
    if (func == 7 || (va & 3)) {
        return sim_sdma_bad(q);
    }
    if (!sim_queue_read(ctx, q, va, &v, 4)) {
        return SIM_RUN_STOP;
    }
    return sim_sdma_compare(le32_to_cpu(v) & dw[4], dw[3], func) ?
           SIM_RUN_DONE : SIM_RUN_WAIT;
}

/*
 * The new value of an atomic @kind (SIM_SDMA_ATOMIC_*) on @old with the
 * source operand @src, for an operand of @bits; false if the operation
 * is not one the model knows
 */
static bool sim_atomic_op(unsigned kind, unsigned bits, uint64_t old,
                          uint64_t src, uint64_t *new)
{
    uint64_t mask = bits == 64 ? UINT64_MAX : UINT32_MAX;
    int64_t so = bits == 64 ? (int64_t)old : (int32_t)old;
    int64_t ss = bits == 64 ? (int64_t)src : (int32_t)src;

    old &= mask;
    src &= mask;
    switch (kind) {
    case SIM_SDMA_ATOMIC_SWAP:
        *new = src;
        break;
    case SIM_SDMA_ATOMIC_ADD:
        *new = old + src;
        break;
    case SIM_SDMA_ATOMIC_SUB:
        *new = old - src;
        break;
    case SIM_SDMA_ATOMIC_SMIN:
        *new = so < ss ? old : src;
        break;
    case SIM_SDMA_ATOMIC_UMIN:
        *new = MIN(old, src);
        break;
    case SIM_SDMA_ATOMIC_SMAX:
        *new = so > ss ? old : src;
        break;
    case SIM_SDMA_ATOMIC_UMAX:
        *new = MAX(old, src);
        break;
    case SIM_SDMA_ATOMIC_AND:
        *new = old & src;
        break;
    case SIM_SDMA_ATOMIC_OR:
        *new = old | src;
        break;
    case SIM_SDMA_ATOMIC_XOR:
        *new = old ^ src;
        break;
    case SIM_SDMA_ATOMIC_INC:
        /* as the shader's atomic_inc: wraps to 0 past the source */
        *new = old >= src ? 0 : old + 1;
        break;
    case SIM_SDMA_ATOMIC_DEC:
        *new = (old == 0 || old > src) ? src : old - 1;
        break;
    default:
        return false;
    }
    *new &= mask;
    return true;
}

/* One compare-and-swap of the little-endian value at @p */
static bool sim_atomic_cas(void *p, unsigned bits, uint64_t old,
                           uint64_t new)
{
    if (bits == 64) {
        uint64_t o = cpu_to_le64(old), n = cpu_to_le64(new);

        return qatomic_cmpxchg((uint64_t *)p, o, n) == o;
    } else {
        uint32_t o = cpu_to_le32(old), n = cpu_to_le32(new);

        return qatomic_cmpxchg((uint32_t *)p, o, n) == o;
    }
}

static uint64_t sim_atomic_load(void *p, unsigned bits)
{
    return bits == 64 ? le64_to_cpu(qatomic_read((uint64_t *)p)) :
                        le32_to_cpu(qatomic_read((uint32_t *)p));
}

static SimRun sim_sdma_atomic(SimCtx *ctx, SimQueue *q, const uint32_t *dw)
{
    unsigned op = dw[0] >> 25;
    unsigned kind = op & 0x1F, bits = op & SIM_SDMA_ATOMIC_64 ? 64 : 32;
    bool loop = dw[0] & SIM_SDMA_ATOMIC_LOOP;
    uint64_t va = sim_dw64(&dw[1]), src = sim_dw64(&dw[3]);
    uint64_t cmp = sim_dw64(&dw[5]), old, new;
    unsigned i;
    void *p;

    if ((dw[0] & SIM_SDMA_ATOMIC_TMZ) ||
        (loop && kind != SIM_SDMA_ATOMIC_CMPSWAP) ||
        (va & (bits / 8 - 1)) ||
        (kind != SIM_SDMA_ATOMIC_CMPSWAP &&
         !sim_atomic_op(kind, bits, 0, 0, &new))) {
        return sim_sdma_bad(q);
    }
    p = sim_queue_mem(ctx, q, va, bits / 8, NULL);
    if (!p) {
        return SIM_RUN_STOP;
    }
    if (bits == 32) {
        src &= UINT32_MAX;
        cmp &= UINT32_MAX;
    }
    for (i = 0; i < SIM_SDMA_ATOMIC_TRIES; i++) {
        old = sim_atomic_load(p, bits);
        if (kind == SIM_SDMA_ATOMIC_CMPSWAP) {
            if (old != cmp) {
                /* compared and failed: done, unless it loops until not */
                return loop ? SIM_RUN_WAIT : SIM_RUN_DONE;
            }
            new = src;
        } else {
            sim_atomic_op(kind, bits, old, src, &new);
        }
        if (sim_atomic_cas(p, bits, old, new)) {
            return SIM_RUN_DONE;
        }
    }
    /* the CPU keeps changing the value: try again at the next look */
    return SIM_RUN_WAIT;
}

static SimRun sim_sdma_fill(SimCtx *ctx, SimQueue *q, const uint32_t *dw)
{
    uint64_t va = sim_dw64(&dw[1]);
    uint64_t dwords = ((dw[4] & 0x3FFFFF) >> 2) + 1;
    SimMem *dst_mem;
    void *dst;

    if (((dw[0] >> 16) & 3) || (dw[0] >> 30) != 2 || (va & 3)) {
        return sim_sdma_bad(q);
    }
    dst = sim_queue_mem(ctx, q, va, dwords * 4, &dst_mem);
    if (!dst) {
        return SIM_RUN_STOP;
    }
    sim_fill_unlocked(ctx, dst, dst_mem, dw[3], dwords);
    return SIM_RUN_DONE;
}

static SimRun sim_sdma_timestamp(SimCtx *ctx, SimQueue *q,
                                 const uint32_t *dw)
{
    uint64_t va = sim_dw64(&dw[1]);
    uint64_t ts = cpu_to_le64(sim_gpu_clock());

    if (va & 7) {
        return sim_sdma_bad(q);
    }
    return sim_queue_write(ctx, q, va, &ts, 8) ? SIM_RUN_DONE : SIM_RUN_STOP;
}

static SimRun sim_sdma_exec(SimCtx *ctx, SimQueue *q, const SimRing *r,
                            uint64_t ptr, const uint32_t *dw)
{
    switch (dw[0] & 0xFF) {
    case SIM_SDMA_OP_NOP:
        return SIM_RUN_DONE;
    case SIM_SDMA_OP_COPY:
        return (dw[0] >> 8 & 0xFF) == SIM_SDMA_SUBOP_COPY_LINEAR ?
               sim_sdma_copy(ctx, q, dw) : sim_sdma_copy_subwin(ctx, q, dw);
    case SIM_SDMA_OP_WRITE:
        return sim_sdma_write(ctx, q, r, ptr, dw);
    case SIM_SDMA_OP_FENCE:
        return sim_sdma_fence(ctx, q, dw);
    case SIM_SDMA_OP_TRAP:
        /* the KFD takes 28 bits of an SDMA trap's context as the id */
        sim_event_interrupt_locked(ctx, dw[1] & SIM_SDMA_TRAP_CONTEXT_MASK,
                                   28);
        return SIM_RUN_DONE;
    case SIM_SDMA_OP_POLL_REGMEM:
        return sim_sdma_poll(ctx, q, dw);
    case SIM_SDMA_OP_ATOMIC:
        return sim_sdma_atomic(ctx, q, dw);
    case SIM_SDMA_OP_CONST_FILL:
        return sim_sdma_fill(ctx, q, dw);
    default:
        return sim_sdma_timestamp(ctx, q, dw);
    }
}

bool sim_sdma_pass_locked(SimCtx *ctx, SimQueue *q)
{
    uint32_t dw[SIM_SDMA_MAX_FIXED_DWORDS];
    unsigned since_yield = 0, i;
    bool progress = false, more;
    uint64_t rptr_le;
    uint32_t len;
    SimRing r;
    SimRun ret;

    if (!sim_ring_pin(ctx, q, &r)) {
        return false;
    }
    while (q->rptr != q->wptr && !ctx->stopping) {
        if (since_yield == SIM_KFD_PASS_YIELD) {
            since_yield = 0;
            if (!sim_ring_yield(ctx, q, &r)) {
                return progress;
            }
        }
        len = sim_sdma_len(&r, q->rptr, q->wptr - q->rptr, &more);
        if (more) {
            break;
        }
        if (!len) {
            sim_sdma_bad(q);
            break;
        }
        if (q->wptr - q->rptr < len * 4) {
            /* the rest of the packet comes with a later doorbell */
            break;
        }
        for (i = 0; i < MIN(len, SIM_SDMA_MAX_FIXED_DWORDS); i++) {
            dw[i] = sim_ring_dw(&r, q->rptr + i * 4);
        }
        ret = sim_sdma_exec(ctx, q, &r, q->rptr, dw);
        if (ret == SIM_RUN_WAIT) {
            sim_queue_set_waiting(ctx, q, true);
            break;
        }
        if (ret == SIM_RUN_STOP) {
            break;
        }
        q->rptr += len * 4;
        q->packets++;
        progress = true;
        since_yield++;

        rptr_le = cpu_to_le64(q->rptr);
        if (!sim_queue_write(ctx, q, q->rptr_va, &rptr_le, 8)) {
            break;
        }
    }
    sim_ring_unpin(&r);
    return progress;
}
