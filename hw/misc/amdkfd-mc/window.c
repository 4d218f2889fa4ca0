/*
 * amdkfd-mc: mapping host memory of a context into the window BAR
 *
 * The window is made once, at realize: host address space of its size is
 * reserved (private zero pages) and registered as one RAM device region,
 * so guest loads and stores reach whatever is mapped there directly, with
 * no trap (zero copy), and host device memory is never ordinary RAM.  A
 * mapping replaces pages of that reservation in place with the backend's
 * (mmap with MAP_FIXED, or mremap for the sim's memory); an unmap puts
 * fresh zero pages back.  Neither changes QEMU's memory topology, so
 * they cost no FlatView rebuild, no memslot and no RCU grace period, and
 * cost O(1) whatever the number of live mappings.
 *
 * Pages change under the region without telling any memory listener, so
 * no listener may keep a translation of them: the window is a
 * RamDiscardSource of its region that reports nothing populated, which
 * keeps VFIO and
 * iommufd from pinning or IOMMU-mapping any of it (a device assigned to
 * the guest cannot DMA into the window; a vIOMMU mapping of it is refused
 * too).  Pages of the window that nothing is mapped at are private
 * anonymous memory: a guest that writes them makes QEMU hold up to the
 * window's size of memory, which is what window-size bounds.
 *
 * The sim backend's doorbells must be heard by the software GPU: they go
 * into a trapped part at the top of the window (sim only), where a table
 * of pages finds the mapping of a write in O(1).
 *
 * A window range belongs to its context until the guest driver releases
 * it with OP_UNMAP_WINDOW (by map id, after revoking its own CPU
 * mappings), the context is destroyed or the device is reset; nothing
 * else, freeing the memory object included, gives it to anyone else.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/units.h"
#include "qemu/rcu.h"
#include "qapi/error.h"
#include "system/ram-discard-manager.h"
#include <sys/mman.h>
#include "amdkfd-mc-internal.h"
#include "trace.h"

#define PAGE AMDKFD_MC_WINDOW_PAGE

/* KFD mmap offset kinds (bits 63:62) and their largest sizes */
#define KFD_TYPE(off)               ((off) >> AMDKFD_MC_KFD_MMAP_TYPE_SHIFT)
#define KFD_TYPE_MMIO               0
#define KFD_TYPE_EVENTS             2
#define KFD_TYPE_DOORBELL           3
#define KFD_GPU_ID(off)             (((off) >> \
                                      AMDKFD_MC_KFD_MMAP_GPU_ID_SHIFT) & \
                                     0xffff)
#define KFD_LOW_BITS(off)           ((off) & \
                                     ((1ULL << \
                                       AMDKFD_MC_KFD_MMAP_GPU_ID_SHIFT) - 1))
#define KFD_EVENT_PAGE_MAX          (KFD_SIGNAL_EVENT_LIMIT * 8)
#define KFD_DOORBELL_SLICE_MAX      (8 * KiB)
#define KFD_MMIO_REMAP_SIZE         4096

struct AmdkfdMcMapping {
    uint64_t id;                /* hash key: keep first */
    AmdkfdMcContext *ctx;
    uint64_t mmap_offset;
    uint64_t win_offset;
    uint64_t size;
    bool trapped;
    AmdkfdMcBackendMap map;
    QTAILQ_ENTRY(AmdkfdMcMapping) next;     /* ctx->mappings */
};

/* ---- trapped doorbells (sim) ---- */

static uint64_t amdkfd_mc_trap_read(void *opaque, hwaddr addr,
                                    unsigned size)
{
    return 0;
}

static void amdkfd_mc_trap_write(void *opaque, hwaddr addr, uint64_t val,
                                 unsigned size)
{
    AmdkfdMcState *s = opaque;
    AmdkfdMcMapping *m;
    uint64_t byte_offset;

    /*
     * A vCPU may still reach here after unplug (it found the region in a
     * FlatView before): the table lives until finalize, all NULL by then
     */
    m = s->trap_pages ? s->trap_pages[addr / PAGE] : NULL;
    if (!m) {
        return;
    }
    byte_offset = s->window_ram_size + addr - m->win_offset;
    trace_amdkfd_mc_doorbell_kick(m->ctx->id, m->mmap_offset, byte_offset,
                                  val);
    amdkfd_mc_ctx_doorbell(m->ctx, m->mmap_offset, byte_offset, val);
}

static const MemoryRegionOps amdkfd_mc_trap_ops = {
    .read = amdkfd_mc_trap_read,
    .write = amdkfd_mc_trap_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

/* ---- the reservation ---- */

/* Fresh private zero pages over [@host, @host + @len) */
static bool amdkfd_mc_window_zero(void *host, uint64_t len)
{
    void *p = mmap(host, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
                   -1, 0);

    return p == host;
}

bool amdkfd_mc_window_init(AmdkfdMcState *s, Error **errp)
{
    Object *owner = OBJECT(s);
    bool traps = s->be_ops->mmap_traps != NULL;
    int ret;

    s->window_trap_size = traps ? s->window_size / 8 : 0;
    s->window_ram_size = s->window_size - s->window_trap_size;
    s->window_host = mmap(NULL, s->window_ram_size, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s->window_host == MAP_FAILED) {
        s->window_host = NULL;
        error_setg_errno(errp, errno, "amdkfd-mc: cannot reserve %" PRIu64
                         " bytes of host address space for the window",
                         s->window_ram_size);
        return false;
    }
    memory_region_init(&s->window, owner, "amdkfd-mc-window-bar",
                       s->window_size);
    memory_region_init_ram_device_ptr(&s->window_ram, owner,
                                      "amdkfd-mc-window", s->window_ram_size,
                                      s->window_host);
    /* a new region has no other source and no listener that could object */
    ret = memory_region_add_ram_discard_source(&s->window_ram,
                                               RAM_DISCARD_SOURCE(s));
    assert(ret == 0);
    memory_region_add_subregion(&s->window, 0, &s->window_ram);
    amdkfd_mc_range_init(&s->ram_ranges, s->window_ram_size / PAGE);
    amdkfd_mc_range_init(&s->trap_ranges, s->window_trap_size / PAGE);
    if (traps) {
        memory_region_init_io(&s->window_traps, owner, &amdkfd_mc_trap_ops,
                              s, "amdkfd-mc-window-doorbells",
                              s->window_trap_size);
        memory_region_add_subregion(&s->window, s->window_ram_size,
                                    &s->window_traps);
        s->trap_pages = g_new0(AmdkfdMcMapping *, s->window_trap_size / PAGE);
    }
    s->mappings = g_hash_table_new(g_int64_hash, g_int64_equal);
    s->next_map_id = 1;
    return true;
}

/* At unrealize: no mapping is left, the BAR is off the bus already */
void amdkfd_mc_window_exit(AmdkfdMcState *s)
{
    if (!s->window_host) {
        return;
    }
    assert(s->nr_mappings == 0);
    g_hash_table_destroy(s->mappings);
    s->mappings = NULL;
    amdkfd_mc_range_destroy(&s->ram_ranges);
    amdkfd_mc_range_destroy(&s->trap_ranges);
    /* a subregion holds a reference to its owner: the device */
    if (s->window_trap_size) {
        memory_region_del_subregion(&s->window, &s->window_traps);
    }
    memory_region_del_subregion(&s->window, &s->window_ram);
    memory_region_del_ram_discard_source(&s->window_ram,
                                         RAM_DISCARD_SOURCE(s));
}

/*
 * At finalize, when no FlatView names the regions any more (they hold a
 * reference to the device): the host memory behind them can go
 */
void amdkfd_mc_window_finalize(AmdkfdMcState *s)
{
    g_free(s->trap_pages);
    s->trap_pages = NULL;
    if (s->window_host) {
        munmap(s->window_host, s->window_ram_size);
        s->window_host = NULL;
    }
}

/* ---- the window as a RamDiscardSource that has nothing populated ---- */

static uint64_t amdkfd_mc_rds_granularity(const RamDiscardSource *rds,
                                          const MemoryRegion *mr)
{
    uint64_t size = int128_get64(mr->size);

    /* one block as large as the region allows: nothing is ever plugged */
    return size & -size;
}

static bool amdkfd_mc_rds_is_populated(const RamDiscardSource *rds,
                                       const MemoryRegionSection *section)
{
    return false;
}

void amdkfd_mc_window_class_init(ObjectClass *klass)
{
    RamDiscardSourceClass *rdsc = RAM_DISCARD_SOURCE_CLASS(klass);

    rdsc->get_min_granularity = amdkfd_mc_rds_granularity;
    rdsc->is_populated = amdkfd_mc_rds_is_populated;
}

/* ---- which mmap offsets a guest may map ---- */

/*
 * Only what a KFD client needs: its own memory objects, the event page,
 * the doorbells and the MMIO remap page of an exported GPU.  Other kinds
 * (the host's reserved-memory type, offsets of other contexts, guesses)
 * never reach the backend.
 */
static uint32_t amdkfd_mc_window_allowed(AmdkfdMcContext *ctx,
                                         uint64_t offset, uint64_t size,
                                         uint32_t *gpu_id)
{
    AmdkfdMcObject *obj = amdkfd_mc_obj_by_offset(ctx, offset);
    uint64_t max;

    *gpu_id = 0;
    if (obj) {
        if (obj->freeing) {
            return AMDKFD_MC_S_INVALID_ARGUMENT;
        }
        if (size > ROUND_UP(obj->size, PAGE)) {
            return AMDKFD_MC_S_INVALID_ARGUMENT;
        }
        *gpu_id = obj->gpu_id;
        return AMDKFD_MC_S_OK;
    }
    switch (KFD_TYPE(offset)) {
    case KFD_TYPE_EVENTS:
        if (offset != (uint64_t)KFD_TYPE_EVENTS <<
                      AMDKFD_MC_KFD_MMAP_TYPE_SHIFT) {
            return AMDKFD_MC_S_NOT_SUPPORTED;
        }
        max = KFD_EVENT_PAGE_MAX;
        break;
    case KFD_TYPE_DOORBELL:
    case KFD_TYPE_MMIO:
        if (KFD_LOW_BITS(offset) ||
            amdkfd_mc_node_index(ctx->s, KFD_GPU_ID(offset)) < 0) {
            return AMDKFD_MC_S_NOT_SUPPORTED;
        }
        max = KFD_TYPE(offset) == KFD_TYPE_DOORBELL ?
              KFD_DOORBELL_SLICE_MAX : KFD_MMIO_REMAP_SIZE;
        break;
    default:
        return AMDKFD_MC_S_NOT_SUPPORTED;
    }
    return size <= max ? AMDKFD_MC_S_OK : AMDKFD_MC_S_INVALID_ARGUMENT;
}

/* ---- map and unmap ---- */

uint32_t amdkfd_mc_window_map(AmdkfdMcContext *ctx, uint64_t mmap_offset,
                              uint64_t size, uint64_t *win_offset,
                              uint64_t *map_id, int *err)
{
    AmdkfdMcState *s = ctx->s;
    AmdkfdMcBackendMap map = { 0 };
    AmdkfdMcRangeAlloc *ranges;
    AmdkfdMcMapping *m;
    uint64_t pages, first, base;
    uint32_t status, gpu_id;
    bool trapped;
    int ret;

    *err = 0;
    if (size == 0 || size % PAGE || mmap_offset % PAGE) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    status = amdkfd_mc_window_allowed(ctx, mmap_offset, size, &gpu_id);
    if (status != AMDKFD_MC_S_OK) {
        trace_amdkfd_mc_window_refused(ctx->id, mmap_offset, size, status);
        return status;
    }
    if (s->nr_mappings >= s->limits.max_mappings ||
        ctx->nr_mappings >= s->limits.ctx_max_mappings ||
        size > amdkfd_mc_ctx_max_mapped(s) - ctx->mapped_bytes) {
        return AMDKFD_MC_S_NO_RESOURCES;
    }

    trapped = s->be_ops->mmap_traps &&
              s->be_ops->mmap_traps(s->be, mmap_offset);
    ranges = trapped ? &s->trap_ranges : &s->ram_ranges;
    base = trapped ? s->window_ram_size : 0;
    pages = size / PAGE;
    first = amdkfd_mc_range_alloc(ranges, pages);
    if (first == AMDKFD_MC_RANGE_NONE) {
        return AMDKFD_MC_S_NO_RESOURCES;
    }

    ret = s->be_ops->mmap(ctx->file, mmap_offset, size, gpu_id,
                          trapped ? NULL :
                          (uint8_t *)s->window_host + first * PAGE, &map);
    if (ret == -ENOTRECOVERABLE) {
        /* what is there now is unknown: the range is never used again */
        error_report("amdkfd-mc: window range 0x%" PRIx64 "+0x%" PRIx64
                     " could not be restored; it is not reused",
                     first * PAGE, size);
        s->leaked_window_pages += pages;
        *err = ret;
        return AMDKFD_MC_S_BACKEND_ERROR;
    }
    if (ret < 0) {
        amdkfd_mc_range_free(ranges, first, pages);
        *err = ret;
        return AMDKFD_MC_S_BACKEND_ERROR;
    }

    m = g_new0(AmdkfdMcMapping, 1);
    m->id = s->next_map_id++;
    m->ctx = ctx;
    m->mmap_offset = mmap_offset;
    m->win_offset = base + first * PAGE;
    m->size = size;
    m->trapped = trapped;
    m->map = map;
    if (trapped) {
        uint64_t i;

        for (i = 0; i < pages; i++) {
            s->trap_pages[first + i] = m;
        }
    }
    g_hash_table_insert(s->mappings, &m->id, m);
    QTAILQ_INSERT_TAIL(&ctx->mappings, m, next);
    ctx->nr_mappings++;
    ctx->mapped_bytes += size;
    s->nr_mappings++;
    s->mapped_bytes += size;
    trace_amdkfd_mc_window_map(ctx->id, m->id, mmap_offset, m->win_offset,
                               size);
    *win_offset = m->win_offset;
    *map_id = m->id;
    return AMDKFD_MC_S_OK;
}

static void amdkfd_mc_window_remove(AmdkfdMcState *s, AmdkfdMcMapping *m)
{
    AmdkfdMcContext *ctx = m->ctx;
    uint64_t pages = m->size / PAGE;
    bool reusable = true;

    trace_amdkfd_mc_window_unmap(ctx->id, m->id, m->win_offset, m->size);
    if (m->trapped) {
        uint64_t first = (m->win_offset - s->window_ram_size) / PAGE, i;

        for (i = 0; i < pages; i++) {
            s->trap_pages[first + i] = NULL;
        }
    } else if (!amdkfd_mc_window_zero((uint8_t *)s->window_host +
                                      m->win_offset, m->size)) {
        /*
         * The backend's pages may still be there: this range must never
         * go to anyone else.  Only a host out of mappings gets here, which
         * the mapping limits are there to prevent.
         */
        error_report("amdkfd-mc: cannot clear window range 0x%" PRIx64
                     "+0x%" PRIx64 ": %s; it is not reused", m->win_offset,
                     m->size, strerror(errno));
        s->leaked_window_pages += pages;
        reusable = false;
    }
    /*
     * The backend's pages stay referenced while they may still be mapped:
     * the sim would otherwise give them to another context
     */
    if (reusable && m->map.release) {
        m->map.release(&m->map);
    }
    if (reusable) {
        if (m->trapped) {
            amdkfd_mc_range_free(&s->trap_ranges,
                                 (m->win_offset - s->window_ram_size) / PAGE,
                                 pages);
        } else {
            amdkfd_mc_range_free(&s->ram_ranges, m->win_offset / PAGE, pages);
        }
    }
    g_hash_table_remove(s->mappings, &m->id);
    QTAILQ_REMOVE(&ctx->mappings, m, next);
    ctx->nr_mappings--;
    ctx->mapped_bytes -= m->size;
    s->nr_mappings--;
    s->mapped_bytes -= m->size;
    g_free(m);
}

uint32_t amdkfd_mc_window_unmap(AmdkfdMcContext *ctx, uint64_t map_id)
{
    AmdkfdMcMapping *m = g_hash_table_lookup(ctx->s->mappings, &map_id);

    if (!m || m->ctx != ctx) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    amdkfd_mc_window_remove(ctx->s, m);
    return AMDKFD_MC_S_OK;
}

void amdkfd_mc_window_unmap_ctx(AmdkfdMcContext *ctx)
{
    while (!QTAILQ_EMPTY(&ctx->mappings)) {
        amdkfd_mc_window_remove(ctx->s, QTAILQ_FIRST(&ctx->mappings));
    }
}
