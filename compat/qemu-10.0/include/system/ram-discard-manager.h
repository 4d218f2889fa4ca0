/*
 * amdkfd-mc in QEMU 10.0: QEMU 11's RamDiscardSource on 10.0's
 * RamDiscardManager (see compat/qemu-10.0/README)
 *
 * In QEMU 11 the memory core owns a RAM region's RamDiscardManager and
 * asks the region's sources (get_min_granularity, is_populated) for their
 * state; in 10.0 the object that implements the interface is the manager
 * and answers replays and listeners itself.  Here a source is a 10.0
 * manager whose replay and listener methods are derived from its two
 * source methods.  That is right only for a source whose state never
 * changes after it is added, since no listener hears of a change: the
 * amdkfd-mc window, which never has anything populated, is one.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef AMDKFD_MC_COMPAT_RAM_DISCARD_MANAGER_H
#define AMDKFD_MC_COMPAT_RAM_DISCARD_MANAGER_H

#include "exec/memory.h"

#define TYPE_RAM_DISCARD_SOURCE TYPE_RAM_DISCARD_MANAGER
typedef RamDiscardManager RamDiscardSource;
typedef RamDiscardManagerClass RamDiscardSourceClass;
#define RAM_DISCARD_SOURCE(obj) RAM_DISCARD_MANAGER(obj)

typedef struct CompatRdsReplay {
    ReplayRamPopulate populate;
    ReplayRamDiscard discard;
    RamDiscardListener *rdl;    /* tell it instead, of a populate or... */
    bool rdl_discard;           /* ...of a discard */
    void *opaque;
} CompatRdsReplay;

/* Call @r on each maximal run of @section whose state is @populated */
static inline int compat_rds_for_each(const RamDiscardManager *rdm,
                                      MemoryRegionSection *section,
                                      bool populated, CompatRdsReplay *r)
{
    RamDiscardManagerClass *k = RAM_DISCARD_MANAGER_GET_CLASS(rdm);
    uint64_t gran = k->get_min_granularity(rdm, section->mr);
    uint64_t start = section->offset_within_region;
    uint64_t end = start + int128_get64(section->size);
    uint64_t pos = start, run = start;
    int ret = 0;

    while (pos < end) {
        uint64_t next = MIN(QEMU_ALIGN_DOWN(pos, gran) + gran, end);
        MemoryRegionSection part = *section;
        bool match;

        part.offset_within_region = pos;
        part.offset_within_address_space += pos - start;
        part.size = int128_make64(next - pos);
        match = k->is_populated(rdm, &part) == populated;
        if (!match || next == end) {
            uint64_t stop = match ? next : pos;

            if (stop > run) {
                part = *section;
                part.offset_within_region = run;
                part.offset_within_address_space += run - start;
                part.size = int128_make64(stop - run);
                if (r->rdl && r->rdl_discard) {
                    r->rdl->notify_discard(r->rdl, &part);
                } else if (r->rdl) {
                    ret = r->rdl->notify_populate(r->rdl, &part);
                } else if (populated) {
                    ret = r->populate(&part, r->opaque);
                } else {
                    r->discard(&part, r->opaque);
                }
                if (ret) {
                    return ret;
                }
            }
            run = next;
        }
        pos = next;
    }
    return 0;
}

static inline int compat_rds_replay_populated(const RamDiscardManager *rdm,
                                              MemoryRegionSection *section,
                                              ReplayRamPopulate fn,
                                              void *opaque)
{
    CompatRdsReplay r = { .populate = fn, .opaque = opaque };

    return compat_rds_for_each(rdm, section, true, &r);
}

static inline void compat_rds_replay_discarded(const RamDiscardManager *rdm,
                                               MemoryRegionSection *section,
                                               ReplayRamDiscard fn,
                                               void *opaque)
{
    CompatRdsReplay r = { .discard = fn, .opaque = opaque };

    compat_rds_for_each(rdm, section, false, &r);
}

static inline void compat_rds_register(RamDiscardManager *rdm,
                                       RamDiscardListener *rdl,
                                       MemoryRegionSection *section)
{
    CompatRdsReplay r = { .rdl = rdl };

    rdl->section = memory_region_section_new_copy(section);
    compat_rds_for_each(rdm, rdl->section, true, &r);
}

static inline void compat_rds_unregister(RamDiscardManager *rdm,
                                         RamDiscardListener *rdl)
{
    CompatRdsReplay r = { .rdl = rdl, .rdl_discard = true };

    compat_rds_for_each(rdm, rdl->section, true, &r);
    memory_region_section_free_copy(rdl->section);
    rdl->section = NULL;
}

/* The class of a source: the methods a 10.0 manager has beyond a source's */
static inline RamDiscardManagerClass *compat_rds_class(ObjectClass *klass)
{
    RamDiscardManagerClass *k = RAM_DISCARD_MANAGER_CLASS(klass);

    k->replay_populated = compat_rds_replay_populated;
    k->replay_discarded = compat_rds_replay_discarded;
    k->register_listener = compat_rds_register;
    k->unregister_listener = compat_rds_unregister;
    return k;
}
#define RAM_DISCARD_SOURCE_CLASS(klass) compat_rds_class(OBJECT_CLASS(klass))

static inline int memory_region_add_ram_discard_source(MemoryRegion *mr,
                                                       RamDiscardSource *rds)
{
    if (memory_region_has_ram_discard_manager(mr)) {
        return -EBUSY;
    }
    memory_region_set_ram_discard_manager(mr, rds);
    return 0;
}

static inline int memory_region_del_ram_discard_source(MemoryRegion *mr,
                                                       RamDiscardSource *rds)
{
    if (memory_region_get_ram_discard_manager(mr) != rds) {
        return -ENOENT;
    }
    memory_region_set_ram_discard_manager(mr, NULL);
    return 0;
}

#endif
