/*
 * QTest of amdkfd-mc: findings of the security review and the attack
 * suite, each as the case that showed it (docs/specs/amdkfd-mc.rst says
 * what the device must do instead)
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

/* The q35 machine of akmc_start() has 128 MiB of RAM at 0 */
#define AKMC_RAM_END    (128 * MiB)

#define HP_SLOT 7

/* Program the rings at @sq/@cq and try to enable them; returns STATUS */
static uint32_t try_rings(AkmcDev *d, uint64_t sq, uint64_t cq,
                          uint32_t entries)
{
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, 0);
    akmc_writel(d, AMDKFD_MC_REG_ERROR, 0);
    akmc_writel(d, AMDKFD_MC_REG_SQ_BASE_LO, (uint32_t)sq);
    akmc_writel(d, AMDKFD_MC_REG_SQ_BASE_HI, sq >> 32);
    akmc_writel(d, AMDKFD_MC_REG_CQ_BASE_LO, (uint32_t)cq);
    akmc_writel(d, AMDKFD_MC_REG_CQ_BASE_HI, cq >> 32);
    akmc_writel(d, AMDKFD_MC_REG_RING_ENTRIES, entries);
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    return akmc_readl(d, AMDKFD_MC_REG_STATUS);
}

/*
 * Rings in the device's own BARs, in the MSI doorbell page or in a window
 * mapping are not RAM: not READY, DMA_ERROR (the review found READY with
 * SQ at BAR 0, CQ at BAR 2 and SQ at 0xfee00000).
 */
static void test_ring_not_ram(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    uint64_t ram = guest_alloc(&d->qs->alloc, 8192);
    uint64_t bad[3];
    AkmcProc a;
    AkmcBuf buf;
    int i;

    akmc_proc_open(d, &a);
    akmc_buf_new(&a, 0x1000000, 64 * KiB, &buf);
    bad[0] = d->regs.addr;
    bad[1] = 0xfee00000;
    bad[2] = d->window.addr + buf.win;
    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        g_test_message("ring at 0x%" PRIx64, bad[i]);
        g_assert_cmphex(try_rings(d, bad[i], ram, 16), ==, 0);
        g_assert_cmphex(akmc_readl(d, AMDKFD_MC_REG_ERROR), ==,
                        AMDKFD_MC_S_DMA_ERROR);
        g_assert_cmphex(try_rings(d, ram, bad[i], 16), ==, 0);
        g_assert_cmphex(akmc_readl(d, AMDKFD_MC_REG_ERROR), ==,
                        AMDKFD_MC_S_DMA_ERROR);
    }
    /* A ring that starts in RAM and runs past its end */
    g_assert_cmphex(try_rings(d, AKMC_RAM_END - 4096, ram, 4096), ==, 0);
    g_assert_cmphex(akmc_readl(d, AMDKFD_MC_REG_ERROR), ==,
                    AMDKFD_MC_S_DMA_ERROR);

    /* Good rings work again, and the context survived it all */
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    akmc_assert_alive(d);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, 1);
    akmc_stop(d);
}

/*
 * The whole payload must be RAM, not only the part a reply fills: the
 * review found DEVICE_INFO with a 64 KiB payload running past the end of
 * RAM completing with OK.  A payload in a window mapping is refused too.
 */
static void test_payload_not_ram(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_DEVICE_INFO,
        .payload_addr = AKMC_RAM_END - 64,
        .payload_len = 65536,
    };
    struct amdkfd_mc_cpl cpl;
    AkmcProc a;
    AkmcBuf buf;
    uint8_t before[64], after[64];

    qtest_memread(d->qts, cmd.payload_addr, before, sizeof(before));
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==, AMDKFD_MC_S_DMA_ERROR);
    qtest_memread(d->qts, cmd.payload_addr, after, sizeof(after));
    g_assert_cmpmem(before, sizeof(before), after, sizeof(after));

    akmc_proc_open(d, &a);
    akmc_buf_new(&a, 0x1000000, 64 * KiB, &buf);
    akmc_buf_write(&a, &buf, 0, "secret", 7);
    cmd.payload_addr = d->window.addr + buf.win;
    cmd.payload_len = sizeof(struct amdkfd_mc_device_info);
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==, AMDKFD_MC_S_DMA_ERROR);
    {
        char s[7];

        akmc_buf_read(&a, &buf, 0, s, sizeof(s));
        g_assert_cmpstr(s, ==, "secret");
    }
    akmc_assert_alive(d);
    akmc_stop(d);
}

/* Aim MSI-X vector 0 at the device's own register @reg, with @data */
static void msix_aim(AkmcDev *d, uint32_t reg, uint32_t data)
{
    QPCIDevice *pdev = d->pdev;
    uint64_t addr = d->regs.addr + reg;

    qpci_io_writel(pdev, pdev->msix_table_bar, pdev->msix_table_off + 0,
                   (uint32_t)addr);
    qpci_io_writel(pdev, pdev->msix_table_bar, pdev->msix_table_off + 4,
                   addr >> 32);
    qpci_io_writel(pdev, pdev->msix_table_bar, pdev->msix_table_off + 8,
                   data);
    qpci_io_writel(pdev, pdev->msix_table_bar, pdev->msix_table_off + 12, 0);
}

/*
 * An MSI-X message aimed at the device's own CONTROL register (data:
 * RESET) must not re-enter the device while it posts a completion,
 * synchronous or from a worker: the write is dropped, contexts live on.
 */
static void test_msix_reentrancy(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_cpl cpl;
    AkmcProc a;
    uint32_t ev;

    akmc_proc_open(d, &a);
    g_assert_cmpint(akmc_event_create(&a, KFD_IOC_EVENT_SIGNAL, &ev), ==, 0);
    msix_aim(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_RESET);

    /* A wait that times out completes from a worker */
    akmc_wait_async(d, a.ctx, ev, 100, 0);
    g_assert_true(akmc_next_cpl(d, &cpl, 5 * G_USEC_PER_SEC));
    g_assert_cmpuint(cpl.status, ==, AMDKFD_MC_S_OK);
    g_assert_cmphex(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==,
                    AMDKFD_MC_STATUS_READY);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, 1);
    /* And a synchronous one */
    akmc_assert_alive(d);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, 1);
    akmc_stop(d);
}

/*
 * Once the rings are stopped the device writes nothing to guest memory:
 * no payload of a command that was still running (e.g. across kexec),
 * no completion record.
 */
static void test_no_dma_after_stop(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    uint8_t marker[256], now[256];
    uint32_t cq_len = AKMC_DEFAULT_ENTRIES * sizeof(struct amdkfd_mc_cpl);
    g_autofree uint8_t *cq_before = g_malloc(cq_len);
    g_autofree uint8_t *cq_after = g_malloc(cq_len);
    AkmcProc a;
    uint32_t ev;

    akmc_proc_open(d, &a);
    g_assert_cmpint(akmc_event_create(&a, KFD_IOC_EVENT_SIGNAL, &ev), ==, 0);
    akmc_wait_async(d, a.ctx, ev, 300, 4096);
    g_usleep(20 * 1000);
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, 0);

    memset(marker, 0xa5, sizeof(marker));
    qtest_memwrite(d->qts, d->payload + 4096, marker, sizeof(marker));
    qtest_memread(d->qts, d->cq, cq_before, cq_len);
    /* The wait times out meanwhile */
    g_usleep(600 * 1000);
    qtest_memread(d->qts, d->payload + 4096, now, sizeof(now));
    g_assert_cmpmem(marker, sizeof(marker), now, sizeof(now));
    qtest_memread(d->qts, d->cq, cq_after, cq_len);
    g_assert_cmpmem(cq_before, cq_len, cq_after, cq_len);

    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    akmc_assert_alive(d);
    akmc_stop(d);
}

/*
 * Context ids are never reused: 65537 create/destroy cycles of one
 * context at a time give 65537 different ids (a 16-bit generation per
 * slot wrapped here and made a stale id valid again).
 */
static void test_context_ids_unique(void)
{
    /* two: the destroyed one holds its place until its file is closed */
    AkmcDev *d = akmc_start_ready(",max-contexts=2");
    g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
    struct amdkfd_mc_cmd cmd[2];
    struct amdkfd_mc_cpl cpl[2];
    uint32_t id, prev = 0;
    int i;

    for (i = 0; i < 65537; i++) {
        /* the destroy of the previous one and the next create, together */
        int n = prev ? 2 : 1;

        cmd[0] = (struct amdkfd_mc_cmd) {
            .opcode = AMDKFD_MC_OP_DESTROY_CONTEXT,
            .ctx_id = prev,
        };
        cmd[1] = (struct amdkfd_mc_cmd) {
            .opcode = AMDKFD_MC_OP_CREATE_CONTEXT,
        };
        akmc_submit_batch(d, &cmd[2 - n], n);
        g_assert_true(akmc_next_cpls(d, cpl, n, 5 * G_USEC_PER_SEC));
        g_assert_cmpuint(cpl[0].status, ==, AMDKFD_MC_S_OK);
        g_assert_cmpuint(cpl[n - 1].status, ==, AMDKFD_MC_S_OK);
        /* both complete in workers, in either order */
        id = cpl[0].cookie == cmd[1].cookie ? cpl[0].value : cpl[1].value;
        g_assert_true(cpl[0].cookie == cmd[1].cookie ||
                      cpl[n - 1].cookie == cmd[1].cookie);
        g_assert_cmphex(id, !=, 0);
        if (g_hash_table_contains(seen, GUINT_TO_POINTER(id))) {
            g_test_message("cycle %d: id 0x%x handed out again", i, id);
            g_assert_not_reached();
        }
        g_hash_table_add(seen, GUINT_TO_POINTER(id));
        prev = id;
    }
    akmc_assert_alive(d);
    akmc_stop(d);
}

/*
 * The spec's WAIT_EVENTS limit (the KFD's, 4096 events) fits in a
 * payload: a wait on 4096 events is accepted and times out.
 */
static void test_wait_max_events(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    uint32_t n = KFD_SIGNAL_EVENT_LIMIT;
    uint32_t len = sizeof(struct kfd_ioctl_wait_events_args) +
                   n * sizeof(struct kfd_event_data);
    g_autofree uint8_t *buf = g_malloc0(len);
    struct kfd_ioctl_wait_events_args *w = (void *)buf;
    struct kfd_event_data *ev = (void *)(w + 1);
    int32_t result = -1;
    AkmcProc a;
    uint32_t i, id;

    g_assert_cmpuint(len, <=, AMDKFD_MC_MAX_PAYLOAD);
    akmc_proc_open(d, &a);
    /*
     * The signal page has 4095 usable slots once mapped whole (as the KFD
     * counts them); and one event of another kind
     */
    for (i = 0; i < n; i++) {
        g_assert_cmpint(akmc_event_create(&a, i ? KFD_IOC_EVENT_SIGNAL :
                                          KFD_IOC_EVENT_MEMORY, &id), ==, 0);
        ev[i].event_id = id;
        if (i == 1) {
            const uint64_t events = 2ULL << AMDKFD_MC_KFD_MMAP_TYPE_SHIFT;
            uint64_t win;

            g_assert_cmpuint(akmc_map_window(d, a.ctx, events,
                                             KFD_SIGNAL_EVENT_LIMIT * 8, &win,
                                             NULL, &result), ==,
                             AMDKFD_MC_S_OK);
        }
    }
    w->events_ptr = sizeof(*w);
    w->num_events = n;
    w->timeout = 0;
    g_assert_cmpuint(akmc_ioctl_buf(d, a.ctx, AMDKFD_IOC_WAIT_EVENTS, buf,
                                    len, &result), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(result, ==, 0);
    g_assert_cmpuint(w->wait_result, ==, KFD_IOC_WAIT_RESULT_TIMEOUT);
    g_assert_cmphex(w->events_ptr, ==, sizeof(*w));
    akmc_stop(d);
}

/* CREATE_QUEUE with @field of @a replaced by an address nothing maps */
static uint32_t queue_with(AkmcProc *p, struct kfd_ioctl_create_queue_args *a,
                           int32_t *result)
{
    return akmc_ioctl(p->d, p->ctx, AMDKFD_IOC_CREATE_QUEUE, a, sizeof(*a),
                      result);
}

/*
 * Every address of a queue must lie in memory of this context mapped to
 * the queue's GPU (the host KFD treats some of them as user addresses of
 * QEMU); the device refuses others before the backend sees them.
 */
static void test_queue_addresses(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct kfd_ioctl_create_queue_args good, a;
    struct kfd_ioctl_update_queue_args u;
    AkmcBuf ring, ptrs, eop, cwsr, unmapped;
    const uint64_t far = 0x7000000000ULL;
    int32_t result;
    AkmcProc p, q;

    akmc_proc_open(d, &p);
    akmc_proc_open(d, &q);
    akmc_buf_new(&p, 0x1000000, 4096, &ring);
    akmc_buf_new(&p, 0x1010000, 4096, &ptrs);
    akmc_buf_new(&p, 0x1020000, 4096, &eop);
    akmc_buf_new(&p, 0x1100000, 64 * KiB, &cwsr);
    /* Memory of another context at the same addresses proves nothing */
    akmc_buf_new(&q, 0x2000000, 4096, &unmapped);

    good = (struct kfd_ioctl_create_queue_args) {
        .ring_base_address = ring.va,
        .read_pointer_address = ptrs.va,
        .write_pointer_address = ptrs.va + 8,
        .ring_size = 4096,
        .gpu_id = p.gpu_id,
        .queue_type = KFD_IOC_QUEUE_TYPE_SDMA,
        .queue_percentage = 100,
        .queue_priority = 7,
        .eop_buffer_address = eop.va,
        .eop_buffer_size = 4096,
        .ctx_save_restore_address = cwsr.va,
        .ctx_save_restore_size = 64 * KiB,
    };

    a = good;
    a.write_pointer_address = far;
    g_assert_cmpuint(queue_with(&p, &a, &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    a = good;
    a.read_pointer_address = ptrs.va + 4096 - 4;
    g_assert_cmpuint(queue_with(&p, &a, &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    a = good;
    a.ring_base_address = 0x2000000;
    g_assert_cmpuint(queue_with(&p, &a, &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    a = good;
    a.eop_buffer_address = far;
    g_assert_cmpuint(queue_with(&p, &a, &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    a = good;
    a.ctx_save_restore_size = 128 * KiB;
    g_assert_cmpuint(queue_with(&p, &a, &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    a = good;
    a.ring_size = 8192;
    g_assert_cmpuint(queue_with(&p, &a, &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    g_assert_cmpuint(akmc_qom_get_uint(d, "live-contexts"), ==, 2);

    a = good;
    g_assert_cmpuint(queue_with(&p, &a, &result), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(result, ==, 0);

    u = (struct kfd_ioctl_update_queue_args) {
        .ring_base_address = far,
        .queue_id = a.queue_id,
        .ring_size = 4096,
        .queue_percentage = 100,
        .queue_priority = 7,
    };
    g_assert_cmpuint(akmc_ioctl(d, p.ctx, AMDKFD_IOC_UPDATE_QUEUE, &u,
                                sizeof(u), &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    u.ring_base_address = ring.va;
    g_assert_cmpuint(akmc_ioctl(d, p.ctx, AMDKFD_IOC_UPDATE_QUEUE, &u,
                                sizeof(u), &result), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(result, ==, 0);
    akmc_stop(d);
}

/*
 * The doorbell of a queue whose ring copies 2 GiB runs the copies off the
 * vCPU (and off the BQL): the doorbell write returns at once and another
 * context's command completes while the copies still run.
 */
static void test_doorbell_off_bql(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    const uint64_t chunk = 128 * MiB;
    struct kfd_ioctl_get_version_args v;
    AkmcProc a, b;
    AkmcBuf src, dst;
    AkmcQueue q;
    int32_t result;
    gint64 t0, kick, other;
    uint64_t rptr;
    int i;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    /* 16 copies of 128 MiB are 512 COPY_LINEAR packets of 4 MiB */
    akmc_queue_new_sized(&a, 0x1000000, 16 * KiB, &q);
    akmc_buf_new_unmapped(&a, 0x10000000, chunk, &src);
    akmc_buf_new_unmapped(&a, 0x20000000, chunk, &dst);
    for (i = 0; i < 16; i++) {
        akmc_queue_copy(&a, &q, src.va, dst.va, chunk);
    }

    t0 = g_get_monotonic_time();
    akmc_queue_ring(&a, &q);
    kick = g_get_monotonic_time() - t0;
    g_assert_cmpuint(akmc_ioctl(d, b.ctx, AMDKFD_IOC_GET_VERSION, &v,
                                sizeof(v), &result), ==, AMDKFD_MC_S_OK);
    other = g_get_monotonic_time() - t0;
    rptr = akmc_queue_rptr(&a, &q);
    g_test_message("doorbell write %" PRId64 " us, other context's command "
                   "done after %" PRId64 " us, rptr %" PRIu64 " of %" PRIu64,
                   kick, other, rptr, q.wptr);
    g_assert_cmpuint(rptr, <, q.wptr);

    /* The copies finish */
    for (i = 0; i < 3000 && akmc_queue_rptr(&a, &q) != q.wptr; i++) {
        g_usleep(10 * 1000);
    }
    g_assert_cmpuint(akmc_queue_rptr(&a, &q), ==, q.wptr);
    akmc_stop(d);
}

/*
 * 64 waits that never end, spread over four contexts, starve neither a
 * fifth context's wait nor anything else: the device's waits are its own
 * (QEMU's shared thread pool has 64 threads, also serving disk I/O).
 */
static void test_waits_do_not_starve(void)
{
    AkmcDev *d = akmc_start(NULL);
    struct amdkfd_mc_cpl cpl;
    struct kfd_event_data evd;
    AkmcProc p[5];
    uint32_t ev[5], wait_result;
    int i, j, ok = 0;
    gint64 t0;

    g_assert_cmphex(akmc_ring_setup(d, 256), ==, AMDKFD_MC_STATUS_READY);
    for (i = 0; i < 5; i++) {
        akmc_proc_open(d, &p[i]);
        g_assert_cmpint(akmc_event_create(&p[i], KFD_IOC_EVENT_SIGNAL,
                                          &ev[i]), ==, 0);
    }
    for (i = 0; i < 4; i++) {
        for (j = 0; j < 16; j++) {
            akmc_wait_async(d, p[i].ctx, ev[i], UINT32_MAX,
                            8192 + (i * 16 + j) * sizeof(AkmcWait));
        }
    }
    g_usleep(100 * 1000);

    t0 = g_get_monotonic_time();
    g_assert_cmpint(akmc_event_op(&p[4], AMDKFD_IOC_SET_EVENT, ev[4]), ==, 0);
    g_assert_cmpint(akmc_event_wait(&p[4], ev[4], 5000, &wait_result, &evd),
                    ==, 0);
    g_assert_cmpuint(wait_result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 2 * G_USEC_PER_SEC);

    /* Destroying the waiting contexts ends their waits, in any order */
    for (i = 0; i < 4; i++) {
        struct amdkfd_mc_cmd cmd = {
            .opcode = AMDKFD_MC_OP_DESTROY_CONTEXT,
            .ctx_id = p[i].ctx,
        };

        akmc_submit_cmd(d, &cmd);
    }
    for (i = 0; i < 4 + 64; i++) {
        g_assert_true(akmc_next_cpl(d, &cpl, 5 * G_USEC_PER_SEC));
        if (cpl.status == AMDKFD_MC_S_OK) {
            ok++;
        } else {
            g_assert_cmpuint(cpl.status, ==, AMDKFD_MC_S_INVALID_CONTEXT);
        }
    }
    g_assert_cmpint(ok, ==, 4);
    akmc_assert_alive(d);
    akmc_stop(d);
}

/*
 * A mapping is no memory-topology change: after 200 maps the machine's
 * memory tree is what it was, and the window is one RAM-device region.
 */
static void test_window_topology(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    g_autofree char *before = NULL, *after = NULL;
    AkmcProc a;
    AkmcBuf buf[200];
    int i;

    akmc_proc_open(d, &a);
    before = qtest_hmp(d->qts, "info mtree");
    for (i = 0; i < ARRAY_SIZE(buf); i++) {
        akmc_buf_new(&a, 0x1000000 + i * 0x10000, 4096, &buf[i]);
    }
    after = qtest_hmp(d->qts, "info mtree");
    if (strcmp(before, after)) {
        g_test_message("the memory tree changed with the mappings");
        g_assert_not_reached();
    }
    g_assert_nonnull(strstr(after, "ramd): amdkfd-mc-window"));
    akmc_stop(d);
}

/*
 * FREE_MEMORY_OF_GPU does not free window ranges behind the guest
 * driver's back: the mapping keeps the object's memory, and its range
 * goes to no other context until it is unmapped.
 */
static void test_free_keeps_mapping(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    AkmcProc a, b;
    AkmcBuf buf, other[8];
    char s[7];
    int i;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    akmc_buf_new(&a, 0x1000000, 4096, &buf);
    akmc_buf_write(&a, &buf, 0, "secret", 7);
    g_assert_cmpint(akmc_buf_free(&a, &buf), ==, 0);
    akmc_buf_read(&a, &buf, 0, s, sizeof(s));
    g_assert_cmpstr(s, ==, "secret");
    for (i = 0; i < ARRAY_SIZE(other); i++) {
        akmc_buf_new(&b, 0x1000000 + i * 0x10000, 4096, &other[i]);
        g_assert_cmphex(other[i].win, !=, buf.win);
    }
    akmc_stop(d);
}

static void hotplug_ring(AkmcDev *d, uint32_t entries)
{
    qtest_qmp_device_add(d->qts, "amdkfd-mc", "kfd",
                         "{'addr': %s, 'backend': 'sim', "
                         "'window-size': 16777216}", stringify(HP_SLOT));
    akmc_attach(d);
    g_assert_cmphex(akmc_ring_setup(d, entries), ==, AMDKFD_MC_STATUS_READY);
}

/*
 * Guest root can eject the device at any time: here with two waits that
 * never end in workers and, held back by a full completion ring, a
 * CREATE_CONTEXT, a CREATE_EVENT and a MAP_WINDOW in the submission ring,
 * and MSI-X aimed at CQ_HEAD so that a completion posted during the
 * unplug would make room for them.  Nothing of them runs during unplug,
 * and QEMU's fds and mappings go back to where they were.
 */
static void test_unplug_with_queued_commands(void)
{
    AkmcDev *d = akmc_boot("-machine pc");
    int fds = akmc_count_fds(d->qts);
    struct kfd_ioctl_create_event_args ce = {
        .event_type = KFD_IOC_EVENT_SIGNAL,
    };
    struct amdkfd_mc_cmd cmd;
    /* the id a slot-and-generation scheme gives the next context */
    const uint32_t guessed = 0x20001;
    AkmcProc a;
    uint32_t ev;
    int i;

    hotplug_ring(d, 8);
    akmc_proc_open(d, &a);
    g_assert_cmpint(akmc_event_create(&a, KFD_IOC_EVENT_SIGNAL, &ev), ==, 0);
    akmc_wait_async(d, a.ctx, ev, UINT32_MAX, 0);
    akmc_wait_async(d, a.ctx, ev, UINT32_MAX, 256);
    /* five unconsumed completions and the waits fill the completion ring */
    for (i = 0; i < 5; i++) {
        cmd = (struct amdkfd_mc_cmd) {
            .opcode = AMDKFD_MC_OP_DEVICE_INFO,
            .payload_addr = d->payload + 8192,
            .payload_len = sizeof(struct amdkfd_mc_device_info),
        };
        akmc_submit_cmd(d, &cmd);
    }
    g_usleep(50 * 1000);
    cmd = (struct amdkfd_mc_cmd) { .opcode = AMDKFD_MC_OP_CREATE_CONTEXT };
    akmc_submit_cmd(d, &cmd);
    qtest_memwrite(d->qts, d->payload + 4096, &ce, sizeof(ce));
    cmd = (struct amdkfd_mc_cmd) {
        .opcode = AMDKFD_MC_OP_IOCTL,
        .ctx_id = guessed,
        .arg0 = AMDKFD_IOC_CREATE_EVENT,
        .payload_addr = d->payload + 4096,
        .payload_len = sizeof(ce),
    };
    akmc_submit_cmd(d, &cmd);
    cmd = (struct amdkfd_mc_cmd) {
        .opcode = AMDKFD_MC_OP_MAP_WINDOW,
        .ctx_id = guessed,
        .arg1 = 2ULL << AMDKFD_MC_KFD_MMAP_TYPE_SHIFT,
        .arg2 = 4096,
        .payload_addr = d->payload + 12288,
        .payload_len = 32,
    };
    akmc_submit_cmd(d, &cmd);
    g_usleep(50 * 1000);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_SQ_HEAD), ==,
                     (d->sq_tail + 8 - 3) % 8);
    msix_aim(d, AMDKFD_MC_REG_CQ_HEAD, (d->sq_tail + 8 - 3) % 8);

    qpci_unplug_acpi_device_test(d->qts, "kfd", HP_SLOT);
    akmc_detach(d);
    g_assert_cmpint(akmc_count_fds(d->qts), ==, fds);
    g_assert_true(akmc_sim_maps_back_to(d->qts, 0));
    /* The machine goes on, and a new device can be plugged */
    hotplug_ring(d, AKMC_DEFAULT_ENTRIES);
    akmc_assert_alive(d);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, 0);
    akmc_stop(d);
}

/*
 * A racing guest thread unmaps an object, frees it and unmaps it again,
 * all in flight at once: the second unmap's bookkeeping finishes after
 * the free removed the object, which the device once asserted could not
 * happen (an abort any guest program could cause; found by check-guest's
 * userptr-race).
 */
static void test_unmap_after_free(void)
{
    enum { STRIDE = 64, ROUNDS = 8, N = 3 * ROUNDS };
    static const uint32_t req[3] = {
        AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU,
        AMDKFD_IOC_FREE_MEMORY_OF_GPU,
        AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU,
    };
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_cmd cmd[N];
    struct amdkfd_mc_cpl cpl[N];
    uint8_t buf[N * STRIDE];
    AkmcProc p;
    AkmcBuf b;
    int i;

    akmc_proc_open(d, &p);
    memset(buf, 0, sizeof(buf));
    for (i = 0; i < N; i++) {
        /* the handle is first in both; an unmap names the one GPU after */
        struct kfd_ioctl_unmap_memory_from_gpu_args *u =
            (void *)(buf + i * STRIDE);
        bool is_free = req[i % 3] == AMDKFD_IOC_FREE_MEMORY_OF_GPU;

        if (i % 3 == 0) {
            akmc_buf_new_unmapped(&p, 0x40000000 + i * 0x100000, 4096, &b);
        }
        u->handle = b.handle;
        if (!is_free) {
            u->device_ids_array_ptr = sizeof(*u);
            u->n_devices = 1;
            memcpy(buf + i * STRIDE + sizeof(*u), &p.gpu_id, 4);
        }
        cmd[i] = (struct amdkfd_mc_cmd) {
            .opcode = AMDKFD_MC_OP_IOCTL,
            .ctx_id = p.ctx,
            .arg0 = req[i % 3],
            .payload_addr = d->payload + i * STRIDE,
            .payload_len = is_free ?
                sizeof(struct kfd_ioctl_free_memory_of_gpu_args) :
                sizeof(*u) + 4,
        };
    }
    qtest_memwrite(d->qts, d->payload, buf, sizeof(buf));
    akmc_submit_batch(d, cmd, N);
    g_assert_true(akmc_next_cpls(d, cpl, N, 10 * G_USEC_PER_SEC));
    for (i = 0; i < N; i++) {
        /* unmap, free: done; the second unmap names no object */
        g_assert_cmpuint(cpl[i].status, ==, AMDKFD_MC_S_OK);
        if (i % 3 < 2) {
            g_assert_cmpint(cpl[i].result, ==, 0);
        } else {
            g_assert_cmpint(cpl[i].result, <, 0);
        }
    }
    akmc_assert_alive(d);
    g_assert_cmpuint(akmc_qom_get_uint(d, "live-objects"), ==, 0);
    akmc_stop(d);
}

void amdkfd_mc_add_hardening_tests(void)
{
    qtest_add_func("/amdkfd-mc/bad-input/ring-not-ram", test_ring_not_ram);
    qtest_add_func("/amdkfd-mc/bad-input/unmap-after-free",
                   test_unmap_after_free);
    qtest_add_func("/amdkfd-mc/bad-input/payload-not-ram",
                   test_payload_not_ram);
    qtest_add_func("/amdkfd-mc/bad-input/msix-reentrancy",
                   test_msix_reentrancy);
    qtest_add_func("/amdkfd-mc/bad-input/no-dma-after-stop",
                   test_no_dma_after_stop);
    qtest_add_func("/amdkfd-mc/bad-input/context-ids-unique",
                   test_context_ids_unique);
    qtest_add_func("/amdkfd-mc/bad-input/wait-max-events",
                   test_wait_max_events);
    qtest_add_func("/amdkfd-mc/bad-input/queue-addresses",
                   test_queue_addresses);
    qtest_add_func("/amdkfd-mc/workers/doorbell-off-bql",
                   test_doorbell_off_bql);
    qtest_add_func("/amdkfd-mc/workers/waits-do-not-starve",
                   test_waits_do_not_starve);
    qtest_add_func("/amdkfd-mc/window/topology-unchanged",
                   test_window_topology);
    qtest_add_func("/amdkfd-mc/window/free-keeps-mapping",
                   test_free_keeps_mapping);
    qtest_add_func("/amdkfd-mc/hotplug/unplug-with-queued-commands",
                   test_unplug_with_queued_commands);
}
