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
#include "qemu/atomic.h"
#include "amdkfd-mc-internal.h"
#include "trace.h"

/* The guest ABI's layouts are fixed; see docs/specs/amdkfd-mc.rst */
QEMU_BUILD_BUG_ON(sizeof(struct amdkfd_mc_cmd) != 64);
QEMU_BUILD_BUG_ON(sizeof(struct amdkfd_mc_cpl) != 32);
QEMU_BUILD_BUG_ON(sizeof(struct amdkfd_mc_device_info) != 64);
QEMU_BUILD_BUG_ON(sizeof(struct amdkfd_mc_context_info) != 16);
QEMU_BUILD_BUG_ON(sizeof(struct amdkfd_mc_topology) != 16);
QEMU_BUILD_BUG_ON(sizeof(struct amdkfd_mc_topology_node) != 88);
QEMU_BUILD_BUG_ON(sizeof(struct amdkfd_mc_window_map) != 32);
QEMU_BUILD_BUG_ON(sizeof(struct amdkfd_mc_topology_cache) != 72);
QEMU_BUILD_BUG_ON(sizeof(struct amdkfd_mc_topology_link) != 48);
QEMU_BUILD_BUG_ON(sizeof(struct amdkfd_mc_guest_memory) != 64);

static bool amdkfd_mc_cmd_reserved_clear(const struct amdkfd_mc_cmd *cmd)
{
    return cmd->flags == 0 && cmd->reserved[0] == 0 && cmd->reserved[1] == 0;
}

/* Write a reply of @len bytes to the payload, which must have room for it */
static uint32_t amdkfd_mc_reply(AmdkfdMcState *s,
                                const struct amdkfd_mc_cmd *cmd,
                                const void *buf, uint32_t len)
{
    if (cmd->payload_len < len) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    if (!amdkfd_mc_dma_write(amdkfd_mc_pci(s), cmd->payload_addr, buf, len)) {
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
        .features = cpu_to_le32(s->features),
        .max_contexts = cpu_to_le32(s->limits.max_contexts),
        .live_contexts = cpu_to_le32(s->live_contexts),
        .backend = cpu_to_le32(s->be_ops->kind),
        .num_nodes = cpu_to_le32(s->num_nodes),
        .window_size = cpu_to_le64(s->window_size),
        .guest_obj_max_ranges = cpu_to_le32(s->guest_obj_max_ranges),
        .guest_obj_max_bytes = cpu_to_le64(s->guest_obj_max_bytes),
    };
    uint32_t major = 0, minor = 0;

    s->be_ops->version(s->be, &major, &minor);
    info.kfd_major = cpu_to_le32(major);
    info.kfd_minor = cpu_to_le32(minor);
    return amdkfd_mc_reply(s, cmd, &info, sizeof(info));
}

/* CREATE_CONTEXT continues in a worker: the backend may sleep */
typedef struct AmdkfdMcCreate {
    AmdkfdMcAsync async;
    AmdkfdMcContext *ctx;
    uint64_t payload_addr;
    uint32_t payload_len;
    int err;
} AmdkfdMcCreate;

static void amdkfd_mc_create_run(AmdkfdMcWork *w)
{
    AmdkfdMcCreate *c = container_of(w, AmdkfdMcCreate, async.work);

    /* reset, unplugged or the rings stopped: nobody will learn of it */
    if (qatomic_read(&c->ctx->cancelled) || qatomic_read(&c->async.orphaned)) {
        c->err = -EINTR;
        return;
    }
    c->err = amdkfd_mc_ctx_open(c->ctx);
}

static void amdkfd_mc_create_done(AmdkfdMcWork *w)
{
    AmdkfdMcCreate *c = container_of(w, AmdkfdMcCreate, async.work);
    AmdkfdMcContext *ctx = c->ctx;
    AmdkfdMcState *s = ctx->s;
    struct amdkfd_mc_cpl *cpl = &c->async.cpl;
    struct amdkfd_mc_context_info info = { 0 };
    AmdkfdMcBackendCtxInfo be_info = { 0 };

    amdkfd_mc_ctx_opened(ctx, c->err);
    if (c->err) {
        cpl->status = AMDKFD_MC_S_BACKEND_ERROR;
        cpl->result = c->err;
    } else if (ctx->state != AMDKFD_MC_CTX_LIVE) {
        /* reset or unplugged meanwhile: the end of the hold frees it */
        cpl->status = AMDKFD_MC_S_INVALID_CONTEXT;
    } else if (c->async.orphaned) {
        /* the rings stopped meanwhile: nobody is told of it */
        amdkfd_mc_ctx_destroy(ctx, NULL);
        cpl->status = AMDKFD_MC_S_INVALID_CONTEXT;
    } else {
        cpl->status = AMDKFD_MC_S_OK;
        cpl->value = ctx->id;
        if (c->payload_len) {
            s->be_ops->ctx_info(ctx->file, &be_info);
            info.ctx_id = cpu_to_le32(ctx->id);
            info.host_ctx_id = cpu_to_le32(be_info.host_ctx_id);
            info.pasid = cpu_to_le32(be_info.pasid);
            info.flags = cpu_to_le32((be_info.secondary ?
                                      AMDKFD_MC_CTX_SECONDARY : 0) |
                                     (s->legacy_shared ?
                                      AMDKFD_MC_CTX_SHARED : 0));
            if (!amdkfd_mc_dma_write(amdkfd_mc_pci(s), c->payload_addr,
                                     &info, sizeof(info))) {
                /* The guest never learns of a context it was not told of */
                amdkfd_mc_ctx_destroy(ctx, NULL);
                cpl->status = AMDKFD_MC_S_DMA_ERROR;
                cpl->value = 0;
            }
        }
    }
    amdkfd_mc_async_end(&c->async);
    /* the end of the creation's hold frees a context that did not make it */
    amdkfd_mc_ctx_put_inflight(ctx);
    g_free(c);
}

static uint32_t amdkfd_mc_cmd_create_context(AmdkfdMcState *s,
                                             const struct amdkfd_mc_cmd *cmd)
{
    AmdkfdMcCreate *c;
    AmdkfdMcContext *ctx;
    uint32_t status;

    /* Check the reply buffer first so a bad one costs no context */
    if (cmd->payload_len &&
        cmd->payload_len < sizeof(struct amdkfd_mc_context_info)) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    status = amdkfd_mc_ctx_reserve(s, &ctx);
    if (status != AMDKFD_MC_S_OK) {
        return status;
    }
    c = g_new0(AmdkfdMcCreate, 1);
    c->ctx = ctx;
    c->payload_addr = cmd->payload_addr;
    c->payload_len = cmd->payload_len;
    c->async.cpl.cookie = cmd->cookie;
    c->async.work.run = amdkfd_mc_create_run;
    c->async.work.done = amdkfd_mc_create_done;
    c->async.work.serial = &ctx->serial;
    /* the context's own hold is the creation's (ctx->inflight is 1) */
    amdkfd_mc_async_begin(s, NULL, &c->async, cmd->opcode, 0);
    amdkfd_mc_work_submit(&s->workers, &c->async.work);
    return AMDKFD_MC_S_ASYNC;
}

/*
 * DESTROY_CONTEXT completes when the context is gone: nothing of it runs
 * in a worker, its backend file is closed (on the host, the KFD has
 * stopped its queues) and its guest pages are free.  Only then may the
 * guest driver unpin them.
 */
static uint32_t amdkfd_mc_cmd_destroy_context(AmdkfdMcState *s,
                                              AmdkfdMcContext *ctx,
                                              const struct amdkfd_mc_cmd *cmd)
{
    AmdkfdMcAsync *a;

    if (cmd->payload_len) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    a = g_new0(AmdkfdMcAsync, 1);
    a->cpl.cookie = cmd->cookie;
    amdkfd_mc_async_begin(s, NULL, a, cmd->opcode, 0);
    amdkfd_mc_ctx_destroy(ctx, a);
    return AMDKFD_MC_S_ASYNC;
}

/* Records made of 32-bit words only (and bytes after them) */
static void amdkfd_mc_words_to_le(void *rec, size_t words)
{
    uint32_t *w = rec;
    size_t i;

    for (i = 0; i < words; i++) {
        w[i] = cpu_to_le32(w[i]);
    }
}

static uint32_t amdkfd_mc_cmd_topology(AmdkfdMcState *s,
                                       const struct amdkfd_mc_cmd *cmd)
{
    uint32_t n = s->num_nodes;
    struct amdkfd_mc_topology *hdr;
    struct amdkfd_mc_topology_node *nodes;
    struct amdkfd_mc_topology_cache *caches;
    struct amdkfd_mc_topology_link *links;
    uint32_t len = sizeof(*hdr) + n * sizeof(*nodes);
    uint32_t full = len + s->nr_caches * sizeof(*caches) +
                    s->nr_links * sizeof(*links);
    g_autofree uint8_t *buf = NULL;
    uint32_t i;

    /* caches and links only when all of them fit */
    if (cmd->payload_len >= full) {
        len = full;
    }
    buf = g_malloc0(len);
    hdr = (struct amdkfd_mc_topology *)buf;
    nodes = (struct amdkfd_mc_topology_node *)(hdr + 1);
    hdr->num_nodes = cpu_to_le32(n);
    hdr->node_size = cpu_to_le32(sizeof(*nodes));
    hdr->num_caches = cpu_to_le32(s->nr_caches);
    hdr->num_links = cpu_to_le32(s->nr_links);
    if (len == full) {
        caches = (struct amdkfd_mc_topology_cache *)(nodes + n);
        links = (struct amdkfd_mc_topology_link *)(caches + s->nr_caches);
        memcpy(caches, s->caches, s->nr_caches * sizeof(*caches));
        memcpy(links, s->links, s->nr_links * sizeof(*links));
        for (i = 0; i < s->nr_caches; i++) {
            amdkfd_mc_words_to_le(&caches[i],
                                  offsetof(struct amdkfd_mc_topology_cache,
                                           sibling_map) / 4);
        }
        for (i = 0; i < s->nr_links; i++) {
            amdkfd_mc_words_to_le(&links[i], sizeof(links[i]) / 4);
        }
    }
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
    struct amdkfd_mc_window_map reply = { 0 };
    uint64_t win_offset = 0, map_id = 0;
    uint32_t status;
    int err;

    /* The reply must have room before anything is mapped */
    if (cmd->payload_len < sizeof(reply)) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    status = amdkfd_mc_window_map(ctx, cmd->arg1, cmd->arg2, &win_offset,
                                  &map_id, &err);
    cpl->result = err;
    if (status != AMDKFD_MC_S_OK) {
        return status;
    }
    reply.win_offset = cpu_to_le64(win_offset);
    reply.map_id = cpu_to_le64(map_id);
    reply.size = cpu_to_le64(cmd->arg2);
    status = amdkfd_mc_reply(s, cmd, &reply, sizeof(reply));
    if (status != AMDKFD_MC_S_OK) {
        /* the guest cannot know the mapping: it was never made */
        amdkfd_mc_window_unmap(ctx, map_id);
        return status;
    }
    cpl->value = map_id;
    return AMDKFD_MC_S_OK;
}

static uint32_t amdkfd_mc_cmd_drm_info(AmdkfdMcState *s,
                                       const struct amdkfd_mc_cmd *cmd,
                                       struct amdkfd_mc_cpl *cpl)
{
    uint8_t buf[AMDKFD_MC_DRM_INFO_MAX];
    int len;

    if (cmd->arg1 >= s->num_nodes) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    switch (cmd->arg2) {
    case AMDKFD_MC_DRM_INFO_VRAM_GTT:
    case AMDKFD_MC_DRM_INFO_DEV_INFO:
    case AMDKFD_MC_DRM_INFO_MEMORY:
        break;
    default:
        return AMDKFD_MC_S_NOT_SUPPORTED;
    }
    memset(buf, 0, sizeof(buf));
    len = s->be_ops->drm_info(s->be, cmd->arg1, cmd->arg2, buf, sizeof(buf));
    if (len < 0) {
        cpl->result = len;
        return AMDKFD_MC_S_BACKEND_ERROR;
    }
    /* as the DRM driver does: as much as the caller has room for */
    cpl->value = len;
    return amdkfd_mc_reply(s, cmd, buf, MIN((uint32_t)len, cmd->payload_len));
}

/* Commands that name no context; false if it went asynchronous */
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
        cpl->status = amdkfd_mc_cmd_create_context(s, cmd);
        if (cpl->status == AMDKFD_MC_S_ASYNC) {
            return false;
        }
        break;
    case AMDKFD_MC_OP_QUERY_TOPOLOGY:
        cpl->status = amdkfd_mc_cmd_topology(s, cmd);
        break;
    case AMDKFD_MC_OP_QUERY_DRM_INFO:
        cpl->status = amdkfd_mc_cmd_drm_info(s, cmd, cpl);
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
    /*
     * The whole payload is guest RAM, whatever part a reply fills
     * (OP_IOCTL checks it as it maps it)
     */
    if (cmd->payload_len && cmd->opcode != AMDKFD_MC_OP_IOCTL &&
        !amdkfd_mc_dma_is_ram(amdkfd_mc_pci(s), cmd->payload_addr,
                              cmd->payload_len, true)) {
        cpl->status = AMDKFD_MC_S_DMA_ERROR;
        return true;
    }

    switch (cmd->opcode) {
    case AMDKFD_MC_OP_DEVICE_INFO:
    case AMDKFD_MC_OP_CREATE_CONTEXT:
    case AMDKFD_MC_OP_QUERY_TOPOLOGY:
    case AMDKFD_MC_OP_QUERY_DRM_INFO:
        return amdkfd_mc_cmd_device(s, cmd, cpl);
    case AMDKFD_MC_OP_DESTROY_CONTEXT:
    case AMDKFD_MC_OP_IOCTL:
    case AMDKFD_MC_OP_MAP_WINDOW:
    case AMDKFD_MC_OP_UNMAP_WINDOW:
    case AMDKFD_MC_OP_ALLOC_GUEST_MEMORY:
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
        cpl->status = amdkfd_mc_cmd_destroy_context(s, ctx, cmd);
        if (cpl->status == AMDKFD_MC_S_ASYNC) {
            return false;
        }
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
                      amdkfd_mc_window_unmap(ctx, cmd->arg1);
        break;
    case AMDKFD_MC_OP_ALLOC_GUEST_MEMORY:
        cpl->status = amdkfd_mc_cmd_alloc_guest(s, ctx, cmd);
        if (cpl->status == AMDKFD_MC_S_ASYNC) {
            return false;
        }
        break;
    }
    return true;
}
