/*
 * QTest of amdkfd-mc: memory objects made of guest RAM (ROCm's USERPTR
 * memory), with guest RAM in a shared memfd as the device requires
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "amdkfd-mc-harness.h"
#include "amdkfd-mc-tests.h"

#define VA_GUEST    0x40000000ULL
#define VA_A        0x1000000ULL
#define VA_B        0x2000000ULL

/* q35 with its 128 MiB of RAM in a shared memfd */
static AkmcDev *start_memfd(const char *opts)
{
    g_autofree char *args = g_strdup_printf(
        "-object memory-backend-memfd,id=ram,size=128M,share=on "
        "-machine q35,memory-backend=ram "
        "-device amdkfd-mc,id=kfd,backend=sim%s", opts ? opts : "");
    AkmcDev *d = akmc_boot(args);

    akmc_attach(d);
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    return d;
}

/* @pages whole pages of guest RAM, page aligned */
static uint64_t guest_pages(AkmcDev *d, uint32_t pages)
{
    uint64_t a = guest_alloc(&d->qs->alloc, (pages + 1) * 4096);

    return ROUND_UP(a, 4096);
}

static uint64_t guest_obj(AkmcProc *p, uint64_t va,
                          const struct amdkfd_mc_guest_range *r, uint32_t n,
                          uint64_t size)
{
    uint64_t handle = 0;
    int32_t result = -1;

    g_assert_cmpuint(akmc_guest_alloc(p, va, size, r, n, &handle, &result),
                     ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(result, ==, 0);
    g_assert_cmpint(akmc_handle_map_gpu(p, handle), ==, 0);
    return handle;
}

/*
 * The GPU reads and writes the guest's own pages, two of them apart in
 * guest RAM but one object: no copy in either direction
 */
static void test_guest_memory_dma(void)
{
    AkmcDev *d = start_memfd(NULL);
    uint64_t p1 = guest_pages(d, 1), p2 = guest_pages(d, 1);
    struct amdkfd_mc_guest_range r[2] = {
        { p1, 4096 }, { p2, 4096 },
    };
    char got[32];
    AkmcProc a;
    AkmcBuf buf;
    AkmcQueue q;

    akmc_proc_open(d, &a);
    qtest_memwrite(d->qts, p1 + 4090, "split-", 6);
    qtest_memwrite(d->qts, p2, "across pages", 13);
    guest_obj(&a, VA_GUEST, r, 2, 8192);
    g_assert_cmpuint(akmc_qom_get_uint(d, "guest-memory-bytes"), ==, 8192);
    akmc_buf_new(&a, VA_A, 4096, &buf);
    akmc_queue_new(&a, VA_A + 0x100000, &q);

    /* guest pages to a GPU buffer, across the two pages */
    akmc_queue_copy(&a, &q, VA_GUEST + 4090, VA_A, 19);
    /* and a GPU buffer into the second guest page */
    akmc_buf_write(&a, &buf, 1024, "from the GPU", 13);
    akmc_queue_copy(&a, &q, VA_A + 1024, VA_GUEST + 4096 + 100, 13);
    akmc_queue_kick(&a, &q);
    akmc_buf_read(&a, &buf, 0, got, 19);
    g_assert_cmpmem(got, 19, "split-across pages", 19);
    qtest_memread(d->qts, p2 + 100, got, 13);
    g_assert_cmpstr(got, ==, "from the GPU");
    akmc_stop(d);
}

/*
 * B's DMA to A's registered pages faults and changes nothing; with one
 * shared KFD context (legacy-shared) the same copy reads them
 */
static void guest_memory_isolation(const void *opaque)
{
    bool legacy = GPOINTER_TO_INT(opaque);
    AkmcDev *d = start_memfd(legacy ? ",legacy-shared=on" : NULL);
    uint64_t pa = guest_pages(d, 1);
    struct amdkfd_mc_guest_range r = { pa, 4096 };
    char got[16] = { 0 }, zero[16] = { 0 };
    AkmcProc a, b;
    AkmcBuf sb;
    AkmcQueue qb;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    qtest_memwrite(d->qts, pa, "A's own page", 13);
    guest_obj(&a, VA_GUEST, &r, 1, 4096);
    akmc_buf_new(&b, VA_B, 4096, &sb);
    akmc_queue_new(&b, VA_B + 0x100000, &qb);
    akmc_queue_copy(&b, &qb, VA_GUEST, VA_B, 13);
    akmc_queue_copy(&b, &qb, VA_B + 2048, VA_GUEST, 13);
    akmc_queue_kick(&b, &qb);
    akmc_buf_read(&b, &sb, 0, got, 13);
    if (legacy) {
        g_assert_cmpstr(got, ==, "A's own page");
    } else {
        g_assert_cmpmem(got, 13, zero, 13);
    }
    /*
     * A's page is intact (the second copy came after the fault, or wrote
     * B's zeros over it in the shared context)
     */
    qtest_memread(d->qts, pa, got, 13);
    if (legacy) {
        g_assert_cmpmem(got, 13, zero, 13);
    } else {
        g_assert_cmpstr(got, ==, "A's own page");
    }
    akmc_stop(d);
}

static uint32_t try_alloc(AkmcProc *p, uint64_t va, uint64_t size,
                          const struct amdkfd_mc_guest_range *r, uint32_t n)
{
    uint64_t handle;
    int32_t result;

    return akmc_guest_alloc(p, va, size, r, n, &handle, &result);
}

/* Every field of the request is checked, every range against guest RAM */
static void test_guest_memory_bad_input(void)
{
    AkmcDev *d = start_memfd(",obj-max-guest-ranges=4,max-guest-ranges=6,"
                             "ctx-max-guest-memory=64K");
    uint64_t pa = guest_pages(d, 4), pb = guest_pages(d, 1);
    struct amdkfd_mc_guest_range r[5];
    struct amdkfd_mc_cmd cmd;
    struct amdkfd_mc_cpl cpl;
    struct amdkfd_mc_device_info info;
    uint64_t handle, win_offset, map_id;
    int32_t result;
    AkmcProc a, b;
    AkmcBuf win;
    int i;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    akmc_buf_new(&a, VA_A, 4096, &win);

    /* not RAM: past its end, the device's own registers, the window */
    r[0] = (struct amdkfd_mc_guest_range) { 128 * MiB, 4096 };
    g_assert_cmpuint(try_alloc(&a, VA_GUEST, 4096, r, 1), ==,
                     AMDKFD_MC_S_DMA_ERROR);
    r[0] = (struct amdkfd_mc_guest_range) { d->regs.addr, 4096 };
    g_assert_cmpuint(try_alloc(&a, VA_GUEST, 4096, r, 1), ==,
                     AMDKFD_MC_S_DMA_ERROR);
    r[0] = (struct amdkfd_mc_guest_range) { d->window.addr + win.win, 4096 };
    g_assert_cmpuint(try_alloc(&a, VA_GUEST, 4096, r, 1), ==,
                     AMDKFD_MC_S_DMA_ERROR);
    /* misaligned, empty, wrapping */
    r[0] = (struct amdkfd_mc_guest_range) { pa + 8, 4096 };
    g_assert_cmpuint(try_alloc(&a, VA_GUEST, 4096, r, 1), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    r[0] = (struct amdkfd_mc_guest_range) { pa, 0 };
    g_assert_cmpuint(try_alloc(&a, VA_GUEST, 4096, r, 1), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    r[0] = (struct amdkfd_mc_guest_range) { UINT64_MAX - 4095, 8192 };
    g_assert_cmpuint(try_alloc(&a, VA_GUEST, 8192, r, 1), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    /* the ranges must make the size, neither more nor less */
    r[0] = (struct amdkfd_mc_guest_range) { pa, 8192 };
    g_assert_cmpuint(try_alloc(&a, VA_GUEST, 4096, r, 1), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    g_assert_cmpuint(try_alloc(&a, VA_GUEST, 3 * 4096, r, 1), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    /* no range, more ranges than allowed, fewer bytes than ranges */
    g_assert_cmpuint(try_alloc(&a, VA_GUEST, 4096, r, 0), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    for (i = 0; i < 5; i++) {
        r[i] = (struct amdkfd_mc_guest_range) { pa + i * 4096, 4096 };
    }
    g_assert_cmpuint(try_alloc(&a, VA_GUEST, 5 * 4096, r, 5), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    /* ranges of all objects together: 4 + 4 is more than 6 */
    g_assert_cmpuint(akmc_guest_alloc(&a, VA_GUEST, 4 * 4096, r, 4, &handle,
                                      &result), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(result, ==, 0);
    g_assert_cmpuint(try_alloc(&a, VA_GUEST + 0x100000, 4 * 4096, r, 4), ==,
                     AMDKFD_MC_S_NO_RESOURCES);
    /* an object of guest RAM has no mmap offset: nothing maps at 0 */
    g_assert_cmpuint(akmc_map_window(d, a.ctx, 0, 4096, &win_offset, &map_id,
                                     &result), ==, AMDKFD_MC_S_NOT_SUPPORTED);
    g_assert_cmpint(akmc_handle_free(&a, handle), ==, 0);
    cmd = (struct amdkfd_mc_cmd) {
        .opcode = AMDKFD_MC_OP_ALLOC_GUEST_MEMORY,
        .ctx_id = a.ctx,
        .payload_addr = d->payload,
        .payload_len = sizeof(struct amdkfd_mc_guest_memory) - 8,
    };
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    /* one object over what DEVICE_INFO says; two over the context's bytes */
    g_assert_cmpuint(akmc_device_info(d, &info), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(le32_to_cpu(info.guest_obj_max_ranges), ==, 4);
    g_assert_cmpuint(le64_to_cpu(info.guest_obj_max_bytes), ==, 64 * KiB);
    r[0] = (struct amdkfd_mc_guest_range) { guest_pages(d, 17), 17 * 4096 };
    g_assert_cmpuint(try_alloc(&a, VA_GUEST, 17 * 4096, r, 1), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    r[0].len = 12 * 4096;
    g_assert_cmpuint(akmc_guest_alloc(&a, VA_GUEST, 12 * 4096, r, 1, &handle,
                                      &result), ==, AMDKFD_MC_S_OK);
    r[1] = (struct amdkfd_mc_guest_range) { guest_pages(d, 8), 8 * 4096 };
    g_assert_cmpuint(try_alloc(&a, VA_GUEST + 0x100000, 8 * 4096, &r[1], 1),
                     ==, AMDKFD_MC_S_NO_RESOURCES);
    g_assert_cmpint(akmc_handle_free(&a, handle), ==, 0);

    /* A's pages are A's: B cannot register them, A can twice */
    r[0] = (struct amdkfd_mc_guest_range) { pa, 8192 };
    g_assert_cmpuint(akmc_guest_alloc(&a, VA_GUEST, 8192, r, 1, &handle,
                                      &result), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(result, ==, 0);
    r[1] = (struct amdkfd_mc_guest_range) { pa + 4096, 4096 };
    g_assert_cmpuint(try_alloc(&b, VA_GUEST, 4096, &r[1], 1), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    g_assert_cmpuint(try_alloc(&a, VA_GUEST + 0x100000, 4096, &r[1], 1), ==,
                     AMDKFD_MC_S_OK);
    r[2] = (struct amdkfd_mc_guest_range) { pb, 4096 };
    g_assert_cmpuint(try_alloc(&b, VA_GUEST, 4096, &r[2], 1), ==,
                     AMDKFD_MC_S_OK);

    /* freed, the handle is gone and the pages may be another's */
    g_assert_cmpint(akmc_handle_free(&a, handle), ==, 0);
    g_assert_cmpint(akmc_handle_map_gpu(&a, handle), !=, 0);
    r[1] = (struct amdkfd_mc_guest_range) { pa, 4096 };
    g_assert_cmpuint(try_alloc(&b, VA_GUEST + 0x100000, 4096, &r[1], 1), ==,
                     AMDKFD_MC_S_OK);
    /* destroying the contexts gives every page back */
    g_assert_cmpuint(akmc_ctx_destroy(d, a.ctx), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_destroy(d, b.ctx), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_qom_get_uint(d, "guest-memory-bytes"), ==, 0);
    akmc_assert_alive(d);
    akmc_stop(d);
}

/* Guest RAM that is no shared file cannot be: a defined status */
static void test_guest_memory_anonymous_ram(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    uint64_t pa = guest_pages(d, 1);
    struct amdkfd_mc_guest_range r = { pa, 4096 };
    AkmcProc a;

    akmc_proc_open(d, &a);
    g_assert_cmpuint(try_alloc(&a, VA_GUEST, 4096, &r, 1), ==,
                     AMDKFD_MC_S_NOT_SUPPORTED);
    g_assert_cmpuint(akmc_qom_get_uint(d, "guest-memory-bytes"), ==, 0);
    akmc_stop(d);
}

/*
 * virtio-mem memory can be unplugged by the host at any time: its pages
 * are never pinned for the GPU
 */
static void test_guest_memory_virtio_mem(void)
{
    AkmcDev *d;
    uint64_t addr;
    struct amdkfd_mc_guest_range r;
    AkmcProc a;

    if (!qtest_has_device("virtio-mem-pci")) {
        g_test_skip("no virtio-mem-pci in this QEMU");
        return;
    }
    d = akmc_boot("-m 128M,maxmem=1G "
                  "-object memory-backend-memfd,id=ram,size=128M,share=on "
                  "-machine q35,memory-backend=ram "
                  "-object memory-backend-memfd,id=vmem,size=128M,share=on "
                  "-device virtio-mem-pci,id=vm0,memdev=vmem,"
                  "requested-size=0 "
                  "-device amdkfd-mc,id=kfd,backend=sim");
    akmc_attach(d);
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    addr = akmc_qom_path_get_uint(d, "/machine/peripheral/vm0", "memaddr");
    r = (struct amdkfd_mc_guest_range) { addr, 4096 };
    akmc_proc_open(d, &a);
    g_assert_cmpuint(try_alloc(&a, VA_GUEST, 4096, &r, 1), ==,
                     AMDKFD_MC_S_NOT_SUPPORTED);
    g_assert_cmpuint(akmc_qom_get_uint(d, "guest-memory-bytes"), ==, 0);
    akmc_stop(d);
}

void amdkfd_mc_add_guest_memory_tests(void)
{
    qtest_add_func("/amdkfd-mc/guest-memory/dma", test_guest_memory_dma);
    qtest_add_data_func("/amdkfd-mc/isolation/I3-guest-memory/isolated",
                        GINT_TO_POINTER(false), guest_memory_isolation);
    qtest_add_data_func("/amdkfd-mc/isolation/I3-guest-memory/legacy-shared",
                        GINT_TO_POINTER(true), guest_memory_isolation);
    qtest_add_func("/amdkfd-mc/guest-memory/bad-input",
                   test_guest_memory_bad_input);
    qtest_add_func("/amdkfd-mc/guest-memory/anonymous-ram",
                   test_guest_memory_anonymous_ram);
    qtest_add_func("/amdkfd-mc/guest-memory/virtio-mem",
                   test_guest_memory_virtio_mem);
}
