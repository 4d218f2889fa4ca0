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

#include "hw/misc/amdkfd-mc-abi.h"
#include "hw/misc/amdkfd-mc-kfd.h"

typedef struct AmdkfdMcBackend AmdkfdMcBackend;
typedef struct AmdkfdMcBackendFile AmdkfdMcBackendFile;

typedef struct AmdkfdMcBackendConfig {
    /* host only: the KFD device node */
    const char *kfd_path;
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

/* Host pages of one mmap() of a context's file */
typedef struct AmdkfdMcBackendMap {
    void *ptr;
    uint64_t size;
    /* Writes must reach the backend (sim doorbells): map as MMIO */
    bool trap_writes;
    /* Releases the pages; may run on any thread, after the file is gone */
    void (*unmap)(struct AmdkfdMcBackendMap *map);
    void *opaque;
} AmdkfdMcBackendMap;

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
    /* Like mmap() of the file at @offset; fills @map or returns -errno */
    int (*mmap)(AmdkfdMcBackendFile *f, uint64_t offset, uint64_t length,
                AmdkfdMcBackendMap *map);
    /* A guest write to a mapping with trap_writes */
    int (*doorbell_write)(AmdkfdMcBackendFile *f, uint64_t offset,
                          uint64_t byte_offset, uint64_t value);
    /*
     * The file is about to be closed: make blocking calls on it
     * (WAIT_EVENTS), running or not started yet, return soon.
     */
    void (*cancel_waits)(AmdkfdMcBackendFile *f);
    /* Topology of exported GPU node @index; false past the last one */
    bool (*node_info)(AmdkfdMcBackend *be, uint32_t index,
                      struct amdkfd_mc_topology_node *node);
    /* Contexts the backend holds (a primary counts once), for leak checks */
    uint32_t (*live_contexts)(AmdkfdMcBackend *be);
} AmdkfdMcBackendOps;

extern const AmdkfdMcBackendOps amdkfd_mc_backend_sim;
extern const AmdkfdMcBackendOps amdkfd_mc_backend_host;

#endif
