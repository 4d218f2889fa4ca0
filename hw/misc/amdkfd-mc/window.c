/*
 * amdkfd-mc: mapping host memory of a context into the window BAR
 *
 * A mapping makes pages the backend resolved from the context's own file
 * (memory objects, event pages, doorbells) appear in BAR 2, so the guest
 * reaches them with plain loads and stores: memory is a RAM subregion (no
 * trapping, zero copy).  Only the sim backend's doorbells are trapped,
 * because the software GPU has to hear them.
 *
 * Unmapping removes the subregion at once, but the host pages stay mapped
 * until no FlatView refers to the region any more, which RCU decides: the
 * mapping is a QOM object of its own that owns its MemoryRegion and
 * releases the host pages when it is finalized.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitmap.h"
#include "qom/object.h"
#include "amdkfd-mc-internal.h"
#include "trace.h"

#define TYPE_AMDKFD_MC_MAPPING "amdkfd-mc-mapping"
OBJECT_DECLARE_SIMPLE_TYPE(AmdkfdMcMapping, AMDKFD_MC_MAPPING)

struct AmdkfdMcMapping {
    Object parent_obj;

    MemoryRegion mr;
    AmdkfdMcState *s;
    uint32_t ctx_id;
    AmdkfdMcBackendFile *file;  /* NULL once unmapped (trapped writes) */
    uint64_t mmap_offset;
    uint64_t win_offset;
    uint64_t size;
    AmdkfdMcBackendMap map;
    QTAILQ_ENTRY(AmdkfdMcMapping) next;
};

static void amdkfd_mc_mapping_finalize(Object *obj)
{
    AmdkfdMcMapping *m = AMDKFD_MC_MAPPING(obj);

    /* No FlatView refers to the region any more: release the pages */
    m->map.unmap(&m->map);
}

static const TypeInfo amdkfd_mc_mapping_info = {
    .name = TYPE_AMDKFD_MC_MAPPING,
    .parent = TYPE_OBJECT,
    .instance_size = sizeof(AmdkfdMcMapping),
    .instance_finalize = amdkfd_mc_mapping_finalize,
};

static void amdkfd_mc_mapping_register_types(void)
{
    type_register_static(&amdkfd_mc_mapping_info);
}

type_init(amdkfd_mc_mapping_register_types)

/* Trapped doorbell pages: writes go to the backend, reads see zero */
static uint64_t amdkfd_mc_doorbell_read(void *opaque, hwaddr addr,
                                        unsigned size)
{
    return 0;
}

static void amdkfd_mc_doorbell_write(void *opaque, hwaddr addr, uint64_t val,
                                     unsigned size)
{
    AmdkfdMcMapping *m = opaque;
    int ret;

    if (!m->file) {
        return;
    }
    ret = m->s->be_ops->doorbell_write(m->file, m->mmap_offset, addr, val);
    trace_amdkfd_mc_doorbell_kick(m->ctx_id, m->mmap_offset, addr, val, ret);
}

static const MemoryRegionOps amdkfd_mc_doorbell_ops = {
    .read = amdkfd_mc_doorbell_read,
    .write = amdkfd_mc_doorbell_write,
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

void amdkfd_mc_window_init(AmdkfdMcState *s)
{
    s->window_pages = s->window_size / AMDKFD_MC_WINDOW_PAGE;
    s->window_bitmap = bitmap_new(s->window_pages);
    QTAILQ_INIT(&s->mappings);
}

void amdkfd_mc_window_free(AmdkfdMcState *s)
{
    assert(QTAILQ_EMPTY(&s->mappings));
    g_free(s->window_bitmap);
    s->window_bitmap = NULL;
}

uint32_t amdkfd_mc_window_map(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                              uint64_t mmap_offset, uint64_t size,
                              uint64_t *win_offset, int *err)
{
    g_autofree char *name = NULL;
    AmdkfdMcBackendMap map = { 0 };
    AmdkfdMcMapping *m;
    unsigned long pages, first;
    int ret;

    *err = 0;
    if (size == 0 || size % AMDKFD_MC_WINDOW_PAGE ||
        mmap_offset % AMDKFD_MC_WINDOW_PAGE) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    if (size > s->window_size) {
        return AMDKFD_MC_S_NO_RESOURCES;
    }
    pages = size / AMDKFD_MC_WINDOW_PAGE;
    first = bitmap_find_next_zero_area(s->window_bitmap, s->window_pages, 0,
                                       pages, 0);
    if (first >= s->window_pages) {
        return AMDKFD_MC_S_NO_RESOURCES;
    }

    ret = s->be_ops->mmap(ctx->file, mmap_offset, size, &map);
    if (ret < 0) {
        *err = ret;
        return AMDKFD_MC_S_BACKEND_ERROR;
    }

    /* object_initialize_child() clears the object: fill it in afterwards */
    m = g_new0(AmdkfdMcMapping, 1);
    name = g_strdup_printf("mapping[%lu]", first);
    object_initialize_child(OBJECT(s), name, m, TYPE_AMDKFD_MC_MAPPING);
    /* object_initialize() leaves freeing to the caller: the object frees */
    OBJECT(m)->free = g_free;
    m->map = map;
    m->s = s;
    m->ctx_id = ctx->id;
    m->file = ctx->file;
    m->mmap_offset = mmap_offset;
    m->win_offset = (uint64_t)first * AMDKFD_MC_WINDOW_PAGE;
    m->size = size;
    if (m->map.trap_writes) {
        memory_region_init_io(&m->mr, OBJECT(m), &amdkfd_mc_doorbell_ops, m,
                              "amdkfd-mc-doorbell", size);
    } else {
        memory_region_init_ram_ptr(&m->mr, OBJECT(m), "amdkfd-mc-mem", size,
                                   m->map.ptr);
    }
    memory_region_add_subregion(&s->window, m->win_offset, &m->mr);
    bitmap_set(s->window_bitmap, first, pages);
    QTAILQ_INSERT_TAIL(&s->mappings, m, next);
    ctx->mapped_bytes += size;
    s->mapped_bytes += size;
    trace_amdkfd_mc_window_map(ctx->id, mmap_offset, m->win_offset, size);
    *win_offset = m->win_offset;
    return AMDKFD_MC_S_OK;
}

static void amdkfd_mc_window_remove(AmdkfdMcState *s, AmdkfdMcMapping *m)
{
    AmdkfdMcContext *ctx = amdkfd_mc_ctx_lookup(s, m->ctx_id);

    trace_amdkfd_mc_window_unmap(m->ctx_id, m->win_offset, m->size);
    QTAILQ_REMOVE(&s->mappings, m, next);
    bitmap_clear(s->window_bitmap, m->win_offset / AMDKFD_MC_WINDOW_PAGE,
                 m->size / AMDKFD_MC_WINDOW_PAGE);
    if (ctx) {
        ctx->mapped_bytes -= m->size;
    }
    s->mapped_bytes -= m->size;
    m->file = NULL;
    memory_region_del_subregion(&s->window, &m->mr);
    /* The host pages go when RCU has retired the last FlatView */
    object_unparent(OBJECT(m));
}

uint32_t amdkfd_mc_window_unmap(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                                uint64_t win_offset)
{
    AmdkfdMcMapping *m;

    QTAILQ_FOREACH(m, &s->mappings, next) {
        if (m->win_offset == win_offset && m->ctx_id == ctx->id) {
            amdkfd_mc_window_remove(s, m);
            return AMDKFD_MC_S_OK;
        }
    }
    return AMDKFD_MC_S_INVALID_ARGUMENT;
}

/* Drop mappings of @ctx; all of them, or those of one mmap offset */
void amdkfd_mc_window_unmap_ctx(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                                bool all, uint64_t mmap_offset)
{
    AmdkfdMcMapping *m, *tmp;

    QTAILQ_FOREACH_SAFE(m, &s->mappings, next, tmp) {
        if (m->ctx_id == ctx->id && (all || m->mmap_offset == mmap_offset)) {
            amdkfd_mc_window_remove(s, m);
        }
    }
}
