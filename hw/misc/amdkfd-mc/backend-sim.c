/*
 * amdkfd-mc: the sim backend, an in-process software model of KFD
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include <sys/mman.h>
#include "backend.h"
#include "sim-kfd.h"

/* The model's memory: modest, since it is host RAM of the QEMU process */
#define SIM_VRAM_PER_NODE   (512 * MiB)
#define SIM_GTT             (512 * MiB)

struct AmdkfdMcBackend {
    SimKfd *kfd;
    bool multi_context;
};

struct AmdkfdMcBackendFile {
    SimKfdFile *f;
    SimKfd *kfd;
};

static AmdkfdMcBackend *sim_create(const AmdkfdMcBackendConfig *cfg,
                                   Error **errp)
{
    SimKfdConfig sc = {
        .num_nodes = cfg->sim_nodes,
        .vram_size = SIM_VRAM_PER_NODE,
        .gtt_size = SIM_GTT,
        /* legacy-shared models a kernel before Linux 7.0 */
        .multi_context = !cfg->legacy_kernel,
    };
    AmdkfdMcBackend *be;
    const char *why = sim_kfd_config_check(&sc);

    if (why) {
        error_setg(errp, "amdkfd-mc: sim backend: %s", why);
        return NULL;
    }

    be = g_new0(AmdkfdMcBackend, 1);
    be->kfd = sim_kfd_new(&sc);
    be->multi_context = sc.multi_context;
    return be;
}

static void sim_destroy(AmdkfdMcBackend *be)
{
    if (be) {
        sim_kfd_free(be->kfd);
        g_free(be);
    }
}

static uint32_t sim_num_nodes(AmdkfdMcBackend *be)
{
    return sim_kfd_num_nodes(be->kfd);
}

static void sim_version(AmdkfdMcBackend *be, uint32_t *major,
                        uint32_t *minor)
{
    *major = SIM_KFD_VERSION_MAJOR;
    *minor = be->multi_context ? SIM_KFD_VERSION_MINOR_MC
                               : SIM_KFD_VERSION_MINOR_LEGACY;
}

static AmdkfdMcBackendFile *sim_open(AmdkfdMcBackend *be, int *err)
{
    SimKfdFile *sf = sim_kfd_open(be->kfd);
    AmdkfdMcBackendFile *f;

    if (!sf) {
        *err = -ENOMEM;
        return NULL;
    }
    *err = 0;
    f = g_new0(AmdkfdMcBackendFile, 1);
    f->f = sf;
    f->kfd = be->kfd;
    return f;
}

static void sim_close(AmdkfdMcBackendFile *f)
{
    sim_kfd_close(f->f);
    g_free(f);
}

/* The model's stand-in for the render node each context acquires */
#define SIM_RENDER_FD 3

static int sim_ioctl(AmdkfdMcBackendFile *f, unsigned long request,
                     void *arg)
{
    if (request == AMDKFD_IOC_ACQUIRE_VM) {
        ((struct kfd_ioctl_acquire_vm_args *)arg)->drm_fd = SIM_RENDER_FD;
    }
    return sim_kfd_ioctl(f->f, request, arg);
}

static void sim_ctx_info(AmdkfdMcBackendFile *f, AmdkfdMcBackendCtxInfo *info)
{
    SimKfdContextInfo ci;

    if (sim_kfd_file_info(f->f, &ci) < 0) {
        memset(info, 0, sizeof(*info));
        return;
    }
    info->host_ctx_id = ci.id;
    info->pasid = ci.pasid;
    info->secondary = ci.secondary;
}

static void sim_release(AmdkfdMcBackendMap *map)
{
    sim_kfd_munmap(map->opaque, map->ptr, map->size);
}

/* The software GPU must hear doorbell writes */
static bool sim_mmap_traps(AmdkfdMcBackend *be, uint64_t offset)
{
    return (offset & SIM_KFD_MMAP_TYPE_MASK) == SIM_KFD_MMAP_TYPE_DOORBELL;
}

static int sim_mmap(AmdkfdMcBackendFile *f, uint64_t offset, uint64_t length,
                    uint32_t gpu_id, void *at, AmdkfdMcBackendMap *map)
{
    int err = 0;
    void *ptr = sim_kfd_mmap(f->f, offset, length, &err);

    if (!ptr) {
        return err ? err : -EINVAL;
    }
    /*
     * The model's memory is a shared memfd mapping: a second mapping of
     * the same pages goes in place of the window's (mremap with an old
     * size of 0 duplicates a shared mapping).
     */
    if (at && mremap(ptr, 0, length, MREMAP_MAYMOVE | MREMAP_FIXED, at) !=
              at) {
        err = -errno;
        /* never leave a hole where a vCPU may access */
        mmap(at, length, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
        sim_kfd_munmap(f->kfd, ptr, length);
        return err;
    }
    map->ptr = ptr;
    map->size = length;
    map->release = sim_release;
    map->opaque = f->kfd;
    return 0;
}

static int sim_doorbell_write(AmdkfdMcBackendFile *f, uint64_t offset,
                              uint64_t byte_offset, uint64_t value)
{
    return sim_kfd_doorbell_write(f->f, offset, byte_offset, value);
}

static void sim_cancel_waits(AmdkfdMcBackendFile *f)
{
    sim_kfd_file_shutdown(f->f);
}

static bool sim_node_info(AmdkfdMcBackend *be, uint32_t index,
                          struct amdkfd_mc_topology_node *node)
{
    return sim_kfd_node_info(be->kfd, index, node);
}

static uint32_t sim_live_contexts(AmdkfdMcBackend *be)
{
    return sim_kfd_live_contexts(be->kfd);
}

const AmdkfdMcBackendOps amdkfd_mc_backend_sim = {
    .name = "sim",
    .kind = AMDKFD_MC_BACKEND_SIM,
    .fds_per_context = 0,
    .fds_per_vm = 0,
    .create = sim_create,
    .destroy = sim_destroy,
    .num_nodes = sim_num_nodes,
    .version = sim_version,
    .open = sim_open,
    .close = sim_close,
    .ioctl = sim_ioctl,
    .ctx_info = sim_ctx_info,
    .mmap_traps = sim_mmap_traps,
    .mmap = sim_mmap,
    .doorbell_write = sim_doorbell_write,
    .cancel_waits = sim_cancel_waits,
    .node_info = sim_node_info,
    .live_contexts = sim_live_contexts,
};
