/*
 * amdkfd-mc: the device's DMA into guest memory
 *
 * Every layer of the device (rings, commands, ioctl marshaling) reaches
 * guest memory through these helpers only.  The device reads and writes
 * guest RAM and nothing else: not MMIO, not unassigned space, not RAM
 * device regions (BARs that map host device memory, its own window
 * included).  Every access checks that again, at the time it is made:
 * what was RAM at submission may be a BAR at completion.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_AMDKFD_MC_DMA_H
#define HW_MISC_AMDKFD_MC_DMA_H

#include "system/memory.h"
#include "system/memory_cached.h"
#include "hw/pci/pci_device.h"

/* Accesses to MMIO fail at the memory API already */
#define AMDKFD_MC_DMA_ATTRS ((MemTxAttrs) { .memory = 1 })

/*
 * True if [@addr, @addr + @len) is entirely ordinary guest RAM as the
 * device sees it (writable RAM if @is_write).  An empty range is RAM.
 */
bool amdkfd_mc_dma_is_ram(PCIDevice *pdev, uint64_t addr, uint64_t len,
                          bool is_write);

/*
 * A guest buffer the device reads and writes in place, with one
 * translation (the rings, the payload of a command run at once).
 * amdkfd_mc_dma_buf_init() succeeds only if the whole buffer is one
 * piece of writable guest RAM (@is_write) or of guest RAM; a caller that
 * gets false may still try amdkfd_mc_dma_read()/write(), which also
 * handle buffers that span RAM blocks.
 */
typedef struct AmdkfdMcDmaBuf {
    MemoryRegionCache cache;
    uint64_t len;
} AmdkfdMcDmaBuf;

bool amdkfd_mc_dma_buf_init(AmdkfdMcDmaBuf *b, PCIDevice *pdev,
                            uint64_t addr, uint64_t len, bool is_write);
void amdkfd_mc_dma_buf_destroy(AmdkfdMcDmaBuf *b);

static inline void amdkfd_mc_dma_buf_read(AmdkfdMcDmaBuf *b, uint64_t off,
                                          void *buf, uint64_t len)
{
    address_space_read_cached(&b->cache, off, buf, len);
}

static inline void amdkfd_mc_dma_buf_write(AmdkfdMcDmaBuf *b, uint64_t off,
                                           const void *buf, uint64_t len)
{
    address_space_write_cached(&b->cache, off, buf, len);
}

/*
 * The RAM around the last payload, mapped once: most payloads of a guest
 * driver lie in a few pages, so a command costs no translation.  Valid
 * until the device's view of memory changes (the owner drops it then).
 */
typedef struct AmdkfdMcDmaCache {
    AmdkfdMcDmaBuf buf;
    uint64_t base;
    bool valid;
} AmdkfdMcDmaCache;

/*
 * Map [@addr, @addr + @len) of writable guest RAM through @c; on success
 * *@off is its offset in @c->buf.  False if it is not one piece of RAM.
 */
bool amdkfd_mc_dma_cache_get(AmdkfdMcDmaCache *c, PCIDevice *pdev,
                             uint64_t addr, uint64_t len, uint64_t *off);
void amdkfd_mc_dma_cache_drop(AmdkfdMcDmaCache *c);

/* Copy from or to guest RAM; false (and nothing done) if it is not RAM */
bool amdkfd_mc_dma_read(PCIDevice *pdev, uint64_t addr, void *buf,
                        uint64_t len);
bool amdkfd_mc_dma_write(PCIDevice *pdev, uint64_t addr, const void *buf,
                         uint64_t len);

#endif
