/*
 * amdkfd-mc: the allowlist of forwarded KFD ioctls and their marshaling
 *
 * A request is forwarded only if its type, number and direction match an
 * entry of amdkfd_mc_ioctls[].  Its size may differ from the uapi's, as
 * the KFD allows: a shorter argument (older user space, e.g. libhsakmt
 * 5.2.3's 88-byte CREATE_QUEUE) is zero-extended for the backend and
 * copied back at the caller's size; a longer one only if the bytes past
 * the uapi structure are 0 (they then mean nothing to any kernel).  The
 * whole payload, the argument structure followed by any arrays it refers
 * to, is copied from guest memory into one host buffer before anything
 * looks at it.  In the payload an embedded pointer is a byte
 * offset into the payload; the marshaling checks that the array lies
 * inside, points the host copy at it for the backend, and puts the
 * guest's offset back before the payload is copied out, so neither a guest
 * value becomes a host pointer nor a host pointer reaches the guest.
 *
 * Requests that carry host file descriptors, host addresses or debugger
 * control are refused whatever the backend could do.
 *
 * Where a request runs: the few that take no sleeping lock in the KFD
 * (GET_VERSION; SET_EVENT and RESET_EVENT, which take only the event's
 * spinlock) inline in the ring's bottom half; every other one in the
 * device's workers, one at a time per context, since it may sleep in the
 * host kernel, if only on the process mutex that another of the context's
 * calls holds across a queue preemption; WAIT_EVENTS, which may never
 * return, on a thread of its own from the wait pool.  The marshaling
 * before and the bookkeeping after always run on the main loop.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "amdkfd-mc-internal.h"
#include "trace.h"

/* Payloads up to this size are marshaled without a heap allocation */
#define AMDKFD_MC_INLINE_PAYLOAD    512

/* The largest argument structure a request may name (its size bits) */
#define AMDKFD_MC_MAX_ARGS          256

/* The KFD ioctl interface version the device implements for guests */
#define AMDKFD_MC_KFD_MINOR         19

/* Bounds of guest-controlled counts */
#define AMDKFD_MC_MAX_DEVICE_IDS    64
#define AMDKFD_MC_MAX_WAIT_EVENTS   KFD_SIGNAL_EVENT_LIMIT
#define AMDKFD_MC_MAX_TILE_CONFIGS  64

/* The largest WAIT_EVENTS fits in a payload (the spec promises it) */
QEMU_BUILD_BUG_ON(sizeof(struct kfd_ioctl_wait_events_args) +
                  AMDKFD_MC_MAX_WAIT_EVENTS * sizeof(struct kfd_event_data) >
                  AMDKFD_MC_MAX_PAYLOAD);

typedef enum AmdkfdMcRun {
    AMDKFD_MC_RUN_WORKER,       /* may sleep in the host kernel */
    AMDKFD_MC_RUN_INLINE,       /* takes no sleeping lock, returns at once */
    AMDKFD_MC_RUN_WAIT,         /* may never return */
} AmdkfdMcRun;

/* The uapi's 64-bit fields: unsigned long long, not uint64_t's long */
typedef __u64 AmdkfdMcUapiU64;

/* One forwarded request, from the guest's payload to its completion */
typedef struct AmdkfdMcCall {
    AmdkfdMcAsync async;        /* requests that leave the bottom half */
    AmdkfdMcState *s;
    AmdkfdMcContext *ctx;
    AmdkfdMcBackendFile *file;
    const struct AmdkfdMcIoctl *desc;
    uint32_t request;           /* the uapi's request number */
    uint32_t req_size;          /* the size the guest's request names */
    uint8_t *buf;               /* host copy of the payload */
    uint32_t len;               /* payload length */
    uint64_t payload_addr;
    /* embedded pointers the marshaling rewrote, and their guest values */
    AmdkfdMcUapiU64 *ptr_field[2];
    uint64_t guest_ptr[2];
    unsigned nr_ptrs;
    /* kfd_event_data_ext of WAIT_EVENTS, cleared for the backend */
    uint64_t *saved_ext;
    /* guest counts as the marshaling checked them (the backend may not) */
    uint32_t count;
    /* what the marshaling reserved, for the bookkeeping to settle */
    int node;                   /* ACQUIRE_VM: its node, or -1 */
    uint32_t fds_reserved;
    bool object_reserved;
    AmdkfdMcObject *unmapping;  /* UNMAP_MEMORY_FROM_GPU: its object */
    int ret;
    /* the uapi argument structure the backend gets, zero-extended */
    uint64_t args[AMDKFD_MC_MAX_ARGS / 8];
    uint64_t inline_buf[AMDKFD_MC_INLINE_PAYLOAD / 8];
} AmdkfdMcCall;

typedef struct AmdkfdMcIoctl {
    uint32_t request;
    const char *name;
    /* Checks and translates the host copy; returns an AMDKFD_MC_S_* */
    uint32_t (*marshal)(AmdkfdMcCall *call);
    /*
     * After the backend ran, before the copy back: device bookkeeping.
     * Runs even when the rings stopped meanwhile (no copy back then).
     */
    void (*finish)(AmdkfdMcCall *call);
    AmdkfdMcRun run;
} AmdkfdMcIoctl;

/*
 * Point the embedded pointer @field at @count elements of @elem_size bytes
 * inside the payload.  Returns false if they do not fit.
 */
static bool amdkfd_mc_payload_array(AmdkfdMcCall *call, __u64 *field,
                                    uint64_t count, size_t elem_size)
{
    uint64_t offset = *field;

    assert(call->nr_ptrs < ARRAY_SIZE(call->ptr_field));
    call->ptr_field[call->nr_ptrs] = field;
    call->guest_ptr[call->nr_ptrs++] = offset;
    if (count == 0) {
        /* Nothing is read or written through it: give the backend NULL */
        *field = 0;
        return true;
    }
    /* after the argument structure as the guest sized it, in the payload */
    if (offset < call->req_size || offset % 8 || offset > call->len ||
        count > (call->len - offset) / elem_size) {
        return false;
    }
    *field = (uintptr_t)(call->buf + offset);
    return true;
}

/* Argument structures with no embedded pointer fill the payload exactly */
static uint32_t amdkfd_mc_marshal_plain(AmdkfdMcCall *call)
{
    return call->len == call->req_size ?
           AMDKFD_MC_S_OK : AMDKFD_MC_S_INVALID_ARGUMENT;
}

static uint32_t amdkfd_mc_marshal_apertures(AmdkfdMcCall *call)
{
    struct kfd_ioctl_get_process_apertures_new_args *a = (void *)call->args;

    if (a->num_of_nodes > AMDKFD_MC_MAX_NODES ||
        !amdkfd_mc_payload_array(call, &a->kfd_process_device_apertures_ptr,
                                 a->num_of_nodes,
                                 sizeof(struct kfd_process_device_apertures))) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    return AMDKFD_MC_S_OK;
}

/* Count a host fd more against the device's limit; false if over it */
static bool amdkfd_mc_fds_reserve(AmdkfdMcCall *call, uint32_t n)
{
    AmdkfdMcState *s = call->s;

    if (s->host_fds + n > s->limits.max_host_fds) {
        return false;
    }
    s->host_fds += n;
    call->ctx->host_fds += n;
    call->fds_reserved = n;
    return true;
}

/*
 * Every ACQUIRE_VM of a node not yet acquired reserves the backend's fds
 * for it, so that whichever of two queued ones succeeds has them; the
 * others give theirs back.
 */
static uint32_t amdkfd_mc_marshal_acquire_vm(AmdkfdMcCall *call)
{
    struct kfd_ioctl_acquire_vm_args *a = (void *)call->args;

    if (amdkfd_mc_marshal_plain(call) != AMDKFD_MC_S_OK) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    /* A guest number is no host fd: the backend supplies its own VM */
    a->drm_fd = UINT32_MAX;
    call->node = amdkfd_mc_node_index(call->s, a->gpu_id);
    if (call->node < 0 || (call->ctx->vm_acquired & (1u << call->node))) {
        return AMDKFD_MC_S_OK;      /* EINVAL, or nothing new, on the host */
    }
    if (!amdkfd_mc_fds_reserve(call, call->s->be_ops->fds_per_vm)) {
        return AMDKFD_MC_S_NO_RESOURCES;
    }
    return AMDKFD_MC_S_OK;
}

static void amdkfd_mc_finish_acquire_vm(AmdkfdMcCall *call)
{
    AmdkfdMcContext *ctx = call->ctx;
    uint32_t bit = call->node >= 0 ? 1u << call->node : 0;

    if (call->ret == 0 && bit && !(ctx->vm_acquired & bit) &&
        call->fds_reserved == call->s->be_ops->fds_per_vm) {
        ctx->vm_acquired |= bit;
        return;
    }
    ctx->host_fds -= call->fds_reserved;
    call->s->host_fds -= call->fds_reserved;
}

static uint32_t amdkfd_mc_marshal_runtime_enable(AmdkfdMcCall *call)
{
    struct kfd_ioctl_runtime_enable_args *a = (void *)call->args;

    if (amdkfd_mc_marshal_plain(call) != AMDKFD_MC_S_OK) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    /*
     * r_debug is an address in the caller's memory, kept for debuggers;
     * debugging is refused, and a guest address means nothing on the host.
     */
    call->ptr_field[0] = &a->r_debug;
    call->guest_ptr[0] = a->r_debug;
    call->nr_ptrs = 1;
    a->r_debug = 0;
    return AMDKFD_MC_S_OK;
}

static uint32_t amdkfd_mc_marshal_alloc(AmdkfdMcCall *call)
{
    struct kfd_ioctl_alloc_memory_of_gpu_args *a = (void *)call->args;

    if (amdkfd_mc_marshal_plain(call) != AMDKFD_MC_S_OK) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    /* USERPTR memory would be host memory of QEMU's own choosing */
    if (a->flags & KFD_IOC_ALLOC_MEM_FLAGS_USERPTR) {
        return AMDKFD_MC_S_NOT_SUPPORTED;
    }
    if (!amdkfd_mc_obj_reserve(call->ctx)) {
        return AMDKFD_MC_S_NO_RESOURCES;
    }
    call->object_reserved = true;
    return AMDKFD_MC_S_OK;
}

static void amdkfd_mc_finish_alloc(AmdkfdMcCall *call)
{
    struct kfd_ioctl_alloc_memory_of_gpu_args *a = (void *)call->args;
    AmdkfdMcObject obj = {
        .handle = a->handle,
        .mmap_offset = a->mmap_offset,
        .va = a->va_addr,
        .size = a->size,
        .gpu_id = a->gpu_id,
        .flags = a->flags,
    };

    if (call->ret == 0) {
        amdkfd_mc_obj_add(call->ctx, &obj);
    } else {
        amdkfd_mc_obj_unreserve(call->ctx);
    }
}

static uint32_t amdkfd_mc_marshal_free(AmdkfdMcCall *call)
{
    struct kfd_ioctl_free_memory_of_gpu_args *a = (void *)call->args;
    AmdkfdMcObject *obj;

    if (amdkfd_mc_marshal_plain(call) != AMDKFD_MC_S_OK) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    /* no new window mapping of an object on its way out */
    obj = amdkfd_mc_obj_lookup(call->ctx, a->handle);
    if (obj) {
        obj->freeing = true;
    }
    return AMDKFD_MC_S_OK;
}

/*
 * Window mappings of a freed object stay: the guest driver releases them
 * when it has revoked its CPU mappings, never the device behind its back.
 */
static void amdkfd_mc_finish_free(AmdkfdMcCall *call)
{
    struct kfd_ioctl_free_memory_of_gpu_args *a = (void *)call->args;
    AmdkfdMcObject *obj = amdkfd_mc_obj_lookup(call->ctx, a->handle);

    if (!obj) {
        return;
    }
    if (call->ret == 0) {
        amdkfd_mc_obj_remove(call->ctx, obj);
    } else {
        obj->freeing = false;
    }
}

static uint32_t amdkfd_mc_marshal_map(AmdkfdMcCall *call)
{
    struct kfd_ioctl_map_memory_to_gpu_args *a = (void *)call->args;
    AmdkfdMcObject *obj;

    /* map and unmap share the layout */
    QEMU_BUILD_BUG_ON(sizeof(*a) !=
                      sizeof(struct kfd_ioctl_unmap_memory_from_gpu_args));
    if (a->n_devices > AMDKFD_MC_MAX_DEVICE_IDS ||
        !amdkfd_mc_payload_array(call, &a->device_ids_array_ptr,
                                 a->n_devices, sizeof(uint32_t))) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    call->count = a->n_devices;
    /*
     * From now until it is done, no queue may be made in the object: the
     * queue's check would run before this unmap does
     */
    obj = amdkfd_mc_obj_lookup(call->ctx, a->handle);
    if (obj && call->request == AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU) {
        obj->unmapping++;
        call->unmapping = obj;
    }
    return AMDKFD_MC_S_OK;
}

/* Which GPU VMs map each object: queues may use only such memory */
static void amdkfd_mc_finish_map(AmdkfdMcCall *call)
{
    struct kfd_ioctl_map_memory_to_gpu_args *a = (void *)call->args;
    const uint32_t *ids = (const uint32_t *)(uintptr_t)a->device_ids_array_ptr;
    AmdkfdMcObject *obj = amdkfd_mc_obj_lookup(call->ctx, a->handle);
    bool map = call->request == AMDKFD_IOC_MAP_MEMORY_TO_GPU;
    uint32_t i, n = MIN(a->n_success, call->count);

    if (call->unmapping) {
        AmdkfdMcObject *held = call->unmapping;

        call->unmapping = NULL;
        /* a FREE sent after it and done first took it out of the tables */
        if (held->detached) {
            obj = NULL;
        }
        amdkfd_mc_obj_unhold(held);
    }
    if (!obj || !ids) {
        return;
    }
    for (i = 0; i < n; i++) {
        int node = amdkfd_mc_node_index(call->s, ids[i]);

        if (node < 0) {
            continue;
        }
        if (map) {
            obj->gpu_mapped |= 1u << node;
        } else {
            obj->gpu_mapped &= ~(1u << node);
        }
    }
}

/*
 * Every address of a queue lies in memory of this context that the
 * queue's GPU maps: the host KFD reads some of them as user addresses of
 * QEMU (the write pointer without the hardware scheduler).
 */
static bool amdkfd_mc_queue_range_ok(AmdkfdMcCall *call, int node,
                                     uint64_t va, uint64_t len)
{
    if (!va && !len) {
        return true;
    }
    return va && amdkfd_mc_obj_covers(call->ctx, node, va, MAX(len, 1));
}

static uint32_t amdkfd_mc_marshal_create_queue(AmdkfdMcCall *call)
{
    struct kfd_ioctl_create_queue_args *a = (void *)call->args;
    int node;

    if (amdkfd_mc_marshal_plain(call) != AMDKFD_MC_S_OK) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    /* KFD 1.22 made pad metadata_ring_size; the device implements 1.19 */
    if (a->pad) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    node = amdkfd_mc_node_index(call->s, a->gpu_id);
    if (node < 0 ||
        !amdkfd_mc_queue_range_ok(call, node, a->ring_base_address,
                                  a->ring_size) ||
        !amdkfd_mc_obj_covers(call->ctx, node, a->read_pointer_address, 8) ||
        !amdkfd_mc_obj_covers(call->ctx, node, a->write_pointer_address, 8) ||
        !amdkfd_mc_queue_range_ok(call, node, a->eop_buffer_address,
                                  a->eop_buffer_size) ||
        !amdkfd_mc_queue_range_ok(call, node, a->ctx_save_restore_address,
                                  a->ctx_save_restore_size)) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    return AMDKFD_MC_S_OK;
}

static uint32_t amdkfd_mc_marshal_update_queue(AmdkfdMcCall *call)
{
    struct kfd_ioctl_update_queue_args *a = (void *)call->args;
    AmdkfdMcContext *ctx = call->ctx;
    gpointer node;

    if (amdkfd_mc_marshal_plain(call) != AMDKFD_MC_S_OK) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    /*
     * Only a queue whose creation has completed: one still being made
     * (its id is predictable) would get a ring nobody checked
     */
    if (!g_hash_table_lookup_extended(ctx->queue_nodes,
                                      GUINT_TO_POINTER(a->queue_id), NULL,
                                      &node)) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    if (!amdkfd_mc_queue_range_ok(call, GPOINTER_TO_INT(node),
                                  a->ring_base_address, a->ring_size)) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    return AMDKFD_MC_S_OK;
}

/* Queues and events of each context, for the QOM view and UPDATE_QUEUE */
static void amdkfd_mc_finish_count(AmdkfdMcCall *call)
{
    AmdkfdMcContext *ctx = call->ctx;
    struct kfd_ioctl_create_queue_args *cq = (void *)call->args;
    struct kfd_ioctl_destroy_queue_args *dq = (void *)call->args;

    if (call->ret != 0) {
        return;
    }
    switch (call->request) {
    case AMDKFD_IOC_CREATE_QUEUE:
        ctx->queues++;
        g_hash_table_insert(ctx->queue_nodes, GUINT_TO_POINTER(cq->queue_id),
                            GINT_TO_POINTER(amdkfd_mc_node_index(call->s,
                                                                 cq->gpu_id)));
        break;
    case AMDKFD_IOC_DESTROY_QUEUE:
        ctx->queues -= ctx->queues > 0;
        g_hash_table_remove(ctx->queue_nodes, GUINT_TO_POINTER(dq->queue_id));
        break;
    case AMDKFD_IOC_CREATE_EVENT:
        ctx->events++;
        break;
    case AMDKFD_IOC_DESTROY_EVENT:
        ctx->events -= ctx->events > 0;
        break;
    }
}

static uint32_t amdkfd_mc_marshal_wait(AmdkfdMcCall *call)
{
    struct kfd_ioctl_wait_events_args *a = (void *)call->args;
    AmdkfdMcContext *ctx = call->ctx;
    AmdkfdMcState *s = call->s;
    struct kfd_event_data *ev;
    uint32_t i;

    if (a->num_events == 0 || a->num_events > AMDKFD_MC_MAX_WAIT_EVENTS ||
        !amdkfd_mc_payload_array(call, &a->events_ptr, a->num_events,
                                 sizeof(*ev))) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    /* Each wait holds a thread: bounded per context and per device */
    if (ctx->nr_waits >= s->limits.ctx_max_waits ||
        s->nr_waits >= s->limits.max_waits) {
        return AMDKFD_MC_S_NO_RESOURCES;
    }
    ctx->nr_waits++;
    s->nr_waits++;
    call->count = a->num_events;
    /* The extension pointer would be a host address: clear it */
    ev = (struct kfd_event_data *)(uintptr_t)a->events_ptr;
    call->saved_ext = g_new(uint64_t, a->num_events);
    for (i = 0; i < a->num_events; i++) {
        call->saved_ext[i] = ev[i].kfd_event_data_ext;
        ev[i].kfd_event_data_ext = 0;
    }
    return AMDKFD_MC_S_OK;
}

static void amdkfd_mc_finish_wait(AmdkfdMcCall *call)
{
    struct kfd_ioctl_wait_events_args *a = (void *)call->args;
    struct kfd_event_data *ev = (void *)(uintptr_t)a->events_ptr;
    uint32_t i;

    for (i = 0; i < call->count; i++) {
        ev[i].kfd_event_data_ext = call->saved_ext[i];
    }
}

/* HIP asks for it in hipGetDeviceCount: two arrays of 32-bit words */
static uint32_t amdkfd_mc_marshal_tile_config(AmdkfdMcCall *call)
{
    struct kfd_ioctl_get_tile_config_args *a = (void *)call->args;

    if (a->num_tile_configs > AMDKFD_MC_MAX_TILE_CONFIGS ||
        a->num_macro_tile_configs > AMDKFD_MC_MAX_TILE_CONFIGS ||
        !amdkfd_mc_payload_array(call, &a->tile_config_ptr,
                                 a->num_tile_configs, sizeof(uint32_t)) ||
        !amdkfd_mc_payload_array(call, &a->macro_tile_config_ptr,
                                 a->num_macro_tile_configs,
                                 sizeof(uint32_t))) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    return AMDKFD_MC_S_OK;
}

/*
 * The guest gets the interface the device implements: a newer host KFD
 * (7.2 reports 1.23) does not make 1.20-1.23 requests pass the allowlist
 */
static void amdkfd_mc_finish_version(AmdkfdMcCall *call)
{
    struct kfd_ioctl_get_version_args *a = (void *)call->args;

    if (call->ret == 0 && a->major_version == 1 &&
        a->minor_version > AMDKFD_MC_KFD_MINOR) {
        a->minor_version = AMDKFD_MC_KFD_MINOR;
    }
}

#define AMDKFD_MC_IOCTL(req, ...) \
    { .request = (req), .name = #req, __VA_ARGS__ }

/* Forwarded; in a worker unless said otherwise */
static const AmdkfdMcIoctl amdkfd_mc_ioctls[] = {
    AMDKFD_MC_IOCTL(AMDKFD_IOC_GET_VERSION,
                    .finish = amdkfd_mc_finish_version,
                    .run = AMDKFD_MC_RUN_INLINE),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_GET_PROCESS_APERTURES_NEW,
                    .marshal = amdkfd_mc_marshal_apertures),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_ACQUIRE_VM,
                    .marshal = amdkfd_mc_marshal_acquire_vm,
                    .finish = amdkfd_mc_finish_acquire_vm),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_RUNTIME_ENABLE,
                    .marshal = amdkfd_mc_marshal_runtime_enable),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_ALLOC_MEMORY_OF_GPU,
                    .marshal = amdkfd_mc_marshal_alloc,
                    .finish = amdkfd_mc_finish_alloc),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_FREE_MEMORY_OF_GPU,
                    .marshal = amdkfd_mc_marshal_free,
                    .finish = amdkfd_mc_finish_free),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_MAP_MEMORY_TO_GPU,
                    .marshal = amdkfd_mc_marshal_map,
                    .finish = amdkfd_mc_finish_map),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU,
                    .marshal = amdkfd_mc_marshal_map,
                    .finish = amdkfd_mc_finish_map),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_AVAILABLE_MEMORY),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_CREATE_QUEUE,
                    .marshal = amdkfd_mc_marshal_create_queue,
                    .finish = amdkfd_mc_finish_count),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_DESTROY_QUEUE,
                    .finish = amdkfd_mc_finish_count),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_UPDATE_QUEUE,
                    .marshal = amdkfd_mc_marshal_update_queue),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_CREATE_EVENT,
                    .finish = amdkfd_mc_finish_count),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_DESTROY_EVENT,
                    .finish = amdkfd_mc_finish_count),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_SET_EVENT,
                    .run = AMDKFD_MC_RUN_INLINE),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_RESET_EVENT,
                    .run = AMDKFD_MC_RUN_INLINE),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_WAIT_EVENTS,
                    .marshal = amdkfd_mc_marshal_wait,
                    .finish = amdkfd_mc_finish_wait,
                    .run = AMDKFD_MC_RUN_WAIT),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_SET_MEMORY_POLICY),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_GET_CLOCK_COUNTERS),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_SET_SCRATCH_BACKING_VA),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_SET_TRAP_HANDLER),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_SET_XNACK_MODE),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_GET_TILE_CONFIG,
                    .marshal = amdkfd_mc_marshal_tile_config),
};

/*
 * Refused by policy: host fds (dma-buf, SMI events), host user addresses
 * (SVM; USERPTR is refused in ALLOC_MEMORY_OF_GPU's flags), debugger and
 * checkpoint control, and context creation, which the device does itself.
 */
static const AmdkfdMcIoctl amdkfd_mc_refused_ioctls[] = {
    AMDKFD_MC_IOCTL(AMDKFD_IOC_CREATE_PROCESS),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_SVM),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_DBG_TRAP),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_CRIU_OP),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_SMI_EVENTS),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_IMPORT_DMABUF),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_EXPORT_DMABUF),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_GET_DMABUF_INFO),
};

/* The entry of the same type, number and direction, whatever the size */
static const AmdkfdMcIoctl *amdkfd_mc_ioctl_find(const AmdkfdMcIoctl *table,
                                                 size_t n, uint32_t request)
{
    const uint32_t mask = ~(uint32_t)(_IOC_SIZEMASK << _IOC_SIZESHIFT);
    size_t i;

    for (i = 0; i < n; i++) {
        if ((table[i].request & mask) == (request & mask)) {
            return &table[i];
        }
    }
    return NULL;
}

/* Forwarded requests by number, so that a command costs no search */
#define AMDKFD_MC_IOCTL_NRS 64
static const AmdkfdMcIoctl *amdkfd_mc_ioctl_by_nr[AMDKFD_MC_IOCTL_NRS];

static void __attribute__((__constructor__)) amdkfd_mc_ioctl_index(void)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(amdkfd_mc_ioctls); i++) {
        uint32_t nr = _IOC_NR(amdkfd_mc_ioctls[i].request);

        assert(nr < AMDKFD_MC_IOCTL_NRS && !amdkfd_mc_ioctl_by_nr[nr]);
        amdkfd_mc_ioctl_by_nr[nr] = &amdkfd_mc_ioctls[i];
    }
}

static const AmdkfdMcIoctl *amdkfd_mc_ioctl_lookup(uint32_t request)
{
    const uint32_t mask = ~(uint32_t)(_IOC_SIZEMASK << _IOC_SIZESHIFT);
    const AmdkfdMcIoctl *desc = _IOC_NR(request) < AMDKFD_MC_IOCTL_NRS ?
                                amdkfd_mc_ioctl_by_nr[_IOC_NR(request)] : NULL;

    return desc && (desc->request & mask) == (request & mask) ? desc : NULL;
}

static void amdkfd_mc_call_release(AmdkfdMcCall *call)
{
    g_free(call->saved_ext);
    if (call->buf != (uint8_t *)call->inline_buf) {
        g_free(call->buf);
    }
}

/*
 * Guest payloads, through the device's cache of the RAM around the last
 * one (valid until the device's view of memory changes), or checked piece
 * by piece
 */
static bool amdkfd_mc_payload_read(AmdkfdMcState *s, uint64_t addr,
                                   void *buf, uint32_t len)
{
    uint64_t off;

    if (amdkfd_mc_dma_cache_get(&s->payloads, amdkfd_mc_pci(s), addr, len,
                                &off)) {
        amdkfd_mc_dma_buf_read(&s->payloads.buf, off, buf, len);
        return true;
    }
    return amdkfd_mc_dma_is_ram(amdkfd_mc_pci(s), addr, len, true) &&
           amdkfd_mc_dma_read(amdkfd_mc_pci(s), addr, buf, len);
}

static bool amdkfd_mc_payload_write(AmdkfdMcState *s, uint64_t addr,
                                    const void *buf, uint32_t len)
{
    uint64_t off;

    if (amdkfd_mc_dma_cache_get(&s->payloads, amdkfd_mc_pci(s), addr, len,
                                &off)) {
        amdkfd_mc_dma_buf_write(&s->payloads.buf, off, buf, len);
        return true;
    }
    return amdkfd_mc_dma_write(amdkfd_mc_pci(s), addr, buf, len);
}

/*
 * After the backend: bookkeeping, undo the marshaling and, if @copy_back,
 * copy the payload back to the guest (checked again: what was RAM at
 * submission may not be any more)
 */
static uint32_t amdkfd_mc_call_finish(AmdkfdMcCall *call, bool copy_back)
{
    unsigned i;

    trace_amdkfd_mc_ioctl(call->ctx->id, call->desc->name, call->ret);
    if (call->desc->finish) {
        call->desc->finish(call);
    }
    for (i = 0; i < call->nr_ptrs; i++) {
        *call->ptr_field[i] = call->guest_ptr[i];
    }
    /* at the caller's size; bytes past the uapi structure stay 0 */
    memcpy(call->buf, call->args,
           MIN(call->req_size, _IOC_SIZE(call->request)));
    if (!copy_back || !(_IOC_DIR(call->request) & _IOC_READ)) {
        return AMDKFD_MC_S_OK;
    }
    return amdkfd_mc_payload_write(call->s, call->payload_addr, call->buf,
                                   call->len) ?
           AMDKFD_MC_S_OK : AMDKFD_MC_S_DMA_ERROR;
}

static void amdkfd_mc_call_run(AmdkfdMcWork *w)
{
    AmdkfdMcCall *call = container_of(w, AmdkfdMcCall, async.work);

    /*
     * queued behind the context's destruction, or the rings that carried
     * it stopped: do not start it
     */
    if (qatomic_read(&call->ctx->cancelled) ||
        qatomic_read(&call->async.orphaned)) {
        call->ret = -EINTR;
        return;
    }
    call->ret = call->s->be_ops->ioctl(call->file, call->request,
                                       call->args);
    /* when the host kernel let go, before the main loop takes it up */
    trace_amdkfd_mc_ioctl_ran(call->ctx->id, call->desc->name, call->ret);
}

static void amdkfd_mc_call_done(AmdkfdMcWork *w)
{
    AmdkfdMcCall *call = container_of(w, AmdkfdMcCall, async.work);
    AmdkfdMcContext *ctx = call->ctx;

    if (call->desc->run == AMDKFD_MC_RUN_WAIT) {
        ctx->nr_waits--;
        call->s->nr_waits--;
    }
    /* A destroyed context's caller is gone: nothing to copy back */
    if (ctx->state == AMDKFD_MC_CTX_DYING) {
        call->async.cpl.status = AMDKFD_MC_S_INVALID_CONTEXT;
        /* before the end of the call, which may free the context */
        if (call->unmapping) {
            amdkfd_mc_obj_unhold(call->unmapping);
            call->unmapping = NULL;
        }
    } else {
        call->async.cpl.status = amdkfd_mc_call_finish(call,
                                                       !call->async.orphaned);
    }
    call->async.cpl.result = call->ret;
    amdkfd_mc_async_end(&call->async);
    amdkfd_mc_call_release(call);
    g_free(call);
}

uint32_t amdkfd_mc_ioctl(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                         const struct amdkfd_mc_cmd *cmd, int32_t *result)
{
    const AmdkfdMcIoctl *desc;
    AmdkfdMcCall *call;
    uint32_t request = cmd->arg0;
    uint32_t size = _IOC_SIZE(request), uapi;
    uint32_t status, i;

    desc = amdkfd_mc_ioctl_lookup(request);
    if (!desc) {
        desc = amdkfd_mc_ioctl_find(amdkfd_mc_refused_ioctls,
                                    ARRAY_SIZE(amdkfd_mc_refused_ioctls),
                                    request);
        trace_amdkfd_mc_ioctl_refused(ctx->id, request,
                                      desc ? desc->name : "unknown");
        return AMDKFD_MC_S_NOT_SUPPORTED;
    }
    uapi = _IOC_SIZE(desc->request);
    if (cmd->payload_len < size || size > AMDKFD_MC_MAX_ARGS) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }

    /*
     * A call that outlives this function lives on the heap; the inline
     * one in the device's own (the bottom half runs one command at a
     * time), not on the stack, where a compiler that zeroes automatic
     * variables would clear a kilobyte for every command
     */
    if (desc->run != AMDKFD_MC_RUN_INLINE) {
        call = g_new(AmdkfdMcCall, 1);
    } else {
        if (!s->inline_call) {
            s->inline_call = g_new(AmdkfdMcCall, 1);
        }
        call = s->inline_call;
    }
    /* every field, one by one: a memset would cost more than the rest */
    call->s = s;
    call->ctx = ctx;
    call->file = ctx->file;
    call->desc = desc;
    call->request = desc->request;
    call->req_size = size;
    call->len = cmd->payload_len;
    call->payload_addr = cmd->payload_addr;
    call->nr_ptrs = 0;
    call->saved_ext = NULL;
    call->count = 0;
    call->node = -1;
    call->fds_reserved = 0;
    call->object_reserved = false;
    call->unmapping = NULL;
    call->ret = 0;
    call->async.cpl = (struct amdkfd_mc_cpl) { .cookie = cmd->cookie };
    call->buf = call->len <= sizeof(call->inline_buf) ?
                (uint8_t *)call->inline_buf : g_malloc(call->len);

    /* The whole payload, writable guest RAM, is read before it is used */
    if (call->len &&
        !amdkfd_mc_payload_read(s, call->payload_addr, call->buf,
                                call->len)) {
        status = AMDKFD_MC_S_DMA_ERROR;
        goto out;
    }
    /* the backend and the marshaling read the uapi structure only */
    memcpy(call->args, call->buf, MIN(size, uapi));
    if (size < uapi) {
        memset((uint8_t *)call->args + size, 0, uapi - size);
    }
    for (i = uapi; i < size; i++) {
        if (call->buf[i]) {
            /* a field this interface does not have: never guessed at */
            status = AMDKFD_MC_S_INVALID_ARGUMENT;
            goto out;
        }
    }
    status = desc->marshal ? desc->marshal(call) :
                             amdkfd_mc_marshal_plain(call);
    if (status != AMDKFD_MC_S_OK) {
        if (status == AMDKFD_MC_S_NOT_SUPPORTED) {
            trace_amdkfd_mc_ioctl_refused(ctx->id, request, desc->name);
        }
        goto out;
    }

    if (desc->run != AMDKFD_MC_RUN_INLINE) {
        /* Off the BQL, so that no context ever delays another */
        call->async.work.run = amdkfd_mc_call_run;
        call->async.work.done = amdkfd_mc_call_done;
        call->async.work.serial = desc->run == AMDKFD_MC_RUN_WORKER ?
                                  &ctx->serial : NULL;
        amdkfd_mc_async_begin(s, ctx, &call->async, cmd->opcode,
                              call->len);
        amdkfd_mc_work_submit(desc->run == AMDKFD_MC_RUN_WORKER ?
                              &s->workers : &s->waiters, &call->async.work);
        return AMDKFD_MC_S_ASYNC;
    }

    call->ret = s->be_ops->ioctl(call->file, call->request, call->args);
    *result = call->ret;
    status = amdkfd_mc_call_finish(call, true);
out:
    amdkfd_mc_call_release(call);
    if (call != s->inline_call) {
        g_free(call);
    }
    return status;
}

void amdkfd_mc_ioctl_fini(AmdkfdMcState *s)
{
    g_free(s->inline_call);
    s->inline_call = NULL;
}
