/*
 * amdkfd-mc: functions shared between the device's source files
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_AMDKFD_MC_INTERNAL_H
#define HW_MISC_AMDKFD_MC_INTERNAL_H

#include "hw/misc/amdkfd-mc.h"
#include "backend.h"

#define AMDKFD_MC_FEATURES (AMDKFD_MC_FEATURE_MSIX | AMDKFD_MC_FEATURE_IOCTL | \
                            AMDKFD_MC_FEATURE_WINDOW | \
                            AMDKFD_MC_FEATURE_TOPOLOGY | \
                            AMDKFD_MC_FEATURE_ASYNC)

/*
 * Every DMA of the device may target guest RAM only: a descriptor or
 * payload address that names MMIO (including our own registers) fails.
 */
#define AMDKFD_MC_DMA_ATTRS ((MemTxAttrs) { .memory = 1 })

static inline bool amdkfd_mc_dma_read(AmdkfdMcState *s, uint64_t addr,
                                      void *buf, uint64_t len)
{
    /* &parent_obj, not PCI_DEVICE(): this is the hot path of every command */
    return pci_dma_rw(&s->parent_obj, addr, buf, len, DMA_DIRECTION_TO_DEVICE,
                      AMDKFD_MC_DMA_ATTRS) == MEMTX_OK;
}

static inline bool amdkfd_mc_dma_write(AmdkfdMcState *s, uint64_t addr,
                                       const void *buf, uint64_t len)
{
    return pci_dma_rw(&s->parent_obj, addr, (void *)buf, len,
                      DMA_DIRECTION_FROM_DEVICE,
                      AMDKFD_MC_DMA_ATTRS) == MEMTX_OK;
}

/* amdkfd-mc.c: destroy every context, stop the rings, clear registers */
void amdkfd_mc_reset(AmdkfdMcState *s);

/* ring.c */
void amdkfd_mc_ring_write_control(AmdkfdMcState *s, uint32_t val);
void amdkfd_mc_ring_doorbell(AmdkfdMcState *s, uint32_t tail);
void amdkfd_mc_ring_cq_head(AmdkfdMcState *s, uint32_t head);
void amdkfd_mc_ring_reset(AmdkfdMcState *s);
void amdkfd_mc_ring_process(void *opaque);
void amdkfd_mc_set_error(AmdkfdMcState *s, uint32_t status);
void amdkfd_mc_irq_update(AmdkfdMcState *s);

/* context.c */
void amdkfd_mc_ctx_table_init(AmdkfdMcState *s);
void amdkfd_mc_ctx_table_free(AmdkfdMcState *s);
uint32_t amdkfd_mc_ctx_create(AmdkfdMcState *s, AmdkfdMcContext **out,
                              int *err);
AmdkfdMcContext *amdkfd_mc_ctx_lookup(AmdkfdMcState *s, uint32_t id);
void amdkfd_mc_ctx_destroy(AmdkfdMcState *s, AmdkfdMcContext *ctx);
void amdkfd_mc_ctx_destroy_all(AmdkfdMcState *s);
/* Last step of a destroy, once no asynchronous command uses the context */
void amdkfd_mc_ctx_release(AmdkfdMcState *s, AmdkfdMcContext *ctx);

/*
 * commands.c: execute one command and fill @cpl (all but the phase).
 * Returns false if the command went asynchronous: its completion is posted
 * later with amdkfd_mc_ring_complete_async().
 */
bool amdkfd_mc_cmd_execute(AmdkfdMcState *s, const struct amdkfd_mc_cmd *cmd,
                           struct amdkfd_mc_cpl *cpl);

/* ring.c: asynchronous completions */
uint32_t amdkfd_mc_ring_async_begin(AmdkfdMcState *s, AmdkfdMcContext *ctx);
void amdkfd_mc_ring_async_end(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                              uint32_t epoch, struct amdkfd_mc_cpl *cpl);

/*
 * ioctl.c: forward one KFD ioctl of a context; returns an AMDKFD_MC_S_*,
 * or AMDKFD_MC_S_ASYNC when it continues in a worker thread.
 */
#define AMDKFD_MC_S_ASYNC 0xffffffffu
uint32_t amdkfd_mc_ioctl(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                         const struct amdkfd_mc_cmd *cmd, int32_t *result);

/* window.c */
void amdkfd_mc_window_init(AmdkfdMcState *s);
void amdkfd_mc_window_free(AmdkfdMcState *s);
uint32_t amdkfd_mc_window_map(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                              uint64_t mmap_offset, uint64_t size,
                              uint64_t *win_offset, int *err);
uint32_t amdkfd_mc_window_unmap(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                                uint64_t win_offset);
void amdkfd_mc_window_unmap_ctx(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                                bool all, uint64_t mmap_offset);

#endif
