/*
 * amdkfd-mc: the device's DMA into guest memory
 *
 * Every layer of the device (rings, commands, ioctl marshaling) reaches
 * guest memory through these helpers only.  The device reads and writes
 * guest RAM and nothing else: not MMIO, not unassigned space, not RAM
 * device regions (BARs that map host device memory, its own window
 * included).
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_AMDKFD_MC_DMA_H
#define HW_MISC_AMDKFD_MC_DMA_H

#include "hw/pci/pci_device.h"

/* Accesses to MMIO fail at the memory API already */
#define AMDKFD_MC_DMA_ATTRS ((MemTxAttrs) { .memory = 1 })

/*
 * True if [@addr, @addr + @len) is entirely ordinary guest RAM as the
 * device sees it (writable RAM if @is_write).  An empty range is RAM.
 */
bool amdkfd_mc_dma_is_ram(PCIDevice *pdev, uint64_t addr, uint64_t len,
                          bool is_write);

static inline bool amdkfd_mc_dma_read(PCIDevice *pdev, uint64_t addr,
                                      void *buf, uint64_t len)
{
    return pci_dma_rw(pdev, addr, buf, len, DMA_DIRECTION_TO_DEVICE,
                      AMDKFD_MC_DMA_ATTRS) == MEMTX_OK;
}

static inline bool amdkfd_mc_dma_write(PCIDevice *pdev, uint64_t addr,
                                       const void *buf, uint64_t len)
{
    return pci_dma_rw(pdev, addr, (void *)buf, len,
                      DMA_DIRECTION_FROM_DEVICE,
                      AMDKFD_MC_DMA_ATTRS) == MEMTX_OK;
}

#endif
