/*
 * amdkfd-mc: the command rings in guest memory, doorbell and interrupts
 *
 * The guest places 64-byte commands in a submission ring and writes the
 * new tail to the doorbell.  The device consumes them in a bottom half
 * (never on the vCPU thread that rang) and writes 32-byte completion
 * records, tagged with a phase bit, into the completion ring.  Commands
 * that continue in a worker complete from the same bottom half, so every
 * DMA and interrupt of the device happens inside its re-entrancy guard.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "qemu/atomic.h"
#include "hw/pci/msix.h"
#include "amdkfd-mc-internal.h"
#include "trace.h"

void amdkfd_mc_set_error(AmdkfdMcState *s, uint32_t status)
{
    trace_amdkfd_mc_error(status);
    s->error = status;
}

void amdkfd_mc_irq_update(AmdkfdMcState *s)
{
    PCIDevice *pdev = amdkfd_mc_pci(s);

    if (msix_enabled(pdev)) {
        pci_irq_deassert(pdev);
        return;
    }
    pci_set_irq(pdev, s->irq_status != 0);
}

static void amdkfd_mc_raise_cq_irq(AmdkfdMcState *s)
{
    PCIDevice *pdev = amdkfd_mc_pci(s);

    s->irq_status |= AMDKFD_MC_IRQ_CQ;
    if (msix_enabled(pdev)) {
        msix_notify(pdev, AMDKFD_MC_MSIX_VEC_CQ);
    } else {
        amdkfd_mc_irq_update(s);
    }
}

static uint64_t amdkfd_mc_sq_len(AmdkfdMcRing *r)
{
    return (uint64_t)r->entries * sizeof(struct amdkfd_mc_cmd);
}

static uint64_t amdkfd_mc_cq_len(AmdkfdMcRing *r)
{
    return (uint64_t)r->entries * sizeof(struct amdkfd_mc_cpl);
}

/*
 * The rings are mapped once when they are enabled and again when the
 * device's view of memory changes (the listener says so): commands and
 * completions are then plain copies, with no translation each.  Through a
 * vIOMMU, whose mappings change without telling listeners, every access
 * is translated and checked instead.
 */
static void amdkfd_mc_rings_unmap(AmdkfdMcRing *r)
{
    if (r->mapped) {
        amdkfd_mc_dma_buf_destroy(&r->sq_buf);
        amdkfd_mc_dma_buf_destroy(&r->cq_buf);
        r->mapped = false;
    }
}

static void amdkfd_mc_rings_map(AmdkfdMcState *s)
{
    AmdkfdMcRing *r = &s->ring;
    PCIDevice *pdev = amdkfd_mc_pci(s);

    amdkfd_mc_rings_unmap(r);
    if (!amdkfd_mc_dma_buf_init(&r->sq_buf, pdev, r->sq_base,
                                (uint64_t)r->entries *
                                sizeof(struct amdkfd_mc_cmd), false)) {
        return;
    }
    if (!amdkfd_mc_dma_buf_init(&r->cq_buf, pdev, r->cq_base,
                                (uint64_t)r->entries *
                                sizeof(struct amdkfd_mc_cpl), true)) {
        amdkfd_mc_dma_buf_destroy(&r->sq_buf);
        return;
    }
    r->mapped = true;
}

static void amdkfd_mc_mem_commit(MemoryListener *listener)
{
    AmdkfdMcState *s = container_of(listener, AmdkfdMcState, mem_listener);

    s->mem_changed = true;
}

void amdkfd_mc_ring_init(AmdkfdMcState *s)
{
    s->mem_listener = (MemoryListener) {
        .name = "amdkfd-mc",
        .commit = amdkfd_mc_mem_commit,
    };
    memory_listener_register(&s->mem_listener,
                             pci_get_address_space(amdkfd_mc_pci(s)));
}

void amdkfd_mc_ring_fini(AmdkfdMcState *s)
{
    amdkfd_mc_rings_unmap(&s->ring);
    amdkfd_mc_dma_cache_drop(&s->payloads);
    memory_listener_unregister(&s->mem_listener);
}

/* Both rings entirely in guest RAM (checked at enable and before use) */
static bool amdkfd_mc_rings_in_ram(AmdkfdMcState *s)
{
    AmdkfdMcRing *r = &s->ring;

    return amdkfd_mc_dma_is_ram(amdkfd_mc_pci(s), r->sq_base,
                                amdkfd_mc_sq_len(r), false) &&
           amdkfd_mc_dma_is_ram(amdkfd_mc_pci(s), r->cq_base,
                                amdkfd_mc_cq_len(r), true);
}

static bool amdkfd_mc_ring_valid(AmdkfdMcState *s, uint32_t *status)
{
    AmdkfdMcRing *r = &s->ring;
    uint64_t sq_len, cq_len;

    if (r->entries < AMDKFD_MC_RING_MIN_ENTRIES ||
        r->entries > AMDKFD_MC_RING_MAX_ENTRIES ||
        !is_power_of_2(r->entries) ||
        r->sq_base % AMDKFD_MC_RING_ALIGN ||
        r->cq_base % AMDKFD_MC_RING_ALIGN) {
        *status = AMDKFD_MC_S_INVALID_RING;
        return false;
    }
    sq_len = amdkfd_mc_sq_len(r);
    cq_len = amdkfd_mc_cq_len(r);
    if (r->sq_base + sq_len < r->sq_base || r->cq_base + cq_len < r->cq_base ||
        ranges_overlap(r->sq_base, sq_len, r->cq_base, cq_len)) {
        *status = AMDKFD_MC_S_INVALID_RING;
        return false;
    }
    if (!amdkfd_mc_rings_in_ram(s)) {
        *status = AMDKFD_MC_S_DMA_ERROR;
        return false;
    }
    return true;
}

void amdkfd_mc_ring_stop(AmdkfdMcState *s)
{
    AmdkfdMcRing *r = &s->ring;
    AmdkfdMcAsync *a;

    r->enabled = false;
    r->halted = false;
    r->sq_head = r->sq_tail = 0;
    r->cq_head = r->cq_tail = 0;
    r->cq_phase = true;
    r->posted = false;
    amdkfd_mc_rings_unmap(r);
    /*
     * Commands still running belong to the rings that are gone: they will
     * write no payload and post no completion (no DMA after a stop).
     */
    QTAILQ_FOREACH(a, &s->async, next) {
        /* read by workers: an orphan that has not started never does */
        qatomic_set(&a->orphaned, true);
    }
    r->inflight = 0;
    s->control &= ~AMDKFD_MC_CONTROL_ENABLE;
}

void amdkfd_mc_ring_reset(AmdkfdMcState *s)
{
    amdkfd_mc_ring_stop(s);
    s->ring.sq_base = s->ring.cq_base = 0;
    s->ring.entries = 0;
    s->control = 0;
    s->error = AMDKFD_MC_S_OK;
    s->irq_status = 0;
    amdkfd_mc_irq_update(s);
}

void amdkfd_mc_device_reset(AmdkfdMcState *s)
{
    trace_amdkfd_mc_reset(s->live_contexts);
    amdkfd_mc_ring_reset(s);
    amdkfd_mc_ctx_destroy_all(s);
}

void amdkfd_mc_ring_write_control(AmdkfdMcState *s, uint32_t val)
{
    uint32_t status;

    if (val & AMDKFD_MC_CONTROL_RESET) {
        /*
         * The device's own state only: PCI configuration (BARs, MSI-X)
         * belongs to the guest's PCI layer and stays as it is.
         */
        amdkfd_mc_device_reset(s);
        return;
    }
    if (!(val & AMDKFD_MC_CONTROL_ENABLE)) {
        amdkfd_mc_ring_stop(s);
        return;
    }
    if (s->ring.enabled || s->unplugging) {
        return;
    }
    if (!amdkfd_mc_ring_valid(s, &status)) {
        amdkfd_mc_set_error(s, status);
        return;
    }
    amdkfd_mc_ring_stop(s);
    s->ring.enabled = true;
    s->control |= AMDKFD_MC_CONTROL_ENABLE;
    amdkfd_mc_rings_map(s);
    trace_amdkfd_mc_ring_enable(s->ring.sq_base, s->ring.cq_base,
                                s->ring.entries);
}

void amdkfd_mc_ring_doorbell(AmdkfdMcState *s, uint32_t tail)
{
    AmdkfdMcRing *r = &s->ring;

    trace_amdkfd_mc_doorbell(tail);
    if (!r->enabled) {
        amdkfd_mc_set_error(s, AMDKFD_MC_S_NOT_READY);
        return;
    }
    if (tail >= r->entries) {
        amdkfd_mc_set_error(s, AMDKFD_MC_S_INVALID_RING);
        return;
    }
    r->sq_tail = tail;
    qemu_bh_schedule(s->ring_bh);
}

void amdkfd_mc_ring_cq_head(AmdkfdMcState *s, uint32_t head)
{
    AmdkfdMcRing *r = &s->ring;

    if (!r->enabled) {
        amdkfd_mc_set_error(s, AMDKFD_MC_S_NOT_READY);
        return;
    }
    if (head >= r->entries) {
        amdkfd_mc_set_error(s, AMDKFD_MC_S_INVALID_RING);
        return;
    }
    r->cq_head = head;
    /* Commands may have been held back for lack of completion slots */
    if (r->sq_head != r->sq_tail) {
        qemu_bh_schedule(s->ring_bh);
    }
}

/*
 * A command is fetched only when a completion slot is certain for it:
 * one slot stays empty, and running asynchronous commands own one each.
 */
static bool amdkfd_mc_cq_full(AmdkfdMcRing *r)
{
    uint32_t used = (r->cq_tail - r->cq_head) & (r->entries - 1);

    return used + r->inflight >= r->entries - 1;
}

static void amdkfd_mc_ring_halt(AmdkfdMcState *s, uint32_t status)
{
    s->ring.halted = true;
    /* one interrupt tells the driver, then the halted ring stays quiet */
    s->ring.posted = true;
    amdkfd_mc_set_error(s, status);
}

static void amdkfd_mc_post_cpl(AmdkfdMcState *s, struct amdkfd_mc_cpl *cpl)
{
    AmdkfdMcRing *r = &s->ring;
    struct amdkfd_mc_cpl le = {
        .cookie = cpu_to_le64(cpl->cookie),
        .status = cpu_to_le32(cpl->status),
        .result = cpu_to_le32(cpl->result),
        .value = cpu_to_le64(cpl->value),
        .sq_head = cpu_to_le32(r->sq_head),
        .flags = cpu_to_le32(r->cq_phase ? AMDKFD_MC_CPL_PHASE : 0),
    };
    uint64_t off = (uint64_t)r->cq_tail * sizeof(le);
    const size_t body = offsetof(struct amdkfd_mc_cpl, flags);

    QEMU_BUILD_BUG_ON(offsetof(struct amdkfd_mc_cpl, flags) !=
                      sizeof(le) - sizeof(le.flags));
    /*
     * The phase goes last: the write barriers order the record's body
     * before its phase word, so a guest that sees the phase sees the body.
     */
    if (r->mapped) {
        amdkfd_mc_dma_buf_write(&r->cq_buf, off, &le, body);
        smp_wmb(); /* body before phase */
        amdkfd_mc_dma_buf_write(&r->cq_buf, off + body, &le.flags,
                                sizeof(le.flags));
    } else {
        PCIDevice *pci = amdkfd_mc_pci(s);

        if (!amdkfd_mc_dma_write(pci, r->cq_base + off, &le, body)) {
            amdkfd_mc_ring_halt(s, AMDKFD_MC_S_DMA_ERROR);
            return;
        }
        smp_wmb(); /* body before phase */
        if (!amdkfd_mc_dma_write(pci, r->cq_base + off + body, &le.flags,
                                 sizeof(le.flags))) {
            amdkfd_mc_ring_halt(s, AMDKFD_MC_S_DMA_ERROR);
            return;
        }
    }
    r->cq_tail = (r->cq_tail + 1) % r->entries;
    if (r->cq_tail == 0) {
        r->cq_phase = !r->cq_phase;
    }
    r->posted = true;
}

static bool amdkfd_mc_fetch_cmd(AmdkfdMcState *s, struct amdkfd_mc_cmd *cmd)
{
    AmdkfdMcRing *r = &s->ring;
    uint64_t off = (uint64_t)r->sq_head * sizeof(*cmd);
    int i;

    if (r->mapped) {
        amdkfd_mc_dma_buf_read(&r->sq_buf, off, cmd, sizeof(*cmd));
    } else if (!amdkfd_mc_dma_read(amdkfd_mc_pci(s), r->sq_base + off, cmd,
                                   sizeof(*cmd))) {
        amdkfd_mc_ring_halt(s, AMDKFD_MC_S_DMA_ERROR);
        return false;
    }
    cmd->opcode = le16_to_cpu(cmd->opcode);
    cmd->flags = le16_to_cpu(cmd->flags);
    cmd->ctx_id = le32_to_cpu(cmd->ctx_id);
    cmd->cookie = le64_to_cpu(cmd->cookie);
    cmd->payload_addr = le64_to_cpu(cmd->payload_addr);
    cmd->payload_len = le32_to_cpu(cmd->payload_len);
    cmd->arg0 = le32_to_cpu(cmd->arg0);
    cmd->arg1 = le64_to_cpu(cmd->arg1);
    cmd->arg2 = le64_to_cpu(cmd->arg2);
    for (i = 0; i < ARRAY_SIZE(cmd->reserved); i++) {
        cmd->reserved[i] = le64_to_cpu(cmd->reserved[i]);
    }
    return true;
}

/*
 * Commands in workers, orphans of stopped rings included, are bounded in
 * number and in the payload copies they hold, whatever the guest does
 * with ENABLE: fetching waits while a command could exceed either bound.
 * A command claiming more than AMDKFD_MC_MAX_PAYLOAD is refused before it
 * holds anything, so it needs no room: waiting for its claim would stop
 * the ring for every context until long waits in workers ended.
 */
static bool amdkfd_mc_async_room(AmdkfdMcState *s, uint32_t payload_len)
{
    if (payload_len > AMDKFD_MC_MAX_PAYLOAD) {
        return true;
    }
    if (s->nr_async >= AMDKFD_MC_ASYNC_MAX) {
        return false;
    }
    return !s->async_bytes ||
           s->async_bytes + payload_len <= AMDKFD_MC_ASYNC_BYTES_MAX;
}

void amdkfd_mc_ring_process(void *opaque)
{
    AmdkfdMcState *s = opaque;
    AmdkfdMcRing *r = &s->ring;
    unsigned budget = AMDKFD_MC_BH_BUDGET;

    /* with amdkfd_mc_doorbell: how long a doorbell waits for the BH */
    trace_amdkfd_mc_ring_process(r->sq_head, r->sq_tail);

    /*
     * The rings must still be RAM now, before anything is written to
     * them: memory can be unplugged or BARs moved after the rings were
     * enabled.  Topology changes need the BQL, which this bottom half
     * holds until it is done.
     */
    if (s->mem_changed) {
        s->mem_changed = false;
        amdkfd_mc_dma_cache_drop(&s->payloads);
        amdkfd_mc_rings_unmap(r);
    }
    if (r->enabled && !r->halted && !r->mapped) {
        if (!amdkfd_mc_rings_in_ram(s)) {
            amdkfd_mc_ring_halt(s, AMDKFD_MC_S_DMA_ERROR);
        } else {
            amdkfd_mc_rings_map(s);
        }
    }

    /*
     * What this pass hands to workers goes to them at its end, together:
     * on a host CPU shared with the workers, handing over one command at
     * a time would switch threads for each
     */
    amdkfd_mc_workers_plug(&s->workers);
    amdkfd_mc_workers_plug(&s->waiters);

    /* Completions of commands that ran in workers, first */
    amdkfd_mc_workers_reap(&s->workers);
    amdkfd_mc_workers_reap(&s->waiters);

    while (r->enabled && !r->halted && r->sq_head != r->sq_tail &&
           !amdkfd_mc_cq_full(r)) {
        struct amdkfd_mc_cmd cmd;
        struct amdkfd_mc_cpl cpl = { 0 };

        if (!budget--) {
            /* let the vCPUs and the other devices in; go on afterwards */
            qemu_bh_schedule(s->ring_bh);
            break;
        }
        if (!amdkfd_mc_fetch_cmd(s, &cmd)) {
            break;
        }
        if (!amdkfd_mc_async_room(s, cmd.payload_len)) {
            /* amdkfd_mc_async_end() comes back here */
            break;
        }
        r->sq_head = (r->sq_head + 1) % r->entries;
        if (!amdkfd_mc_cmd_execute(s, &cmd, &cpl)) {
            trace_amdkfd_mc_cmd_async(cmd.opcode, cmd.ctx_id, cmd.cookie);
            continue;
        }
        cpl.cookie = cmd.cookie;
        trace_amdkfd_mc_cmd(cmd.opcode, cmd.ctx_id, cmd.cookie, cpl.status,
                            cpl.result);
        amdkfd_mc_post_cpl(s, &cpl);
    }
    amdkfd_mc_workers_unplug(&s->workers);
    amdkfd_mc_workers_unplug(&s->waiters);
    if (r->posted) {
        r->posted = false;
        amdkfd_mc_raise_cq_irq(s);
    }
}

void amdkfd_mc_async_begin(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                           AmdkfdMcAsync *a, uint16_t opcode,
                           uint32_t bytes)
{
    a->s = s;
    a->ctx = ctx;
    a->orphaned = false;
    a->opcode = opcode;
    a->bytes = bytes;
    s->ring.inflight++;
    s->nr_async++;
    s->async_bytes += bytes;
    if (ctx) {
        ctx->inflight++;
    }
    QTAILQ_INSERT_TAIL(&s->async, a, next);
}

/* Runs from amdkfd_mc_ring_process(), through the workers' done() */
void amdkfd_mc_async_end(AmdkfdMcAsync *a)
{
    AmdkfdMcState *s = a->s;
    AmdkfdMcRing *r = &s->ring;

    QTAILQ_REMOVE(&s->async, a, next);
    s->nr_async--;
    s->async_bytes -= a->bytes;
    trace_amdkfd_mc_cmd(a->opcode, a->ctx ? a->ctx->id : 0, a->cpl.cookie,
                        a->cpl.status, a->cpl.result);
    if (!a->orphaned) {
        r->inflight--;
        if (r->enabled && !r->halted) {
            amdkfd_mc_post_cpl(s, &a->cpl);
        }
    }
    /* Fetching may have waited for the slot or the room this one held */
    if (r->enabled && r->sq_head != r->sq_tail) {
        qemu_bh_schedule(s->ring_bh);
    }
    if (a->ctx) {
        amdkfd_mc_ctx_put_inflight(a->ctx);
    }
}
