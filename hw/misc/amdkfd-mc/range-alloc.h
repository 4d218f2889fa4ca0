/*
 * amdkfd-mc: allocation of page ranges of the window
 *
 * Segregated fit over free ranges (see range-alloc.c): allocation and
 * freeing cost O(1), independent of how many ranges are live; memory use
 * grows with the number of free fragments, not with the size of the
 * arena.  Ranges are whole pages; the caller keeps the length.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_AMDKFD_MC_RANGE_ALLOC_H
#define HW_MISC_AMDKFD_MC_RANGE_ALLOC_H

#include "qemu/queue.h"

#define AMDKFD_MC_RANGE_FL      48      /* arenas below 2^48 pages */
#define AMDKFD_MC_RANGE_SL_BITS 3
#define AMDKFD_MC_RANGE_SL      (1 << AMDKFD_MC_RANGE_SL_BITS)
#define AMDKFD_MC_RANGE_NONE    UINT64_MAX

typedef struct AmdkfdMcRangeBlock AmdkfdMcRangeBlock;

typedef QTAILQ_HEAD(, AmdkfdMcRangeBlock) AmdkfdMcRangeList;

typedef struct AmdkfdMcRangeAlloc {
    uint64_t pages;
    uint64_t free_pages;
    GHashTable *by_start;       /* first page -> free range */
    GHashTable *by_end;         /* page after the last -> free range */
    uint64_t fl_map;            /* first levels with a free range */
    uint8_t sl_map[AMDKFD_MC_RANGE_FL];
    AmdkfdMcRangeList free[AMDKFD_MC_RANGE_FL * AMDKFD_MC_RANGE_SL];
} AmdkfdMcRangeAlloc;

void amdkfd_mc_range_init(AmdkfdMcRangeAlloc *a, uint64_t pages);
void amdkfd_mc_range_destroy(AmdkfdMcRangeAlloc *a);

/* The first page of @n free pages, or AMDKFD_MC_RANGE_NONE */
uint64_t amdkfd_mc_range_alloc(AmdkfdMcRangeAlloc *a, uint64_t n);

/* Give back @n pages from @first, as allocated */
void amdkfd_mc_range_free(AmdkfdMcRangeAlloc *a, uint64_t first, uint64_t n);

#endif
