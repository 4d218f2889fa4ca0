/*
 * QTest of amdkfd-mc: the hardware queue formats of the sim backend
 *
 * A guest program drives the sim's engines through the device as ROCr
 * does: SDMA v4 packets (ROCr's copy sequence, polls released by a CPU
 * store and SET_EVENT) and AQL packets (barriers, completion signals with
 * an event, a kernel dispatch run by the shader interpreter and the queue
 * error of a malformed one), with doorbells written through the window.
 * The formats are described in sim-kfd.h.
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

#define DATA_VA     0x1000000ULL    /* 64 KiB of data and signals */
#define SDMA_VA     0x2000000ULL
#define AQL_VA      0x3000000ULL
#define PAGE_VA     0x4000000ULL    /* the event page */

#define SIG_OFF     32768           /* signals in the data buffer */
#define SIG_VA(i)   (DATA_VA + SIG_OFF + (i) * SIM_SIGNAL_SIZE)
#define SIG(i)      (SIG_OFF + (i) * SIM_SIGNAL_SIZE)

/* One guest program with data, an event page and both kinds of queue */
typedef struct Prog {
    AkmcDev *d;
    AkmcProc p;
    AkmcBuf data;
    AkmcBuf page;
    uint32_t ev;                /* a signal event on the page */
    uint64_t mailbox;           /* its slot */
    AkmcQueue sdma;
    AkmcAqlQueue aql;
} Prog;

static void prog_open(AkmcDev *d, Prog *g)
{
    g->d = d;
    akmc_proc_open(d, &g->p);
    akmc_buf_new(&g->p, DATA_VA, 64 * KiB, &g->data);
    g_assert_cmpint(akmc_event_create_on_page(&g->p, PAGE_VA, &g->page,
                                              &g->ev), ==, 0);
    g->mailbox = PAGE_VA + g->ev * 8ULL;
    akmc_queue_new(&g->p, SDMA_VA, &g->sdma);
    akmc_aql_new(&g->p, AQL_VA, &g->aql);
}

static uint32_t read32(Prog *g, uint64_t off)
{
    uint32_t v;

    akmc_buf_read(&g->p, &g->data, off, &v, 4);
    return le32_to_cpu(v);
}

static void write64(Prog *g, AkmcBuf *b, uint64_t off, uint64_t v)
{
    v = cpu_to_le64(v);
    akmc_buf_write(&g->p, b, off, &v, 8);
}

static uint64_t slot_of(Prog *g)
{
    uint64_t v;

    akmc_buf_read(&g->p, &g->page, g->ev * 8ULL, &v, 8);
    return le64_to_cpu(v);
}

static void assert_event(Prog *g, uint32_t timeout_ms)
{
    uint32_t wr;

    g_assert_cmpint(akmc_event_wait(&g->p, g->ev, timeout_ms, &wr, NULL),
                    ==, 0);
    g_assert_cmpuint(wr, ==, KFD_IOC_WAIT_RESULT_COMPLETE);
}

/* ROCr 5.2.3's SDMA copy with a dependency and an interrupt signal */
static void formats_sdma_rocr_copy(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    uint8_t src[4096], got[4096];
    Prog g;
    unsigned i;

    prog_open(d, &g);
    for (i = 0; i < sizeof(src); i++) {
        src[i] = i * 7 + 1;
    }
    akmc_buf_write(&g.p, &g.data, 0, src, sizeof(src));
    akmc_signal_init(&g.p, &g.data, SIG(0), 1, g.mailbox, g.ev);
    akmc_signal_init(&g.p, &g.data, SIG(1), 0, 0, 0);

    akmc_queue_poll_eq(&g.p, &g.sdma, SIG_VA(1) + SIM_SIGNAL_VALUE + 4, 0);
    akmc_queue_poll_eq(&g.p, &g.sdma, SIG_VA(1) + SIM_SIGNAL_VALUE, 0);
    akmc_queue_hdp_flush(&g.p, &g.sdma);
    akmc_queue_copy(&g.p, &g.sdma, DATA_VA, DATA_VA + 8192, sizeof(src));
    akmc_queue_atomic_add64(&g.p, &g.sdma, SIG_VA(0) + SIM_SIGNAL_VALUE, -1);
    akmc_queue_fence(&g.p, &g.sdma, g.mailbox, g.ev);
    akmc_queue_trap(&g.p, &g.sdma, g.ev);
    akmc_queue_kick(&g.p, &g.sdma);

    assert_event(&g, 5000);
    akmc_buf_read(&g.p, &g.data, 8192, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), src, sizeof(src));
    g_assert_cmpint(akmc_signal_value(&g.p, &g.data, SIG(0)), ==, 0);
    g_assert_cmpuint(akmc_queue_rptr(&g.p, &g.sdma), ==, g.sdma.wptr);
    /* the KFD acknowledged the mailbox write */
    g_assert_cmphex(slot_of(&g), ==, SIM_KFD_UNSIGNALED_SLOT);
    akmc_stop(d);
}

/* A poll released by the guest CPU: a store, then SET_EVENT, as ROCr */
static void formats_sdma_poll_set_event(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    Prog g;
    int i;

    prog_open(d, &g);
    akmc_signal_init(&g.p, &g.data, SIG(0), 1, g.mailbox, g.ev);
    akmc_queue_poll_eq(&g.p, &g.sdma, SIG_VA(0) + SIM_SIGNAL_VALUE, 0);
    akmc_queue_fence(&g.p, &g.sdma, DATA_VA + 64, 0x600d);
    akmc_queue_kick(&g.p, &g.sdma);
    g_assert_cmpuint(read32(&g, 64), ==, 0);
    g_assert_cmpuint(akmc_queue_rptr(&g.p, &g.sdma), <, g.sdma.wptr);

    write64(&g, &g.data, SIG(0) + SIM_SIGNAL_VALUE, 0);
    g_assert_cmpint(akmc_event_op(&g.p, AMDKFD_IOC_SET_EVENT, g.ev), ==, 0);
    for (i = 0; i < 500 && read32(&g, 64) != 0x600d; i++) {
        g_usleep(10 * 1000);
    }
    g_assert_cmphex(read32(&g, 64), ==, 0x600d);
    g_assert_cmpuint(akmc_queue_rptr(&g.p, &g.sdma), ==, g.sdma.wptr);
    akmc_stop(d);
}

/*
 * An AQL barrier on a signal that an SDMA copy decrements, and its
 * completion signal with an event: hipMemcpy's pattern on ROCr
 */
static void formats_aql_barrier(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    uint64_t deps[5] = { SIG_VA(0) };
    Prog g;

    prog_open(d, &g);
    akmc_signal_init(&g.p, &g.data, SIG(0), 1, 0, 0);
    akmc_signal_init(&g.p, &g.data, SIG(1), 1, g.mailbox, g.ev);
    akmc_aql_packet(&g.p, &g.aql, SIM_AQL_TYPE_BARRIER_AND |
                    SIM_AQL_HDR_BARRIER, deps, SIG_VA(1));
    akmc_aql_kick(&g.p, &g.aql);
    g_assert_cmpuint(akmc_aql_rptr(&g.p, &g.aql), ==, 0);
    g_assert_cmpint(akmc_signal_value(&g.p, &g.data, SIG(1)), ==, 1);

    akmc_queue_copy(&g.p, &g.sdma, DATA_VA, DATA_VA + 4096, 256);
    akmc_queue_atomic_add64(&g.p, &g.sdma, SIG_VA(0) + SIM_SIGNAL_VALUE, -1);
    akmc_queue_kick(&g.p, &g.sdma);

    assert_event(&g, 5000);
    g_assert_cmpint(akmc_signal_value(&g.p, &g.data, SIG(1)), ==, 0);
    g_assert_cmpuint(akmc_aql_rptr(&g.p, &g.aql), ==, 1);
    g_assert_cmpuint(akmc_aql_header(&g.p, &g.aql, 0), ==,
                     SIM_AQL_TYPE_INVALID | SIM_AQL_HDR_BARRIER);

    /* a barrier with nothing to wait for completes on its doorbell */
    akmc_aql_packet(&g.p, &g.aql, SIM_AQL_TYPE_BARRIER_AND, NULL, SIG_VA(1));
    akmc_signal_init(&g.p, &g.data, SIG(1), 1, g.mailbox, g.ev);
    akmc_aql_kick(&g.p, &g.aql);
    assert_event(&g, 5000);
    g_assert_cmpuint(akmc_aql_rptr(&g.p, &g.aql), ==, 2);
    akmc_stop(d);
}

/* A malformed kernel dispatch (all zero) ends in the queue error ROCr sees */
static void formats_aql_dispatch_error(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    Prog g, h;

    prog_open(d, &g);
    /* the queue's inactive signal, an interrupt signal */
    akmc_signal_init(&g.p, &g.data, SIG(0), 0, g.mailbox, g.ev);
    write64(&g, &g.aql.amdq, SIM_AMD_QUEUE_INACTIVE_SIGNAL, SIG_VA(0));
    akmc_signal_init(&g.p, &g.data, SIG(1), 1, 0, 0);
    akmc_aql_packet(&g.p, &g.aql, SIM_AQL_TYPE_KERNEL_DISPATCH |
                    SIM_AQL_HDR_BARRIER, NULL, SIG_VA(1));
    akmc_aql_packet(&g.p, &g.aql, SIM_AQL_TYPE_BARRIER_AND, NULL, SIG_VA(1));
    akmc_aql_kick(&g.p, &g.aql);

    assert_event(&g, 5000);
    g_assert_cmpint(akmc_signal_value(&g.p, &g.data, SIG(0)), ==,
                    SIM_AQL_ERR_INVALID_PACKET);
    /* stopped at the dispatch: nothing after it, its signal untouched */
    g_assert_cmpint(akmc_signal_value(&g.p, &g.data, SIG(1)), ==, 1);
    g_assert_cmpuint(akmc_aql_rptr(&g.p, &g.aql), ==, 0);
    g_assert_cmpuint(akmc_aql_header(&g.p, &g.aql, 0) & 0xff, ==,
                     SIM_AQL_TYPE_KERNEL_DISPATCH);
    g_assert_cmpuint(akmc_qom_get_uint(d, "live-contexts"), ==, 1);

    /* another program's queue is not affected */
    prog_open(d, &h);
    akmc_signal_init(&h.p, &h.data, SIG(0), 1, h.mailbox, h.ev);
    akmc_aql_packet(&h.p, &h.aql, SIM_AQL_TYPE_BARRIER_AND, NULL, SIG_VA(0));
    akmc_aql_kick(&h.p, &h.aql);
    assert_event(&h, 5000);
    g_assert_cmpint(akmc_signal_value(&h.p, &h.data, SIG(0)), ==, 0);
    akmc_stop(d);
}

/*
 * A kernel dispatch runs on the sim's shader interpreter: gfx906 code
 * (hand-encoded) storing each work-item's id + 0x100 to out[id], 128
 * work-items in two workgroups; its completion signal's event fires
 */
static void formats_aql_kernel(void)
{
    static const uint32_t code[] = {
        0xc0060100, 0x00000000,     /* s_load_dwordx2 s[4:5], s[0:1], 0 */
        0x8e038602,                 /* s_lshl_b32 s3, s2, 6 */
        0x68020003,                 /* v_add_u32 v1, s3, v0 */
        0xbf8cc07f,                 /* s_waitcnt lgkmcnt(0) */
        0x24040282,                 /* v_lshlrev_b32 v2, 2, v1 */
        0x7e060205,                 /* v_mov_b32 v3, s5 */
        0x32040404,                 /* v_add_co_u32 v2, vcc, s4, v2 */
        0x38060680,                 /* v_addc_co_u32 v3, vcc, 0, v3, vcc */
        0x680202ff, 0x00000100,     /* v_add_u32 v1, 0x100, v1 */
        0xdc708000, 0x007f0102,     /* global_store_dword v[2:3], v1, off */
        0xbf810000,                 /* s_endpgm */
    };
    uint8_t kd[64] = { 0 }, pkt[SIM_AQL_PACKET_SIZE] = { 0 };
    uint64_t slot;
    uint32_t w[ARRAY_SIZE(code)];
    AkmcDev *d = akmc_start_ready(NULL);
    unsigned i;
    Prog g;

    prog_open(d, &g);
    /* the kernel descriptor at 16 KiB, its code 256 bytes on */
    stq_le_p(kd + 16, 256);
    stl_le_p(kd + 48, 0);                       /* 4 VGPRs */
    stl_le_p(kd + 52, (2 << 1) | (1 << 7));     /* kernarg ptr, TGID_X */
    stw_le_p(kd + 56, 1 << 3);
    akmc_buf_write(&g.p, &g.data, 16384, kd, sizeof(kd));
    for (i = 0; i < ARRAY_SIZE(code); i++) {
        w[i] = cpu_to_le32(code[i]);
    }
    akmc_buf_write(&g.p, &g.data, 16384 + 256, w, sizeof(w));
    write64(&g, &g.data, 12288, DATA_VA);       /* out */
    akmc_signal_init(&g.p, &g.data, SIG(0), 1, g.mailbox, g.ev);

    stw_le_p(pkt + 2, 1);
    stw_le_p(pkt + 4, 64);
    stw_le_p(pkt + 6, 1);
    stw_le_p(pkt + 8, 1);
    stl_le_p(pkt + 12, 128);
    stl_le_p(pkt + 16, 1);
    stl_le_p(pkt + 20, 1);
    stq_le_p(pkt + 32, DATA_VA + 16384);
    stq_le_p(pkt + 40, DATA_VA + 12288);
    stq_le_p(pkt + 56, SIG_VA(0));
    slot = (g.aql.widx++ % AKMC_AQL_SLOTS) * SIM_AQL_PACKET_SIZE;
    akmc_buf_write(&g.p, &g.aql.ring, slot + 2, pkt + 2, sizeof(pkt) - 2);
    stw_le_p(pkt, SIM_AQL_TYPE_KERNEL_DISPATCH | SIM_AQL_HDR_BARRIER);
    akmc_buf_write(&g.p, &g.aql.ring, slot, pkt, 2);
    akmc_aql_kick(&g.p, &g.aql);

    assert_event(&g, 5000);
    g_assert_cmpint(akmc_signal_value(&g.p, &g.data, SIG(0)), ==, 0);
    g_assert_cmpuint(akmc_aql_rptr(&g.p, &g.aql), ==, 1);
    for (i = 0; i < 128; i++) {
        g_assert_cmphex(read32(&g, i * 4), ==, i + 0x100);
    }
    akmc_assert_alive(d);
    akmc_stop(d);
}

/* Malformed packets halt their queue only; the device goes on */
static void formats_malformed(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    uint32_t bad[] = { 0xdeadbe03, 0, 0, 0 };
    AkmcQueue q2;
    Prog g;

    prog_open(d, &g);
    akmc_queue_emit(&g.p, &g.sdma, bad, ARRAY_SIZE(bad));
    akmc_queue_fence(&g.p, &g.sdma, DATA_VA + 64, 1);
    akmc_queue_kick(&g.p, &g.sdma);
    akmc_queue_fence(&g.p, &g.sdma, DATA_VA + 68, 2);
    akmc_queue_kick(&g.p, &g.sdma);
    g_assert_cmpuint(read32(&g, 64), ==, 0);
    g_assert_cmpuint(read32(&g, 68), ==, 0);
    g_assert_cmpuint(akmc_queue_rptr(&g.p, &g.sdma), ==, 0);

    /* a reserved AQL packet type, with no inactive signal to report to */
    akmc_aql_packet(&g.p, &g.aql, 0x42, NULL, 0);
    akmc_aql_packet(&g.p, &g.aql, SIM_AQL_TYPE_BARRIER_AND, NULL, 0);
    akmc_aql_kick(&g.p, &g.aql);
    g_assert_cmpuint(akmc_aql_rptr(&g.p, &g.aql), ==, 0);

    /* the context's other queues and the device work */
    akmc_queue_new(&g.p, SDMA_VA + 0x100000, &q2);
    akmc_queue_fence(&g.p, &q2, DATA_VA + 72, 3);
    akmc_queue_kick(&g.p, &q2);
    g_assert_cmpuint(read32(&g, 72), ==, 3);
    akmc_assert_alive(d);
    akmc_stop(d);
}

void amdkfd_mc_add_formats_tests(void)
{
    qtest_add_func("/amdkfd-mc/formats/sdma-rocr-copy",
                   formats_sdma_rocr_copy);
    qtest_add_func("/amdkfd-mc/formats/sdma-poll-set-event",
                   formats_sdma_poll_set_event);
    qtest_add_func("/amdkfd-mc/formats/aql-barrier", formats_aql_barrier);
    qtest_add_func("/amdkfd-mc/formats/aql-dispatch-error",
                   formats_aql_dispatch_error);
    qtest_add_func("/amdkfd-mc/formats/aql-kernel", formats_aql_kernel);
    qtest_add_func("/amdkfd-mc/formats/malformed", formats_malformed);
}
