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

static AkmcDev *start_ready(const char *opts)
{
    AkmcDev *d = akmc_start(opts);

    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    return d;
}

/* The device must still answer after whatever a test did to it */
static void assert_alive(AkmcDev *d)
{
    struct amdkfd_mc_device_info info;

    g_assert_cmphex(akmc_readl(d, AMDKFD_MC_REG_MAGIC), ==, AMDKFD_MC_MAGIC);
    g_assert_cmpuint(akmc_device_info(d, &info), ==, AMDKFD_MC_S_OK);
}

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
    AkmcDev *d = start_ready(",max-contexts=16");
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
    AkmcDev *d = start_ready(NULL);
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
    AkmcDev *d = start_ready(",legacy-shared=on");
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
    AkmcDev *d = start_ready(NULL);
    struct amdkfd_mc_context_info a, b;
    uint32_t ida, idb;

    g_assert_cmpuint(akmc_ctx_create(d, &ida, &a), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_destroy(d, ida), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_create(d, &idb, &b), ==, AMDKFD_MC_S_OK);

    /* Same slot, new generation: the old id must not name the new one */
    g_assert_cmphex(AMDKFD_MC_CTX_SLOT(ida), ==, AMDKFD_MC_CTX_SLOT(idb));
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
    AkmcDev *d = start_ready(NULL);
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
        assert_alive(d);
    }
    akmc_stop(d);
}

static void create_some(AkmcDev *d, uint32_t *id, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        g_assert_cmpuint(akmc_ctx_create(d, &id[i], NULL), ==,
                         AMDKFD_MC_S_OK);
    }
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, n);
}

static void test_reset_control(void)
{
    AkmcDev *d = start_ready(NULL);
    uint32_t id[4];

    create_some(d, id, ARRAY_SIZE(id));
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
    AkmcDev *d = start_ready(NULL);
    uint32_t id[4];

    create_some(d, id, ARRAY_SIZE(id));
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

/* Bad input: each gets its documented status and the device lives on */

static void test_bad_opcode(void)
{
    AkmcDev *d = start_ready(NULL);
    struct amdkfd_mc_cmd cmd = { .opcode = 0x7777 };
    struct amdkfd_mc_cpl cpl;

    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_OPCODE);
    cmd = (struct amdkfd_mc_cmd) { .opcode = 0 };
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_OPCODE);
    assert_alive(d);
    akmc_stop(d);
}

static void test_bad_context_unknown(void)
{
    AkmcDev *d = start_ready(NULL);
    struct kfd_ioctl_get_version_args v = { 0 };
    int32_t result;
    uint32_t id;

    g_assert_cmpuint(akmc_ctx_create(d, &id, NULL), ==, AMDKFD_MC_S_OK);
    /* Never created: right slot with a wrong generation, and an empty slot */
    g_assert_cmpuint(akmc_ctx_destroy(d, id + 0x10000), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    g_assert_cmpuint(akmc_ioctl(d, id + 1, AMDKFD_IOC_GET_VERSION, &v,
                                sizeof(v), &result), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    /* Slot 0 and slots past max-contexts */
    g_assert_cmpuint(akmc_ctx_destroy(d, 0), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    g_assert_cmpuint(akmc_ctx_destroy(d, 0x1ffff), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    g_assert_cmpuint(akmc_ctx_destroy(d, 0xffffffff), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    /* The real context is unharmed */
    g_assert_cmpuint(akmc_ioctl(d, id, AMDKFD_IOC_GET_VERSION, &v, sizeof(v),
                                &result), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(result, ==, 0);
    akmc_stop(d);
}

static void test_bad_context_destroyed(void)
{
    AkmcDev *d = start_ready(NULL);
    struct kfd_ioctl_get_version_args v = { 0 };
    int32_t result;
    uint32_t id, other;

    g_assert_cmpuint(akmc_ctx_create(d, &id, NULL), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_create(d, &other, NULL), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_destroy(d, id), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_destroy(d, id), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    g_assert_cmpuint(akmc_ioctl(d, id, AMDKFD_IOC_GET_VERSION, &v, sizeof(v),
                                &result), ==, AMDKFD_MC_S_INVALID_CONTEXT);
    g_assert_cmpuint(akmc_ioctl(d, other, AMDKFD_IOC_GET_VERSION, &v,
                                sizeof(v), &result), ==, AMDKFD_MC_S_OK);
    akmc_stop(d);
}

static void test_bad_payload_outside_ram(void)
{
    AkmcDev *d = start_ready(NULL);
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_DEVICE_INFO,
        .payload_addr = 0x7ff0000000000ULL,
        .payload_len = sizeof(struct amdkfd_mc_device_info),
    };
    struct amdkfd_mc_cpl cpl;

    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==, AMDKFD_MC_S_DMA_ERROR);
    /* A create whose reply cannot be written leaves no context behind */
    cmd.opcode = AMDKFD_MC_OP_CREATE_CONTEXT;
    cmd.payload_len = sizeof(struct amdkfd_mc_context_info);
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==, AMDKFD_MC_S_DMA_ERROR);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, 0);
    /* Wrapping past the end of the address space */
    cmd.opcode = AMDKFD_MC_OP_DEVICE_INFO;
    cmd.payload_addr = UINT64_MAX - 8;
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==, AMDKFD_MC_S_DMA_ERROR);
    assert_alive(d);
    akmc_stop(d);
}

/* A payload that points at the device's own registers is not RAM */
static void test_bad_payload_mmio(void)
{
    AkmcDev *d = start_ready(NULL);
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_DEVICE_INFO,
        .payload_addr = (uintptr_t)d->regs.addr,
        .payload_len = sizeof(struct amdkfd_mc_device_info),
    };
    struct amdkfd_mc_cpl cpl;

    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==, AMDKFD_MC_S_DMA_ERROR);
    assert_alive(d);
    akmc_stop(d);
}

static void test_bad_kick_before_setup(void)
{
    AkmcDev *d = akmc_start(NULL);

    akmc_writel(d, AMDKFD_MC_REG_SQ_TAIL, 1);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_ERROR), ==,
                     AMDKFD_MC_S_NOT_READY);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_SQ_HEAD), ==, 0);
    akmc_writel(d, AMDKFD_MC_REG_ERROR, 0);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_ERROR), ==, AMDKFD_MC_S_OK);
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    assert_alive(d);
    akmc_stop(d);
}

static void test_bad_ring_geometry(void)
{
    AkmcDev *d = akmc_start(NULL);
    uint64_t ram = guest_alloc(&d->qs->alloc, 2 * AMDKFD_MC_RING_ALIGN);

    /* Misaligned base */
    akmc_writel(d, AMDKFD_MC_REG_SQ_BASE_LO, ram + 64);
    akmc_writel(d, AMDKFD_MC_REG_CQ_BASE_LO, ram + AMDKFD_MC_RING_ALIGN);
    akmc_writel(d, AMDKFD_MC_REG_RING_ENTRIES, 16);
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_ERROR), ==,
                     AMDKFD_MC_S_INVALID_RING);

    /* Not a power of two, too large, overlapping rings */
    akmc_writel(d, AMDKFD_MC_REG_SQ_BASE_LO, ram);
    akmc_writel(d, AMDKFD_MC_REG_RING_ENTRIES, 24);
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);
    akmc_writel(d, AMDKFD_MC_REG_RING_ENTRIES, 8192);
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);
    akmc_writel(d, AMDKFD_MC_REG_RING_ENTRIES, 128);
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);

    /* Rings outside RAM */
    akmc_writel(d, AMDKFD_MC_REG_ERROR, 0);
    akmc_writel(d, AMDKFD_MC_REG_RING_ENTRIES, 16);
    akmc_writel(d, AMDKFD_MC_REG_SQ_BASE_HI, 0x7ff00);
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_ERROR), ==,
                     AMDKFD_MC_S_DMA_ERROR);

    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    assert_alive(d);
    akmc_stop(d);
}

static void test_bad_doorbell(void)
{
    AkmcDev *d = start_ready(NULL);

    akmc_writel(d, AMDKFD_MC_REG_SQ_TAIL, AKMC_DEFAULT_ENTRIES + 5);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_ERROR), ==,
                     AMDKFD_MC_S_INVALID_RING);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_SQ_HEAD), ==, 0);
    /* Geometry cannot change under a live ring */
    akmc_writel(d, AMDKFD_MC_REG_ERROR, 0);
    akmc_writel(d, AMDKFD_MC_REG_RING_ENTRIES, 2);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_ERROR), ==,
                     AMDKFD_MC_S_INVALID_RING);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_RING_ENTRIES), ==,
                     AKMC_DEFAULT_ENTRIES);
    assert_alive(d);
    akmc_stop(d);
}

static void test_bad_reserved_fields(void)
{
    AkmcDev *d = start_ready(NULL);
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_DEVICE_INFO,
        .payload_addr = d->payload,
        .payload_len = sizeof(struct amdkfd_mc_device_info),
        .flags = 1,
    };
    struct amdkfd_mc_cpl cpl;

    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    cmd.flags = 0;
    cmd.reserved[1] = 1;
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    /* Device-level commands name no context */
    cmd.reserved[1] = 0;
    cmd.ctx_id = 1;
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    assert_alive(d);
    akmc_stop(d);
}

static void test_bad_lengths(void)
{
    AkmcDev *d = start_ready(NULL);
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_DEVICE_INFO,
        .payload_addr = d->payload,
        .payload_len = AMDKFD_MC_MAX_PAYLOAD + 1,
    };
    struct kfd_ioctl_get_version_args v = { 0 };
    struct amdkfd_mc_cpl cpl;
    uint32_t id;

    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    /* Too short for the reply */
    cmd.payload_len = 8;
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    /* An ioctl payload must be exactly the request's size */
    g_assert_cmpuint(akmc_ctx_create(d, &id, NULL), ==, AMDKFD_MC_S_OK);
    cmd = (struct amdkfd_mc_cmd) {
        .opcode = AMDKFD_MC_OP_IOCTL,
        .ctx_id = id,
        .arg0 = AMDKFD_IOC_GET_VERSION,
        .payload_addr = d->payload,
        .payload_len = sizeof(v) + 4,
    };
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    assert_alive(d);
    akmc_stop(d);
}

static void test_bad_too_many_contexts(void)
{
    AkmcDev *d = start_ready(",max-contexts=4");
    uint32_t id[4], extra;

    create_some(d, id, ARRAY_SIZE(id));
    g_assert_cmpuint(akmc_ctx_create(d, &extra, NULL), ==,
                     AMDKFD_MC_S_NO_RESOURCES);
    g_assert_cmpuint(extra, ==, 0);
    g_assert_cmpuint(akmc_ctx_destroy(d, id[2]), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_create(d, &extra, NULL), ==, AMDKFD_MC_S_OK);
    assert_alive(d);
    akmc_stop(d);
}

static void test_bad_ioctl_refused(void)
{
    AkmcDev *d = start_ready(NULL);
    static const uint32_t refused[] = {
        AMDKFD_IOC_CREATE_PROCESS,
        AMDKFD_IOC_SVM,
        AMDKFD_IOC_DBG_TRAP,
        AMDKFD_IOC_CRIU_OP,
        AMDKFD_IOC_SMI_EVENTS,
        AMDKFD_IOC_IMPORT_DMABUF,
        AMDKFD_IOC_EXPORT_DMABUF,
        /* Unknown numbers, and a known one with the wrong size bits */
        _IOWR(AMDKFD_IOCTL_BASE, 0x7f, uint64_t),
        _IOR(AMDKFD_IOCTL_BASE, 0x01, uint32_t),
    };
    uint8_t buf[4096] = { 0 };
    int32_t result;
    uint32_t id;
    int i;

    g_assert_cmpuint(akmc_ctx_create(d, &id, NULL), ==, AMDKFD_MC_S_OK);
    for (i = 0; i < ARRAY_SIZE(refused); i++) {
        uint32_t size = MIN(_IOC_SIZE(refused[i]), sizeof(buf));

        g_assert_cmpuint(akmc_ioctl(d, id, refused[i], buf, size, &result),
                         ==, AMDKFD_MC_S_NOT_SUPPORTED);
    }
    assert_alive(d);
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
    qtest_add_func("/amdkfd-mc/bad-input/opcode", test_bad_opcode);
    qtest_add_func("/amdkfd-mc/bad-input/context-unknown",
                   test_bad_context_unknown);
    qtest_add_func("/amdkfd-mc/bad-input/context-destroyed",
                   test_bad_context_destroyed);
    qtest_add_func("/amdkfd-mc/bad-input/payload-outside-ram",
                   test_bad_payload_outside_ram);
    qtest_add_func("/amdkfd-mc/bad-input/payload-mmio",
                   test_bad_payload_mmio);
    qtest_add_func("/amdkfd-mc/bad-input/kick-before-setup",
                   test_bad_kick_before_setup);
    qtest_add_func("/amdkfd-mc/bad-input/ring-geometry",
                   test_bad_ring_geometry);
    qtest_add_func("/amdkfd-mc/bad-input/doorbell", test_bad_doorbell);
    qtest_add_func("/amdkfd-mc/bad-input/reserved-fields",
                   test_bad_reserved_fields);
    qtest_add_func("/amdkfd-mc/bad-input/lengths", test_bad_lengths);
    qtest_add_func("/amdkfd-mc/bad-input/too-many-contexts",
                   test_bad_too_many_contexts);
    qtest_add_func("/amdkfd-mc/bad-input/ioctl-refused",
                   test_bad_ioctl_refused);
    return g_test_run();
}
