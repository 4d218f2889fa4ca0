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

/* Pages of guest RAM: a range of the file behind it */
typedef struct AmdkfdMcGuestPages {
    int fd;
    uint64_t offset;
    uint64_t len;
} AmdkfdMcGuestPages;

/* One mmap() of a context's file into the window */
typedef struct AmdkfdMcBackendMap {
    uint64_t size;
    /*
     * The window has put zero pages where the mapping was (or forgets a
     * trapped one): drop what the backend kept for it.  May run after the
     * file is closed.  NULL if there is nothing to drop.
     */
    void (*release)(struct AmdkfdMcBackendMap *map);
    void *ptr;
    void *opaque;
} AmdkfdMcBackendMap;

typedef struct AmdkfdMcBackendOps {
    const char *name;
    uint32_t kind;              /* AMDKFD_MC_BACKEND_* */
    /* Host fds the backend holds per context, and per acquired GPU VM */
    uint32_t fds_per_context;
    uint32_t fds_per_vm;

    AmdkfdMcBackend *(*create)(const AmdkfdMcBackendConfig *cfg,
                               Error **errp);
    void (*destroy)(AmdkfdMcBackend *be);
    uint32_t (*num_nodes)(AmdkfdMcBackend *be);
    /* The KFD ioctl interface version the backend implements */
    void (*version)(AmdkfdMcBackend *be, uint32_t *major, uint32_t *minor);

    /*
     * Like open("/dev/kfd"); returns NULL and sets *err (-errno) on
     * failure.  open, close and ctx_info may run in a worker thread.
     */
    AmdkfdMcBackendFile *(*open)(AmdkfdMcBackend *be, int *err);
    /*
     * Like close(); destroys the context if the file was a secondary.
     * Runs in a worker and may block: when it returns, none of the
     * context's queues runs any more (the host KFD dequeues them in its
     * release of a secondary).
     */
    void (*close)(AmdkfdMcBackendFile *f);
    /*
     * Like ioctl(); @arg is a host copy already validated by the device.
     * May be called from several threads at once, for different files
     * and (WAIT_EVENTS) for the same file.
     */
    int (*ioctl)(AmdkfdMcBackendFile *f, unsigned long request, void *arg);
    void (*ctx_info)(AmdkfdMcBackendFile *f, AmdkfdMcBackendCtxInfo *info);
    /*
     * True if mappings of @offset must trap writes (sim doorbells: the
     * software GPU has to hear them); such a mapping has no host pages.
     */
    bool (*mmap_traps)(AmdkfdMcBackend *be, uint64_t offset);
    /*
     * Like mmap(MAP_FIXED) of @length bytes of the file at @offset to the
     * host address @at (NULL for a trapping mapping), replacing the pages
     * there.  @gpu_id names the memory object's GPU (0 for offsets of the
     * KFD's own kinds).  Returns 0 and fills @map, or -errno; on failure
     * the range at @at is mapped with fresh zero pages again (never a hole
     * a vCPU could hit), or, if even that failed, -ENOTRECOVERABLE: the
     * range may hold anything and must never be used again.
     */
    int (*mmap)(AmdkfdMcBackendFile *f, uint64_t offset, uint64_t length,
                uint32_t gpu_id, void *at, AmdkfdMcBackendMap *map);
    /*
     * A memory object of guest RAM in the file's context (the KFD's
     * USERPTR memory for a guest program): the @n ranges of files behind
     * guest RAM, in order, make @size bytes at GPU address @va on @gpu_id,
     * with no copy.  Runs in a worker; the fds stay open until it returns.
     * Returns 0 and the object's handle, or -errno; NULL if unsupported.
     */
    int (*import_guest)(AmdkfdMcBackendFile *f, const AmdkfdMcGuestPages *p,
                        uint32_t n, uint64_t va, uint64_t size,
                        uint32_t gpu_id, uint64_t *handle);
    /* A guest write to a trapping mapping; may block, runs in a worker */
    int (*doorbell_write)(AmdkfdMcBackendFile *f, uint64_t offset,
                          uint64_t byte_offset, uint64_t value);
    /*
     * The file is about to be closed: make blocking calls on it
     * (WAIT_EVENTS; the sim's DMA engine), running or not started yet,
     * return soon.  Runs in a worker, while such calls run in others.
     */
    void (*cancel_waits)(AmdkfdMcBackendFile *f);
    /* Topology of exported GPU node @index; false past the last one */
    bool (*node_info)(AmdkfdMcBackend *be, uint32_t index,
                      struct amdkfd_mc_topology_node *node);
    /*
     * The caches and io links of the exported nodes (node fields are node
     * indexes); fill at most @max, return how many there are (host byte
     * order).  Called at realize.
     */
    uint32_t (*caches)(AmdkfdMcBackend *be,
                       struct amdkfd_mc_topology_cache *c, uint32_t max);
    uint32_t (*links)(AmdkfdMcBackend *be,
                      struct amdkfd_mc_topology_link *l, uint32_t max);
    /*
     * The answer of the GPU's DRM driver to AMDGPU_INFO query @query
     * (AMDKFD_MC_DRM_INFO_*) for node @index, in at most @len bytes of
     * @buf (the guest's render node stand-in gives it to libdrm); returns
     * its length or -errno.  May run on the main loop: from a cache.
     */
    int (*drm_info)(AmdkfdMcBackend *be, uint32_t index, uint32_t query,
                    void *buf, uint32_t len);
    /*
     * The largest guest memory object the backend can make, in ranges
     * and bytes (the host's udmabuf limits); called at realize, only if
     * import_guest is set.  False if guest memory cannot work at all.
     */
    bool (*guest_limits)(AmdkfdMcBackend *be, uint32_t *max_ranges,
                         uint64_t *max_bytes);
    /* Contexts the backend holds (a primary counts once), for leak checks */
    uint32_t (*live_contexts)(AmdkfdMcBackend *be);
} AmdkfdMcBackendOps;

extern const AmdkfdMcBackendOps amdkfd_mc_backend_sim;
extern const AmdkfdMcBackendOps amdkfd_mc_backend_host;

#endif
