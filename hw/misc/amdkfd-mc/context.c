/*
 * amdkfd-mc: the table of guest contexts
 *
 * Each guest context owns one backend file that has been turned into its
 * own KFD context, so its handles, events, memory and GPU address space are
 * separate from every other guest context's.  The only exception is the
 * sim backend's legacy-shared test mode, which reproduces what a hypervisor
 * on a kernel before Linux 7.0 can do: every guest context shares the
 * process's primary context.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "block/aio-wait.h"
#include "amdkfd-mc-internal.h"
#include "trace.h"

static uint32_t amdkfd_mc_ctx_make_id(uint32_t slot, uint16_t generation)
{
    return (uint32_t)generation << 16 | slot;
}

AmdkfdMcContext *amdkfd_mc_ctx_lookup(AmdkfdMcState *s, uint32_t id)
{
    uint32_t slot = AMDKFD_MC_CTX_SLOT(id);

    if (slot == 0 || slot > s->max_contexts) {
        return NULL;
    }
    if (s->contexts[slot].id != id) {
        return NULL;
    }
    return &s->contexts[slot];
}

/*
 * Create a context.  Returns an AMDKFD_MC_S_* status; on a backend failure
 * *err holds the negative errno the backend returned.
 */
uint32_t amdkfd_mc_ctx_create(AmdkfdMcState *s, AmdkfdMcContext **out,
                              int *err)
{
    AmdkfdMcContext *ctx = NULL;
    AmdkfdMcBackendFile *file;
    uint32_t slot;
    int ret;

    *err = 0;
    if (s->nr_free_slots == 0) {
        return AMDKFD_MC_S_NO_RESOURCES;
    }
    slot = s->free_slots[s->nr_free_slots - 1];
    ctx = &s->contexts[slot];

    file = s->be_ops->open(s->be, err);
    if (!file) {
        return AMDKFD_MC_S_BACKEND_ERROR;
    }
    if (!s->legacy_shared) {
        /*
         * Isolation rests on this call; without it the file would share the
         * primary context with every other guest program, so never go on
         * when it fails.
         */
        ret = s->be_ops->ioctl(file, AMDKFD_IOC_CREATE_PROCESS, NULL);
        if (ret < 0) {
            s->be_ops->close(file);
            *err = ret;
            return AMDKFD_MC_S_BACKEND_ERROR;
        }
    }

    /* Generation 0 is skipped so that no valid id is a bare slot number */
    ctx->generation++;
    if (ctx->generation == 0) {
        ctx->generation = 1;
    }
    ctx->id = amdkfd_mc_ctx_make_id(slot, ctx->generation);
    ctx->file = file;
    ctx->mapped_bytes = 0;
    ctx->queues = 0;
    ctx->events = 0;
    ctx->objects = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                         g_free, g_free);
    s->nr_free_slots--;
    s->live_contexts++;
    trace_amdkfd_mc_ctx_create(ctx->id, s->live_contexts);
    *out = ctx;
    return AMDKFD_MC_S_OK;
}

void amdkfd_mc_ctx_release(AmdkfdMcState *s, AmdkfdMcContext *ctx)
{
    s->be_ops->close(ctx->file);
    g_hash_table_destroy(ctx->objects);
    ctx->objects = NULL;
    ctx->file = NULL;
    ctx->dying = false;
    s->free_slots[s->nr_free_slots++] = ctx - s->contexts;
}

/*
 * The guest id dies at once; the backend file lives on until no
 * asynchronous command (a WAIT_EVENTS in a worker) still uses it.
 */
void amdkfd_mc_ctx_destroy(AmdkfdMcState *s, AmdkfdMcContext *ctx)
{
    trace_amdkfd_mc_ctx_destroy(ctx->id, ctx->inflight);
    amdkfd_mc_window_unmap_ctx(s, ctx, true, 0);
    ctx->id = 0;
    s->live_contexts--;
    if (ctx->inflight) {
        ctx->dying = true;
        s->be_ops->cancel_waits(ctx->file);
        return;
    }
    amdkfd_mc_ctx_release(s, ctx);
}

void amdkfd_mc_ctx_table_init(AmdkfdMcState *s)
{
    uint32_t i;

    s->contexts = g_new0(AmdkfdMcContext, s->max_contexts + 1);
    s->free_slots = g_new(uint32_t, s->max_contexts);
    /* A stack of free slots, lowest on top, makes create O(1) */
    for (i = 0; i < s->max_contexts; i++) {
        s->free_slots[i] = s->max_contexts - i;
    }
    s->nr_free_slots = s->max_contexts;
}

void amdkfd_mc_ctx_table_free(AmdkfdMcState *s)
{
    amdkfd_mc_ctx_destroy_all(s);
    /* Cancelled waits come back through the main loop; let them */
    AIO_WAIT_WHILE(NULL, s->inflight_total > 0);
    g_free(s->contexts);
    g_free(s->free_slots);
    s->contexts = NULL;
    s->free_slots = NULL;
}

void amdkfd_mc_ctx_destroy_all(AmdkfdMcState *s)
{
    uint32_t slot;

    if (!s->contexts) {
        return;
    }
    for (slot = 1; slot <= s->max_contexts; slot++) {
        if (s->contexts[slot].id) {
            amdkfd_mc_ctx_destroy(s, &s->contexts[slot]);
        }
    }
}
