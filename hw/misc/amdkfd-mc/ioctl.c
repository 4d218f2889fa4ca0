/*
 * amdkfd-mc: the allowlist of forwarded KFD ioctls and their marshaling
 *
 * A request is forwarded only if it is in amdkfd_mc_ioctls[] with exactly
 * the request number (direction and size bits included) of the KFD uapi.
 * The whole payload, the argument structure followed by any arrays it
 * refers to, is copied from guest memory into one host buffer before
 * anything looks at it.  In the payload an embedded pointer is a byte
 * offset into the payload; the marshaling checks that the array lies
 * inside, points the host copy at it for the backend, and puts the
 * guest's offset back before the payload is copied out, so neither a guest
 * value becomes a host pointer nor a host pointer reaches the guest.
 *
 * Requests that carry host file descriptors, host addresses or debugger
 * control are refused whatever the backend could do.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "block/thread-pool.h"
#include "amdkfd-mc-internal.h"
#include "trace.h"

/* Payloads up to this size are marshaled without a heap allocation */
#define AMDKFD_MC_INLINE_PAYLOAD    512

/* Bounds of guest-controlled counts */
#define AMDKFD_MC_MAX_DEVICE_IDS    64
#define AMDKFD_MC_MAX_WAIT_EVENTS   KFD_SIGNAL_EVENT_LIMIT

/* One forwarded request, from the guest's payload to its completion */
typedef struct AmdkfdMcCall {
    AmdkfdMcState *s;
    AmdkfdMcContext *ctx;
    AmdkfdMcBackendFile *file;
    const struct AmdkfdMcIoctl *desc;
    uint32_t request;
    uint8_t *buf;               /* host copy of the payload */
    uint32_t len;               /* payload length */
    uint64_t payload_addr;
    /* an embedded pointer the marshaling rewrote, and its guest value */
    __u64 *ptr_field;           /* uapi type */
    uint64_t guest_ptr;
    /* kfd_event_data_ext of WAIT_EVENTS, cleared for the backend */
    uint64_t *saved_ext;
    struct amdkfd_mc_cpl cpl;
    uint32_t epoch;
    int ret;
    uint64_t inline_buf[AMDKFD_MC_INLINE_PAYLOAD / 8];
} AmdkfdMcCall;

typedef struct AmdkfdMcIoctl {
    uint32_t request;
    const char *name;
    /* Checks and translates the host copy; returns an AMDKFD_MC_S_* */
    uint32_t (*marshal)(AmdkfdMcCall *call);
    /* After the backend ran and before the copy back */
    void (*finish)(AmdkfdMcCall *call);
    bool blocking;              /* runs in a worker thread */
} AmdkfdMcIoctl;

/*
 * Point the embedded pointer @field at @count elements of @elem_size bytes
 * inside the payload.  Returns false if they do not fit.
 */
static bool amdkfd_mc_payload_array(AmdkfdMcCall *call, __u64 *field,
                                    uint64_t count, size_t elem_size)
{
    uint64_t offset = *field;
    uint32_t size = _IOC_SIZE(call->request);

    call->ptr_field = field;
    call->guest_ptr = offset;
    if (count == 0) {
        /* Nothing is read or written through it: give the backend NULL */
        *field = 0;
        return true;
    }
    if (offset < size || offset % 8 || offset > call->len ||
        count > (call->len - offset) / elem_size) {
        return false;
    }
    *field = (uintptr_t)(call->buf + offset);
    return true;
}

/* Argument structures with no embedded pointer fill the payload exactly */
static uint32_t amdkfd_mc_marshal_plain(AmdkfdMcCall *call)
{
    return call->len == _IOC_SIZE(call->request) ?
           AMDKFD_MC_S_OK : AMDKFD_MC_S_INVALID_ARGUMENT;
}

static uint32_t amdkfd_mc_marshal_apertures(AmdkfdMcCall *call)
{
    struct kfd_ioctl_get_process_apertures_new_args *a = (void *)call->buf;

    if (a->num_of_nodes > AMDKFD_MC_MAX_NODES ||
        !amdkfd_mc_payload_array(call, &a->kfd_process_device_apertures_ptr,
                                 a->num_of_nodes,
                                 sizeof(struct kfd_process_device_apertures))) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    return AMDKFD_MC_S_OK;
}

static uint32_t amdkfd_mc_marshal_acquire_vm(AmdkfdMcCall *call)
{
    struct kfd_ioctl_acquire_vm_args *a = (void *)call->buf;

    if (amdkfd_mc_marshal_plain(call) != AMDKFD_MC_S_OK) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    /* A guest number is no host fd: the backend supplies its own VM */
    a->drm_fd = UINT32_MAX;
    return AMDKFD_MC_S_OK;
}

static uint32_t amdkfd_mc_marshal_runtime_enable(AmdkfdMcCall *call)
{
    struct kfd_ioctl_runtime_enable_args *a = (void *)call->buf;

    if (amdkfd_mc_marshal_plain(call) != AMDKFD_MC_S_OK) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    /*
     * r_debug is an address in the caller's memory, kept for debuggers;
     * debugging is refused, and a guest address means nothing on the host.
     */
    call->ptr_field = &a->r_debug;
    call->guest_ptr = a->r_debug;
    a->r_debug = 0;
    return AMDKFD_MC_S_OK;
}

static uint32_t amdkfd_mc_marshal_alloc(AmdkfdMcCall *call)
{
    struct kfd_ioctl_alloc_memory_of_gpu_args *a = (void *)call->buf;

    if (amdkfd_mc_marshal_plain(call) != AMDKFD_MC_S_OK) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    /* USERPTR memory would be host memory of QEMU's own choosing */
    if (a->flags & KFD_IOC_ALLOC_MEM_FLAGS_USERPTR) {
        return AMDKFD_MC_S_NOT_SUPPORTED;
    }
    return AMDKFD_MC_S_OK;
}

static void amdkfd_mc_finish_alloc(AmdkfdMcCall *call)
{
    struct kfd_ioctl_alloc_memory_of_gpu_args *a = (void *)call->buf;

    if (call->ret == 0) {
        g_hash_table_insert(call->ctx->objects, g_memdup2(&a->handle, 8),
                            g_memdup2(&a->mmap_offset, 8));
    }
}

static uint32_t amdkfd_mc_marshal_free(AmdkfdMcCall *call)
{
    return amdkfd_mc_marshal_plain(call);
}

static void amdkfd_mc_finish_free(AmdkfdMcCall *call)
{
    struct kfd_ioctl_free_memory_of_gpu_args *a = (void *)call->buf;
    uint64_t *mmap_offset;

    if (call->ret != 0) {
        return;
    }
    /* Window mappings of a freed object go with it */
    mmap_offset = g_hash_table_lookup(call->ctx->objects, &a->handle);
    if (mmap_offset) {
        amdkfd_mc_window_unmap_ctx(call->s, call->ctx, false, *mmap_offset);
        g_hash_table_remove(call->ctx->objects, &a->handle);
    }
}

/* Counts of live queues and events, for operators (QOM "contexts") */
static void amdkfd_mc_finish_count(AmdkfdMcCall *call)
{
    AmdkfdMcContext *ctx = call->ctx;

    if (call->ret != 0) {
        return;
    }
    switch (call->request) {
    case AMDKFD_IOC_CREATE_QUEUE:
        ctx->queues++;
        break;
    case AMDKFD_IOC_DESTROY_QUEUE:
        ctx->queues -= ctx->queues > 0;
        break;
    case AMDKFD_IOC_CREATE_EVENT:
        ctx->events++;
        break;
    case AMDKFD_IOC_DESTROY_EVENT:
        ctx->events -= ctx->events > 0;
        break;
    }
}

static uint32_t amdkfd_mc_marshal_map(AmdkfdMcCall *call)
{
    struct kfd_ioctl_map_memory_to_gpu_args *a = (void *)call->buf;

    /* map and unmap share the layout */
    QEMU_BUILD_BUG_ON(sizeof(*a) !=
                      sizeof(struct kfd_ioctl_unmap_memory_from_gpu_args));
    if (a->n_devices > AMDKFD_MC_MAX_DEVICE_IDS ||
        !amdkfd_mc_payload_array(call, &a->device_ids_array_ptr,
                                 a->n_devices, sizeof(uint32_t))) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
    return AMDKFD_MC_S_OK;
}

static uint32_t amdkfd_mc_marshal_wait(AmdkfdMcCall *call)
{
    struct kfd_ioctl_wait_events_args *a = (void *)call->buf;
    struct kfd_event_data *ev;
    uint32_t i;

    if (a->num_events == 0 || a->num_events > AMDKFD_MC_MAX_WAIT_EVENTS ||
        !amdkfd_mc_payload_array(call, &a->events_ptr, a->num_events,
                                 sizeof(*ev))) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }
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
    struct kfd_ioctl_wait_events_args *a = (void *)call->buf;
    struct kfd_event_data *ev = (void *)(uintptr_t)a->events_ptr;
    uint32_t i;

    for (i = 0; i < a->num_events; i++) {
        ev[i].kfd_event_data_ext = call->saved_ext[i];
    }
}

#define AMDKFD_MC_IOCTL(req, ...) \
    { .request = (req), .name = #req, __VA_ARGS__ }

/* Forwarded */
static const AmdkfdMcIoctl amdkfd_mc_ioctls[] = {
    AMDKFD_MC_IOCTL(AMDKFD_IOC_GET_VERSION),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_GET_PROCESS_APERTURES_NEW,
                    .marshal = amdkfd_mc_marshal_apertures),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_ACQUIRE_VM,
                    .marshal = amdkfd_mc_marshal_acquire_vm),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_RUNTIME_ENABLE,
                    .marshal = amdkfd_mc_marshal_runtime_enable),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_ALLOC_MEMORY_OF_GPU,
                    .marshal = amdkfd_mc_marshal_alloc,
                    .finish = amdkfd_mc_finish_alloc),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_FREE_MEMORY_OF_GPU,
                    .marshal = amdkfd_mc_marshal_free,
                    .finish = amdkfd_mc_finish_free),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_MAP_MEMORY_TO_GPU,
                    .marshal = amdkfd_mc_marshal_map),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU,
                    .marshal = amdkfd_mc_marshal_map),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_AVAILABLE_MEMORY),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_CREATE_QUEUE,
                    .finish = amdkfd_mc_finish_count),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_DESTROY_QUEUE,
                    .finish = amdkfd_mc_finish_count),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_UPDATE_QUEUE),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_CREATE_EVENT,
                    .finish = amdkfd_mc_finish_count),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_DESTROY_EVENT,
                    .finish = amdkfd_mc_finish_count),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_SET_EVENT),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_RESET_EVENT),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_WAIT_EVENTS,
                    .marshal = amdkfd_mc_marshal_wait,
                    .finish = amdkfd_mc_finish_wait,
                    .blocking = true),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_SET_MEMORY_POLICY),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_GET_CLOCK_COUNTERS),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_SET_SCRATCH_BACKING_VA),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_SET_TRAP_HANDLER),
    AMDKFD_MC_IOCTL(AMDKFD_IOC_SET_XNACK_MODE),
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

static const AmdkfdMcIoctl *amdkfd_mc_ioctl_find(const AmdkfdMcIoctl *table,
                                                 size_t n, uint32_t request)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (table[i].request == request) {
            return &table[i];
        }
    }
    return NULL;
}

static void amdkfd_mc_call_release(AmdkfdMcCall *call)
{
    g_free(call->saved_ext);
    if (call->buf != (uint8_t *)call->inline_buf) {
        g_free(call->buf);
    }
}

/* After the backend: undo the marshaling and copy the payload back */
static uint32_t amdkfd_mc_call_finish(AmdkfdMcCall *call)
{
    trace_amdkfd_mc_ioctl(call->ctx->id, call->desc->name, call->ret);
    if (call->desc->finish) {
        call->desc->finish(call);
    }
    if (call->ptr_field) {
        *call->ptr_field = call->guest_ptr;
    }
    if ((_IOC_DIR(call->request) & _IOC_READ) &&
        !amdkfd_mc_dma_write(call->s, call->payload_addr, call->buf,
                             call->len)) {
        return AMDKFD_MC_S_DMA_ERROR;
    }
    return AMDKFD_MC_S_OK;
}

static int amdkfd_mc_call_worker(void *opaque)
{
    AmdkfdMcCall *call = opaque;

    call->ret = call->s->be_ops->ioctl(call->file, call->request, call->buf);
    return 0;
}

static void amdkfd_mc_call_done(void *opaque, int unused)
{
    AmdkfdMcCall *call = opaque;
    AmdkfdMcState *s = call->s;

    /* A destroyed context's caller is gone: nothing to copy back */
    if (call->ctx->dying) {
        call->cpl.status = AMDKFD_MC_S_INVALID_CONTEXT;
    } else {
        call->cpl.status = amdkfd_mc_call_finish(call);
    }
    call->cpl.result = call->ret;
    amdkfd_mc_ring_async_end(s, call->ctx, call->epoch, &call->cpl);
    amdkfd_mc_call_release(call);
    g_free(call);
}

uint32_t amdkfd_mc_ioctl(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                         const struct amdkfd_mc_cmd *cmd, int32_t *result)
{
    const AmdkfdMcIoctl *desc;
    AmdkfdMcCall stack_call, *call = &stack_call;
    uint32_t request = cmd->arg0;
    uint32_t size = _IOC_SIZE(request);
    uint32_t status;

    desc = amdkfd_mc_ioctl_find(amdkfd_mc_ioctls,
                                ARRAY_SIZE(amdkfd_mc_ioctls), request);
    if (!desc) {
        desc = amdkfd_mc_ioctl_find(amdkfd_mc_refused_ioctls,
                                    ARRAY_SIZE(amdkfd_mc_refused_ioctls),
                                    request);
        trace_amdkfd_mc_ioctl_refused(ctx->id, request,
                                      desc ? desc->name : "unknown");
        return AMDKFD_MC_S_NOT_SUPPORTED;
    }
    if (cmd->payload_len < size) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }

    /* Only a call that outlives this function lives on the heap */
    if (desc->blocking) {
        call = g_new(AmdkfdMcCall, 1);
    }
    memset(call, 0, offsetof(AmdkfdMcCall, inline_buf));
    call->s = s;
    call->ctx = ctx;
    call->file = ctx->file;
    call->desc = desc;
    call->request = request;
    call->len = cmd->payload_len;
    call->payload_addr = cmd->payload_addr;
    call->cpl.cookie = cmd->cookie;
    if (call->len <= sizeof(call->inline_buf)) {
        call->buf = (uint8_t *)call->inline_buf;
        memset(call->buf, 0, call->len);
    } else {
        call->buf = g_malloc0(call->len);
    }

    /* The whole payload is copied before anything looks at it */
    if (call->len && !amdkfd_mc_dma_read(s, call->payload_addr, call->buf,
                                         call->len)) {
        status = AMDKFD_MC_S_DMA_ERROR;
        goto out;
    }
    status = desc->marshal ? desc->marshal(call) :
                             amdkfd_mc_marshal_plain(call);
    if (status != AMDKFD_MC_S_OK) {
        if (status == AMDKFD_MC_S_NOT_SUPPORTED) {
            trace_amdkfd_mc_ioctl_refused(ctx->id, request, desc->name);
        }
        goto out;
    }

    if (desc->blocking) {
        /* Off the BQL, so that a wait never delays another context */
        call->epoch = amdkfd_mc_ring_async_begin(s, ctx);
        thread_pool_submit_aio(amdkfd_mc_call_worker, call,
                               amdkfd_mc_call_done, call);
        return AMDKFD_MC_S_ASYNC;
    }

    call->ret = s->be_ops->ioctl(call->file, request, call->buf);
    *result = call->ret;
    status = amdkfd_mc_call_finish(call);
out:
    amdkfd_mc_call_release(call);
    if (call != &stack_call) {
        g_free(call);
    }
    return status;
}
