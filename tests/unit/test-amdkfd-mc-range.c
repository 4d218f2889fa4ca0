/*
 * Unit test of the amdkfd-mc window's range allocator
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "range-alloc.h"

typedef struct Live {
    uint64_t first;
    uint64_t n;
} Live;

/* Every page of [first, first + n) is free in @used; then mark them */
static void claim(uint8_t *used, uint64_t pages, uint64_t first, uint64_t n)
{
    uint64_t i;

    g_assert_cmpuint(first, <, pages);
    g_assert_cmpuint(n, <=, pages - first);
    for (i = first; i < first + n; i++) {
        g_assert_cmpuint(used[i], ==, 0);
        used[i] = 1;
    }
}

static void test_whole_arena(void)
{
    AmdkfdMcRangeAlloc a;
    uint64_t sizes[] = { 1, 3, 7, 8, 9, 100, 224, 4095, 4096, 65536 };
    int i;

    /* An arena of any size can be taken whole, in one range */
    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        amdkfd_mc_range_init(&a, sizes[i]);
        g_assert_cmpuint(amdkfd_mc_range_alloc(&a, sizes[i]), ==, 0);
        g_assert_cmpuint(amdkfd_mc_range_alloc(&a, 1), ==,
                         AMDKFD_MC_RANGE_NONE);
        amdkfd_mc_range_free(&a, 0, sizes[i]);
        g_assert_cmpuint(a.free_pages, ==, sizes[i]);
        amdkfd_mc_range_destroy(&a);
    }
    amdkfd_mc_range_init(&a, 16);
    g_assert_cmpuint(amdkfd_mc_range_alloc(&a, 0), ==, AMDKFD_MC_RANGE_NONE);
    g_assert_cmpuint(amdkfd_mc_range_alloc(&a, 17), ==, AMDKFD_MC_RANGE_NONE);
    amdkfd_mc_range_destroy(&a);
}

/* Random use against a reference bitmap; all free again merges fully */
static void test_random(void)
{
    const uint64_t pages = 8192;
    g_autofree uint8_t *used = g_malloc0(pages);
    g_autoptr(GArray) live = g_array_new(FALSE, FALSE, sizeof(Live));
    GRand *rand = g_rand_new_with_seed(20261201);
    AmdkfdMcRangeAlloc a;
    uint64_t free_pages = pages;
    int i;

    amdkfd_mc_range_init(&a, pages);
    for (i = 0; i < 200000; i++) {
        if (live->len && g_rand_int_range(rand, 0, 100) < 45) {
            guint k = g_rand_int_range(rand, 0, live->len);
            Live l = g_array_index(live, Live, k);

            memset(used + l.first, 0, l.n);
            amdkfd_mc_range_free(&a, l.first, l.n);
            free_pages += l.n;
            g_array_remove_index_fast(live, k);
        } else {
            /* mostly small, sometimes large, as window mappings are */
            uint64_t n = g_rand_int_range(rand, 0, 10) ?
                         g_rand_int_range(rand, 1, 17) :
                         g_rand_int_range(rand, 17, 700);
            uint64_t first = amdkfd_mc_range_alloc(&a, n);

            if (first == AMDKFD_MC_RANGE_NONE) {
                continue;
            }
            claim(used, pages, first, n);
            free_pages -= n;
            g_array_append_val(live, ((Live) { first, n }));
        }
        g_assert_cmpuint(a.free_pages, ==, free_pages);
    }
    while (live->len) {
        Live l = g_array_index(live, Live, 0);

        amdkfd_mc_range_free(&a, l.first, l.n);
        g_array_remove_index_fast(live, 0);
    }
    /* one free range again: the whole arena can be allocated at once */
    g_assert_cmpuint(g_hash_table_size(a.by_start), ==, 1);
    g_assert_cmpuint(amdkfd_mc_range_alloc(&a, pages), ==, 0);
    amdkfd_mc_range_destroy(&a);
    g_rand_free(rand);
}

/* A hole of exactly the size asked for is found among smaller ones */
static void test_exact_fit(void)
{
    AmdkfdMcRangeAlloc a;
    uint64_t r[40];
    int i;

    amdkfd_mc_range_init(&a, 40 * 24);
    for (i = 0; i < 40; i++) {
        r[i] = amdkfd_mc_range_alloc(&a, 24);
        g_assert_cmpuint(r[i], ==, i * 24);
    }
    /* holes of 23 pages (free 24, keep one) and one of 25 */
    for (i = 0; i < 39; i += 2) {
        amdkfd_mc_range_free(&a, r[i], 23);
    }
    g_assert_cmpuint(amdkfd_mc_range_alloc(&a, 24), ==,
                     AMDKFD_MC_RANGE_NONE);
    amdkfd_mc_range_free(&a, r[38] + 23, 1);
    amdkfd_mc_range_free(&a, r[39], 24);
    /* 38*24 .. 40*24 is free now: 48 pages */
    g_assert_cmpuint(amdkfd_mc_range_alloc(&a, 47), ==, 38 * 24);
    amdkfd_mc_range_destroy(&a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/amdkfd-mc-range/whole-arena", test_whole_arena);
    g_test_add_func("/amdkfd-mc-range/random", test_random);
    g_test_add_func("/amdkfd-mc-range/exact-fit", test_exact_fit);
    return g_test_run();
}
