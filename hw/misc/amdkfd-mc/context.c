/*
 * amdkfd-mc: guest contexts, their memory objects and their limits
 *
 * Each guest context owns one backend file that has been turned into its
 * own KFD context, so its handles, events, memory and GPU address space are
 * separate from every other guest context's.  The only exception is the
 * sim backend's legacy-shared test mode, which reproduces what a hypervisor
 * on a kernel before Linux 7.0 can do: every guest context shares the
 * process's primary context.
 *
 * Ids come from a 32-bit counter that never goes back, not even on reset:
 * a stale id can never name a newer context.  A context is CREATING while
 * a worker makes its backend context, LIVE once the guest can name it and
 * DYING from its destruction until nothing of it runs in a worker any
 * more and a worker has closed its backend file; it holds a place against
 * max-contexts all that time.  Only then does its DESTROY_CONTEXT
 * complete, and only then are its guest pages free for other contexts:
 * once the host KFD's close has returned, none of its queues runs.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "amdkfd-mc-internal.h"
#include "trace.h"

AmdkfdMcContext *amdkfd_mc_ctx_lookup(AmdkfdMcState *s, uint32_t id)
{
    return id ? g_hash_table_lookup(s->contexts, GUINT_TO_POINTER(id)) : NULL;
}

int amdkfd_mc_node_index(AmdkfdMcState *s, uint32_t gpu_id)
{
    uint32_t i;

    for (i = 0; gpu_id && i < s->num_nodes; i++) {
        if (s->node_gpu_id[i] == gpu_id) {
            return i;
        }
    }
    return -1;
}

uint64_t amdkfd_mc_ctx_max_guest(AmdkfdMcState *s)
{
    return s->limits.ctx_max_guest;
}

uint64_t amdkfd_mc_ctx_max_mapped(AmdkfdMcState *s)
{
    return s->limits.ctx_max_mapped ? s->limits.ctx_max_mapped :
                                      s->window_size;
}

/* ---- memory objects ---- */

AmdkfdMcObject *amdkfd_mc_obj_lookup(AmdkfdMcContext *ctx, uint64_t handle)
{
    return g_hash_table_lookup(ctx->objects, &handle);
}

AmdkfdMcObject *amdkfd_mc_obj_by_offset(AmdkfdMcContext *ctx,
                                        uint64_t mmap_offset)
{
    return g_hash_table_lookup(ctx->offsets, &mmap_offset);
}

bool amdkfd_mc_obj_reserve(AmdkfdMcContext *ctx)
{
    AmdkfdMcState *s = ctx->s;

    if (ctx->nr_objects >= s->limits.ctx_max_objects ||
        s->nr_objects >= s->limits.max_objects) {
        return false;
    }
    ctx->nr_objects++;
    s->nr_objects++;
    return true;
}

void amdkfd_mc_obj_unreserve(AmdkfdMcContext *ctx)
{
    ctx->nr_objects--;
    ctx->s->nr_objects--;
}

void amdkfd_mc_obj_add(AmdkfdMcContext *ctx, const AmdkfdMcObject *obj)
{
    AmdkfdMcObject *o = g_memdup2(obj, sizeof(*obj));
    AmdkfdMcObject *old = amdkfd_mc_obj_lookup(ctx, o->handle);

    if (old) {
        /*
         * A backend that reuses a live handle: keep one record, and count
         * one (the old one's place goes, the new one's was reserved).
         */
        amdkfd_mc_obj_remove(ctx, old);
    }
    g_hash_table_insert(ctx->objects, &o->handle, o);
    /*
     * Objects of guest RAM have no mmap offset: the guest maps its own
     * pages.  KFD kinds (doorbell, MMIO) share offsets; the policy
     * allows those.
     */
    if (!o->guest && !g_hash_table_contains(ctx->offsets, &o->mmap_offset)) {
        g_hash_table_insert(ctx->offsets, &o->mmap_offset, o);
    }
}

/* What an object holds besides its record */
static void amdkfd_mc_obj_drop(AmdkfdMcContext *ctx, AmdkfdMcObject *obj)
{
    if (obj->guest) {
        amdkfd_mc_guest_release(ctx, obj->guest, obj->nr_guest, obj->size);
        g_free(obj->guest);
    }
}

void amdkfd_mc_obj_remove(AmdkfdMcContext *ctx, AmdkfdMcObject *obj)
{
    amdkfd_mc_obj_drop(ctx, obj);
    if (g_hash_table_lookup(ctx->offsets, &obj->mmap_offset) == obj) {
        g_hash_table_remove(ctx->offsets, &obj->mmap_offset);
    }
    g_hash_table_remove(ctx->objects, &obj->handle);
    amdkfd_mc_obj_unreserve(ctx);
    if (obj->unmapping) {
        /*
         * A FREE that a racing guest thread sent between two unmaps: the
         * unmaps still in flight hold the record, the last one frees it
         */
        obj->detached = true;
        return;
    }
    g_free(obj);
}

void amdkfd_mc_obj_unhold(AmdkfdMcObject *obj)
{
    assert(obj->unmapping > 0);
    if (--obj->unmapping == 0 && obj->detached) {
        g_free(obj);
    }
}

bool amdkfd_mc_obj_covers(AmdkfdMcContext *ctx, unsigned node, uint64_t va,
                          uint64_t len)
{
    GHashTableIter it;
    gpointer value;

    if (va + len < va) {
        return false;
    }
    /* queue creation only: a scan of at most ctx-max-objects */
    g_hash_table_iter_init(&it, ctx->objects);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        AmdkfdMcObject *o = value;

        if ((o->gpu_mapped & (1u << node)) && !o->freeing &&
            !o->unmapping &&
            va >= o->va && va + len <= o->va + o->size) {
            return true;
        }
    }
    return false;
}

/* ---- doorbells (trapped, sim) ---- */

static void amdkfd_mc_ctx_doorbell_run(AmdkfdMcWork *w)
{
    AmdkfdMcContext *ctx = container_of(w, AmdkfdMcContext, db_work);
    g_autoptr(GHashTable) rung = NULL;
    GHashTableIter it;
    gpointer key, value;

    qemu_mutex_lock(&ctx->db_lock);
    rung = ctx->db_pending;
    ctx->db_pending = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                            g_free, g_free);
    ctx->db_queued = false;
    qemu_mutex_unlock(&ctx->db_lock);
    if (qatomic_read(&ctx->cancelled)) {
        return;
    }
    /* the sim's DMA engine: may copy gigabytes, so here and not on a vCPU */
    g_hash_table_iter_init(&it, rung);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        uint64_t addr = *(uint64_t *)key;

        ctx->s->be_ops->doorbell_write(ctx->file, addr, 0,
                                       *(uint64_t *)value);
    }
}

static void amdkfd_mc_ctx_doorbell_done(AmdkfdMcWork *w)
{
    AmdkfdMcContext *ctx = container_of(w, AmdkfdMcContext, db_work);
    bool again;

    /* rung again while the worker ran: go on */
    qemu_mutex_lock(&ctx->db_lock);
    again = ctx->db_queued;
    qemu_mutex_unlock(&ctx->db_lock);
    if (again && ctx->state == AMDKFD_MC_CTX_LIVE) {
        amdkfd_mc_work_submit(&ctx->s->workers, &ctx->db_work);
        return;
    }
    ctx->db_running = false;
    amdkfd_mc_ctx_put_inflight(ctx);
}

void amdkfd_mc_ctx_doorbell(AmdkfdMcContext *ctx, uint64_t mmap_offset,
                            uint64_t byte_offset, uint64_t value)
{
    uint64_t addr = mmap_offset + byte_offset;

    if (ctx->state != AMDKFD_MC_CTX_LIVE || addr < mmap_offset) {
        return;
    }
    /*
     * A later write to the same doorbell replaces an earlier one that has
     * not run yet, as a write pointer does: the table stays as small as
     * the doorbells the context has mapped.
     */
    qemu_mutex_lock(&ctx->db_lock);
    g_hash_table_insert(ctx->db_pending, g_memdup2(&addr, 8),
                        g_memdup2(&value, 8));
    ctx->db_queued = true;
    qemu_mutex_unlock(&ctx->db_lock);
    /* doorbell writes and done() run under the BQL: no race on db_running */
    if (!ctx->db_running) {
        ctx->db_running = true;
        ctx->inflight++;
        amdkfd_mc_work_submit(&ctx->s->workers, &ctx->db_work);
    }
}

/* ---- creation ---- */

static AmdkfdMcContext *amdkfd_mc_ctx_new(AmdkfdMcState *s, uint32_t id)
{
    AmdkfdMcContext *ctx = g_new0(AmdkfdMcContext, 1);

    ctx->s = s;
    ctx->id = id;
    ctx->state = AMDKFD_MC_CTX_CREATING;
    QTAILQ_INIT(&ctx->mappings);
    ctx->objects = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                         NULL, NULL);
    ctx->offsets = g_hash_table_new(g_int64_hash, g_int64_equal);
    ctx->queue_nodes = g_hash_table_new(NULL, NULL);
    amdkfd_mc_serial_init(&ctx->serial);
    qemu_mutex_init(&ctx->db_lock);
    ctx->db_work.run = amdkfd_mc_ctx_doorbell_run;
    ctx->db_work.done = amdkfd_mc_ctx_doorbell_done;
    ctx->db_work.serial = &ctx->serial;
    ctx->db_pending = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                            g_free, g_free);
    return ctx;
}

static void amdkfd_mc_ctx_free(AmdkfdMcContext *ctx)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, ctx->objects);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        amdkfd_mc_obj_drop(ctx, value);
        g_free(value);
    }
    ctx->s->nr_objects -= ctx->nr_objects;
    g_hash_table_destroy(ctx->objects);
    g_hash_table_destroy(ctx->offsets);
    g_hash_table_destroy(ctx->queue_nodes);
    g_hash_table_destroy(ctx->db_pending);
    qemu_mutex_destroy(&ctx->db_lock);
    g_free(ctx);
}

uint32_t amdkfd_mc_ctx_reserve(AmdkfdMcState *s, AmdkfdMcContext **out)
{
    AmdkfdMcContext *ctx;
    uint32_t fds = s->be_ops->fds_per_context;

    if (s->nr_contexts >= s->limits.max_contexts || s->next_ctx_id == 0 ||
        s->host_fds + fds > s->limits.max_host_fds) {
        return AMDKFD_MC_S_NO_RESOURCES;
    }
    ctx = amdkfd_mc_ctx_new(s, s->next_ctx_id++);
    /* the creation itself is work in flight of the context */
    ctx->inflight = 1;
    ctx->host_fds = fds;
    s->host_fds += fds;
    s->nr_contexts++;
    QTAILQ_INSERT_TAIL(&s->all_contexts, ctx, next);
    *out = ctx;
    return AMDKFD_MC_S_OK;
}

/* In a worker: the backend's open and CREATE_PROCESS; 0 or -errno */
int amdkfd_mc_ctx_open(AmdkfdMcContext *ctx)
{
    AmdkfdMcState *s = ctx->s;
    AmdkfdMcBackendFile *file;
    int err = 0, ret;

    file = s->be_ops->open(s->be, &err);
    if (!file) {
        return err ? err : -EIO;
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
            return ret;
        }
    }
    ctx->file = file;
    return 0;
}

/* The end of a context: its backend file is closed */
static void amdkfd_mc_ctx_released(AmdkfdMcContext *ctx)
{
    AmdkfdMcState *s = ctx->s;
    AmdkfdMcAsync *destroy = ctx->destroy_cmd;

    s->host_fds -= ctx->host_fds;
    s->nr_contexts--;
    QTAILQ_REMOVE(&s->all_contexts, ctx, next);
    amdkfd_mc_ctx_free(ctx);
    if (destroy) {
        destroy->cpl.status = AMDKFD_MC_S_OK;
        amdkfd_mc_async_end(destroy);
        g_free(destroy);
    }
}

/* The host KFD's close stops the context's queues: it may take long */
static void amdkfd_mc_ctx_close_run(AmdkfdMcWork *w)
{
    AmdkfdMcContext *ctx = container_of(w, AmdkfdMcContext, close_work);

    ctx->s->be_ops->close(ctx->file);
}

static void amdkfd_mc_ctx_close_done(AmdkfdMcWork *w)
{
    AmdkfdMcContext *ctx = container_of(w, AmdkfdMcContext, close_work);

    ctx->file = NULL;
    amdkfd_mc_ctx_released(ctx);
}

static void amdkfd_mc_ctx_release(AmdkfdMcContext *ctx)
{
    trace_amdkfd_mc_ctx_release(ctx->id);
    assert(ctx->inflight == 0 && QTAILQ_EMPTY(&ctx->mappings));
    if (ctx->file) {
        ctx->close_work.run = amdkfd_mc_ctx_close_run;
        ctx->close_work.done = amdkfd_mc_ctx_close_done;
        ctx->close_work.serial = NULL;
        amdkfd_mc_work_submit(&ctx->s->workers, &ctx->close_work);
        return;
    }
    amdkfd_mc_ctx_released(ctx);
}

/* Ending the waits of a context may cost an ioctl per event: a worker's */
static void amdkfd_mc_ctx_cancel_run(AmdkfdMcWork *w)
{
    AmdkfdMcContext *ctx = container_of(w, AmdkfdMcContext, cancel_work);

    ctx->s->be_ops->cancel_waits(ctx->file);
}

static void amdkfd_mc_ctx_cancel_done(AmdkfdMcWork *w)
{
    amdkfd_mc_ctx_put_inflight(container_of(w, AmdkfdMcContext,
                                            cancel_work));
}

/* After amdkfd_mc_ctx_open(); the caller then drops the creation's hold */
void amdkfd_mc_ctx_opened(AmdkfdMcContext *ctx, int err)
{
    AmdkfdMcState *s = ctx->s;

    if (ctx->state == AMDKFD_MC_CTX_DYING || err) {
        /* failed, or reset or unplugged while it was being made */
        ctx->state = AMDKFD_MC_CTX_DYING;
        qatomic_set(&ctx->cancelled, true);
        return;
    }
    ctx->state = AMDKFD_MC_CTX_LIVE;
    g_hash_table_insert(s->contexts, GUINT_TO_POINTER(ctx->id), ctx);
    s->live_contexts++;
    trace_amdkfd_mc_ctx_create(ctx->id, s->live_contexts);
}

void amdkfd_mc_ctx_put_inflight(AmdkfdMcContext *ctx)
{
    assert(ctx->inflight > 0);
    if (--ctx->inflight == 0 && ctx->state == AMDKFD_MC_CTX_DYING) {
        amdkfd_mc_ctx_release(ctx);
    }
}

/*
 * The guest id dies at once and the window ranges go back (the guest
 * driver revoked its CPU mappings before it asked); the backend file
 * lives on until nothing runs on it in a worker any more.  @destroy, the
 * guest's DESTROY_CONTEXT if it asked, completes when the file is closed.
 */
void amdkfd_mc_ctx_destroy(AmdkfdMcContext *ctx, AmdkfdMcAsync *destroy)
{
    AmdkfdMcState *s = ctx->s;

    trace_amdkfd_mc_ctx_destroy(ctx->id, ctx->inflight);
    assert(!ctx->destroy_cmd);
    ctx->destroy_cmd = destroy;
    if (ctx->state == AMDKFD_MC_CTX_LIVE) {
        g_hash_table_remove(s->contexts, GUINT_TO_POINTER(ctx->id));
        s->live_contexts--;
    }
    amdkfd_mc_window_unmap_ctx(ctx);
    qatomic_set(&ctx->cancelled, true);
    if (ctx->state == AMDKFD_MC_CTX_CREATING) {
        /* amdkfd_mc_ctx_opened() finishes it */
        ctx->state = AMDKFD_MC_CTX_DYING;
        return;
    }
    ctx->state = AMDKFD_MC_CTX_DYING;
    if (ctx->inflight) {
        ctx->cancel_work.run = amdkfd_mc_ctx_cancel_run;
        ctx->cancel_work.done = amdkfd_mc_ctx_cancel_done;
        ctx->cancel_work.serial = NULL;
        ctx->inflight++;
        amdkfd_mc_work_submit(&s->workers, &ctx->cancel_work);
        return;
    }
    amdkfd_mc_ctx_release(ctx);
}

void amdkfd_mc_ctx_destroy_all(AmdkfdMcState *s)
{
    AmdkfdMcContext *ctx, *tmp;

    QTAILQ_FOREACH_SAFE(ctx, &s->all_contexts, next, tmp) {
        if (ctx->state != AMDKFD_MC_CTX_DYING) {
            amdkfd_mc_ctx_destroy(ctx, NULL);
        }
    }
}

void amdkfd_mc_ctx_table_init(AmdkfdMcState *s)
{
    s->contexts = g_hash_table_new(NULL, NULL);
    QTAILQ_INIT(&s->all_contexts);
    s->next_ctx_id = s->first_ctx_id ? s->first_ctx_id : 1;
}

void amdkfd_mc_ctx_table_free(AmdkfdMcState *s)
{
    assert(QTAILQ_EMPTY(&s->all_contexts));
    g_hash_table_destroy(s->contexts);
    s->contexts = NULL;
}
