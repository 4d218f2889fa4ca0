/*
 * QTest of amdkfd-mc: the isolation properties I1-I7
 *
 * Every case runs twice: on isolated contexts, where each attack must
 * fail, and with legacy-shared=on, which behaves like a hypervisor on a
 * kernel before Linux 7.0 (all guest programs in one KFD process), where
 * the attack cases must observe the breach.  A case that cannot tell the
 * two apart proves nothing, so both outcomes are asserted.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "amdkfd-mc-harness.h"
#include "amdkfd-mc-tests.h"

/* Disjoint GPU virtual addresses for A and B, so legacy mode can share */
#define VA_A        0x1000000ULL
#define VA_B        0x2000000ULL
#define SECRET_LEN  64

static const char secret[SECRET_LEN] = "A's secret: 7f3a9c51 e04b2d88";

static AkmcDev *start(bool legacy)
{
    AkmcDev *d = akmc_start(legacy ? ",legacy-shared=on" : NULL);

    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    return d;
}

/* I1: every guest context is a distinct backend context */
static void isolation_contexts(const void *opaque)
{
    bool legacy = GPOINTER_TO_INT(opaque);
    AkmcDev *d = start(legacy);
    struct amdkfd_mc_context_info a, b;
    uint32_t ida, idb;

    g_assert_cmpuint(akmc_ctx_create(d, &ida, &a), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_create(d, &idb, &b), ==, AMDKFD_MC_S_OK);
    if (legacy) {
        g_assert_cmphex(a.host_ctx_id, ==, b.host_ctx_id);
        g_assert_cmphex(a.pasid, ==, b.pasid);
    } else {
        g_assert_cmphex(a.host_ctx_id, !=, b.host_ctx_id);
        g_assert_cmphex(a.pasid, !=, b.pasid);
        g_assert_true(le32_to_cpu(a.flags) & AMDKFD_MC_CTX_SECONDARY);
    }
    g_assert_cmpuint(akmc_qom_get_uint(d, "backend-contexts"), ==,
                     legacy ? 1 : 3);
    akmc_stop(d);
}

/* I2: handles (memory, events, queues) of A are not valid in B */
static void isolation_handles(const void *opaque)
{
    bool legacy = GPOINTER_TO_INT(opaque);
    AkmcDev *d = start(legacy);
    struct kfd_ioctl_destroy_queue_args dq;
    AkmcProc a, b;
    AkmcQueue qa;
    AkmcBuf ba;
    uint32_t ev, wr;
    int32_t result;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    akmc_buf_new(&a, VA_A, 4096, &ba);
    akmc_queue_new(&a, VA_A + 0x100000, &qa);
    g_assert_cmpint(akmc_event_create(&a, KFD_IOC_EVENT_SIGNAL, &ev), ==, 0);

    /* B names A's event, memory handle and queue id */
    result = akmc_event_op(&b, AMDKFD_IOC_SET_EVENT, ev);
    g_assert_cmpint(result, ==, legacy ? 0 : -EINVAL);
    g_assert_cmpint(akmc_event_wait(&a, ev, 0, &wr, NULL), ==, 0);
    result = akmc_handle_free(&b, ba.handle);
    if (legacy) {
        /* One KFD process: B signalled A's event and freed A's memory */
        g_assert_cmpuint(wr, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
        g_assert_cmpint(result, ==, 0);
        g_assert_cmpint(akmc_buf_free(&a, &ba), ==, -EINVAL);
    } else {
        g_assert_cmpuint(wr, ==, KFD_IOC_WAIT_RESULT_TIMEOUT);
        g_assert_cmpint(result, ==, -EINVAL);
        g_assert_cmpint(akmc_buf_free(&a, &ba), ==, 0);
    }
    dq.queue_id = qa.id;
    g_assert_cmpuint(akmc_ioctl(d, b.ctx, AMDKFD_IOC_DESTROY_QUEUE, &dq,
                                sizeof(dq), &result), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(result, ==, legacy ? 0 : -EINVAL);
    akmc_stop(d);
}

/*
 * I3: DMA submitted by B that names A's addresses faults; no byte of A
 * reaches B and A's data stays intact.
 */
static void isolation_dma(const void *opaque)
{
    bool legacy = GPOINTER_TO_INT(opaque);
    AkmcDev *d = start(legacy);
    char got[SECRET_LEN], zero[SECRET_LEN] = { 0 };
    struct kfd_event_data ev;
    AkmcProc a, b;
    AkmcBuf sa, sb;
    AkmcQueue qb;
    uint32_t mem_ev, wr;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    akmc_buf_new(&a, VA_A, 4096, &sa);
    akmc_buf_write(&a, &sa, 0, secret, sizeof(secret));

    akmc_buf_new(&b, VA_B, 4096, &sb);
    akmc_queue_new(&b, VA_B + 0x100000, &qb);
    g_assert_cmpint(akmc_event_create(&b, KFD_IOC_EVENT_MEMORY, &mem_ev),
                    ==, 0);

    /* B's own copy works: the engine is fine and the test can succeed */
    akmc_buf_write(&b, &sb, 2048, "B's own", 8);
    akmc_queue_copy(&b, &qb, VA_B + 2048, VA_B + 1024, 8);
    akmc_queue_kick(&b, &qb);
    akmc_buf_read(&b, &sb, 1024, got, 8);
    g_assert_cmpstr(got, ==, "B's own");

    /* The attack: copy from A's address into B's buffer */
    akmc_queue_copy(&b, &qb, VA_A, VA_B, SECRET_LEN);
    akmc_queue_fence(&b, &qb, VA_B + 512, 0x600d);
    akmc_queue_kick(&b, &qb);
    akmc_buf_read(&b, &sb, 0, got, sizeof(got));
    if (legacy) {
        g_assert_cmpmem(got, sizeof(got), secret, sizeof(secret));
    } else {
        g_assert_cmpmem(got, sizeof(got), zero, sizeof(zero));
        /* The fault is B's: its memory event fired with A's address */
        g_assert_cmpint(akmc_event_wait(&b, mem_ev, 0, &wr, &ev), ==, 0);
        g_assert_cmpuint(wr, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
        g_assert_cmphex(ev.memory_exception_data.va, ==, VA_A);
        /* Nothing after the faulting packet ran */
        akmc_buf_read(&b, &sb, 512, got, 4);
        g_assert_cmpmem(got, 4, zero, 4);
    }
    akmc_buf_read(&a, &sa, 0, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), secret, sizeof(secret));
    akmc_stop(d);
}

/* The event page's mmap offset (KFD_MMAP_TYPE_EVENTS) */
#define EVENT_PAGE_OFFSET   (2ULL << AMDKFD_MC_KFD_MMAP_TYPE_SHIFT)
#define EVENT_PAGE_SECRET   2048

/* A keeps a secret in its event page, through its own window mapping */
static void a_marks_event_page(AkmcProc *a)
{
    uint64_t win;
    int32_t result;
    uint32_t ev;

    g_assert_cmpint(akmc_event_create(a, KFD_IOC_EVENT_SIGNAL, &ev), ==, 0);
    g_assert_cmpuint(akmc_map_window(a->d, a->ctx, EVENT_PAGE_OFFSET, 4096,
                                     &win, NULL, &result), ==, AMDKFD_MC_S_OK);
    qpci_memwrite(a->d->pdev, a->d->window, win + EVENT_PAGE_SECRET, secret,
                  sizeof(secret));
}

/*
 * The window attacks of I4 and I6.  B asks for A's memory object by its
 * mmap offset: the device refuses offsets of objects B did not allocate,
 * whatever the backend.  Then B maps "the" event page: its own, unless all
 * contexts share one KFD process.  Returns true if B read A's secret.
 */
static bool b_reads_a_through_window(AkmcDev *d, AkmcProc *b, AkmcBuf *sa)
{
    char got[SECRET_LEN];
    uint64_t win;
    int32_t result;
    uint32_t status;

    g_assert_cmpuint(akmc_map_window(d, b->ctx, sa->mmap_offset, 4096, &win,
                                     NULL, &result), ==,
                     AMDKFD_MC_S_NOT_SUPPORTED);
    status = akmc_map_window(d, b->ctx, EVENT_PAGE_OFFSET, 4096, &win, NULL,
                             &result);
    if (status != AMDKFD_MC_S_OK) {
        /* B has no event page of its own */
        g_assert_cmpuint(status, ==, AMDKFD_MC_S_BACKEND_ERROR);
        g_assert_cmpint(result, ==, -EINVAL);
        return false;
    }
    qpci_memread(d->pdev, d->window, win + EVENT_PAGE_SECRET, got,
                 sizeof(got));
    return !memcmp(got, secret, sizeof(secret));
}

/* I4: B cannot map A's objects into its window */
static void isolation_window(const void *opaque)
{
    bool legacy = GPOINTER_TO_INT(opaque);
    AkmcDev *d = start(legacy);
    char got[SECRET_LEN];
    AkmcProc a, b;
    AkmcBuf sa;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    akmc_buf_new(&a, VA_A, 4096, &sa);
    akmc_buf_write(&a, &sa, 0, secret, sizeof(secret));
    a_marks_event_page(&a);

    g_assert_true(b_reads_a_through_window(d, &b, &sa) == legacy);
    if (!legacy) {
        /* B cannot unmap A's window mapping either */
        g_assert_cmpuint(akmc_unmap_window(d, b.ctx, sa.map_id), ==,
                         AMDKFD_MC_S_INVALID_ARGUMENT);
        akmc_buf_read(&a, &sa, 0, got, sizeof(got));
        g_assert_cmpmem(got, sizeof(got), secret, sizeof(secret));
    }
    akmc_stop(d);
}

/*
 * I5: events signalled in A never wake or change B.  A's wait is blocked
 * in a worker while B signals; B's own signal never reaches A.
 */
static void isolation_events(const void *opaque)
{
    bool legacy = GPOINTER_TO_INT(opaque);
    AkmcDev *d = start(legacy);
    struct amdkfd_mc_cpl cpl;
    AkmcWait w;
    AkmcProc a, b;
    uint32_t ea, eb, wr;
    uint64_t wait_cookie;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    g_assert_cmpint(akmc_event_create(&a, KFD_IOC_EVENT_SIGNAL, &ea), ==, 0);
    g_assert_cmpint(akmc_event_create(&b, KFD_IOC_EVENT_SIGNAL, &eb), ==, 0);
    if (!legacy) {
        /* Ids restart per context, so B's first event has A's number */
        g_assert_cmpuint(ea, ==, eb);
    }

    /* A waits up to 10 s in the background */
    wait_cookie = akmc_wait_async(d, a.ctx, ea, 10000, 4096);

    /*
     * B signals A's event id.  Isolated, that id names B's own event, and
     * B's wait sees it; shared, it is A's event.
     */
    g_assert_cmpint(akmc_event_op(&b, AMDKFD_IOC_SET_EVENT, ea), ==, 0);
    if (!legacy) {
        g_assert_cmpint(akmc_event_wait(&b, eb, 0, &wr, NULL), ==, 0);
        g_assert_cmpuint(wr, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
    }

    if (legacy) {
        /* One process, one event: B's signal woke A */
        g_assert_true(akmc_next_cpl(d, &cpl, 5 * G_USEC_PER_SEC));
        g_assert_cmphex(cpl.cookie, ==, wait_cookie);
    } else {
        /* A sleeps on; then A's own signal wakes it */
        g_assert_false(akmc_next_cpl(d, &cpl, 300 * 1000));
        g_assert_cmpint(akmc_event_op(&a, AMDKFD_IOC_SET_EVENT, ea), ==, 0);
        g_assert_true(akmc_next_cpl(d, &cpl, 5 * G_USEC_PER_SEC));
        g_assert_cmphex(cpl.cookie, ==, wait_cookie);
    }
    g_assert_cmpuint(cpl.status, ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(cpl.result, ==, 0);
    akmc_wait_result(d, 4096, &w);
    g_assert_cmpuint(w.a.wait_result, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
    g_assert_cmphex(w.a.events_ptr, ==, offsetof(AkmcWait, ev));
    akmc_stop(d);
}

/* I6: destroying A frees everything of A, and B keeps working */
static void isolation_destroy(const void *opaque)
{
    bool legacy = GPOINTER_TO_INT(opaque);
    AkmcDev *d = start(legacy);
    char got[SECRET_LEN];
    AkmcProc a, b;
    AkmcBuf sa, sb;
    AkmcQueue qa, qb;
    uint32_t ea, eb;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    akmc_buf_new(&a, VA_A, 4096, &sa);
    akmc_buf_write(&a, &sa, 0, secret, sizeof(secret));
    akmc_queue_new(&a, VA_A + 0x100000, &qa);
    g_assert_cmpint(akmc_event_create(&a, KFD_IOC_EVENT_SIGNAL, &ea), ==, 0);
    a_marks_event_page(&a);
    akmc_buf_new(&b, VA_B, 4096, &sb);
    akmc_queue_new(&b, VA_B + 0x100000, &qb);

    g_assert_cmpuint(akmc_ctx_destroy(d, a.ctx), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_qom_get_uint(d, "live-contexts"), ==, 1);
    /* A's window mapping is gone: the window reads zero there */
    qpci_memread(d->pdev, d->window, sa.win, got, sizeof(got));
    g_assert_cmpuint(got[0], ==, 0);

    /* B goes on: DMA, events */
    akmc_buf_write(&b, &sb, 0, "still here", 11);
    akmc_queue_copy(&b, &qb, VA_B, VA_B + 100, 11);
    akmc_queue_kick(&b, &qb);
    akmc_buf_read(&b, &sb, 100, got, 11);
    g_assert_cmpstr(got, ==, "still here");
    g_assert_cmpint(akmc_event_create(&b, KFD_IOC_EVENT_SIGNAL, &eb), ==, 0);

    /*
     * A's memory outlives A only when A was never isolated: then B can
     * still map it and read A's secret.
     */
    g_assert_true(b_reads_a_through_window(d, &b, &sa) == legacy);
    if (!legacy) {
        /* The backend holds B's secondary and the primary, nothing of A */
        g_assert_cmpuint(akmc_qom_get_uint(d, "backend-contexts"), ==, 2);
    }
    akmc_stop(d);
}

/* I7: reset and reboot leave no backend context or mapping behind */
static void isolation_reset(const void *opaque)
{
    bool legacy = GPOINTER_TO_INT(opaque);
    AkmcDev *d = start(legacy);
    AkmcProc a, b;
    AkmcBuf sa, sb;
    AkmcQueue qa;
    uint32_t ea;
    char got[8];

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    akmc_buf_new(&a, VA_A, 4096, &sa);
    akmc_buf_write(&a, &sa, 0, secret, sizeof(secret));
    akmc_queue_new(&a, VA_A + 0x100000, &qa);
    akmc_buf_new(&b, VA_B, 4096, &sb);
    g_assert_cmpint(akmc_event_create(&a, KFD_IOC_EVENT_SIGNAL, &ea), ==, 0);
    g_assert_cmpuint(akmc_qom_get_uint(d, "mapped-bytes"), >, 0);

    /* A wait is in flight when the reset comes */
    akmc_wait_async(d, a.ctx, ea, 20000, 0);
    g_usleep(50 * 1000);

    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_RESET);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, 0);
    g_assert_cmpuint(akmc_qom_get_uint(d, "mapped-bytes"), ==, 0);
    qpci_memread(d->pdev, d->window, sa.win, got, sizeof(got));
    g_assert_cmpuint(got[0], ==, 0);
    /* The cancelled wait returns promptly and its file goes with it */
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);
    g_assert_true(akmc_wait_backend_contexts(d, 0));

    /* The device works again after the reset, and again after reboot */
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    akmc_proc_open(d, &a);
    akmc_buf_new(&a, VA_A, 4096, &sa);
    qtest_system_reset(d->qts);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, 0);
    g_assert_cmpuint(akmc_qom_get_uint(d, "mapped-bytes"), ==, 0);
    g_assert_true(akmc_wait_backend_contexts(d, 0));
    akmc_stop(d);
}

static void add_case(const char *name, GTestDataFunc fn)
{
    g_autofree char *iso = g_strdup_printf("/amdkfd-mc/isolation/%s/isolated",
                                           name);
    g_autofree char *leg = g_strdup_printf("/amdkfd-mc/isolation/%s/"
                                           "legacy-shared", name);

    qtest_add_data_func(iso, GINT_TO_POINTER(false), fn);
    qtest_add_data_func(leg, GINT_TO_POINTER(true), fn);
}

void amdkfd_mc_add_isolation_tests(void)
{
    add_case("I1-distinct-contexts", isolation_contexts);
    add_case("I2-handles", isolation_handles);
    add_case("I3-dma", isolation_dma);
    add_case("I4-window", isolation_window);
    add_case("I5-events", isolation_events);
    add_case("I6-destroy", isolation_destroy);
    add_case("I7-reset", isolation_reset);
}
