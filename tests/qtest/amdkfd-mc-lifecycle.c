/*
 * QTest of amdkfd-mc: what operators see and do: the QOM view of live
 * contexts, hotplug and unplug with live contexts, and the host backend's
 * refusal of a KFD it cannot isolate on.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "amdkfd-mc-harness.h"
#include "amdkfd-mc-tests.h"

#define HP_SLOT 6

static void test_qom_contexts(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_context_info info;
    AkmcProc a, b;
    AkmcBuf buf;
    AkmcQueue q;
    uint32_t ev;
    QDict *rsp, *c;
    QList *list;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    akmc_buf_new(&a, 0x1000000, 8192, &buf);
    akmc_queue_new(&a, 0x2000000, &q);
    g_assert_cmpint(akmc_event_create(&a, KFD_IOC_EVENT_SIGNAL, &ev), ==, 0);

    rsp = qtest_qmp(d->qts, "{ 'execute': 'qom-get', 'arguments': "
                    "{ 'path': '/machine/peripheral/kfd', "
                    "'property': 'contexts' } }");
    list = qdict_get_qlist(rsp, "return");
    /* docs/system/devices/amdkfd-mc.rst quotes this */
    {
        g_autoptr(GString) json = qobject_to_json_pretty(QOBJECT(rsp), true);

        g_test_message("qom-get contexts: %s", json->str);
    }
    g_assert_cmpuint(qlist_size(list), ==, 2);
    c = qobject_to(QDict, qlist_peek(list));
    g_assert_cmphex(qdict_get_int(c, "guest-id"), ==, a.ctx);
    /* The ring, the pointers and the buffer; the doorbell is no object */
    g_assert_cmpint(qdict_get_int(c, "objects"), ==, 3);
    g_assert_cmpint(qdict_get_int(c, "mapped-bytes"), ==, 8192 + 3 * 4096);
    g_assert_cmpint(qdict_get_int(c, "queues"), ==, 1);
    g_assert_cmpint(qdict_get_int(c, "events"), ==, 1);
    g_assert_true(qdict_haskey(c, "host-id"));
    g_assert_true(qdict_haskey(c, "pasid"));
    qobject_unref(rsp);

    /* A third context shows up with the ids its creation reported */
    {
        uint32_t id;

        g_assert_cmpuint(akmc_ctx_create(d, &id, &info), ==,
                         AMDKFD_MC_S_OK);
        rsp = qtest_qmp(d->qts, "{ 'execute': 'qom-get', 'arguments': "
                        "{ 'path': '/machine/peripheral/kfd', "
                        "'property': 'contexts' } }");
        list = qdict_get_qlist(rsp, "return");
        g_assert_cmpuint(qlist_size(list), ==, 3);
        qobject_unref(rsp);
    }
    akmc_stop(d);
}

static void hotplug_and_use(AkmcDev *d)
{
    AkmcProc a, b;
    AkmcBuf ba, bb;
    uint32_t ev;

    qtest_qmp_device_add(d->qts, "amdkfd-mc", "kfd",
                         "{'addr': %s, 'backend': 'sim', "
                         "'window-size': 16777216}",
                         stringify(HP_SLOT));
    /* libqos never reuses BAR space: a small window fits twice */
    akmc_attach(d);
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    akmc_buf_new(&a, 0x1000000, 64 * 1024, &ba);
    akmc_buf_new(&b, 0x2000000, 64 * 1024, &bb);
    akmc_buf_write(&a, &ba, 0, "data", 5);
    g_assert_cmpint(akmc_event_create(&a, KFD_IOC_EVENT_SIGNAL, &ev), ==, 0);

    /* Unplug comes while a wait is in flight */
    akmc_wait_async(d, a.ctx, ev, 30000, 0);
    g_assert_cmpuint(akmc_qom_get_uint(d, "live-contexts"), ==, 2);
    g_assert_cmpint(akmc_count_sim_maps(d->qts), >, 0);
}

static void test_hotplug_unplug(void)
{
    AkmcDev *d = akmc_boot("-machine pc");
    int fds, round;
    QDict *rsp;

    fds = akmc_count_fds(d->qts);
    g_assert_cmpint(akmc_count_sim_maps(d->qts), ==, 0);
    for (round = 0; round < 2; round++) {
        gint64 t0;

        hotplug_and_use(d);
        t0 = g_get_monotonic_time();
        qpci_unplug_acpi_device_test(d->qts, "kfd", HP_SLOT);
        akmc_detach(d);
        /* The 30 s wait was cancelled, not waited out */
        g_assert_cmpint(g_get_monotonic_time() - t0, <, 10 * G_USEC_PER_SEC);

        rsp = qtest_qmp(d->qts, "{ 'execute': 'qom-get', 'arguments': "
                        "{ 'path': '/machine/peripheral/kfd', "
                        "'property': 'live-contexts' } }");
        g_assert_true(qdict_haskey(rsp, "error"));
        qobject_unref(rsp);
        g_assert_cmpint(akmc_count_fds(d->qts), ==, fds);
        g_assert_true(akmc_sim_maps_back_to(d->qts, 0));
    }
    akmc_stop(d);
}

/* No KFD at all, or a file that is not one: realize fails, QEMU lives */
static void test_host_refused(void)
{
    AkmcDev *d = akmc_boot("-machine pc");
    static const char *const paths[] = {
        "/nonexistent/kfd", "/dev/null",
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(paths); i++) {
        QDict *rsp = qtest_qmp(d->qts, "{ 'execute': 'device_add', "
                               "'arguments': { 'driver': 'amdkfd-mc', "
                               "'id': 'kfd', 'backend': 'host', "
                               "'kfd-path': %s } }", paths[i]);
        const char *desc;

        g_assert_true(qdict_haskey(rsp, "error"));
        desc = qdict_get_str(qdict_get_qdict(rsp, "error"), "desc");
        g_assert_nonnull(strstr(desc, "amdkfd-mc"));
        g_assert_nonnull(strstr(desc, paths[i]));
        qobject_unref(rsp);
    }
    /* legacy-shared is a sim test mode; the host backend refuses it */
    {
        QDict *rsp = qtest_qmp(d->qts, "{ 'execute': 'device_add', "
                               "'arguments': { 'driver': 'amdkfd-mc', "
                               "'backend': 'host', 'legacy-shared': true } }");

        g_assert_true(qdict_haskey(rsp, "error"));
        qobject_unref(rsp);
    }
    akmc_stop(d);
}

void amdkfd_mc_add_lifecycle_tests(void)
{
    qtest_add_func("/amdkfd-mc/qmp/contexts", test_qom_contexts);
    qtest_add_func("/amdkfd-mc/hotplug/unplug-with-contexts",
                   test_hotplug_unplug);
    qtest_add_func("/amdkfd-mc/host/refused", test_host_refused);
}
