/*
 * amdkfd-mc: execution of one command from the submission ring
 *
 * Every field of a command comes from the guest and is checked here before
 * it is used; every failure is a defined status in the completion record.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "amdkfd-mc-internal.h"
#include "trace.h"

/* The guest ABI's layouts are fixed; see docs/specs/amdkfd-mc.rst */
QEMU_BUILD_BUG_ON(sizeof(struct amdkfd_mc_cmd) != 64);
QEMU_BUILD_BUG_ON(sizeof(struct amdkfd_mc_cpl) != 32);
QEMU_BUILD_BUG_ON(sizeof(struct amdkfd_mc_device_info) != 64);
QEMU_BUILD_BUG_ON(sizeof(struct amdkfd_mc_context_info) != 16);
QEMU_BUILD_BUG_ON(sizeof(struct amdkfd_mc_topology) != 16);
QEMU_BUILD_BUG_ON(sizeof(struct amdkfd_mc_topology_node) != 88);

static bool amdkfd_mc_cmd_reserved_clear(const struct amdkfd_mc_cmd *cmd)
{
    return cmd->flags == 0 && cmd->reserved[0] == 0 && cmd->reserved[1] == 0;
}

/* GPU nodes the guest sees: DEVICE_INFO and QUERY_TOPOLOGY agree */
static uint32_t amdkfd_mc_num_nodes(AmdkfdMcState *s)
{
    return MIN(s->be_ops->num_nodes(s->be), AMDKFD_MC_MAX_NODES);
}

/* Write a reply of @len bytes to the payload, which must have room for it */
static uint32_t amdkfd_mc_reply(AmdkfdMcState *s,
                                const struct amdkfd_mc_cmd *cmd,
                                const void *buf, uint32_t len)
{
    if (cmd->payload_len < len) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    if (!amdkfd_mc_dma_write(s, cmd->payload_addr, buf, len)) {
        return AMDKFD_MC_S_DMA_ERROR;
    }
    return AMDKFD_MC_S_OK;
}

static uint32_t amdkfd_mc_cmd_device_info(AmdkfdMcState *s,
                                          const struct amdkfd_mc_cmd *cmd)
{
    struct amdkfd_mc_device_info info = {
        .abi_version = cpu_to_le32(AMDKFD_MC_ABI_MAJOR << 16 |
                                   AMDKFD_MC_ABI_MINOR),
        .features = cpu_to_le32(AMDKFD_MC_FEATURES),
        .max_contexts = cpu_to_le32(s->max_contexts),
        .live_contexts = cpu_to_le32(s->live_contexts),
        .backend = cpu_to_le32(s->be_ops->kind),
        .num_nodes = cpu_to_le32(amdkfd_mc_num_nodes(s)),
        .window_size = cpu_to_le64(s->window_size),
    };
    uint32_t major = 0, minor = 0;

    s->be_ops->version(s->be, &major, &minor);
    info.kfd_major = cpu_to_le32(major);
    info.kfd_minor = cpu_to_le32(minor);
    return amdkfd_mc_reply(s, cmd, &info, sizeof(info));
}

static uint32_t amdkfd_mc_cmd_create_context(AmdkfdMcState *s,
                                             const struct amdkfd_mc_cmd *cmd,
                                             struct amdkfd_mc_cpl *cpl)
{
    struct amdkfd_mc_context_info info = { 0 };
    AmdkfdMcBackendCtxInfo be_info = { 0 };
    AmdkfdMcContext *ctx;
    uint32_t status;
    int err;

    /* Check the reply buffer first so a bad one leaks no context */
    if (cmd->payload_len && cmd->payload_len < sizeof(info)) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    if (cmd->payload_len &&
        !address_space_access_valid(pci_get_address_space(PCI_DEVICE(s)),
                                    cmd->payload_addr, sizeof(info), true,
                                    AMDKFD_MC_DMA_ATTRS)) {
        return AMDKFD_MC_S_DMA_ERROR;
    }

    status = amdkfd_mc_ctx_create(s, &ctx, &err);
    if (status != AMDKFD_MC_S_OK) {
        cpl->result = err;
        return status;
    }
    cpl->value = ctx->id;
    if (!cmd->payload_len) {
        return AMDKFD_MC_S_OK;
    }

    s->be_ops->ctx_info(ctx->file, &be_info);
    info.ctx_id = cpu_to_le32(ctx->id);
    info.host_ctx_id = cpu_to_le32(be_info.host_ctx_id);
    info.pasid = cpu_to_le32(be_info.pasid);
    info.flags = cpu_to_le32((be_info.secondary ? AMDKFD_MC_CTX_SECONDARY : 0) |
                             (s->legacy_shared ? AMDKFD_MC_CTX_SHARED : 0));
    status = amdkfd_mc_reply(s, cmd, &info, sizeof(info));
    if (status != AMDKFD_MC_S_OK) {
        /* The guest never learns of a context it could not be told about */
        amdkfd_mc_ctx_destroy(s, ctx);
        cpl->value = 0;
    }
    return status;
}

static uint32_t amdkfd_mc_cmd_topology(AmdkfdMcState *s,
                                       const struct amdkfd_mc_cmd *cmd)
{
    uint32_t n = amdkfd_mc_num_nodes(s);
    struct amdkfd_mc_topology *hdr;
    struct amdkfd_mc_topology_node *nodes;
    uint32_t len = sizeof(*hdr) + n * sizeof(*nodes);
    g_autofree uint8_t *buf = g_malloc0(len);
    uint32_t i;

    hdr = (struct amdkfd_mc_topology *)buf;
    nodes = (struct amdkfd_mc_topology_node *)(hdr + 1);
    hdr->num_nodes = cpu_to_le32(n);
    hdr->node_size = cpu_to_le32(sizeof(*nodes));
    for (i = 0; i < n; i++) {
        struct amdkfd_mc_topology_node *nd = &nodes[i];

        if (!s->be_ops->node_info(s->be, i, nd)) {
            return AMDKFD_MC_S_BACKEND_ERROR;
        }
        nd->gpu_id = cpu_to_le32(nd->gpu_id);
        nd->vendor_id = cpu_to_le32(nd->vendor_id);
        nd->device_id = cpu_to_le32(nd->device_id);
        nd->location_id = cpu_to_le32(nd->location_id);
        nd->drm_render_minor = cpu_to_le32(nd->drm_render_minor);
        nd->gfx_target_version = cpu_to_le32(nd->gfx_target_version);
        nd->simd_count = cpu_to_le32(nd->simd_count);
        nd->cu_count = cpu_to_le32(nd->cu_count);
        nd->simd_per_cu = cpu_to_le32(nd->simd_per_cu);
        nd->max_waves_per_simd = cpu_to_le32(nd->max_waves_per_simd);
        nd->lds_size_kib = cpu_to_le32(nd->lds_size_kib);
        nd->num_sdma_engines = cpu_to_le32(nd->num_sdma_engines);
        nd->vram_size = cpu_to_le64(nd->vram_size);
    }
    return amdkfd_mc_reply(s, cmd, buf, len);
}

static uint32_t amdkfd_mc_cmd_map(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                                  const struct amdkfd_mc_cmd *cmd,
                                  struct amdkfd_mc_cpl *cpl)
{
    uint64_t win_offset = 0;
    uint32_t status;
    int err;

    if (cmd->payload_len) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    status = amdkfd_mc_window_map(s, ctx, cmd->arg1, cmd->arg2, &win_offset,
                                  &err);
    cpl->result = err;
    cpl->value = win_offset;
    return status;
}

/* Commands that name no context */
static bool amdkfd_mc_cmd_device(AmdkfdMcState *s,
                                 const struct amdkfd_mc_cmd *cmd,
                                 struct amdkfd_mc_cpl *cpl)
{
    if (cmd->ctx_id) {
        cpl->status = AMDKFD_MC_S_INVALID_ARGUMENT;
        return true;
    }
    switch (cmd->opcode) {
    case AMDKFD_MC_OP_DEVICE_INFO:
        cpl->status = amdkfd_mc_cmd_device_info(s, cmd);
        break;
    case AMDKFD_MC_OP_CREATE_CONTEXT:
        cpl->status = amdkfd_mc_cmd_create_context(s, cmd, cpl);
        break;
    case AMDKFD_MC_OP_QUERY_TOPOLOGY:
        cpl->status = amdkfd_mc_cmd_topology(s, cmd);
        break;
    default:
        g_assert_not_reached();
    }
    return true;
}

bool amdkfd_mc_cmd_execute(AmdkfdMcState *s, const struct amdkfd_mc_cmd *cmd,
                           struct amdkfd_mc_cpl *cpl)
{
    AmdkfdMcContext *ctx;

    cpl->result = 0;
    cpl->value = 0;
    if (!amdkfd_mc_cmd_reserved_clear(cmd) ||
        cmd->payload_len > AMDKFD_MC_MAX_PAYLOAD) {
        cpl->status = AMDKFD_MC_S_INVALID_ARGUMENT;
        return true;
    }
    if (cmd->payload_addr + cmd->payload_len < cmd->payload_addr) {
        cpl->status = AMDKFD_MC_S_DMA_ERROR;
        return true;
    }

    switch (cmd->opcode) {
    case AMDKFD_MC_OP_DEVICE_INFO:
    case AMDKFD_MC_OP_CREATE_CONTEXT:
    case AMDKFD_MC_OP_QUERY_TOPOLOGY:
        return amdkfd_mc_cmd_device(s, cmd, cpl);
    case AMDKFD_MC_OP_DESTROY_CONTEXT:
    case AMDKFD_MC_OP_IOCTL:
    case AMDKFD_MC_OP_MAP_WINDOW:
    case AMDKFD_MC_OP_UNMAP_WINDOW:
        break;
    default:
        cpl->status = AMDKFD_MC_S_INVALID_OPCODE;
        return true;
    }

    /* The remaining commands name one of the guest's contexts */
    ctx = amdkfd_mc_ctx_lookup(s, cmd->ctx_id);
    if (!ctx) {
        cpl->status = AMDKFD_MC_S_INVALID_CONTEXT;
        return true;
    }
    switch (cmd->opcode) {
    case AMDKFD_MC_OP_DESTROY_CONTEXT:
        amdkfd_mc_ctx_destroy(s, ctx);
        cpl->status = AMDKFD_MC_S_OK;
        break;
    case AMDKFD_MC_OP_IOCTL:
        cpl->status = amdkfd_mc_ioctl(s, ctx, cmd, &cpl->result);
        if (cpl->status == AMDKFD_MC_S_ASYNC) {
            return false;
        }
        break;
    case AMDKFD_MC_OP_MAP_WINDOW:
        cpl->status = amdkfd_mc_cmd_map(s, ctx, cmd, cpl);
        break;
    case AMDKFD_MC_OP_UNMAP_WINDOW:
        cpl->status = cmd->payload_len ? AMDKFD_MC_S_INVALID_ARGUMENT :
                      amdkfd_mc_window_unmap(s, ctx, cmd->arg1);
        break;
    }
    return true;
}
