/*
 * amdkfd-mc qtest: where commands run, and what a busy or stopped
 * context holds
 *
 * The sim's DMA engine makes a context busy for seconds: a ring full of
 * 4 MiB copies runs in the context's worker.  With that, these cases
 * check what the code review of the ABI 2.0 device asked for: blocked
 * contexts do not starve others of threads, a call that may sleep on the
 * KFD's process lock waits in its context's queue (never on the main
 * loop), a reset ends busy contexts at once, and commands left behind by
 * a stopped ring are bounded and never run.
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

#define VA_QUEUE    0x10000000ULL

/* Submit an OP_IOCTL whose argument sits at @offset in the scratch area */
static uint64_t submit_ioctl(AkmcDev *d, uint32_t ctx, uint32_t request,
                             const void *arg, uint32_t size, uint32_t offset)
{
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_IOCTL,
        .ctx_id = ctx,
        .arg0 = request,
        .payload_addr = d->payload + offset,
        .payload_len = size,
    };

    qtest_memwrite(d->qts, cmd.payload_addr, arg, size);
    return akmc_submit_cmd(d, &cmd);
}

/* The next completion is @cookie's, within @timeout_us */
static bool wait_cookie(AkmcDev *d, uint64_t cookie, int64_t timeout_us,
                        struct amdkfd_mc_cpl *cpl)
{
    return akmc_next_cpl(d, cpl, timeout_us) && cpl->cookie == cookie;
}

static void assert_busy(AkmcProc *p, AkmcQueue *q)
{
    g_assert_cmpuint(akmc_queue_rptr(p, q), <, q->wptr);
}

/*
 * Four contexts whose calls block (their engines copy for seconds) hold
 * four threads, more than worker-threads keeps: a fifth context is still
 * made, allocates and makes events at once.  With a fixed pool of
 * worker-threads, it waited for one of the four.
 */
static void test_blocked_contexts_do_not_starve(void)
{
    AkmcDev *d = akmc_start_ready(",worker-threads=2");
    struct kfd_ioctl_create_event_args ev = {
        .event_type = KFD_IOC_EVENT_SIGNAL,
    };
    AkmcProc busy[4], p;
    AkmcQueue q[4];
    AkmcBuf buf;
    int32_t result;
    gint64 t0, took;
    int i;

    for (i = 0; i < 4; i++) {
        akmc_proc_open(d, &busy[i]);
        akmc_queue_busy(&busy[i], VA_QUEUE, &q[i]);
    }
    for (i = 0; i < 4; i++) {
        akmc_queue_ring(&busy[i], &q[i]);
    }

    t0 = g_get_monotonic_time();
    akmc_proc_open(d, &p);
    akmc_buf_new_unmapped(&p, VA_QUEUE, 64 * KiB, &buf);
    g_assert_cmpuint(akmc_ioctl(d, p.ctx, AMDKFD_IOC_CREATE_EVENT, &ev,
                                sizeof(ev), &result), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(result, ==, 0);
    took = g_get_monotonic_time() - t0;
    g_test_message("fifth context made, allocated and signalled in %" PRId64
                   " us; %" PRIu64 " threads", took,
                   akmc_qom_get_uint(d, "running-threads"));
    for (i = 0; i < 4; i++) {
        assert_busy(&busy[i], &q[i]);
    }
    g_assert_cmpint(took, <, 2 * G_USEC_PER_SEC);
    /* destroying them stops their engines between two packets */
    for (i = 0; i < 4; i++) {
        g_assert_cmpuint(akmc_ctx_destroy(d, busy[i].ctx), ==,
                         AMDKFD_MC_S_OK);
    }
    akmc_assert_alive(d);
    akmc_stop(d);
}

/*
 * GET_TILE_CONFIG takes the KFD's process mutex, which a context's call
 * in the host KFD may hold for seconds (a queue preemption): it waits in
 * its context's queue, behind the engine, not on the main loop.  Another
 * context's GET_TILE_CONFIG and this one's GET_VERSION (no sleeping lock)
 * complete meanwhile.
 */
static void test_sleeping_ioctl_waits_its_turn(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct kfd_ioctl_get_tile_config_args tc = { 0 };
    struct kfd_ioctl_get_version_args v = { 0 };
    struct amdkfd_mc_cpl cpl;
    AkmcProc a, b;
    AkmcQueue q;
    uint64_t cookie, c;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    akmc_queue_busy(&a, VA_QUEUE, &q);
    akmc_queue_ring(&a, &q);

    tc.gpu_id = a.gpu_id;
    cookie = submit_ioctl(d, a.ctx, AMDKFD_IOC_GET_TILE_CONFIG, &tc,
                          sizeof(tc), 0);
    tc.gpu_id = b.gpu_id;
    c = submit_ioctl(d, b.ctx, AMDKFD_IOC_GET_TILE_CONFIG, &tc, sizeof(tc),
                     4096);
    g_assert_true(wait_cookie(d, c, 2 * G_USEC_PER_SEC, &cpl));
    g_assert_cmpuint(cpl.status, ==, AMDKFD_MC_S_OK);
    c = submit_ioctl(d, a.ctx, AMDKFD_IOC_GET_VERSION, &v, sizeof(v), 8192);
    g_assert_true(wait_cookie(d, c, 2 * G_USEC_PER_SEC, &cpl));
    g_assert_cmpuint(cpl.status, ==, AMDKFD_MC_S_OK);
    assert_busy(&a, &q);

    /* the engine still runs, so A's GET_TILE_CONFIG has not */
    g_assert_false(akmc_next_cpl(d, &cpl, 200 * 1000));
    assert_busy(&a, &q);
    /*
     * Destroying A stops its engine: the waiting call ends (A is gone),
     * then the destroy completes
     */
    c = akmc_submit_cmd(d, &(struct amdkfd_mc_cmd) {
        .opcode = AMDKFD_MC_OP_DESTROY_CONTEXT,
        .ctx_id = a.ctx,
    });
    g_assert_true(akmc_next_cpl(d, &cpl, 5 * G_USEC_PER_SEC));
    g_assert_cmphex(cpl.cookie, ==, cookie);
    g_assert_cmpuint(cpl.status, ==, AMDKFD_MC_S_INVALID_CONTEXT);
    g_assert_true(akmc_next_cpl(d, &cpl, 5 * G_USEC_PER_SEC));
    g_assert_cmphex(cpl.cookie, ==, c);
    g_assert_cmpuint(cpl.status, ==, AMDKFD_MC_S_OK);
    akmc_assert_alive(d);
    akmc_stop(d);
}

/*
 * CONTROL.RESET while every context's engine copies: the engines stop
 * between packets, so the contexts are gone at once and their places are
 * free again, instead of counting against max-contexts for as long as
 * the copies would have run.
 */
static void test_reset_stops_engines(void)
{
    AkmcDev *d = akmc_start_ready(",max-contexts=4");
    AkmcProc p[4];
    AkmcQueue q[4];
    uint32_t id[4];
    gint64 t0, took;
    int i;

    for (i = 0; i < 4; i++) {
        akmc_proc_open(d, &p[i]);
        akmc_queue_busy(&p[i], VA_QUEUE, &q[i]);
    }
    for (i = 0; i < 4; i++) {
        akmc_queue_ring(&p[i], &q[i]);
    }
    g_usleep(50 * 1000);
    for (i = 0; i < 4; i++) {
        assert_busy(&p[i], &q[i]);
    }

    t0 = g_get_monotonic_time();
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_RESET);
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    for (i = 0; i < 4; i++) {
        uint32_t status;

        /* the old ones go as their workers finish the packet they copy */
        while ((status = akmc_ctx_create(d, &id[i], NULL)) ==
               AMDKFD_MC_S_NO_RESOURCES) {
            g_assert_cmpint(g_get_monotonic_time() - t0, <,
                            10 * G_USEC_PER_SEC);
            g_usleep(1000);
        }
        g_assert_cmpuint(status, ==, AMDKFD_MC_S_OK);
    }
    took = g_get_monotonic_time() - t0;
    g_test_message("4 busy contexts reset and 4 new ones made in %" PRId64
                   " us", took);
    g_assert_cmpint(took, <, 2 * G_USEC_PER_SEC);
    akmc_assert_alive(d);
    akmc_stop(d);
}

/*
 * Stopping and restarting the rings while commands wait in a busy
 * context's queue leaves them as orphans; they neither run nor pile up:
 * the device holds at most 32 MiB of payload copies and 4096 commands in
 * workers however often the guest restarts.  Without that bound each
 * round here kept 256 MiB more.
 */
static void test_orphans_are_bounded(void)
{
    AkmcDev *d = akmc_start(NULL);
    enum { ENTRIES = 1024, ROUNDS = 6 };
    const uint32_t len = AMDKFD_MC_MAX_PAYLOAD;
    struct kfd_ioctl_map_memory_to_gpu_args m = { 0 };
    g_autofree uint8_t *payload = g_malloc0(len);
    struct amdkfd_mc_cmd *cmds = g_new(struct amdkfd_mc_cmd, ENTRIES - 1);
    uint64_t rss0 = 0, max_bytes = 0, max_cmds = 0;
    bool asan;
    AkmcProc a;
    AkmcQueue q;
    AkmcBuf buf;
    int round, i;

    g_assert_cmphex(akmc_ring_setup(d, ENTRIES), ==, AMDKFD_MC_STATUS_READY);
    asan = akmc_qemu_has_asan(d);
    akmc_proc_open(d, &a);
    akmc_buf_new_unmapped(&a, 0x40000000, 4096, &buf);
    akmc_queue_busy(&a, VA_QUEUE, &q);
    akmc_queue_ring(&a, &q);

    /* a MAP of one device whose payload is as large as allowed */
    m.handle = buf.handle;
    m.device_ids_array_ptr = sizeof(m);
    m.n_devices = 1;
    memcpy(payload, &m, sizeof(m));
    memcpy(payload + sizeof(m), &a.gpu_id, 4);
    qtest_memwrite(d->qts, d->payload, payload, len);
    for (i = 0; i < ENTRIES - 1; i++) {
        cmds[i] = (struct amdkfd_mc_cmd) {
            .opcode = AMDKFD_MC_OP_IOCTL,
            .ctx_id = a.ctx,
            .arg0 = AMDKFD_IOC_MAP_MEMORY_TO_GPU,
            .payload_addr = d->payload,
            .payload_len = len,
        };
    }

    for (round = 0; round < ROUNDS; round++) {
        akmc_submit_batch(d, cmds, ENTRIES - 1);
        g_usleep(100 * 1000);
        max_bytes = MAX(max_bytes, akmc_qom_get_uint(d, "async-bytes"));
        max_cmds = MAX(max_cmds, akmc_qom_get_uint(d, "async-commands"));
        if (round == 0) {
            rss0 = akmc_qemu_rss(d);
        }
        /* the guest gives up on them: ENABLE off, then on again */
        akmc_writel(d, AMDKFD_MC_REG_CONTROL, 0);
        g_assert_cmphex(akmc_ring_setup(d, ENTRIES), ==,
                        AMDKFD_MC_STATUS_READY);
    }
    g_test_message("%d restarts: at most %" PRIu64 " commands and %" PRIu64
                   " payload bytes in workers; RSS grew by %" PRId64 " KiB",
                   ROUNDS, max_cmds, max_bytes,
                   (int64_t)(akmc_qemu_rss(d) - rss0) / 1024);
    g_assert_cmpuint(max_bytes, <=, 32 * MiB);
    g_assert_cmpuint(max_cmds, <, 4096);
    if (!asan) {
        g_assert_cmpint((int64_t)(akmc_qemu_rss(d) - rss0), <, 128 * MiB);
    }
    assert_busy(&a, &q);

    /* with the engine stopped, the orphans drain without running */
    g_assert_cmpuint(akmc_ctx_destroy(d, a.ctx), ==, AMDKFD_MC_S_OK);
    for (i = 0; i < 5000 && akmc_qom_get_uint(d, "async-commands"); i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(akmc_qom_get_uint(d, "async-commands"), ==, 0);
    g_assert_cmpuint(akmc_qom_get_uint(d, "async-bytes"), ==, 0);
    g_free(cmds);
    akmc_assert_alive(d);
    akmc_stop(d);
}

/*
 * A command that claims more payload than any command may have is refused
 * at once, whatever the commands in workers hold: the ring does not wait
 * for room that such a command would never use.  Found by amdkfd-mc-cmd:
 * a long WAIT_EVENTS in flight and a command of 0xa7a7a7a7 payload bytes
 * stopped the ring, for every context, until the wait ended (never, for
 * an infinite one).
 */
static void test_oversize_payload_does_not_stall(void)
{
    AkmcDev *d = akmc_start_ready("");
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_DEVICE_INFO,
        .payload_addr = d->payload + 8192,
        .payload_len = 0xa7a7a7a7,
    };
    struct amdkfd_mc_cpl cpl;
    struct amdkfd_mc_device_info info;
    uint64_t cookie;
    AkmcProc a;
    uint32_t ev;

    akmc_proc_open(d, &a);
    g_assert_cmpint(akmc_event_create(&a, KFD_IOC_EVENT_SIGNAL, &ev), ==, 0);
    akmc_wait_async(d, a.ctx, ev, UINT32_MAX, 0);
    g_usleep(50 * 1000);
    g_assert_cmpuint(akmc_qom_get_uint(d, "async-bytes"), >, 0);

    cookie = akmc_submit_cmd(d, &cmd);
    g_assert_true(wait_cookie(d, cookie, 5 * G_USEC_PER_SEC, &cpl));
    g_assert_cmpuint(cpl.status, ==, AMDKFD_MC_S_INVALID_ARGUMENT);
    /* and what comes after it runs */
    g_assert_cmpuint(akmc_device_info(d, &info), ==, AMDKFD_MC_S_OK);
    akmc_assert_alive(d);
    akmc_stop(d);
}

void amdkfd_mc_add_workers_tests(void)
{
    qtest_add_func("/amdkfd-mc/bad-input/oversize-payload-does-not-stall",
                   test_oversize_payload_does_not_stall);
    qtest_add_func("/amdkfd-mc/workers/blocked-contexts-do-not-starve",
                   test_blocked_contexts_do_not_starve);
    qtest_add_func("/amdkfd-mc/workers/sleeping-ioctl-waits-its-turn",
                   test_sleeping_ioctl_waits_its_turn);
    qtest_add_func("/amdkfd-mc/workers/reset-stops-engines",
                   test_reset_stops_engines);
    qtest_add_func("/amdkfd-mc/ring/orphans-are-bounded",
                   test_orphans_are_bounded);
}
