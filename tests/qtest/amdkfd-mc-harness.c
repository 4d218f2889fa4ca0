/*
 * QTest harness for amdkfd-mc
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "amdkfd-mc-harness.h"

/* How long a completion may take before the test calls it lost */
#define AKMC_TIMEOUT_US (10 * G_USEC_PER_SEC)

static void akmc_save_dev(QPCIDevice *dev, int devfn, void *data)
{
    QPCIDevice **pdev = data;

    g_assert_null(*pdev);
    *pdev = dev;
}

AkmcDev *akmc_start(const char *opts)
{
    AkmcDev *d = g_new0(AkmcDev, 1);

    d->qs = qtest_pc_boot("-machine q35 -device amdkfd-mc,backend=sim%s",
                          opts ? opts : "");
    d->qts = d->qs->qts;
    qpci_device_foreach(d->qs->pcibus, AMDKFD_MC_PCI_VENDOR_ID,
                        AMDKFD_MC_PCI_DEVICE_ID, akmc_save_dev, &d->pdev);
    g_assert_nonnull(d->pdev);
    qpci_device_enable(d->pdev);
    /* The largest, most aligned BAR first, so that all fit below 4 GiB */
    d->window = qpci_iomap(d->pdev, AMDKFD_MC_BAR_WINDOW, &d->window_size);
    d->regs = qpci_iomap(d->pdev, AMDKFD_MC_BAR_REGS, NULL);
    qpci_msix_enable(d->pdev);
    d->payload = guest_alloc(&d->qs->alloc, AMDKFD_MC_MAX_PAYLOAD);
    d->next_cookie = 0x1000;
    return d;
}

void akmc_stop(AkmcDev *d)
{
    g_free(d->pdev);
    qtest_shutdown(d->qs);
    g_free(d);
}

uint32_t akmc_readl(AkmcDev *d, uint32_t reg)
{
    return qpci_io_readl(d->pdev, d->regs, reg);
}

void akmc_writel(AkmcDev *d, uint32_t reg, uint32_t val)
{
    qpci_io_writel(d->pdev, d->regs, reg, val);
}

uint32_t akmc_ring_setup(AkmcDev *d, uint32_t entries)
{
    size_t sq_len = entries * sizeof(struct amdkfd_mc_cmd);
    size_t cq_len = entries * sizeof(struct amdkfd_mc_cpl);

    d->entries = entries;
    d->sq = guest_alloc(&d->qs->alloc, sq_len);
    d->cq = guest_alloc(&d->qs->alloc, cq_len);
    g_assert_cmpuint(d->sq % AMDKFD_MC_RING_ALIGN, ==, 0);
    g_assert_cmpuint(d->cq % AMDKFD_MC_RING_ALIGN, ==, 0);
    qtest_memset(d->qts, d->cq, 0, cq_len);
    d->sq_tail = 0;
    d->cq_head = 0;
    d->phase = true;

    akmc_writel(d, AMDKFD_MC_REG_SQ_BASE_LO, (uint32_t)d->sq);
    akmc_writel(d, AMDKFD_MC_REG_SQ_BASE_HI, d->sq >> 32);
    akmc_writel(d, AMDKFD_MC_REG_CQ_BASE_LO, (uint32_t)d->cq);
    akmc_writel(d, AMDKFD_MC_REG_CQ_BASE_HI, d->cq >> 32);
    akmc_writel(d, AMDKFD_MC_REG_RING_ENTRIES, entries);
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    return akmc_readl(d, AMDKFD_MC_REG_STATUS);
}

static void akmc_submit(AkmcDev *d, const struct amdkfd_mc_cmd *cmd)
{
    struct amdkfd_mc_cmd le = *cmd;
    int i;

    le.opcode = cpu_to_le16(cmd->opcode);
    le.flags = cpu_to_le16(cmd->flags);
    le.ctx_id = cpu_to_le32(cmd->ctx_id);
    le.cookie = cpu_to_le64(cmd->cookie);
    le.payload_addr = cpu_to_le64(cmd->payload_addr);
    le.payload_len = cpu_to_le32(cmd->payload_len);
    le.arg0 = cpu_to_le32(cmd->arg0);
    le.arg1 = cpu_to_le64(cmd->arg1);
    le.arg2 = cpu_to_le64(cmd->arg2);
    for (i = 0; i < ARRAY_SIZE(le.reserved); i++) {
        le.reserved[i] = cpu_to_le64(cmd->reserved[i]);
    }
    qtest_memwrite(d->qts, d->sq + d->sq_tail * sizeof(le), &le, sizeof(le));
    d->sq_tail = (d->sq_tail + 1) % d->entries;
    akmc_writel(d, AMDKFD_MC_REG_SQ_TAIL, d->sq_tail);
}

static bool akmc_wait_cpl(AkmcDev *d, struct amdkfd_mc_cpl *cpl)
{
    uint64_t addr = d->cq + d->cq_head * sizeof(*cpl);
    gint64 deadline = g_get_monotonic_time() + AKMC_TIMEOUT_US;

    do {
        qtest_memread(d->qts, addr, cpl, sizeof(*cpl));
        if (!!(le32_to_cpu(cpl->flags) & AMDKFD_MC_CPL_PHASE) == d->phase) {
            cpl->cookie = le64_to_cpu(cpl->cookie);
            cpl->status = le32_to_cpu(cpl->status);
            cpl->result = le32_to_cpu(cpl->result);
            cpl->value = le64_to_cpu(cpl->value);
            cpl->sq_head = le32_to_cpu(cpl->sq_head);
            d->cq_head = (d->cq_head + 1) % d->entries;
            if (d->cq_head == 0) {
                d->phase = !d->phase;
            }
            akmc_writel(d, AMDKFD_MC_REG_CQ_HEAD, d->cq_head);
            return true;
        }
        g_usleep(100);
    } while (g_get_monotonic_time() < deadline);
    return false;
}

uint32_t akmc_exec(AkmcDev *d, struct amdkfd_mc_cmd *cmd,
                   struct amdkfd_mc_cpl *cpl)
{
    cmd->cookie = d->next_cookie++;
    akmc_submit(d, cmd);
    g_assert_true(akmc_wait_cpl(d, cpl));
    g_assert_cmphex(cpl->cookie, ==, cmd->cookie);
    return cpl->status;
}

uint32_t akmc_device_info(AkmcDev *d, struct amdkfd_mc_device_info *info)
{
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_DEVICE_INFO,
        .payload_addr = d->payload,
        .payload_len = sizeof(*info),
    };
    struct amdkfd_mc_cpl cpl;
    uint32_t status = akmc_exec(d, &cmd, &cpl);

    qtest_memread(d->qts, d->payload, info, sizeof(*info));
    return status;
}

uint32_t akmc_ctx_create(AkmcDev *d, uint32_t *id,
                         struct amdkfd_mc_context_info *info)
{
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_CREATE_CONTEXT,
        .payload_addr = d->payload,
        .payload_len = info ? sizeof(*info) : 0,
    };
    struct amdkfd_mc_cpl cpl;
    uint32_t status = akmc_exec(d, &cmd, &cpl);

    *id = cpl.value;
    if (info) {
        qtest_memread(d->qts, d->payload, info, sizeof(*info));
    }
    return status;
}

uint32_t akmc_ctx_destroy(AkmcDev *d, uint32_t id)
{
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_DESTROY_CONTEXT,
        .ctx_id = id,
    };
    struct amdkfd_mc_cpl cpl;

    return akmc_exec(d, &cmd, &cpl);
}

uint32_t akmc_ioctl(AkmcDev *d, uint32_t ctx, uint32_t request, void *arg,
                    uint32_t size, int32_t *result)
{
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_IOCTL,
        .ctx_id = ctx,
        .arg0 = request,
        .payload_addr = d->payload,
        .payload_len = size,
    };
    struct amdkfd_mc_cpl cpl;
    uint32_t status;

    g_assert_cmpuint(size, <=, AMDKFD_MC_MAX_PAYLOAD);
    qtest_memwrite(d->qts, d->payload, arg, size);
    status = akmc_exec(d, &cmd, &cpl);
    qtest_memread(d->qts, d->payload, arg, size);
    *result = cpl.result;
    return status;
}
