/*
 * amdkfd-mc: functions shared between the device's source files
 *
 * Layers, from the guest down: amdkfd-mc.c (the PCI function, registers,
 * properties, lifecycle) -> ring.c (rings, doorbell, completions, reset)
 * -> commands.c (one command) -> ioctl.c (KFD ioctl marshaling),
 * guest-mem.c (guest RAM objects), context.c (contexts, objects, limits)
 * and window.c (the window BAR) -> backend.  The lower layers call back
 * into ring.c only to complete a command later (amdkfd_mc_async_begin()
 * and _end()).  Guest memory is reached through dma.h only, work that may
 * block through worker.h only; the KFD model lives in sim/.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_AMDKFD_MC_INTERNAL_H
#define HW_MISC_AMDKFD_MC_INTERNAL_H

#include "amdkfd-mc-state.h"
#include "backend.h"
#include "dma.h"

/* What the device can do; GUEST_MEMORY only if the backend can too */
#define AMDKFD_MC_FEATURES (AMDKFD_MC_FEATURE_MSIX | AMDKFD_MC_FEATURE_IOCTL | \
                            AMDKFD_MC_FEATURE_WINDOW | \
                            AMDKFD_MC_FEATURE_TOPOLOGY | \
                            AMDKFD_MC_FEATURE_ASYNC | \
                            AMDKFD_MC_FEATURE_GUEST_MEMORY | \
                            AMDKFD_MC_FEATURE_DRM_INFO)

/* The PCI function, without a QOM cast on hot paths */
static inline PCIDevice *amdkfd_mc_pci(AmdkfdMcState *s)
{
    return &s->parent_obj;
}


/*
 * A command that completes after it left the ring processing: it holds a
 * completion slot until amdkfd_mc_async_end().  If the rings stop
 * meanwhile it is orphaned: it then neither writes guest memory nor posts
 * a completion, and if it has not started it never calls the backend, but
 * it still settles the device's bookkeeping.
 */
struct AmdkfdMcAsync {
    AmdkfdMcWork work;
    AmdkfdMcState *s;
    AmdkfdMcContext *ctx;       /* NULL for device-level commands */
    bool orphaned;              /* set on the main loop, read by workers */
    uint16_t opcode;            /* for the trace */
    uint32_t bytes;             /* guest payload it keeps a copy of */
    struct amdkfd_mc_cpl cpl;
    QTAILQ_ENTRY(AmdkfdMcAsync) next;
};

/*
 * Bounds of what commands in workers hold, orphans included: the rings
 * bound it only while they run, and a guest can stop and restart them
 */
#define AMDKFD_MC_ASYNC_MAX         AMDKFD_MC_RING_MAX_ENTRIES
#define AMDKFD_MC_ASYNC_BYTES_MAX   (32 * 1024 * 1024)

/* Commands one run of the ring's bottom half executes before it yields */
#define AMDKFD_MC_BH_BUDGET         1024

/* ring.c */
/* At realize and unrealize: follow changes of the device's view of memory */
void amdkfd_mc_ring_init(AmdkfdMcState *s);
void amdkfd_mc_ring_fini(AmdkfdMcState *s);
/* Destroy every context, stop the rings, clear the registers */
void amdkfd_mc_device_reset(AmdkfdMcState *s);
void amdkfd_mc_ring_write_control(AmdkfdMcState *s, uint32_t val);
void amdkfd_mc_ring_doorbell(AmdkfdMcState *s, uint32_t tail);
void amdkfd_mc_ring_cq_head(AmdkfdMcState *s, uint32_t head);
void amdkfd_mc_ring_reset(AmdkfdMcState *s);
/* Stop the rings: no more commands, no DMA, commands in flight orphaned */
void amdkfd_mc_ring_stop(AmdkfdMcState *s);
void amdkfd_mc_ring_process(void *opaque);
void amdkfd_mc_set_error(AmdkfdMcState *s, uint32_t status);
void amdkfd_mc_irq_update(AmdkfdMcState *s);
/*
 * Start an asynchronous command of opcode @opcode that keeps @bytes of
 * guest payload; @a->cpl.cookie must be set
 */
void amdkfd_mc_async_begin(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                           AmdkfdMcAsync *a, uint16_t opcode,
                           uint32_t bytes);
/* Post its completion (unless orphaned) and drop its hold on @a->ctx */
void amdkfd_mc_async_end(AmdkfdMcAsync *a);

/* context.c */
void amdkfd_mc_ctx_table_init(AmdkfdMcState *s);
void amdkfd_mc_ctx_table_free(AmdkfdMcState *s);
AmdkfdMcContext *amdkfd_mc_ctx_lookup(AmdkfdMcState *s, uint32_t id);
/*
 * Reserve a context and an id for a CREATE_CONTEXT: an AMDKFD_MC_S_*
 * status.  The context counts one work in flight, the creation: the
 * backend part runs in amdkfd_mc_ctx_open() (any thread), then
 * amdkfd_mc_ctx_opened() (main loop) makes it live or dying, and
 * amdkfd_mc_ctx_put_inflight() ends the creation's hold.
 */
uint32_t amdkfd_mc_ctx_reserve(AmdkfdMcState *s, AmdkfdMcContext **out);
int amdkfd_mc_ctx_open(AmdkfdMcContext *ctx);
void amdkfd_mc_ctx_opened(AmdkfdMcContext *ctx, int err);
/*
 * Destroy @ctx; @destroy (the guest's DESTROY_CONTEXT, or NULL) completes
 * when its backend file has been closed
 */
void amdkfd_mc_ctx_destroy(AmdkfdMcContext *ctx, AmdkfdMcAsync *destroy);
void amdkfd_mc_ctx_destroy_all(AmdkfdMcState *s);
/* Work of @ctx that finished: free it if it is dying and idle */
void amdkfd_mc_ctx_put_inflight(AmdkfdMcContext *ctx);
/* Index of an exported GPU node by gpu_id, or -1 */
int amdkfd_mc_node_index(AmdkfdMcState *s, uint32_t gpu_id);
/* Limits of the context's window use and guest memory */
uint64_t amdkfd_mc_ctx_max_mapped(AmdkfdMcState *s);
uint64_t amdkfd_mc_ctx_max_guest(AmdkfdMcState *s);

/* The device's table of a context's memory objects */
AmdkfdMcObject *amdkfd_mc_obj_lookup(AmdkfdMcContext *ctx, uint64_t handle);
AmdkfdMcObject *amdkfd_mc_obj_by_offset(AmdkfdMcContext *ctx,
                                        uint64_t mmap_offset);
/* Count an ALLOC in flight against the limits; false if over one */
bool amdkfd_mc_obj_reserve(AmdkfdMcContext *ctx);
void amdkfd_mc_obj_unreserve(AmdkfdMcContext *ctx);
/* The reserved object exists now */
void amdkfd_mc_obj_add(AmdkfdMcContext *ctx, const AmdkfdMcObject *obj);
void amdkfd_mc_obj_remove(AmdkfdMcContext *ctx, AmdkfdMcObject *obj);
/* An unmap in flight lets go of its object (freed if it was removed) */
void amdkfd_mc_obj_unhold(AmdkfdMcObject *obj);
/*
 * True if [@va, @va + @len) lies inside one object of @ctx that the GPU
 * VM of node @node maps
 */
bool amdkfd_mc_obj_covers(AmdkfdMcContext *ctx, unsigned node, uint64_t va,
                          uint64_t len);

/* Trapped doorbell write of @ctx: run by a worker, coalesced */
void amdkfd_mc_ctx_doorbell(AmdkfdMcContext *ctx, uint64_t mmap_offset,
                            uint64_t byte_offset, uint64_t value);

/*
 * commands.c: execute one command and fill @cpl (all but the phase).
 * Returns false if the command went asynchronous: its completion is posted
 * later with amdkfd_mc_async_end().
 */
bool amdkfd_mc_cmd_execute(AmdkfdMcState *s, const struct amdkfd_mc_cmd *cmd,
                           struct amdkfd_mc_cpl *cpl);

/*
 * ioctl.c: forward one KFD ioctl of a context; returns an AMDKFD_MC_S_*,
 * or AMDKFD_MC_S_ASYNC when it continues in a worker thread.
 */
#define AMDKFD_MC_S_ASYNC 0xffffffffu
uint32_t amdkfd_mc_ioctl(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                         const struct amdkfd_mc_cmd *cmd, int32_t *result);
/* At unrealize */
void amdkfd_mc_ioctl_fini(AmdkfdMcState *s);

/* guest-mem.c: memory objects of guest RAM */
void amdkfd_mc_guest_init(AmdkfdMcState *s);
void amdkfd_mc_guest_fini(AmdkfdMcState *s);
/* OP_ALLOC_GUEST_MEMORY; AMDKFD_MC_S_ASYNC when it went to a worker */
uint32_t amdkfd_mc_cmd_alloc_guest(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                                   const struct amdkfd_mc_cmd *cmd);
/* The pages of a guest memory object are no longer the context's */
void amdkfd_mc_guest_release(AmdkfdMcContext *ctx, const AmdkfdMcRamRange *r,
                             uint32_t n, uint64_t bytes);

/* window.c */
bool amdkfd_mc_window_init(AmdkfdMcState *s, Error **errp);
/* Unrealize: every mapping is gone; finalize: the host memory goes */
void amdkfd_mc_window_exit(AmdkfdMcState *s);
void amdkfd_mc_window_finalize(AmdkfdMcState *s);
/* The window's RamDiscardSource methods, in the device's class */
void amdkfd_mc_window_class_init(ObjectClass *klass);
uint32_t amdkfd_mc_window_map(AmdkfdMcContext *ctx, uint64_t mmap_offset,
                              uint64_t size, uint64_t *win_offset,
                              uint64_t *map_id, int *err);
uint32_t amdkfd_mc_window_unmap(AmdkfdMcContext *ctx, uint64_t map_id);
/* Drop every mapping of @ctx: O(its mappings) */
void amdkfd_mc_window_unmap_ctx(AmdkfdMcContext *ctx);

#endif
