/*
 * amdkfd-mc: allocation of page ranges, by two-level segregated fit
 *
 * Free ranges sit in buckets by size: a first level by the power of two
 * (floor(log2 len)) and a second level splitting each power into
 * RANGE_SL equal parts.  An allocation looks only at buckets whose every
 * range is large enough (found with two bitmap scans), takes the first
 * range there and gives the rest back; a freed range merges with free
 * neighbours found through hash tables by first and by end page.  Both
 * cost O(1), however many ranges are live.  Only when no bucket is sure
 * to fit does a bounded scan look inside the bucket of the exact size.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/host-utils.h"
#include "range-alloc.h"

/* Ranges looked at in the one bucket that may or may not fit */
#define RANGE_SCAN_MAX  64

struct AmdkfdMcRangeBlock {
    uint64_t start;
    uint64_t len;
    uint64_t end;               /* start + len: the key of by_end */
    unsigned fl, sl;
    QTAILQ_ENTRY(AmdkfdMcRangeBlock) next;
};

static unsigned range_log2(uint64_t n)
{
    return 63 - clz64(n);
}

/* The bucket a free range of @len pages belongs to */
static void range_bucket(uint64_t len, unsigned *fl, unsigned *sl)
{
    unsigned f = range_log2(len);

    *fl = f;
    *sl = f < AMDKFD_MC_RANGE_SL_BITS ? 0 :
          (len >> (f - AMDKFD_MC_RANGE_SL_BITS)) & (AMDKFD_MC_RANGE_SL - 1);
}

static AmdkfdMcRangeList *range_list(AmdkfdMcRangeAlloc *a,
                                     unsigned fl, unsigned sl)
{
    return &a->free[fl * AMDKFD_MC_RANGE_SL + sl];
}

static void range_insert(AmdkfdMcRangeAlloc *a, uint64_t start, uint64_t len)
{
    AmdkfdMcRangeBlock *b = g_new(AmdkfdMcRangeBlock, 1);

    b->start = start;
    b->len = len;
    b->end = start + len;
    range_bucket(len, &b->fl, &b->sl);
    QTAILQ_INSERT_HEAD(range_list(a, b->fl, b->sl), b, next);
    a->fl_map |= 1ULL << b->fl;
    a->sl_map[b->fl] |= 1u << b->sl;
    g_hash_table_insert(a->by_start, &b->start, b);
    g_hash_table_insert(a->by_end, &b->end, b);
}

static void range_remove(AmdkfdMcRangeAlloc *a, AmdkfdMcRangeBlock *b)
{
    QTAILQ_REMOVE(range_list(a, b->fl, b->sl), b, next);
    if (QTAILQ_EMPTY(range_list(a, b->fl, b->sl))) {
        a->sl_map[b->fl] &= ~(1u << b->sl);
        if (!a->sl_map[b->fl]) {
            a->fl_map &= ~(1ULL << b->fl);
        }
    }
    g_hash_table_remove(a->by_start, &b->start);
    g_hash_table_remove(a->by_end, &b->end);
    g_free(b);
}

/* The first non-empty bucket at or above (fl, sl), or false */
static bool range_find(AmdkfdMcRangeAlloc *a, unsigned fl, unsigned sl,
                       unsigned *ofl, unsigned *osl)
{
    uint32_t sl_bits;
    uint64_t fl_bits;

    if (fl >= AMDKFD_MC_RANGE_FL) {
        return false;
    }
    sl_bits = a->sl_map[fl] & (~0u << sl);
    if (!sl_bits) {
        fl_bits = fl + 1 < 64 ? a->fl_map & (~0ULL << (fl + 1)) : 0;
        if (!fl_bits) {
            return false;
        }
        fl = ctz64(fl_bits);
        sl_bits = a->sl_map[fl];
    }
    *ofl = fl;
    *osl = ctz32(sl_bits);
    return true;
}

void amdkfd_mc_range_free(AmdkfdMcRangeAlloc *a, uint64_t first, uint64_t n)
{
    AmdkfdMcRangeBlock *b;
    uint64_t end = first + n;

    assert(n && first <= a->pages && n <= a->pages - first);
    a->free_pages += n;
    b = g_hash_table_lookup(a->by_end, &first);
    if (b) {
        first = b->start;
        range_remove(a, b);
    }
    b = g_hash_table_lookup(a->by_start, &end);
    if (b) {
        end = b->end;
        range_remove(a, b);
    }
    range_insert(a, first, end - first);
}

uint64_t amdkfd_mc_range_alloc(AmdkfdMcRangeAlloc *a, uint64_t n)
{
    AmdkfdMcRangeBlock *b = NULL;
    unsigned fl, sl, f;
    uint64_t start, len, round;
    int scanned = 0;
    bool found;

    if (!n || n > a->free_pages) {
        return AMDKFD_MC_RANGE_NONE;
    }
    /* round up to the next bucket boundary: every range there fits */
    f = range_log2(n);
    if (f < AMDKFD_MC_RANGE_SL_BITS) {
        /* one bucket per power: it fits only if n is that power */
        found = range_find(a, is_power_of_2(n) ? f : f + 1, 0, &fl, &sl);
    } else {
        round = (1ULL << (f - AMDKFD_MC_RANGE_SL_BITS)) - 1;
        range_bucket(n + round, &fl, &sl);
        found = range_find(a, fl, sl, &fl, &sl);
    }
    if (found) {
        b = QTAILQ_FIRST(range_list(a, fl, sl));
    }
    if (!b) {
        /* the bucket of the exact size may still hold a range that fits */
        range_bucket(n, &fl, &sl);
        QTAILQ_FOREACH(b, range_list(a, fl, sl), next) {
            if (b->len >= n || ++scanned >= RANGE_SCAN_MAX) {
                break;
            }
        }
        if (!b || b->len < n) {
            return AMDKFD_MC_RANGE_NONE;
        }
    }
    start = b->start;
    len = b->len;
    range_remove(a, b);
    a->free_pages -= n;
    if (len > n) {
        range_insert(a, start + n, len - n);
    }
    return start;
}

void amdkfd_mc_range_init(AmdkfdMcRangeAlloc *a, uint64_t pages)
{
    unsigned i;

    memset(a, 0, sizeof(*a));
    a->pages = pages;
    a->by_start = g_hash_table_new(g_int64_hash, g_int64_equal);
    a->by_end = g_hash_table_new(g_int64_hash, g_int64_equal);
    for (i = 0; i < ARRAY_SIZE(a->free); i++) {
        QTAILQ_INIT(&a->free[i]);
    }
    if (pages) {
        amdkfd_mc_range_free(a, 0, pages);
    }
}

void amdkfd_mc_range_destroy(AmdkfdMcRangeAlloc *a)
{
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(a->free); i++) {
        while (!QTAILQ_EMPTY(&a->free[i])) {
            range_remove(a, QTAILQ_FIRST(&a->free[i]));
        }
    }
    g_hash_table_destroy(a->by_start);
    g_hash_table_destroy(a->by_end);
    a->by_start = a->by_end = NULL;
}
