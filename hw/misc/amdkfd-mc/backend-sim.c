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
#include "backend.h"
#include "sim-kfd.h"

/* The model's memory: modest, since it is host RAM of the QEMU process */
#define SIM_VRAM_PER_NODE   (512 * MiB)
#define SIM_GTT             (512 * MiB)

struct AmdkfdMcBackend {
    SimKfd *kfd;
    bool multi_context;
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
    SimKfdFile *f = sim_kfd_open(be->kfd);

    *err = f ? 0 : -ENOMEM;
    return (AmdkfdMcBackendFile *)f;
}

static void sim_close(AmdkfdMcBackendFile *f)
{
    sim_kfd_close((SimKfdFile *)f);
}

static int sim_ioctl(AmdkfdMcBackendFile *f, unsigned long request,
                     void *arg)
{
    return sim_kfd_ioctl((SimKfdFile *)f, request, arg);
}

static void sim_ctx_info(AmdkfdMcBackendFile *f, AmdkfdMcBackendCtxInfo *info)
{
    SimKfdContextInfo ci;

    if (sim_kfd_file_info((SimKfdFile *)f, &ci) < 0) {
        memset(info, 0, sizeof(*info));
        return;
    }
    info->host_ctx_id = ci.id;
    info->pasid = ci.pasid;
    info->secondary = ci.secondary;
}

const AmdkfdMcBackendOps amdkfd_mc_backend_sim = {
    .name = "sim",
    .kind = AMDKFD_MC_BACKEND_SIM,
    .create = sim_create,
    .destroy = sim_destroy,
    .num_nodes = sim_num_nodes,
    .version = sim_version,
    .open = sim_open,
    .close = sim_close,
    .ioctl = sim_ioctl,
    .ctx_info = sim_ctx_info,
};
