/*
 * QTest harness for amdkfd-mc: a minimal guest driver that programs the
 * rings and submits commands the way the guest ABI describes them.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef AMDKFD_MC_HARNESS_H
#define AMDKFD_MC_HARNESS_H

#include "qemu/bswap.h"
#include "libqos/libqos-pc.h"
#include "libqos/pci.h"
#include "hw/misc/amdkfd-mc-abi.h"
#include "hw/misc/amdkfd-mc-kfd.h"

#define AKMC_DEFAULT_ENTRIES 64

typedef struct AkmcDev {
    QOSState *qs;
    QTestState *qts;
    QPCIDevice *pdev;
    QPCIBar regs;
    QPCIBar window;
    uint64_t window_size;
    uint64_t sq;
    uint64_t cq;
    uint64_t payload;           /* AMDKFD_MC_MAX_PAYLOAD bytes of scratch */
    uint32_t entries;
    uint32_t sq_tail;
    uint32_t cq_head;
    bool phase;
    uint64_t next_cookie;
} AkmcDev;

/* Boot a pc machine with "-device amdkfd-mc,backend=sim<opts>" */
AkmcDev *akmc_start(const char *opts);
void akmc_stop(AkmcDev *d);

uint32_t akmc_readl(AkmcDev *d, uint32_t reg);
void akmc_writel(AkmcDev *d, uint32_t reg, uint32_t val);

/* Program and enable rings of @entries; returns the STATUS register */
uint32_t akmc_ring_setup(AkmcDev *d, uint32_t entries);

/* Submit one command and wait for its completion */
uint32_t akmc_exec(AkmcDev *d, struct amdkfd_mc_cmd *cmd,
                   struct amdkfd_mc_cpl *cpl);

uint32_t akmc_device_info(AkmcDev *d, struct amdkfd_mc_device_info *info);
uint32_t akmc_ctx_create(AkmcDev *d, uint32_t *id,
                         struct amdkfd_mc_context_info *info);
uint32_t akmc_ctx_destroy(AkmcDev *d, uint32_t id);
/* Forward a KFD ioctl; @arg is copied in and back out through the payload */
uint32_t akmc_ioctl(AkmcDev *d, uint32_t ctx, uint32_t request, void *arg,
                    uint32_t size, int32_t *result);

#endif
