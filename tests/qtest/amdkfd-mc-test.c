/*
 * QTest of the amdkfd-mc device with the sim backend
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "hw/pci/pci_ids.h"
#include "hw/pci/pci_regs.h"
#include "amdkfd-mc-harness.h"
#include "amdkfd-mc-tests.h"

static void test_probe(void)
{
    AkmcDev *d = akmc_start(",window-size=64M");
    uint32_t bar2;

    g_assert_cmphex(qpci_config_readw(d->pdev, PCI_CLASS_DEVICE), ==,
                    PCI_CLASS_PROCESSOR_CO);
    g_assert_cmphex(qpci_config_readb(d->pdev, PCI_REVISION_ID), ==,
                    AMDKFD_MC_PCI_REVISION);
    g_assert_cmphex(akmc_readl(d, AMDKFD_MC_REG_MAGIC), ==, AMDKFD_MC_MAGIC);
    g_assert_cmphex(akmc_readl(d, AMDKFD_MC_REG_VERSION), ==,
                    AMDKFD_MC_ABI_MAJOR << 16 | AMDKFD_MC_ABI_MINOR);
    g_assert_cmphex(akmc_readl(d, AMDKFD_MC_REG_FEATURES), ==,
                    AMDKFD_MC_FEATURE_MSIX | AMDKFD_MC_FEATURE_IOCTL |
                    AMDKFD_MC_FEATURE_WINDOW | AMDKFD_MC_FEATURE_TOPOLOGY |
                    AMDKFD_MC_FEATURE_ASYNC);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_MAX_CONTEXTS), ==, 256);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, 0);

    /* The window is a 64-bit prefetchable BAR of the configured size */
    g_assert_cmpuint(d->window_size, ==, 64 * MiB);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_WINDOW_SIZE_LO), ==,
                     64 * MiB);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_WINDOW_SIZE_HI), ==, 0);
    bar2 = qpci_config_readl(d->pdev, PCI_BASE_ADDRESS_2);
    g_assert_cmphex(bar2 & PCI_BASE_ADDRESS_MEM_TYPE_MASK, ==,
                    PCI_BASE_ADDRESS_MEM_TYPE_64);
    g_assert_true(bar2 & PCI_BASE_ADDRESS_MEM_PREFETCH);

    g_assert_cmphex(qpci_find_capability(d->pdev, PCI_CAP_ID_MSIX, 0), !=, 0);
    akmc_stop(d);
}

static void test_device_info(void)
{
    AkmcDev *d = akmc_start_ready(",max-contexts=16");
    struct amdkfd_mc_device_info info;

    g_assert_cmpuint(akmc_device_info(d, &info), ==, AMDKFD_MC_S_OK);
    g_assert_cmphex(le32_to_cpu(info.abi_version), ==,
                    AMDKFD_MC_ABI_MAJOR << 16 | AMDKFD_MC_ABI_MINOR);
    g_assert_cmpuint(le32_to_cpu(info.max_contexts), ==, 16);
    g_assert_cmpuint(le32_to_cpu(info.live_contexts), ==, 0);
    g_assert_cmpuint(le32_to_cpu(info.backend), ==, AMDKFD_MC_BACKEND_SIM);
    g_assert_cmpuint(le32_to_cpu(info.kfd_major), ==, 1);
    g_assert_cmpuint(le32_to_cpu(info.kfd_minor), ==, 19);
    g_assert_cmpuint(le32_to_cpu(info.num_nodes), ==, 1);
    g_assert_cmpuint(le64_to_cpu(info.window_size), ==, 256 * MiB);
    akmc_stop(d);
}

#define N_CTX 8

/* I1 in its simplest form: every guest context is its own host context */
static void test_contexts_distinct(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_context_info info[N_CTX];
    uint32_t id[N_CTX];
    int i, j;

    for (i = 0; i < N_CTX; i++) {
        g_assert_cmpuint(akmc_ctx_create(d, &id[i], &info[i]), ==,
                         AMDKFD_MC_S_OK);
        g_assert_cmphex(le32_to_cpu(info[i].ctx_id), ==, id[i]);
        g_assert_cmphex(le32_to_cpu(info[i].flags), ==,
                        AMDKFD_MC_CTX_SECONDARY);
        g_assert_cmphex(le32_to_cpu(info[i].host_ctx_id), <,
                        AMDKFD_MC_KFD_PRIMARY_ID);
        g_assert_cmphex(le32_to_cpu(info[i].pasid), !=, 0);
    }
    for (i = 0; i < N_CTX; i++) {
        for (j = i + 1; j < N_CTX; j++) {
            g_assert_cmphex(id[i], !=, id[j]);
            g_assert_cmphex(info[i].host_ctx_id, !=, info[j].host_ctx_id);
            g_assert_cmphex(info[i].pasid, !=, info[j].pasid);
        }
    }
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, N_CTX);
    for (i = 0; i < N_CTX; i++) {
        g_assert_cmpuint(akmc_ctx_destroy(d, id[i]), ==, AMDKFD_MC_S_OK);
    }
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, 0);
    akmc_stop(d);
}

/*
 * The control for the test above: in legacy-shared mode every guest context
 * is the one primary context, so the distinctness checks would fail.
 */
static void test_contexts_legacy_shared(void)
{
    AkmcDev *d = akmc_start_ready(",legacy-shared=on");
    struct amdkfd_mc_context_info a, b;
    uint32_t ida, idb;

    g_assert_cmpuint(akmc_ctx_create(d, &ida, &a), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_create(d, &idb, &b), ==, AMDKFD_MC_S_OK);
    g_assert_cmphex(ida, !=, idb);
    g_assert_cmphex(le32_to_cpu(a.flags), ==, AMDKFD_MC_CTX_SHARED);
    g_assert_cmphex(le32_to_cpu(a.host_ctx_id), ==, AMDKFD_MC_KFD_PRIMARY_ID);
    g_assert_cmphex(a.host_ctx_id, ==, b.host_ctx_id);
    g_assert_cmphex(a.pasid, ==, b.pasid);
    akmc_stop(d);
}

static void test_contexts_recreate(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_context_info a, b;
    uint32_t ida, idb;

    g_assert_cmpuint(akmc_ctx_create(d, &ida, &a), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_destroy(d, ida), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_create(d, &idb, &b), ==, AMDKFD_MC_S_OK);

    /* Ids are never reused: the old id must not name the new one */
    g_assert_cmphex(ida, !=, idb);
    g_assert_cmpuint(akmc_ctx_destroy(d, ida), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    /* The backend returned the freed context id and reused it */
    g_assert_cmphex(a.host_ctx_id, ==, b.host_ctx_id);
    g_assert_cmpuint(akmc_ctx_destroy(d, idb), ==, AMDKFD_MC_S_OK);
    akmc_stop(d);
}

static void test_ioctl_get_version(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    uint32_t id[3];
    int i;

    for (i = 0; i < ARRAY_SIZE(id); i++) {
        struct kfd_ioctl_get_version_args v = { 0 };
        int32_t result = -1;

        g_assert_cmpuint(akmc_ctx_create(d, &id[i], NULL), ==,
                         AMDKFD_MC_S_OK);
        g_assert_cmpuint(akmc_ioctl(d, id[i], AMDKFD_IOC_GET_VERSION, &v,
                                    sizeof(v), &result), ==, AMDKFD_MC_S_OK);
        g_assert_cmpint(result, ==, 0);
        g_assert_cmpuint(v.major_version, ==, 1);
        g_assert_cmpuint(v.minor_version, ==, 19);
    }
    akmc_stop(d);
}

static void test_msix(void)
{
    AkmcDev *d = akmc_start(NULL);
    struct amdkfd_mc_device_info info;

    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    g_assert_false(qpci_msix_pending(d->pdev, AMDKFD_MC_MSIX_VEC_CQ));
    g_assert_cmpuint(akmc_device_info(d, &info), ==, AMDKFD_MC_S_OK);
    /* The vector is masked, so the completion left it pending */
    g_assert_true(qpci_msix_pending(d->pdev, AMDKFD_MC_MSIX_VEC_CQ));
    g_assert_cmphex(akmc_readl(d, AMDKFD_MC_REG_IRQ_STATUS), ==,
                    AMDKFD_MC_IRQ_CQ);
    akmc_writel(d, AMDKFD_MC_REG_IRQ_STATUS, AMDKFD_MC_IRQ_CQ);
    g_assert_cmphex(akmc_readl(d, AMDKFD_MC_REG_IRQ_STATUS), ==, 0);
    akmc_stop(d);
}

/* The ring wraps and the phase bit flips, many times over */
static void test_ring_wrap(void)
{
    AkmcDev *d = akmc_start(NULL);
    int i;

    g_assert_cmphex(akmc_ring_setup(d, 4), ==, AMDKFD_MC_STATUS_READY);
    for (i = 0; i < 37; i++) {
        akmc_assert_alive(d);
    }
    akmc_stop(d);
}

static void test_reset_control(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    uint32_t id[4];

    akmc_create_some(d, id, ARRAY_SIZE(id));
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_RESET);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, 0);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_RING_ENTRIES), ==, 0);

    /* After a reset the old ids name nothing */
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    g_assert_cmpuint(akmc_ctx_destroy(d, id[0]), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    akmc_stop(d);
}

static void test_reset_system(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    uint32_t id[4];

    akmc_create_some(d, id, ARRAY_SIZE(id));
    qtest_system_reset(d->qts);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, 0);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);
    akmc_stop(d);
}

static void test_migration_blocked(void)
{
    AkmcDev *d = akmc_start(NULL);
    QDict *rsp;
    const char *desc;

    rsp = qtest_qmp(d->qts, "{ 'execute': 'migrate',"
                    "  'arguments': { 'uri': 'exec:cat > /dev/null' } }");
    g_assert_true(qdict_haskey(rsp, "error"));
    desc = qdict_get_str(qdict_get_qdict(rsp, "error"), "desc");
    g_assert_nonnull(strstr(desc, "cannot be migrated"));
    qobject_unref(rsp);
    akmc_stop(d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/amdkfd-mc/probe", test_probe);
    qtest_add_func("/amdkfd-mc/device-info", test_device_info);
    qtest_add_func("/amdkfd-mc/contexts/distinct", test_contexts_distinct);
    qtest_add_func("/amdkfd-mc/contexts/legacy-shared",
                   test_contexts_legacy_shared);
    qtest_add_func("/amdkfd-mc/contexts/recreate", test_contexts_recreate);
    qtest_add_func("/amdkfd-mc/ioctl/get-version", test_ioctl_get_version);
    qtest_add_func("/amdkfd-mc/ring/msix", test_msix);
    qtest_add_func("/amdkfd-mc/ring/wrap", test_ring_wrap);
    qtest_add_func("/amdkfd-mc/reset/control", test_reset_control);
    qtest_add_func("/amdkfd-mc/reset/system", test_reset_system);
    qtest_add_func("/amdkfd-mc/migration-blocked", test_migration_blocked);
    amdkfd_mc_add_isolation_tests();
    amdkfd_mc_add_bad_input_tests();
    amdkfd_mc_add_lifecycle_tests();
    amdkfd_mc_add_hardening_tests();
    amdkfd_mc_add_limits_tests();
    return g_test_run();
}
