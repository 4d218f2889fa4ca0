/*
 * amdkfd-mc: the allowlist of forwarded KFD ioctls and their marshaling
 *
 * A request is forwarded only if it is in amdkfd_mc_ioctls[] with exactly
 * the request number (direction and size bits included) of the KFD uapi.
 * Its argument is copied from guest memory into a host buffer of exactly
 * the request's size, checked, handed to the backend, and copied back.
 * Requests that carry host file descriptors, host addresses or debugger
 * control are refused whatever the backend could do.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "amdkfd-mc-internal.h"
#include "trace.h"

typedef struct AmdkfdMcIoctl {
    uint32_t request;
    const char *name;
} AmdkfdMcIoctl;

#define AMDKFD_MC_IOCTL(req) { .request = (req), .name = #req }

/* Forwarded */
static const AmdkfdMcIoctl amdkfd_mc_ioctls[] = {
    AMDKFD_MC_IOCTL(AMDKFD_IOC_GET_VERSION),
};

/*
 * Refused by policy: host fds (dma-buf, SMI events), host user addresses
 * (USERPTR lives in ALLOC_MEMORY's flags, SVM), debugger and checkpoint
 * control, and context creation, which the device does itself.
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

uint32_t amdkfd_mc_ioctl(AmdkfdMcState *s, AmdkfdMcContext *ctx,
                         uint32_t request, uint64_t payload_addr,
                         uint32_t payload_len, int32_t *result)
{
    const AmdkfdMcIoctl *desc;
    g_autofree void *arg = NULL;
    uint32_t size = _IOC_SIZE(request);
    int ret;

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
    if (payload_len != size) {
        return AMDKFD_MC_S_INVALID_ARGUMENT;
    }

    /* The whole argument is copied before anything looks at it */
    arg = g_malloc0(MAX(size, 1));
    if ((_IOC_DIR(request) & _IOC_WRITE) &&
        !amdkfd_mc_dma_read(s, payload_addr, arg, size)) {
        return AMDKFD_MC_S_DMA_ERROR;
    }

    ret = s->be_ops->ioctl(ctx->file, request, arg);
    trace_amdkfd_mc_ioctl(ctx->id, desc->name, ret);
    *result = ret;

    if ((_IOC_DIR(request) & _IOC_READ) &&
        !amdkfd_mc_dma_write(s, payload_addr, arg, size)) {
        return AMDKFD_MC_S_DMA_ERROR;
    }
    return AMDKFD_MC_S_OK;
}
