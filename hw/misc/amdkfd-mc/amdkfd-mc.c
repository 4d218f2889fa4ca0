/*
 * amdkfd-mc: the PCI function, its registers, properties and lifecycle
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/main-loop.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qapi/error.h"
#include "hw/pci/msix.h"
#include "hw/core/qdev-properties.h"
#include "migration/blocker.h"
#include "system/ram-discard-manager.h"
#include "qapi/visitor.h"
#include "amdkfd-mc-internal.h"
#include "trace.h"

static uint64_t amdkfd_mc_regs_read(void *opaque, hwaddr addr, unsigned size)
{
    AmdkfdMcState *s = opaque;
    uint64_t val = 0;

    switch (addr) {
    case AMDKFD_MC_REG_MAGIC:
        val = AMDKFD_MC_MAGIC;
        break;
    case AMDKFD_MC_REG_VERSION:
        val = AMDKFD_MC_ABI_MAJOR << 16 | AMDKFD_MC_ABI_MINOR;
        break;
    case AMDKFD_MC_REG_FEATURES:
        val = s->features;
        break;
    case AMDKFD_MC_REG_MAX_CONTEXTS:
        val = s->limits.max_contexts;
        break;
    case AMDKFD_MC_REG_SQ_BASE_LO:
        val = (uint32_t)s->ring.sq_base;
        break;
    case AMDKFD_MC_REG_SQ_BASE_HI:
        val = s->ring.sq_base >> 32;
        break;
    case AMDKFD_MC_REG_CQ_BASE_LO:
        val = (uint32_t)s->ring.cq_base;
        break;
    case AMDKFD_MC_REG_CQ_BASE_HI:
        val = s->ring.cq_base >> 32;
        break;
    case AMDKFD_MC_REG_RING_ENTRIES:
        val = s->ring.entries;
        break;
    case AMDKFD_MC_REG_CONTROL:
        val = s->control;
        break;
    case AMDKFD_MC_REG_STATUS:
        val = (s->ring.enabled ? AMDKFD_MC_STATUS_READY : 0) |
              (s->ring.halted ? AMDKFD_MC_STATUS_HALTED : 0);
        break;
    case AMDKFD_MC_REG_ERROR:
        val = s->error;
        break;
    case AMDKFD_MC_REG_SQ_TAIL:
        val = s->ring.sq_tail;
        break;
    case AMDKFD_MC_REG_SQ_HEAD:
        val = s->ring.sq_head;
        break;
    case AMDKFD_MC_REG_CQ_HEAD:
        val = s->ring.cq_head;
        break;
    case AMDKFD_MC_REG_CQ_TAIL:
        val = s->ring.cq_tail;
        break;
    case AMDKFD_MC_REG_IRQ_STATUS:
        val = s->irq_status;
        break;
    case AMDKFD_MC_REG_WINDOW_SIZE_LO:
        val = (uint32_t)s->window_size;
        break;
    case AMDKFD_MC_REG_WINDOW_SIZE_HI:
        val = s->window_size >> 32;
        break;
    case AMDKFD_MC_REG_LIVE_CONTEXTS:
        val = s->live_contexts;
        break;
    default:
        break;
    }
    trace_amdkfd_mc_reg_read(addr, val);
    return val;
}

static void amdkfd_mc_set_base(uint64_t *base, bool high, uint32_t val)
{
    if (high) {
        *base = deposit64(*base, 32, 32, val);
    } else {
        *base = deposit64(*base, 0, 32, val);
    }
}

static void amdkfd_mc_regs_write(void *opaque, hwaddr addr, uint64_t val,
                                 unsigned size)
{
    AmdkfdMcState *s = opaque;
    AmdkfdMcRing *r = &s->ring;

    trace_amdkfd_mc_reg_write(addr, val);
    switch (addr) {
    case AMDKFD_MC_REG_SQ_BASE_LO:
    case AMDKFD_MC_REG_SQ_BASE_HI:
    case AMDKFD_MC_REG_CQ_BASE_LO:
    case AMDKFD_MC_REG_CQ_BASE_HI:
    case AMDKFD_MC_REG_RING_ENTRIES:
        /* Ring geometry is frozen while the rings are live */
        if (r->enabled) {
            amdkfd_mc_set_error(s, AMDKFD_MC_S_INVALID_RING);
            break;
        }
        if (addr == AMDKFD_MC_REG_RING_ENTRIES) {
            r->entries = val;
        } else if (addr <= AMDKFD_MC_REG_SQ_BASE_HI) {
            amdkfd_mc_set_base(&r->sq_base, addr == AMDKFD_MC_REG_SQ_BASE_HI,
                               val);
        } else {
            amdkfd_mc_set_base(&r->cq_base, addr == AMDKFD_MC_REG_CQ_BASE_HI,
                               val);
        }
        break;
    case AMDKFD_MC_REG_CONTROL:
        amdkfd_mc_ring_write_control(s, val);
        break;
    case AMDKFD_MC_REG_ERROR:
        s->error = AMDKFD_MC_S_OK;
        break;
    case AMDKFD_MC_REG_SQ_TAIL:
        amdkfd_mc_ring_doorbell(s, val);
        break;
    case AMDKFD_MC_REG_CQ_HEAD:
        amdkfd_mc_ring_cq_head(s, val);
        break;
    case AMDKFD_MC_REG_IRQ_STATUS:
        s->irq_status &= ~val;
        amdkfd_mc_irq_update(s);
        break;
    default:
        /* Read-only and unassigned registers ignore writes */
        break;
    }
}

static const MemoryRegionOps amdkfd_mc_regs_ops = {
    .read = amdkfd_mc_regs_read,
    .write = amdkfd_mc_regs_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

/* Caches and io links of the exported nodes, as the backend has them */
static void amdkfd_mc_read_caches_links(AmdkfdMcState *s)
{
    uint32_t i, n;

    s->caches = g_new0(struct amdkfd_mc_topology_cache, AMDKFD_MC_MAX_CACHES);
    n = MIN(s->be_ops->caches(s->be, s->caches, AMDKFD_MC_MAX_CACHES),
            AMDKFD_MC_MAX_CACHES);
    for (i = 0; i < n; i++) {
        if (s->caches[i].node < s->num_nodes) {
            s->caches[s->nr_caches++] = s->caches[i];
        }
    }
    s->links = g_new0(struct amdkfd_mc_topology_link, AMDKFD_MC_MAX_LINKS);
    n = MIN(s->be_ops->links(s->be, s->links, AMDKFD_MC_MAX_LINKS),
            AMDKFD_MC_MAX_LINKS);
    for (i = 0; i < n; i++) {
        struct amdkfd_mc_topology_link *l = &s->links[i];
        bool from_ok = l->node_from < s->num_nodes ||
                       l->node_from == AMDKFD_MC_TOPO_CPU;
        bool to_ok = l->node_to < s->num_nodes ||
                     l->node_to == AMDKFD_MC_TOPO_CPU;

        if (from_ok && to_ok && l->node_from != l->node_to) {
            s->links[s->nr_links++] = *l;
        }
    }
}

/*
 * The largest guest memory object: the device's limits and the backend's
 * (the host's udmabuf); none at all if the backend cannot make them
 */
static void amdkfd_mc_guest_limits(AmdkfdMcState *s)
{
    uint32_t ranges = 0;
    uint64_t bytes = 0;

    s->features = AMDKFD_MC_FEATURES;
    if (!s->be_ops->import_guest ||
        !s->be_ops->guest_limits(s->be, &ranges, &bytes) || !ranges ||
        bytes < AMDKFD_MC_WINDOW_PAGE) {
        s->features &= ~AMDKFD_MC_FEATURE_GUEST_MEMORY;
        s->guest_obj_max_ranges = 0;
        s->guest_obj_max_bytes = 0;
        return;
    }
    s->guest_obj_max_ranges = MIN(ranges, s->limits.obj_max_guest_ranges);
    s->guest_obj_max_bytes = QEMU_ALIGN_DOWN(MIN(bytes,
                                                 s->limits.ctx_max_guest),
                                             AMDKFD_MC_WINDOW_PAGE);
}

/* Host mappings (VMAs) left for the rest of QEMU */
#define AMDKFD_MC_QEMU_VMAS 8192

/* Host mappings (VMAs) a process may have, or 0 if unknown */
static uint64_t amdkfd_mc_max_map_count(void)
{
    g_autofree char *text = NULL;
    uint64_t n = 0;

    if (g_file_get_contents("/proc/sys/vm/max_map_count", &text, NULL,
                            NULL)) {
        qemu_strtou64(text, NULL, 10, &n);
    }
    return n;
}

/* The limits must leave room for at least one of everything */
static bool amdkfd_mc_check_limits(AmdkfdMcState *s, Error **errp)
{
    const AmdkfdMcLimits *l = &s->limits;
    const uint32_t max_ranges = (AMDKFD_MC_MAX_PAYLOAD -
                                 sizeof(struct amdkfd_mc_guest_memory)) /
                                sizeof(struct amdkfd_mc_guest_range);
    uint64_t vmas, max_vmas;

    if (l->max_contexts < 1 || l->max_contexts > AMDKFD_MC_LIMIT_MAX_CONTEXTS) {
        error_setg(errp, "amdkfd-mc: max-contexts must be 1 to %u",
                   AMDKFD_MC_LIMIT_MAX_CONTEXTS);
        return false;
    }
    if (!l->max_mappings || !l->ctx_max_mappings || !l->max_objects ||
        !l->ctx_max_objects || !l->max_waits || !l->ctx_max_waits ||
        !l->max_host_fds || !l->max_guest_ranges ||
        !l->obj_max_guest_ranges) {
        error_setg(errp, "amdkfd-mc: the max-* and ctx-max-* limits must "
                   "be at least 1");
        return false;
    }
    /* a thread per wait; the ranges of one object must fit in a payload */
    if (l->max_waits > 4096 || l->obj_max_guest_ranges > max_ranges) {
        error_setg(errp, "amdkfd-mc: max-waits is at most 4096 and "
                   "obj-max-guest-ranges at most %u", max_ranges);
        return false;
    }
    /*
     * A window mapping splits the window's host mapping in up to two more
     * VMAs; the sim backend maps each guest RAM range of an object once
     */
    if (l->max_mappings > 65536 || l->max_guest_ranges > 65536) {
        error_setg(errp, "amdkfd-mc: max-mappings and max-guest-ranges are "
                   "at most 65536");
        return false;
    }
    vmas = 2ULL * l->max_mappings + l->max_guest_ranges;
    max_vmas = amdkfd_mc_max_map_count();
    if (max_vmas && vmas + AMDKFD_MC_QEMU_VMAS > max_vmas) {
        warn_report("amdkfd-mc: max-mappings and max-guest-ranges allow "
                    "%" PRIu64 " host mappings; with QEMU's own that is more "
                    "than vm.max_map_count (%" PRIu64 ")", vmas, max_vmas);
    }
    if (l->worker_threads < 1 || l->worker_threads > 64) {
        error_setg(errp, "amdkfd-mc: worker-threads must be 1 to 64");
        return false;
    }
    return true;
}

static void amdkfd_mc_realize(PCIDevice *pdev, Error **errp)
{
    AmdkfdMcState *s = AMDKFD_MC(pdev);
    AmdkfdMcBackendConfig cfg = { 0 };
    const char *backend = s->backend_name ? s->backend_name : "host";
    uint32_t i;

    if (HOST_BIG_ENDIAN) {
        /* KFD argument structures are passed through in host byte order */
        error_setg(errp, "amdkfd-mc: needs a little-endian host");
        return;
    }
    if (!strcmp(backend, "sim")) {
        s->be_ops = &amdkfd_mc_backend_sim;
    } else if (!strcmp(backend, "host")) {
        s->be_ops = &amdkfd_mc_backend_host;
    } else {
        error_setg(errp, "amdkfd-mc: unknown backend '%s'", backend);
        error_append_hint(errp, "Valid backends are 'host' and 'sim'.\n");
        return;
    }
    if (s->legacy_shared && s->be_ops != &amdkfd_mc_backend_sim) {
        error_setg(errp, "amdkfd-mc: legacy-shared is a test mode of the "
                   "sim backend only");
        return;
    }
    if (!amdkfd_mc_check_limits(s, errp)) {
        return;
    }
    if (s->window_size < 1 * MiB || s->window_size > 64 * GiB ||
        !is_power_of_2(s->window_size)) {
        error_setg(errp, "amdkfd-mc: window-size must be a power of two "
                   "from 1 MiB to 64 GiB");
        return;
    }

    cfg.kfd_path = s->kfd_path;
    cfg.legacy_kernel = s->legacy_shared;
    cfg.sim_nodes = s->sim_nodes;
    s->be = s->be_ops->create(&cfg, errp);
    if (!s->be) {
        return;
    }
    /* The exported GPU nodes are fixed for the life of the device */
    s->num_nodes = MIN(s->be_ops->num_nodes(s->be), AMDKFD_MC_MAX_NODES);
    for (i = 0; i < s->num_nodes; i++) {
        struct amdkfd_mc_topology_node node;

        if (!s->be_ops->node_info(s->be, i, &node)) {
            s->num_nodes = i;
            break;
        }
        s->node_gpu_id[i] = node.gpu_id;
    }
    amdkfd_mc_read_caches_links(s);
    amdkfd_mc_guest_limits(s);

    error_setg(&s->migration_blocker, "amdkfd-mc: the host GPU contexts "
               "of a guest cannot be migrated");
    if (migrate_add_blocker(&s->migration_blocker, errp) < 0) {
        goto fail_backend;
    }

    memory_region_init_io(&s->regs, OBJECT(s), &amdkfd_mc_regs_ops, s,
                          "amdkfd-mc-regs", AMDKFD_MC_REGS_SIZE);
    pci_register_bar(pdev, AMDKFD_MC_BAR_REGS, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &s->regs);

    if (msix_init_exclusive_bar(pdev, AMDKFD_MC_MSIX_VECTORS,
                                AMDKFD_MC_BAR_MSIX, errp)) {
        goto fail_blocker;
    }
    msix_vector_use(pdev, AMDKFD_MC_MSIX_VEC_CQ);
    pci_config_set_interrupt_pin(pdev->config, 1);

    /* Host memory of the contexts appears in place, in one RAM region */
    if (!amdkfd_mc_window_init(s, errp)) {
        goto fail_msix;
    }
    pci_register_bar(pdev, AMDKFD_MC_BAR_WINDOW,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, &s->window);

    amdkfd_mc_ctx_table_init(s);
    amdkfd_mc_guest_init(s);
    QTAILQ_INIT(&s->async);
    s->ring_bh = qemu_bh_new_guarded(amdkfd_mc_ring_process, s,
                                     &DEVICE(s)->mem_reentrancy_guard);
    amdkfd_mc_ring_init(s);
    /*
     * Every context with work may need a thread of its own (its call may
     * block for long), and so may the end of each: the pool grows to
     * that, from worker-threads kept ready.  Each wait has its own.
     */
    amdkfd_mc_workers_init(&s->workers, "amdkfd-mc-work",
                           s->limits.worker_threads,
                           2 * s->limits.max_contexts, s->ring_bh);
    amdkfd_mc_workers_init(&s->waiters, "amdkfd-mc-wait", 0,
                           s->limits.max_waits, s->ring_bh);
    return;

fail_msix:
    msix_vector_unuse(pdev, AMDKFD_MC_MSIX_VEC_CQ);
    msix_uninit_exclusive_bar(pdev);
fail_blocker:
    migrate_del_blocker(&s->migration_blocker);
fail_backend:
    g_free(s->caches);
    g_free(s->links);
    s->caches = NULL;
    s->links = NULL;
    s->nr_caches = s->nr_links = 0;
    s->be_ops->destroy(s->be);
    s->be = NULL;
}

/*
 * Until nothing runs in a worker and every finished item is reaped; the
 * done() of one may hand a worker the next step (closing a context)
 */
static void amdkfd_mc_workers_quiesce(AmdkfdMcState *s)
{
    bool reaped;

    do {
        amdkfd_mc_workers_drain(&s->workers);
        amdkfd_mc_workers_drain(&s->waiters);
        /* both pools, every time */
        reaped = amdkfd_mc_workers_reap(&s->workers);
        reaped = amdkfd_mc_workers_reap(&s->waiters) || reaped;
    } while (reaped);
}

/*
 * Unplug can come at any time (guest root ejects through ACPI): first make
 * sure that no guest command runs any more, then end what runs in workers,
 * then free.  Waits are cancelled and the sim's DMA engine stops between
 * packets; a host KFD call returns by itself, within the KFD's own
 * timeouts (a queue preemption's, by default a few seconds).
 */
static void amdkfd_mc_exit(PCIDevice *pdev)
{
    AmdkfdMcState *s = AMDKFD_MC(pdev);

    s->unplugging = true;
    amdkfd_mc_ring_stop(s);
    amdkfd_mc_ctx_destroy_all(s);
    /* their completions are orphaned: bookkeeping only, no DMA */
    amdkfd_mc_workers_quiesce(s);
    amdkfd_mc_workers_destroy(&s->workers);
    amdkfd_mc_workers_destroy(&s->waiters);
    qemu_bh_delete(s->ring_bh);
    s->ring_bh = NULL;
    amdkfd_mc_ring_fini(s);
    amdkfd_mc_ioctl_fini(s);
    amdkfd_mc_ctx_table_free(s);
    amdkfd_mc_guest_fini(s);
    g_free(s->caches);
    g_free(s->links);
    s->caches = NULL;
    s->links = NULL;
    s->nr_caches = s->nr_links = 0;
    amdkfd_mc_window_exit(s);
    msix_vector_unuse(pdev, AMDKFD_MC_MSIX_VEC_CQ);
    msix_uninit_exclusive_bar(pdev);
    migrate_del_blocker(&s->migration_blocker);
    s->be_ops->destroy(s->be);
    s->be = NULL;
}

static void amdkfd_mc_instance_finalize(Object *obj)
{
    amdkfd_mc_window_finalize(AMDKFD_MC(obj));
}

static void amdkfd_mc_reset_hold(Object *obj, ResetType type)
{
    amdkfd_mc_device_reset(AMDKFD_MC(obj));
}

static void amdkfd_mc_get_backend_contexts(Object *obj, Visitor *v,
                                           const char *name, void *opaque,
                                           Error **errp)
{
    AmdkfdMcState *s = AMDKFD_MC(obj);
    uint32_t n = s->be ? s->be_ops->live_contexts(s->be) : 0;

    visit_type_uint32(v, name, &n, errp);
}

/*
 * The live contexts as a list of structures, for qom-get:
 * [{ "guest-id", "host-id", "pasid", "objects", "mappings", "mapped-bytes",
 *    "queues", "events", "waits", "host-fds" }, ...]
 */
static void amdkfd_mc_get_contexts(Object *obj, Visitor *v, const char *name,
                                   void *opaque, Error **errp)
{
    AmdkfdMcState *s = AMDKFD_MC(obj);
    AmdkfdMcContext *ctx;

    if (!visit_start_list(v, name, NULL, 0, errp)) {
        return;
    }
    QTAILQ_FOREACH(ctx, &s->all_contexts, next) {
        AmdkfdMcBackendCtxInfo info = { 0 };

        if (ctx->state != AMDKFD_MC_CTX_LIVE) {
            continue;
        }
        s->be_ops->ctx_info(ctx->file, &info);
        if (!visit_start_struct(v, NULL, NULL, 0, errp)) {
            return;
        }
        if (!visit_type_uint32(v, "guest-id", &ctx->id, errp) ||
            !visit_type_uint32(v, "host-id", &info.host_ctx_id, errp) ||
            !visit_type_uint32(v, "pasid", &info.pasid, errp) ||
            !visit_type_uint32(v, "objects", &ctx->nr_objects, errp) ||
            !visit_type_uint32(v, "mappings", &ctx->nr_mappings, errp) ||
            !visit_type_uint64(v, "mapped-bytes", &ctx->mapped_bytes,
                               errp) ||
            !visit_type_uint32(v, "queues", &ctx->queues, errp) ||
            !visit_type_uint32(v, "events", &ctx->events, errp) ||
            !visit_type_uint32(v, "waits", &ctx->nr_waits, errp) ||
            !visit_type_uint64(v, "guest-bytes", &ctx->guest_bytes, errp) ||
            !visit_type_uint32(v, "host-fds", &ctx->host_fds, errp)) {
            visit_end_struct(v, NULL);
            return;
        }
        visit_end_struct(v, NULL);
    }
    visit_end_list(v, NULL);
}

static void amdkfd_mc_get_worker_threads(Object *obj, Visitor *v,
                                         const char *name, void *opaque,
                                         Error **errp)
{
    AmdkfdMcState *s = AMDKFD_MC(obj);
    uint32_t n = 0;

    if (s->ring_bh) {
        n = amdkfd_mc_workers_threads(&s->workers) +
            amdkfd_mc_workers_threads(&s->waiters);
    }
    visit_type_uint32(v, name, &n, errp);
}

/* Read-only state for operators and leak checks */
static void amdkfd_mc_instance_init(Object *obj)
{
    AmdkfdMcState *s = AMDKFD_MC(obj);
    static const struct {
        const char *name;
        size_t offset;
        bool wide;
        const char *desc;
    } counters[] = {
        { "live-contexts", offsetof(AmdkfdMcState, live_contexts), false,
          "guest contexts that exist" },
        { "mapped-bytes", offsetof(AmdkfdMcState, mapped_bytes), true,
          "bytes mapped into the window" },
        { "live-mappings", offsetof(AmdkfdMcState, nr_mappings), false,
          "window mappings" },
        { "live-objects", offsetof(AmdkfdMcState, nr_objects), false,
          "memory objects of all contexts" },
        { "inflight-waits", offsetof(AmdkfdMcState, nr_waits), false,
          "WAIT_EVENTS running" },
        { "host-fds", offsetof(AmdkfdMcState, host_fds), false,
          "host file descriptors the backend holds" },
        { "guest-memory-bytes", offsetof(AmdkfdMcState, guest_bytes), true,
          "guest RAM in memory objects (USERPTR) of all contexts" },
        { "leaked-window-pages", offsetof(AmdkfdMcState, leaked_window_pages),
          true, "window pages that could not be cleared (never reused)" },
        { "async-commands", offsetof(AmdkfdMcState, nr_async), false,
          "commands in workers, orphans of stopped rings included" },
        { "async-bytes", offsetof(AmdkfdMcState, async_bytes), true,
          "guest payload copies those commands hold" },
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(counters); i++) {
        void *p = (uint8_t *)s + counters[i].offset;
        g_autofree char *desc = g_strdup_printf("%s (read-only)",
                                                counters[i].desc);

        if (counters[i].wide) {
            object_property_add_uint64_ptr(obj, counters[i].name, p,
                                           OBJ_PROP_FLAG_READ);
        } else {
            object_property_add_uint32_ptr(obj, counters[i].name, p,
                                           OBJ_PROP_FLAG_READ);
        }
        object_property_set_description(obj, counters[i].name, desc);
    }
    object_property_add(obj, "backend-contexts", "uint32",
                        amdkfd_mc_get_backend_contexts, NULL, NULL, NULL);
    object_property_add(obj, "contexts", "list",
                        amdkfd_mc_get_contexts, NULL, NULL, NULL);
    object_property_add(obj, "running-threads", "uint32",
                        amdkfd_mc_get_worker_threads, NULL, NULL, NULL);
    object_property_set_description(obj, "backend-contexts",
                                    "contexts the backend holds (read-only)");
    object_property_set_description(obj, "contexts",
                                    "the live contexts (read-only)");
    object_property_set_description(obj, "running-threads",
                                    "worker and wait threads (read-only)");
}

static const Property amdkfd_mc_properties[] = {
    DEFINE_PROP_STRING("backend", AmdkfdMcState, backend_name),
    DEFINE_PROP_STRING("kfd-path", AmdkfdMcState, kfd_path),
    DEFINE_PROP_SIZE("window-size", AmdkfdMcState, window_size,
                     AMDKFD_MC_DEFAULT_WINDOW_SIZE),
    DEFINE_PROP_BOOL("legacy-shared", AmdkfdMcState, legacy_shared, false),
    DEFINE_PROP_UINT32("sim-nodes", AmdkfdMcState, sim_nodes, 1),
    DEFINE_PROP_UINT32("max-contexts", AmdkfdMcState, limits.max_contexts,
                       AMDKFD_MC_DEFAULT_MAX_CONTEXTS),
    DEFINE_PROP_UINT32("max-mappings", AmdkfdMcState, limits.max_mappings,
                       16384),
    DEFINE_PROP_UINT32("ctx-max-mappings", AmdkfdMcState,
                       limits.ctx_max_mappings, 4096),
    DEFINE_PROP_SIZE("ctx-max-mapped", AmdkfdMcState, limits.ctx_max_mapped,
                     0),
    DEFINE_PROP_UINT32("max-objects", AmdkfdMcState, limits.max_objects,
                       65536),
    DEFINE_PROP_UINT32("ctx-max-objects", AmdkfdMcState,
                       limits.ctx_max_objects, 16384),
    DEFINE_PROP_UINT32("max-waits", AmdkfdMcState, limits.max_waits, 256),
    DEFINE_PROP_UINT32("ctx-max-waits", AmdkfdMcState, limits.ctx_max_waits,
                       32),
    DEFINE_PROP_UINT32("max-host-fds", AmdkfdMcState, limits.max_host_fds,
                       1024),
    DEFINE_PROP_UINT32("worker-threads", AmdkfdMcState,
                       limits.worker_threads, 4),
    DEFINE_PROP_UINT32("obj-max-guest-ranges", AmdkfdMcState,
                       limits.obj_max_guest_ranges, 1024),
    DEFINE_PROP_UINT32("max-guest-ranges", AmdkfdMcState,
                       limits.max_guest_ranges, 16384),
    DEFINE_PROP_SIZE("ctx-max-guest-memory", AmdkfdMcState,
                     limits.ctx_max_guest, 16 * GiB),
    /* tests only: where context ids start, to reach the end of the space */
    DEFINE_PROP_UINT32("x-first-context-id", AmdkfdMcState, first_ctx_id, 1),
};

static void amdkfd_mc_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    k->realize = amdkfd_mc_realize;
    k->exit = amdkfd_mc_exit;
    k->vendor_id = AMDKFD_MC_PCI_VENDOR_ID;
    k->device_id = AMDKFD_MC_PCI_DEVICE_ID;
    k->revision = AMDKFD_MC_PCI_REVISION;
    k->class_id = PCI_CLASS_PROCESSOR_CO;
    rc->phases.hold = amdkfd_mc_reset_hold;
    dc->desc = "Paravirtual AMD KFD, one isolated host context per "
               "guest program";
    device_class_set_props(dc, amdkfd_mc_properties);
    object_class_property_set_description(klass, "backend",
        "where KFD operations go: 'host' (the host's KFD) or 'sim'");
    object_class_property_set_description(klass, "kfd-path",
        "host backend: the KFD device node (default /dev/kfd)");
    object_class_property_set_description(klass, "max-contexts",
        "guest contexts (open /dev/kfd files in the guest) at once");
    object_class_property_set_description(klass, "max-mappings",
        "window mappings of all contexts");
    object_class_property_set_description(klass, "ctx-max-mappings",
        "window mappings of one context");
    object_class_property_set_description(klass, "ctx-max-mapped",
        "bytes one context may map into the window (0: window-size)");
    object_class_property_set_description(klass, "max-objects",
        "memory objects of all contexts");
    object_class_property_set_description(klass, "ctx-max-objects",
        "memory objects of one context");
    object_class_property_set_description(klass, "max-waits",
        "WAIT_EVENTS running at once, each on a thread of its own");
    object_class_property_set_description(klass, "ctx-max-waits",
        "WAIT_EVENTS of one context running at once");
    object_class_property_set_description(klass, "max-host-fds",
        "host backend: file descriptors held for all contexts");
    object_class_property_set_description(klass, "obj-max-guest-ranges",
        "page ranges of one guest memory object (host: at most udmabuf's "
        "list_limit)");
    object_class_property_set_description(klass, "max-guest-ranges",
        "page ranges of all guest memory objects");
    object_class_property_set_description(klass, "ctx-max-guest-memory",
        "bytes of guest RAM one context may turn into memory objects");
    object_class_property_set_description(klass, "worker-threads",
        "threads kept ready for backend calls that may sleep (more start "
        "while all are busy, up to two per context)");
    object_class_property_set_description(klass, "window-size",
        "size of the BAR that maps host memory of the contexts");
    object_class_property_set_description(klass, "legacy-shared",
        "sim test mode: all guest contexts share one KFD context, as "
        "before Linux 7.0; never for real workloads");
    object_class_property_set_description(klass, "sim-nodes",
        "sim backend: number of simulated GPU nodes");
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    amdkfd_mc_window_class_init(klass);
}

static const TypeInfo amdkfd_mc_info = {
    .name = TYPE_AMDKFD_MC,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(AmdkfdMcState),
    .instance_init = amdkfd_mc_instance_init,
    .instance_finalize = amdkfd_mc_instance_finalize,
    .class_init = amdkfd_mc_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { TYPE_RAM_DISCARD_SOURCE },
        { },
    },
};

static void amdkfd_mc_register_types(void)
{
    type_register_static(&amdkfd_mc_info);
}

type_init(amdkfd_mc_register_types)
