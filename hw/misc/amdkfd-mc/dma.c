/*
 * amdkfd-mc: where the device may DMA
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/rcu.h"
#include "system/memory.h"
#include "dma.h"

/* The kind of memory the device may touch */
static bool amdkfd_mc_dma_region_ok(MemoryRegion *mr, bool is_write)
{
    /*
     * RAM device regions count as RAM for the memory API; they are host
     * device memory (or this device's own window) and no place for rings
     * or payloads.
     */
    return memory_region_is_ram(mr) && !memory_region_is_ram_device(mr) &&
           !(is_write && (mr->readonly || memory_region_is_rom(mr)));
}

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

        if (!amdkfd_mc_dma_region_ok(mr, is_write) || !l) {
            return false;
        }
        addr += l;
        len -= l;
    }
    return true;
}

bool amdkfd_mc_dma_buf_init(AmdkfdMcDmaBuf *b, PCIDevice *pdev,
                            uint64_t addr, uint64_t len, bool is_write)
{
    int64_t l;

    b->len = len;
    if (!len || addr + len < addr) {
        address_space_cache_init_empty(&b->cache);
        return false;
    }
    l = address_space_cache_init(&b->cache, pci_get_address_space(pdev),
                                 addr, len, is_write);
    /*
     * Only a direct mapping of RAM (a cache with a host pointer) that
     * covers it all: through a vIOMMU, or across RAM blocks, the callers
     * take the checked slow path instead
     */
    if (l < 0 || (uint64_t)l != len || !b->cache.ptr ||
        !amdkfd_mc_dma_region_ok(b->cache.mrs.mr, is_write)) {
        address_space_cache_destroy(&b->cache);
        address_space_cache_init_empty(&b->cache);
        return false;
    }
    return true;
}

void amdkfd_mc_dma_buf_destroy(AmdkfdMcDmaBuf *b)
{
    address_space_cache_destroy(&b->cache);
    address_space_cache_init_empty(&b->cache);
}

bool amdkfd_mc_dma_read(PCIDevice *pdev, uint64_t addr, void *buf,
                        uint64_t len)
{
    AmdkfdMcDmaBuf b;

    if (amdkfd_mc_dma_buf_init(&b, pdev, addr, len, false)) {
        amdkfd_mc_dma_buf_read(&b, 0, buf, len);
        amdkfd_mc_dma_buf_destroy(&b);
        return true;
    }
    return amdkfd_mc_dma_is_ram(pdev, addr, len, false) &&
           pci_dma_rw(pdev, addr, buf, len, DMA_DIRECTION_TO_DEVICE,
                      AMDKFD_MC_DMA_ATTRS) == MEMTX_OK;
}

bool amdkfd_mc_dma_write(PCIDevice *pdev, uint64_t addr, const void *buf,
                         uint64_t len)
{
    AmdkfdMcDmaBuf b;

    if (amdkfd_mc_dma_buf_init(&b, pdev, addr, len, true)) {
        amdkfd_mc_dma_buf_write(&b, 0, buf, len);
        amdkfd_mc_dma_buf_destroy(&b);
        return true;
    }
    return amdkfd_mc_dma_is_ram(pdev, addr, len, true) &&
           pci_dma_rw(pdev, addr, (void *)buf, len,
                      DMA_DIRECTION_FROM_DEVICE,
                      AMDKFD_MC_DMA_ATTRS) == MEMTX_OK;
}

/* How much RAM one payload cache maps, from a boundary of that size */
#define AMDKFD_MC_DMA_CACHE_SPAN    (2 * 1024 * 1024)

bool amdkfd_mc_dma_cache_get(AmdkfdMcDmaCache *c, PCIDevice *pdev,
                             uint64_t addr, uint64_t len, uint64_t *off)
{
    uint64_t base;

    if (!len || addr + len < addr) {
        return false;
    }
    if (c->valid && addr >= c->base && addr + len <= c->base + c->buf.len) {
        *off = addr - c->base;
        return true;
    }
    amdkfd_mc_dma_cache_drop(c);
    base = QEMU_ALIGN_DOWN(addr, AMDKFD_MC_DMA_CACHE_SPAN);
    /* up to the end of the next span, at least to the end of this buffer */
    if (!amdkfd_mc_dma_buf_init(&c->buf, pdev, base,
                                MAX(addr + len - base,
                                    AMDKFD_MC_DMA_CACHE_SPAN), true)) {
        /* the span may reach past the RAM: map the buffer alone */
        base = addr;
        if (!amdkfd_mc_dma_buf_init(&c->buf, pdev, base, len, true)) {
            return false;
        }
    }
    c->base = base;
    c->valid = true;
    *off = addr - base;
    return true;
}

void amdkfd_mc_dma_cache_drop(AmdkfdMcDmaCache *c)
{
    if (c->valid) {
        amdkfd_mc_dma_buf_destroy(&c->buf);
        c->valid = false;
    }
}
