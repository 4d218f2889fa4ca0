/*
 * amdkfd-mc: memory objects made of guest RAM (the KFD's USERPTR memory)
 *
 * A guest program's paged memory becomes a memory object of its context:
 * the guest driver pins the pages and sends their guest-physical ranges
 * (OP_ALLOC_GUEST_MEMORY); the device checks that every range is ordinary
 * guest RAM backed by a shared file (memory-backend-memfd), that no range
 * belongs to another context, and that the limits hold, then has the
 * backend make an object of those very pages, with no copy: the host
 * backend wraps them in a udmabuf and imports it into the context's GPU
 * VM (AMDKFD_IOC_IMPORT_DMABUF, which secondaries allow), the sim maps
 * them contiguously and makes a model object of them.
 *
 * Ownership of pages is a sorted array of disjoint segments of QEMU's
 * RAM address space (ram_addr_t, one per page of guest RAM, whatever bus
 * address or IOMMU mapping reaches it), each owned by one context and
 * counted (a context may register a page more than once; another context
 * may not at all).
 *
 * While any object of guest RAM exists, RAM discard by a balloon or free
 * page reporting is off, as for VFIO: the GPU would keep pages the guest
 * no longer has.  RAM whose discards are coordinated (virtio-mem) is
 * refused.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qemu/error-report.h"
#include "qemu/rcu.h"
#include "system/memory.h"
#include "system/ramblock.h"
#include "amdkfd-mc-internal.h"
#include "trace.h"

#define PAGE AMDKFD_MC_WINDOW_PAGE

/* ---- who owns which guest pages ---- */

typedef struct AmdkfdMcGuestSeg {
    uint64_t start;
    uint64_t end;               /* exclusive */
    AmdkfdMcContext *ctx;
    uint32_t refs;
} AmdkfdMcGuestSeg;

#define SEG(s, i) (&g_array_index((s)->guest_segs, AmdkfdMcGuestSeg, (i)))

/* Index of the first segment that ends after @addr */
static guint amdkfd_mc_seg_find(AmdkfdMcState *s, uint64_t addr)
{
    guint lo = 0, hi = s->guest_segs->len;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;

        if (SEG(s, mid)->end <= addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Split the segment containing @addr (strictly inside it) at @addr */
static void amdkfd_mc_seg_split(AmdkfdMcState *s, uint64_t addr)
{
    guint i = amdkfd_mc_seg_find(s, addr);
    AmdkfdMcGuestSeg tail;

    if (i >= s->guest_segs->len || SEG(s, i)->start >= addr) {
        return;
    }
    tail = *SEG(s, i);
    tail.start = addr;
    SEG(s, i)->end = addr;
    g_array_insert_val(s->guest_segs, i + 1, tail);
}

static bool amdkfd_mc_seg_free_for(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                                   uint64_t a, uint64_t b)
{
    guint i;

    for (i = amdkfd_mc_seg_find(s, a);
         i < s->guest_segs->len && SEG(s, i)->start < b; i++) {
        if (SEG(s, i)->ctx != ctx) {
            return false;
        }
    }
    return true;
}

static void amdkfd_mc_seg_claim(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                                uint64_t a, uint64_t b)
{
    AmdkfdMcGuestSeg gap;
    uint64_t pos = a;
    guint i;

    amdkfd_mc_seg_split(s, a);
    amdkfd_mc_seg_split(s, b);
    i = amdkfd_mc_seg_find(s, a);
    while (pos < b) {
        if (i < s->guest_segs->len && SEG(s, i)->start == pos) {
            SEG(s, i)->refs++;
            pos = SEG(s, i)->end;
            i++;
            continue;
        }
        /* a gap up to the next segment (or b) */
        gap.start = pos;
        gap.end = i < s->guest_segs->len ? MIN(SEG(s, i)->start, b) : b;
        gap.ctx = ctx;
        gap.refs = 1;
        g_array_insert_val(s->guest_segs, i, gap);
        pos = gap.end;
        i++;
    }
}

static void amdkfd_mc_seg_release(AmdkfdMcState *s, uint64_t a, uint64_t b)
{
    guint i;

    amdkfd_mc_seg_split(s, a);
    amdkfd_mc_seg_split(s, b);
    i = amdkfd_mc_seg_find(s, a);
    while (i < s->guest_segs->len && SEG(s, i)->start < b) {
        assert(SEG(s, i)->refs > 0);
        if (--SEG(s, i)->refs == 0) {
            g_array_remove_index(s->guest_segs, i);
            continue;
        }
        /* merge with the previous one when they are alike again */
        if (i > 0 && SEG(s, i - 1)->end == SEG(s, i)->start &&
            SEG(s, i - 1)->ctx == SEG(s, i)->ctx &&
            SEG(s, i - 1)->refs == SEG(s, i)->refs) {
            SEG(s, i - 1)->end = SEG(s, i)->end;
            g_array_remove_index(s->guest_segs, i);
            continue;
        }
        i++;
    }
}

void amdkfd_mc_guest_release(AmdkfdMcContext *ctx, const AmdkfdMcRamRange *r,
                             uint32_t n, uint64_t bytes)
{
    AmdkfdMcState *s = ctx->s;
    uint32_t i;

    for (i = 0; i < n; i++) {
        amdkfd_mc_seg_release(s, r[i].start, r[i].start + r[i].len);
    }
    ctx->guest_bytes -= bytes;
    s->guest_bytes -= bytes;
    s->guest_ranges -= n;
    assert(s->guest_objects > 0);
    if (--s->guest_objects == 0) {
        ram_block_uncoordinated_discard_disable(false);
    }
}

void amdkfd_mc_guest_init(AmdkfdMcState *s)
{
    s->guest_segs = g_array_new(FALSE, FALSE, sizeof(AmdkfdMcGuestSeg));
}

void amdkfd_mc_guest_fini(AmdkfdMcState *s)
{
    assert(s->guest_segs->len == 0);
    g_array_free(s->guest_segs, TRUE);
    s->guest_segs = NULL;
}

/* ---- guest RAM to host file pages ---- */

/*
 * The pages of [@gpa, @gpa + @len) as ranges of the files behind guest
 * RAM, appended to @pages, and of RAM addresses, appended to @ram; false
 * if any part is not RAM backed by a shared file (or not RAM at all), or
 * RAM that a RamDiscardManager may take away.
 */
static bool amdkfd_mc_guest_resolve(AmdkfdMcState *s, uint64_t gpa,
                                    uint64_t len, GArray *pages, GArray *ram)
{
    AddressSpace *as = pci_get_address_space(amdkfd_mc_pci(s));

    RCU_READ_LOCK_GUARD();
    while (len) {
        hwaddr xlat, l = len;
        MemoryRegion *mr = address_space_translate(as, gpa, &xlat, &l, true,
                                                   AMDKFD_MC_DMA_ATTRS);
        AmdkfdMcGuestPages p;
        AmdkfdMcRamRange rr;
        RAMBlock *rb = mr->ram_block;

        if (!l || !memory_region_is_ram(mr) ||
            memory_region_is_ram_device(mr) || mr->readonly || !rb ||
            memory_region_has_ram_discard_manager(mr) ||
            memory_region_get_fd(mr) < 0 || !qemu_ram_is_shared(rb)) {
            return false;
        }
        p.fd = memory_region_get_fd(mr);
        p.offset = rb->fd_offset + xlat;
        p.len = l;
        g_array_append_val(pages, p);
        rr.start = memory_region_get_ram_addr(mr) + xlat;
        rr.len = l;
        g_array_append_val(ram, rr);
        gpa += l;
        len -= l;
    }
    return true;
}

/* ---- OP_ALLOC_GUEST_MEMORY ---- */

typedef struct AmdkfdMcGuestAlloc {
    AmdkfdMcAsync async;
    AmdkfdMcContext *ctx;
    uint64_t payload_addr;
    struct amdkfd_mc_guest_memory hdr;      /* host byte order */
    uint32_t nr_ranges;                     /* as the guest sent them */
    GArray *ram;                /* of AmdkfdMcRamRange: what it owns */
    uint64_t bytes;
    GArray *pages;              /* of AmdkfdMcGuestPages, fds our own */
    uint64_t handle;
    int ret;
} AmdkfdMcGuestAlloc;

static void amdkfd_mc_guest_alloc_free(AmdkfdMcGuestAlloc *g)
{
    guint i;

    for (i = 0; g->pages && i < g->pages->len; i++) {
        int fd = g_array_index(g->pages, AmdkfdMcGuestPages, i).fd;

        /* each distinct fd was duplicated once, for its first range */
        if (i == 0 || fd != g_array_index(g->pages, AmdkfdMcGuestPages,
                                          i - 1).fd) {
            close(fd);
        }
    }
    if (g->pages) {
        g_array_free(g->pages, TRUE);
    }
    if (g->ram) {
        g_array_free(g->ram, TRUE);
    }
    g_free(g);
}

static void amdkfd_mc_guest_alloc_run(AmdkfdMcWork *w)
{
    AmdkfdMcGuestAlloc *g = container_of(w, AmdkfdMcGuestAlloc, async.work);
    AmdkfdMcState *s = g->ctx->s;

    if (qatomic_read(&g->ctx->cancelled) ||
        qatomic_read(&g->async.orphaned)) {
        g->ret = -EINTR;
        return;
    }
    g->ret = s->be_ops->import_guest(g->ctx->file,
                                     (AmdkfdMcGuestPages *)g->pages->data,
                                     g->pages->len, g->hdr.va_addr, g->bytes,
                                     g->hdr.gpu_id, &g->handle);
}

static void amdkfd_mc_guest_alloc_done(AmdkfdMcWork *w)
{
    AmdkfdMcGuestAlloc *g = container_of(w, AmdkfdMcGuestAlloc, async.work);
    AmdkfdMcContext *ctx = g->ctx;
    struct amdkfd_mc_cpl *cpl = &g->async.cpl;

    trace_amdkfd_mc_guest_alloc(ctx->id, g->hdr.va_addr, g->bytes,
                                g->nr_ranges, g->ret);
    cpl->result = g->ret;
    if (ctx->state == AMDKFD_MC_CTX_DYING) {
        /* an object made meanwhile goes with the backend context */
        cpl->status = AMDKFD_MC_S_INVALID_CONTEXT;
        amdkfd_mc_guest_release(ctx, &g_array_index(g->ram, AmdkfdMcRamRange,
                                                    0),
                                g->ram->len, g->bytes);
        amdkfd_mc_obj_unreserve(ctx);
    } else if (g->ret) {
        cpl->status = AMDKFD_MC_S_OK;
        amdkfd_mc_guest_release(ctx, &g_array_index(g->ram, AmdkfdMcRamRange,
                                                    0),
                                g->ram->len, g->bytes);
        amdkfd_mc_obj_unreserve(ctx);
    } else {
        AmdkfdMcObject obj = {
            .handle = g->handle,
            .mmap_offset = 0,
            .va = g->hdr.va_addr,
            .size = g->bytes,
            .gpu_id = g->hdr.gpu_id,
            .flags = g->hdr.kfd_flags,
            .nr_guest = g->ram->len,
        };
        struct amdkfd_mc_guest_memory reply = {
            .va_addr = cpu_to_le64(g->hdr.va_addr),
            .size = cpu_to_le64(g->hdr.size),
            .gpu_id = cpu_to_le32(g->hdr.gpu_id),
            .kfd_flags = cpu_to_le32(g->hdr.kfd_flags),
            .num_ranges = cpu_to_le32(g->nr_ranges),
            .handle = cpu_to_le64(g->handle),
        };

        obj.guest = (AmdkfdMcRamRange *)g_array_free(g_steal_pointer(&g->ram),
                                                     FALSE);
        amdkfd_mc_obj_add(ctx, &obj);
        cpl->status = AMDKFD_MC_S_OK;
        cpl->value = g->handle;
        if (!g->async.orphaned &&
            !amdkfd_mc_dma_write(amdkfd_mc_pci(ctx->s), g->payload_addr,
                                 &reply, sizeof(reply))) {
            cpl->status = AMDKFD_MC_S_DMA_ERROR;
        }
    }
    amdkfd_mc_async_end(&g->async);
    amdkfd_mc_guest_alloc_free(g);
}

/* Checks one range and appends its pages; an AMDKFD_MC_S_* */
static uint32_t amdkfd_mc_guest_range_ok(AmdkfdMcState *s,
                                         const struct amdkfd_mc_guest_range *r,
                                         GArray *pages, GArray *ram)
{
    if (!r->len || r->gpa % PAGE || r->len % PAGE ||
        r->gpa + r->len < r->gpa) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    /* not MMIO, not any BAR (the window included), not unassigned */
    if (!amdkfd_mc_dma_is_ram(amdkfd_mc_pci(s), r->gpa, r->len, true)) {
        return AMDKFD_MC_S_DMA_ERROR;
    }
    if (!amdkfd_mc_guest_resolve(s, r->gpa, r->len, pages, ram)) {
        warn_report_once("amdkfd-mc: guest memory objects (ROCm's USERPTR "
                         "memory) need guest RAM in a shared memory backend "
                         "such as -object memory-backend-memfd,share=on, "
                         "and not virtio-mem memory");
        return AMDKFD_MC_S_NOT_SUPPORTED;
    }
    return AMDKFD_MC_S_OK;
}

uint32_t amdkfd_mc_cmd_alloc_guest(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                                   const struct amdkfd_mc_cmd *cmd)
{
    const struct amdkfd_mc_guest_memory *le;
    g_autofree uint8_t *buf = NULL;
    g_autoptr(GArray) found = NULL;
    AmdkfdMcGuestAlloc *g;
    AmdkfdMcRamRange *rr;
    uint32_t i, n, status;
    uint64_t total = 0;

    if (!(s->features & AMDKFD_MC_FEATURE_GUEST_MEMORY)) {
        return AMDKFD_MC_S_NOT_SUPPORTED;
    }
    if (cmd->payload_len < sizeof(*le)) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    buf = g_malloc(cmd->payload_len);
    if (!amdkfd_mc_dma_read(amdkfd_mc_pci(s), cmd->payload_addr, buf,
                            cmd->payload_len)) {
        return AMDKFD_MC_S_DMA_ERROR;
    }
    le = (const void *)buf;
    n = le32_to_cpu(le->num_ranges);
    if (le->flags || le->reserved[0] || le->reserved[1] || !le->size ||
        !n || n > s->guest_obj_max_ranges ||
        cmd->payload_len < sizeof(*le) +
                           (uint64_t)n * sizeof(struct amdkfd_mc_guest_range)) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }

    g = g_new0(AmdkfdMcGuestAlloc, 1);
    g->ctx = ctx;
    g->payload_addr = cmd->payload_addr;
    g->hdr.va_addr = le64_to_cpu(le->va_addr);
    g->hdr.size = le64_to_cpu(le->size);
    g->hdr.gpu_id = le32_to_cpu(le->gpu_id);
    g->hdr.kfd_flags = le32_to_cpu(le->kfd_flags);
    g->nr_ranges = n;
    g->pages = g_array_new(FALSE, FALSE, sizeof(AmdkfdMcGuestPages));
    g->ram = g_array_new(FALSE, FALSE, sizeof(AmdkfdMcRamRange));
    found = g_array_new(FALSE, FALSE, sizeof(AmdkfdMcGuestPages));
    for (i = 0; i < n; i++) {
        const struct amdkfd_mc_guest_range *lr =
            (const void *)(buf + sizeof(*le) + i * sizeof(*lr));
        struct amdkfd_mc_guest_range r = {
            .gpa = le64_to_cpu(lr->gpa),
            .len = le64_to_cpu(lr->len),
        };

        status = amdkfd_mc_guest_range_ok(s, &r, found, g->ram);
        if (status != AMDKFD_MC_S_OK) {
            goto fail;
        }
        total += r.len;
        if (total < r.len) {
            status = AMDKFD_MC_S_INVALID_ARGUMENT;
            goto fail;
        }
    }
    /* the ranges are the object, nothing more, nothing less */
    if (g->hdr.size > UINT64_MAX - (PAGE - 1) ||
        total != ROUND_UP(g->hdr.size, PAGE) ||
        total > s->guest_obj_max_bytes ||
        g->ram->len > s->guest_obj_max_ranges ||
        amdkfd_mc_node_index(s, g->hdr.gpu_id) < 0) {
        status = AMDKFD_MC_S_INVALID_ARGUMENT;
        goto fail;
    }
    g->bytes = total;
    if (total > amdkfd_mc_ctx_max_guest(s) - ctx->guest_bytes ||
        g->ram->len > s->limits.max_guest_ranges - s->guest_ranges) {
        status = AMDKFD_MC_S_NO_RESOURCES;
        goto fail;
    }
    /* pages of another context's objects are never shared */
    rr = &g_array_index(g->ram, AmdkfdMcRamRange, 0);
    for (i = 0; i < g->ram->len; i++) {
        if (!amdkfd_mc_seg_free_for(s, ctx, rr[i].start,
                                    rr[i].start + rr[i].len)) {
            status = AMDKFD_MC_S_INVALID_ARGUMENT;
            goto fail;
        }
    }
    /* a balloon must not take pages from under the GPU */
    if (!s->guest_objects && ram_block_uncoordinated_discard_disable(true)) {
        warn_report_once("amdkfd-mc: guest memory objects need RAM discard "
                         "off, which another device requires");
        status = AMDKFD_MC_S_NOT_SUPPORTED;
        goto fail;
    }
    s->guest_objects++;
    if (!amdkfd_mc_obj_reserve(ctx)) {
        status = AMDKFD_MC_S_NO_RESOURCES;
        goto fail_discard;
    }
    for (i = 0; i < g->ram->len; i++) {
        amdkfd_mc_seg_claim(s, ctx, rr[i].start, rr[i].start + rr[i].len);
    }
    ctx->guest_bytes += total;
    s->guest_bytes += total;
    s->guest_ranges += g->ram->len;

    /* the worker must not depend on guest RAM staying plugged: own fds */
    for (i = 0; i < found->len; i++) {
        AmdkfdMcGuestPages p = g_array_index(found, AmdkfdMcGuestPages, i);

        if (i && p.fd == g_array_index(found, AmdkfdMcGuestPages, i - 1).fd) {
            p.fd = g_array_index(g->pages, AmdkfdMcGuestPages, i - 1).fd;
        } else {
            p.fd = fcntl(p.fd, F_DUPFD_CLOEXEC, 0);
            if (p.fd < 0) {
                amdkfd_mc_guest_release(ctx, rr, g->ram->len, total);
                amdkfd_mc_obj_unreserve(ctx);
                status = AMDKFD_MC_S_NO_RESOURCES;
                goto fail;
            }
        }
        g_array_append_val(g->pages, p);
    }
    g->async.cpl.cookie = cmd->cookie;
    g->async.work.run = amdkfd_mc_guest_alloc_run;
    g->async.work.done = amdkfd_mc_guest_alloc_done;
    g->async.work.serial = &ctx->serial;
    amdkfd_mc_async_begin(s, ctx, &g->async, cmd->opcode, cmd->payload_len);
    amdkfd_mc_work_submit(&s->workers, &g->async.work);
    return AMDKFD_MC_S_ASYNC;

fail_discard:
    if (--s->guest_objects == 0) {
        ram_block_uncoordinated_discard_disable(false);
    }
fail:
    /* g->pages holds only fds of our own */
    amdkfd_mc_guest_alloc_free(g);
    return status;
}
