/*
 * amdkfd-mc: where the device may DMA
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/rcu.h"
#include "exec/memory.h"
#include "dma.h"

bool amdkfd_mc_dma_is_ram(PCIDevice *pdev, uint64_t addr, uint64_t len,
                          bool is_write)
{
    AddressSpace *as = pci_get_address_space(pdev);

    if (addr + len < addr) {
        return false;
    }
    RCU_READ_LOCK_GUARD();
    while (len) {
        hwaddr xlat, l = len;
        MemoryRegion *mr = address_space_translate(as, addr, &xlat, &l,
                                                   is_write,
                                                   AMDKFD_MC_DMA_ATTRS);

        /*
         * RAM device regions count as RAM for the memory API; they are
         * host device memory (or this device's own window) and no place
         * for rings or payloads.
         */
        if (!memory_region_is_ram(mr) || memory_region_is_ram_device(mr) ||
            (is_write && (mr->readonly || memory_region_is_rom(mr)))) {
            return false;
        }
        if (!l) {
            return false;
        }
        addr += l;
        len -= l;
    }
    return true;
}
