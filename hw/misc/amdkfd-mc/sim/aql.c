/*
 * amdkfd-mc "sim" backend: the AQL packet processor of compute queues
 *
 * Runs HSA AQL queues as sim-kfd.h describes them: barrier-AND and
 * barrier-OR packets, kernel dispatches (on the shader interpreter of
 * isa.c), AMD's PM4_IB vendor packets of cache invalidations, completion
 * signals (ROCr's amd_signal_t, with the event mailbox and interrupt of
 * interrupt signals), and, for packets the model cannot run, the queue
 * error the CP raises and ROCr reports.
 * Layouts: HSA's hsa.h and ROCr's amd_hsa_signal.h and amd_hsa_queue.h.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/atomic.h"
#include "internal.h"

/* Tries of a signal update against concurrent CPU stores before waiting */
#define SIM_AQL_SIGNAL_TRIES        1000

/* Bytes of amd_signal_t the packet processor uses: up to end_ts */
#define SIM_SIGNAL_USED             (SIM_SIGNAL_END_TS + 8)

static uint64_t sim_le64_at(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return le64_to_cpu(v);
}

static uint32_t sim_le32_at(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return le32_to_cpu(v);
}

/* Base of the amd_queue_t that holds the queue's pointers, if they are */
static bool sim_aql_amd_queue(SimQueue *q, uint64_t *base)
{
    uint64_t b;

    if (q->rptr_va < SIM_AMD_QUEUE_READ_ID) {
        return false;
    }
    b = q->rptr_va - SIM_AMD_QUEUE_READ_ID;
    if (q->wptr_va != b + SIM_AMD_QUEUE_WRITE_ID &&
        q->wptr_va != b + SIM_AMD_QUEUE_LEGACY_WRITE_ID) {
        return false;
    }
    *base = b;
    return true;
}

/* Add @delta to a signal's value, atomically against the CPU */
static bool sim_signal_add(uint8_t *sig, int64_t delta)
{
    uint64_t *p = (uint64_t *)(sig + SIM_SIGNAL_VALUE);
    unsigned i;

    for (i = 0; i < SIM_AQL_SIGNAL_TRIES; i++) {
        uint64_t old = qatomic_read(p);
        uint64_t new = cpu_to_le64(le64_to_cpu(old) + delta);

        if (qatomic_cmpxchg(p, old, new) == old) {
            return true;
        }
    }
    return false;
}

/*
 * The CP's interrupt for a signal with an event: the event id into the
 * mailbox, then the end-of-pipe interrupt with the id (32 valid bits)
 */
static SimRun sim_signal_notify(SimCtx *ctx, SimQueue *q, const uint8_t *sig)
{
    uint64_t mailbox = sim_le64_at(sig + SIM_SIGNAL_MAILBOX);
    uint32_t id = sim_le32_at(sig + SIM_SIGNAL_EVENT_ID);
    uint32_t id_le = cpu_to_le32(id);

    if (!mailbox) {
        return SIM_RUN_DONE;
    }
    if (!sim_queue_write(ctx, q, mailbox, &id_le, sizeof(id_le))) {
        return SIM_RUN_STOP;
    }
    sim_event_interrupt_locked(ctx, id, 32);
    return SIM_RUN_DONE;
}

/* The queue's amd_queue_t asks for timestamps; a read fault halts @q */
static bool sim_aql_profiling(SimCtx *ctx, SimQueue *q)
{
    uint64_t amdq;
    uint32_t props;

    return sim_aql_amd_queue(q, &amdq) &&
           sim_queue_read(ctx, q, amdq + SIM_AMD_QUEUE_PROPERTIES, &props,
                          sizeof(props)) &&
           (le32_to_cpu(props) & SIM_AMD_QUEUE_PROFILING);
}

/* Complete the signal @handle of a packet: timestamps, value, event */
static SimRun sim_signal_complete(SimCtx *ctx, SimQueue *q, uint64_t handle)
{
    uint64_t ts = cpu_to_le64(sim_gpu_clock());
    uint8_t *sig;

    if (!handle) {
        return SIM_RUN_DONE;
    }
    if (handle & 7) {
        return sim_aql_error(ctx, q, EC_QUEUE_PACKET_UNSUPPORTED);
    }
    sig = sim_queue_mem(ctx, q, handle, SIM_SIGNAL_USED, NULL);
    if (!sig) {
        return SIM_RUN_STOP;
    }
    if (sim_aql_profiling(ctx, q)) {
        /* execution took no time: one timestamp for start and end */
        memcpy(sig + SIM_SIGNAL_START_TS, &ts, sizeof(ts));
        memcpy(sig + SIM_SIGNAL_END_TS, &ts, sizeof(ts));
    }
    if (q->halted) {
        return SIM_RUN_STOP;
    }
    if (!sim_signal_add(sig, -1)) {
        /* the CPU keeps storing to it: try again at the next look */
        return SIM_RUN_WAIT;
    }
    return sim_signal_notify(ctx, q, sig);
}

/*
 * A packet the model cannot run, or a wave of a dispatch that failed: the
 * queue stops there and the error goes where ROCr (or, with the runtime
 * enabled, the KFD) looks for it.  @ec is the KFD's exception code.
 */
SimRun sim_aql_error(SimCtx *ctx, SimQueue *q, uint32_t ec)
{
    struct kfd_context_save_area_header csa;
    uint64_t amdq, handle, code, payload, mask;
    uint8_t *sig, *p;
    unsigned i;

    switch (ec) {
    case EC_QUEUE_PACKET_VENDOR_UNSUPPORTED:
        code = SIM_AQL_ERR_VENDOR_PACKET;
        sim_queue_halt(q, SIM_KFD_QUEUE_UNSUPPORTED_PACKET);
        break;
    case EC_QUEUE_WAVE_ILLEGAL_INSTRUCTION:
    case EC_QUEUE_WAVE_MEMORY_VIOLATION:
    case EC_QUEUE_WAVE_TRAP:
    case EC_QUEUE_WAVE_ABORT:
        /* the codes ROCr's queue error handler decodes for waves */
        code = ec == EC_QUEUE_WAVE_ILLEGAL_INSTRUCTION ?
               SIM_AQL_ERR_ILLEGAL_INSTRUCTION : SIM_AQL_ERR_WAVE_EXCEPTION;
        sim_queue_halt(q, ec == EC_QUEUE_WAVE_ABORT ?
                       SIM_KFD_QUEUE_WAVE_BUDGET :
                       ec == EC_QUEUE_WAVE_ILLEGAL_INSTRUCTION ?
                       SIM_KFD_QUEUE_ILLEGAL_INSTRUCTION :
                       SIM_KFD_QUEUE_WAVE_EXCEPTION);
        break;
    default:
        code = SIM_AQL_ERR_INVALID_PACKET;
        sim_queue_halt(q, SIM_KFD_QUEUE_UNSUPPORTED_PACKET);
        break;
    }

    /* the CP's error code in the queue's inactive signal */
    handle = 0;
    if (sim_aql_amd_queue(q, &amdq) &&
        sim_queue_read(ctx, q, amdq + SIM_AMD_QUEUE_INACTIVE_SIGNAL,
                       &handle, sizeof(handle))) {
        handle = le64_to_cpu(handle);
    }
    sig = handle && !(handle & 7) ?
          sim_queue_mem(ctx, q, handle, SIM_SIGNAL_USED, NULL) : NULL;
    if (sig) {
        qatomic_set((uint64_t *)(sig + SIM_SIGNAL_VALUE), cpu_to_le64(code));
        sim_signal_notify(ctx, q, sig);
    }

    /* the KFD's exception report to an enabled runtime */
    if (!ctx->runtime_enabled || !q->csa_va || q->csa_size < sizeof(csa) ||
        !sim_queue_read(ctx, q, q->csa_va, &csa, sizeof(csa))) {
        return SIM_RUN_STOP;
    }
    payload = le64_to_cpu(csa.err_payload_addr);
    /* KFD_EC_MASK() does not parenthesize its argument: a plain value */
    mask = KFD_EC_MASK(ec);
    if (payload && !(payload & 7)) {
        p = sim_queue_mem(ctx, q, payload, 8, NULL);
        for (i = 0; p && i < SIM_AQL_SIGNAL_TRIES; i++) {
            uint64_t old = qatomic_read((uint64_t *)p);
            uint64_t new = cpu_to_le64(le64_to_cpu(old) | mask);

            if (qatomic_cmpxchg((uint64_t *)p, old, new) == old) {
                break;
            }
        }
    }
    sim_event_set_by_id_locked(ctx, le32_to_cpu(csa.err_event_id));
    return SIM_RUN_STOP;
}

/*
 * VENDOR_SPECIFIC with AMD's PM4_IB format: an INDIRECT_BUFFER command
 * naming a PM4 buffer, which ROCr uses for cache invalidations
 * (ACQUIRE_MEM).  The model has no caches (memory is coherent and code is
 * read from memory at each fetch), so NOP and ACQUIRE_MEM complete at
 * once; any other command is a vendor packet the model cannot run.
 */
static SimRun sim_aql_pm4(SimCtx *ctx, SimQueue *q, const uint8_t *pkt)
{
    uint32_t jump = sim_le32_at(pkt + 4), len, i, hdr, op, body;
    uint64_t ib = sim_le64_at(pkt + 8) & ~3ULL;
    const uint8_t *p;

    len = sim_le32_at(pkt + 16) & 0xfffff;
    if (lduw_le_p(pkt + 2) != SIM_AQL_PM4_IB ||
        (jump & ~0xffU) != SIM_PM4_HDR(SIM_PM4_OP_INDIRECT_BUFFER, 4) ||
        !len || len > SIM_AQL_PM4_MAX_DWORDS) {
        return sim_aql_error(ctx, q, EC_QUEUE_PACKET_VENDOR_UNSUPPORTED);
    }
    p = sim_queue_mem(ctx, q, ib, len * 4, NULL);
    if (!p) {
        return SIM_RUN_STOP;
    }
    for (i = 0; i < len; i += body + 1) {
        hdr = sim_le32_at(p + i * 4);
        if (hdr >> 30 == 2) {
            /* type 2: one filler dword */
            body = 0;
            continue;
        }
        op = (hdr >> 8) & 0xff;
        body = ((hdr >> 16) & 0x3fff) + 1;
        if (hdr >> 30 != 3 || body > len - i - 1 ||
            (op != SIM_PM4_OP_NOP && op != SIM_PM4_OP_ACQUIRE_MEM)) {
            return sim_aql_error(ctx, q, EC_QUEUE_PACKET_VENDOR_UNSUPPORTED);
        }
    }
    return SIM_RUN_DONE;
}

/* BARRIER_AND (@and) or BARRIER_OR: are its dependencies satisfied? */
static SimRun sim_aql_barrier(SimCtx *ctx, SimQueue *q, const uint8_t *pkt,
                              bool and)
{
    unsigned i;

    for (i = 0; i < SIM_AQL_DEP_SIGNALS; i++) {
        uint64_t handle = sim_le64_at(pkt + SIM_AQL_DEP_SIGNAL_OFFSET + i * 8);
        uint64_t *value;

        if (!handle) {
            /* no dependency: satisfied for AND, never for OR */
            continue;
        }
        if (handle & 7) {
            return sim_aql_error(ctx, q, EC_QUEUE_PACKET_UNSUPPORTED);
        }
        value = sim_queue_mem(ctx, q, handle + SIM_SIGNAL_VALUE, 8, NULL);
        if (!value) {
            return SIM_RUN_STOP;
        }
        if ((qatomic_read(value) == 0) != and) {
            /* AND: one is not done yet; OR: one is done */
            return and ? SIM_RUN_WAIT : SIM_RUN_DONE;
        }
    }
    return and ? SIM_RUN_DONE : SIM_RUN_WAIT;
}

bool sim_aql_pass_locked(SimCtx *ctx, SimQueue *q)
{
    uint32_t slots = q->ring_size / SIM_AQL_PACKET_SIZE;
    uint8_t pkt[SIM_AQL_PACKET_SIZE];
    unsigned since_yield = 0, type;
    bool progress = false;
    uint64_t rptr_le, amdq;
    uint16_t *hdrp, hdr;
    uint32_t n;
    SimRing r;
    SimRun ret;

    if (!sim_ring_pin(ctx, q, &r)) {
        return false;
    }
    /* at most one ring of packets per pass, whatever the doorbell said */
    for (n = 0; q->rptr < q->wptr && n < slots && !ctx->stopping; n++) {
        if (since_yield == SIM_KFD_PASS_YIELD) {
            since_yield = 0;
            if (!sim_ring_yield(ctx, q, &r)) {
                return progress;
            }
        }
        hdrp = (uint16_t *)(r.ptr + (q->rptr & (slots - 1)) *
                            SIM_AQL_PACKET_SIZE);
        /* the producer writes the header last, with release semantics */
        hdr = le16_to_cpu(qatomic_load_acquire(hdrp));
        type = hdr & 0xFF;
        if (type == SIM_AQL_TYPE_INVALID) {
            /* not written yet: a later doorbell brings it */
            break;
        }
        memcpy(pkt, hdrp, sizeof(pkt));

        switch (type) {
        case SIM_AQL_TYPE_KERNEL_DISPATCH:
            ret = sim_isa_dispatch(ctx, q, &r, pkt,
                                   q->ring_va + (q->rptr & (slots - 1)) *
                                   SIM_AQL_PACKET_SIZE,
                                   sim_aql_amd_queue(q, &amdq) ? amdq : 0,
                                   &q->isa);
            if (!r.ptr) {
                /* its yield found the ring unmapped: the queue halted */
                return progress;
            }
            /* the interpreter may have re-pinned the ring */
            hdrp = (uint16_t *)(r.ptr + (q->rptr & (slots - 1)) *
                                SIM_AQL_PACKET_SIZE);
            break;
        case SIM_AQL_TYPE_VENDOR_SPECIFIC:
            ret = sim_aql_pm4(ctx, q, pkt);
            break;
        case SIM_AQL_TYPE_BARRIER_AND:
        case SIM_AQL_TYPE_BARRIER_OR:
            ret = sim_aql_barrier(ctx, q, pkt,
                                  type == SIM_AQL_TYPE_BARRIER_AND);
            break;
        default:
            /* agent dispatches (no agent to run them) and reserved types */
            ret = sim_aql_error(ctx, q, EC_QUEUE_PACKET_UNSUPPORTED);
            break;
        }
        if (ret == SIM_RUN_DONE) {
            ret = sim_signal_complete(ctx, q,
                                      sim_le64_at(pkt +
                                                  SIM_AQL_COMPLETION_OFFSET));
        }
        if (ret == SIM_RUN_WAIT) {
            sim_queue_set_waiting(ctx, q, true);
            break;
        }
        if (ret == SIM_RUN_STOP) {
            break;
        }

        /* as the CP: the slot's type becomes INVALID, then the index moves */
        qatomic_store_release(hdrp, cpu_to_le16((hdr & ~0xFF) |
                                                SIM_AQL_TYPE_INVALID));
        q->rptr++;
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
