/*
 * QTest of amdkfd-mc: everything a guest can make the device hold is
 * bounded, per context and per device, and going over a bound is
 * S_NO_RESOURCES, never a stall or a crash
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "amdkfd-mc-harness.h"
#include "amdkfd-mc-tests.h"

static uint32_t map4k(AkmcProc *p, AkmcBuf *b, uint64_t *map_id)
{
    uint64_t win;
    int32_t result;

    return akmc_map_window(p->d, p->ctx, b->mmap_offset, 4096, &win, map_id,
                           &result);
}

static void test_limit_mappings(void)
{
    AkmcDev *d = akmc_start_ready(",ctx-max-mappings=4,max-mappings=6");
    AkmcProc a, b;
    AkmcBuf ba, bb;
    uint64_t ids[4], id;
    int i;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    akmc_buf_new_unmapped(&a, 0x1000000, 4096, &ba);
    akmc_buf_new_unmapped(&b, 0x1000000, 4096, &bb);
    for (i = 0; i < 4; i++) {
        g_assert_cmpuint(map4k(&a, &ba, &ids[i]), ==, AMDKFD_MC_S_OK);
    }
    g_assert_cmpuint(map4k(&a, &ba, &id), ==, AMDKFD_MC_S_NO_RESOURCES);
    g_assert_cmpuint(map4k(&b, &bb, &id), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(map4k(&b, &bb, &id), ==, AMDKFD_MC_S_OK);
    /* the device's bound now */
    g_assert_cmpuint(map4k(&b, &bb, &id), ==, AMDKFD_MC_S_NO_RESOURCES);
    g_assert_cmpuint(akmc_qom_get_uint(d, "live-mappings"), ==, 6);
    g_assert_cmpuint(akmc_unmap_window(d, a.ctx, ids[0]), ==,
                     AMDKFD_MC_S_OK);
    g_assert_cmpuint(map4k(&b, &bb, &id), ==, AMDKFD_MC_S_OK);
    akmc_stop(d);
}

static void test_limit_mapped_bytes(void)
{
    AkmcDev *d = akmc_start_ready(",ctx-max-mapped=64K");
    AkmcProc a, b;
    AkmcBuf big, more;
    uint64_t win, id;
    int32_t result;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    akmc_buf_new(&a, 0x1000000, 64 * KiB, &big);
    akmc_buf_new_unmapped(&a, 0x2000000, 4096, &more);
    g_assert_cmpuint(map4k(&a, &more, &id), ==, AMDKFD_MC_S_NO_RESOURCES);
    /* another context has its own share */
    akmc_buf_new(&b, 0x1000000, 64 * KiB, &big);
    g_assert_cmpuint(akmc_map_window(d, b.ctx, big.mmap_offset, 4096, &win,
                                     &id, &result), ==,
                     AMDKFD_MC_S_NO_RESOURCES);
    akmc_stop(d);
}

static uint32_t alloc4k(AkmcProc *p, uint64_t va, uint64_t *handle)
{
    struct kfd_ioctl_alloc_memory_of_gpu_args a = {
        .va_addr = va,
        .size = 4096,
        .gpu_id = p->gpu_id,
        .flags = KFD_IOC_ALLOC_MEM_FLAGS_GTT,
    };
    int32_t result = -1;
    uint32_t st = akmc_ioctl(p->d, p->ctx, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU,
                             &a, sizeof(a), &result);

    if (st == AMDKFD_MC_S_OK) {
        g_assert_cmpint(result, ==, 0);
    }
    *handle = a.handle;
    return st;
}

static void test_limit_objects(void)
{
    AkmcDev *d = akmc_start_ready(",ctx-max-objects=3,max-objects=4");
    AkmcProc a, b;
    uint64_t h[3], x;
    int i;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    for (i = 0; i < 3; i++) {
        g_assert_cmpuint(alloc4k(&a, 0x1000000 + i * 0x10000, &h[i]), ==,
                         AMDKFD_MC_S_OK);
    }
    g_assert_cmpuint(alloc4k(&a, 0x2000000, &x), ==,
                     AMDKFD_MC_S_NO_RESOURCES);
    g_assert_cmpuint(alloc4k(&b, 0x1000000, &x), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(alloc4k(&b, 0x2000000, &x), ==,
                     AMDKFD_MC_S_NO_RESOURCES);
    g_assert_cmpuint(akmc_qom_get_uint(d, "live-objects"), ==, 4);
    g_assert_cmpint(akmc_handle_free(&a, h[0]), ==, 0);
    g_assert_cmpuint(alloc4k(&b, 0x2000000, &x), ==, AMDKFD_MC_S_OK);
    /* a destroyed context's objects no longer count */
    g_assert_cmpuint(akmc_ctx_destroy(d, a.ctx), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_qom_get_uint(d, "live-objects"), ==, 2);
    akmc_stop(d);
}

static void test_limit_waits(void)
{
    AkmcDev *d = akmc_start_ready(",ctx-max-waits=2,max-waits=3");
    struct amdkfd_mc_cpl cpl;
    struct kfd_event_data evd;
    AkmcProc a, b;
    uint32_t ea, eb, wr;
    uint64_t ck;
    int i, invalid = 0;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    g_assert_cmpint(akmc_event_create(&a, KFD_IOC_EVENT_SIGNAL, &ea), ==, 0);
    g_assert_cmpint(akmc_event_create(&b, KFD_IOC_EVENT_SIGNAL, &eb), ==, 0);
    akmc_wait_async(d, a.ctx, ea, UINT32_MAX, 4096);
    akmc_wait_async(d, a.ctx, ea, UINT32_MAX, 4096 + 256);
    /* a third wait of A is refused at once */
    ck = akmc_wait_async(d, a.ctx, ea, UINT32_MAX, 4096 + 512);
    g_assert_true(akmc_next_cpl(d, &cpl, 5 * G_USEC_PER_SEC));
    g_assert_cmphex(cpl.cookie, ==, ck);
    g_assert_cmpuint(cpl.status, ==, AMDKFD_MC_S_NO_RESOURCES);
    akmc_wait_async(d, b.ctx, eb, UINT32_MAX, 4096 + 768);
    /* the device's bound: B's second wait is refused */
    ck = akmc_wait_async(d, b.ctx, eb, UINT32_MAX, 4096 + 1024);
    g_assert_true(akmc_next_cpl(d, &cpl, 5 * G_USEC_PER_SEC));
    g_assert_cmphex(cpl.cookie, ==, ck);
    g_assert_cmpuint(cpl.status, ==, AMDKFD_MC_S_NO_RESOURCES);
    g_assert_cmpuint(akmc_qom_get_uint(d, "inflight-waits"), ==, 3);

    /* A goes: its waits end, and B may wait again */
    {
        struct amdkfd_mc_cmd cmd = {
            .opcode = AMDKFD_MC_OP_DESTROY_CONTEXT,
            .ctx_id = a.ctx,
        };

        akmc_submit_cmd(d, &cmd);
    }
    for (i = 0; i < 3; i++) {
        g_assert_true(akmc_next_cpl(d, &cpl, 5 * G_USEC_PER_SEC));
        invalid += cpl.status == AMDKFD_MC_S_INVALID_CONTEXT;
    }
    g_assert_cmpint(invalid, ==, 2);
    g_assert_cmpint(akmc_event_op(&b, AMDKFD_IOC_SET_EVENT, eb), ==, 0);
    g_assert_true(akmc_next_cpl(d, &cpl, 5 * G_USEC_PER_SEC));
    g_assert_cmpuint(cpl.status, ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(akmc_event_op(&b, AMDKFD_IOC_SET_EVENT, eb), ==, 0);
    g_assert_cmpint(akmc_event_wait(&b, eb, 1000, &wr, &evd), ==, 0);
    g_assert_cmpuint(wr, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
    g_assert_cmpuint(akmc_qom_get_uint(d, "inflight-waits"), ==, 0);
    akmc_stop(d);
}

/*
 * The 32-bit id space is used once: at its end creation fails, and
 * freeing a context gives no id back (a stale id never names anything).
 */
static void test_limit_context_ids(void)
{
    AkmcDev *d = akmc_start_ready(",x-first-context-id=0xfffffffd");
    uint32_t id[3], x;
    int i;

    for (i = 0; i < 3; i++) {
        g_assert_cmpuint(akmc_ctx_create(d, &id[i], NULL), ==,
                         AMDKFD_MC_S_OK);
        g_assert_cmphex(id[i], ==, 0xfffffffdu + i);
    }
    g_assert_cmpuint(akmc_ctx_create(d, &x, NULL), ==,
                     AMDKFD_MC_S_NO_RESOURCES);
    g_assert_cmpuint(akmc_ctx_destroy(d, id[0]), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_create(d, &x, NULL), ==,
                     AMDKFD_MC_S_NO_RESOURCES);
    g_assert_cmpuint(akmc_ctx_destroy(d, id[0]), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    g_assert_cmpuint(akmc_ctx_destroy(d, 0), ==, AMDKFD_MC_S_INVALID_CONTEXT);
    /* a reset keeps the counter where it is */
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_RESET);
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    g_assert_cmpuint(akmc_ctx_create(d, &x, NULL), ==,
                     AMDKFD_MC_S_NO_RESOURCES);
    g_assert_cmpuint(akmc_ctx_destroy(d, id[2]), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    akmc_stop(d);
}

/* Limits that leave no room at all are refused at realize */
static void test_limit_properties(void)
{
    AkmcDev *d = akmc_boot("-machine q35");
    static const char *const bad[] = {
        "max-waits", "ctx-max-waits", "max-mappings", "ctx-max-mappings",
        "max-objects", "ctx-max-objects", "max-host-fds", "worker-threads",
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        QDict *rsp = qtest_qmp(d->qts, "{ 'execute': 'device_add', "
                               "'arguments': { 'driver': 'amdkfd-mc', "
                               "'backend': 'sim', %s: 0 } }", bad[i]);

        g_assert_true(qdict_haskey(rsp, "error"));
        qobject_unref(rsp);
    }
    akmc_stop(d);
}

static uint64_t qemu_rss(AkmcDev *d)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/statm",
                                            qtest_pid(d->qts));
    g_autofree char *text = NULL;
    unsigned long size, rss;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_cmpint(sscanf(text, "%lu %lu", &size, &rss), ==, 2);
    return (uint64_t)rss * getpagesize();
}

/* AddressSanitizer keeps freed memory in quarantine: RSS then says little */
static bool qemu_has_asan(AkmcDev *d)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/maps",
                                            qtest_pid(d->qts));
    g_autofree char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return strstr(text, "libasan") != NULL;
}

/* @rounds of 31 ALLOC_MEMORY_OF_GPU then 31 FREE_MEMORY_OF_GPU */
static void alloc_free_rounds(AkmcProc *p, int rounds)
{
    enum { N = 31, STRIDE = 64 };
    AkmcDev *d = p->d;
    uint8_t buf[N * STRIDE];
    struct amdkfd_mc_cmd cmd[N];
    struct amdkfd_mc_cpl cpl[N];
    int r, i;

    for (r = 0; r < rounds; r++) {
        memset(buf, 0, sizeof(buf));
        for (i = 0; i < N; i++) {
            struct kfd_ioctl_alloc_memory_of_gpu_args *a =
                (void *)(buf + i * STRIDE);

            a->va_addr = 0x1000000 + i * 0x10000;
            a->size = 4096;
            a->gpu_id = p->gpu_id;
            a->flags = KFD_IOC_ALLOC_MEM_FLAGS_GTT;
            cmd[i] = (struct amdkfd_mc_cmd) {
                .opcode = AMDKFD_MC_OP_IOCTL,
                .ctx_id = p->ctx,
                .arg0 = AMDKFD_IOC_ALLOC_MEMORY_OF_GPU,
                .payload_addr = d->payload + i * STRIDE,
                .payload_len = sizeof(*a),
            };
        }
        qtest_memwrite(d->qts, d->payload, buf, sizeof(buf));
        akmc_submit_batch(d, cmd, N);
        g_assert_true(akmc_next_cpls(d, cpl, N, 10 * G_USEC_PER_SEC));
        qtest_memread(d->qts, d->payload, buf, sizeof(buf));
        for (i = 0; i < N; i++) {
            struct kfd_ioctl_alloc_memory_of_gpu_args *a =
                (void *)(buf + i * STRIDE);
            struct kfd_ioctl_free_memory_of_gpu_args *f =
                (void *)(buf + i * STRIDE);

            g_assert_cmpuint(cpl[i].status, ==, AMDKFD_MC_S_OK);
            g_assert_cmpint(cpl[i].result, ==, 0);
            f->handle = a->handle;
            cmd[i].arg0 = AMDKFD_IOC_FREE_MEMORY_OF_GPU;
            cmd[i].payload_len = sizeof(*f);
        }
        qtest_memwrite(d->qts, d->payload, buf, sizeof(buf));
        akmc_submit_batch(d, cmd, N);
        g_assert_true(akmc_next_cpls(d, cpl, N, 10 * G_USEC_PER_SEC));
        for (i = 0; i < N; i++) {
            g_assert_cmpuint(cpl[i].status, ==, AMDKFD_MC_S_OK);
            g_assert_cmpint(cpl[i].result, ==, 0);
        }
    }
}

/*
 * 100 000 ALLOC/FREE cycles leave QEMU's memory where it was (the host
 * backend kept an entry per allocation; the device's object table must
 * not either)
 */
static void test_limit_heap_flat(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    uint64_t before, after;
    AkmcProc p;

    akmc_proc_open(d, &p);
    alloc_free_rounds(&p, 100);
    before = qemu_rss(d);
    alloc_free_rounds(&p, 100000 / 31);
    after = qemu_rss(d);
    g_test_message("RSS %" PRIu64 " KiB before, %" PRIu64 " KiB after",
                   before / KiB, after / KiB);
    if (qemu_has_asan(d)) {
        /* LeakSanitizer checks this build at exit instead */
        g_test_message("RSS not compared: QEMU runs with AddressSanitizer");
    } else {
        g_assert_cmpuint(after, <, before + 2 * MiB);
    }
    g_assert_cmpuint(akmc_qom_get_uint(d, "live-objects"), ==, 0);
    akmc_stop(d);
}

void amdkfd_mc_add_limits_tests(void)
{
    qtest_add_func("/amdkfd-mc/limits/mappings", test_limit_mappings);
    qtest_add_func("/amdkfd-mc/limits/mapped-bytes", test_limit_mapped_bytes);
    qtest_add_func("/amdkfd-mc/limits/objects", test_limit_objects);
    qtest_add_func("/amdkfd-mc/limits/waits", test_limit_waits);
    qtest_add_func("/amdkfd-mc/limits/context-ids", test_limit_context_ids);
    qtest_add_func("/amdkfd-mc/limits/properties", test_limit_properties);
    qtest_add_func("/amdkfd-mc/limits/heap-flat", test_limit_heap_flat);
}
