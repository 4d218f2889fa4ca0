/*
 * amdkfd-mc: the interface between the device and a KFD backend
 *
 * A backend is "a /dev/kfd": the device opens one file per guest context,
 * turns it into an isolated secondary context with AMDKFD_IOC_CREATE_PROCESS
 * and forwards validated ioctls to it.  The same device logic therefore
 * drives the real host KFD and the in-process software model.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_AMDKFD_MC_BACKEND_H
#define HW_MISC_AMDKFD_MC_BACKEND_H

#include "hw/misc/amdkfd-mc-kfd.h"

typedef struct AmdkfdMcBackend AmdkfdMcBackend;
typedef struct AmdkfdMcBackendFile AmdkfdMcBackendFile;

typedef struct AmdkfdMcBackendConfig {
    /* sim only: model a kernel before Linux 7.0 (no CREATE_PROCESS) */
    bool legacy_kernel;
    uint32_t sim_nodes;
} AmdkfdMcBackendConfig;

/* What the backend says about one of its contexts */
typedef struct AmdkfdMcBackendCtxInfo {
    uint32_t host_ctx_id;       /* KFD context id, 0xffff for a primary */
    uint32_t pasid;
    bool secondary;
} AmdkfdMcBackendCtxInfo;

typedef struct AmdkfdMcBackendOps {
    const char *name;
    uint32_t kind;              /* AMDKFD_MC_BACKEND_* */

    AmdkfdMcBackend *(*create)(const AmdkfdMcBackendConfig *cfg,
                               Error **errp);
    void (*destroy)(AmdkfdMcBackend *be);
    uint32_t (*num_nodes)(AmdkfdMcBackend *be);
    /* The KFD ioctl interface version the backend implements */
    void (*version)(AmdkfdMcBackend *be, uint32_t *major, uint32_t *minor);

    /* Like open("/dev/kfd"); returns NULL and sets *err (-errno) on failure */
    AmdkfdMcBackendFile *(*open)(AmdkfdMcBackend *be, int *err);
    /* Like close(); destroys the context if the file was a secondary */
    void (*close)(AmdkfdMcBackendFile *f);
    /* Like ioctl(); @arg is a host copy already validated by the device */
    int (*ioctl)(AmdkfdMcBackendFile *f, unsigned long request, void *arg);
    void (*ctx_info)(AmdkfdMcBackendFile *f, AmdkfdMcBackendCtxInfo *info);
} AmdkfdMcBackendOps;

extern const AmdkfdMcBackendOps amdkfd_mc_backend_sim;
extern const AmdkfdMcBackendOps amdkfd_mc_backend_host;

#endif
