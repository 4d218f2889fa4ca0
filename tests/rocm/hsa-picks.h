/*
 * hsa-picks: the agents and memory pools the ROCm test programs use,
 * found through ROCr's iterators: the first GPU and CPU agents, the GPU's
 * coarse-grained global pool (VRAM) and the CPU's fine-grained global pool
 * (system memory the GPU may reach), each only if the runtime may allocate
 * from it.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HSA_PICKS_H
#define HSA_PICKS_H

#include <stdbool.h>
#include <hsa/hsa.h>
#include <hsa/hsa_ext_amd.h>

typedef struct HsaPicks {
    hsa_agent_t gpu, cpu;
    hsa_amd_memory_pool_t vram, sys;
    int have_gpu, have_cpu, have_vram, have_sys;
    int pools_of_gpu;               /* which agent's pools are iterated */
} HsaPicks;

static hsa_status_t hsa_picks_pool(hsa_amd_memory_pool_t pool, void *data)
{
    HsaPicks *p = data;
    hsa_amd_segment_t seg;
    uint32_t flags = 0;
    bool alloc = false;

    if (hsa_amd_memory_pool_get_info(pool, HSA_AMD_MEMORY_POOL_INFO_SEGMENT,
                                     &seg) != HSA_STATUS_SUCCESS ||
        seg != HSA_AMD_SEGMENT_GLOBAL) {
        return HSA_STATUS_SUCCESS;
    }
    hsa_amd_memory_pool_get_info(pool,
                                 HSA_AMD_MEMORY_POOL_INFO_RUNTIME_ALLOC_ALLOWED,
                                 &alloc);
    hsa_amd_memory_pool_get_info(pool, HSA_AMD_MEMORY_POOL_INFO_GLOBAL_FLAGS,
                                 &flags);
    if (!alloc) {
        return HSA_STATUS_SUCCESS;
    }
    if (p->pools_of_gpu && !p->have_vram &&
        (flags & HSA_AMD_MEMORY_POOL_GLOBAL_FLAG_COARSE_GRAINED)) {
        p->vram = pool;
        p->have_vram = 1;
    }
    if (!p->pools_of_gpu && !p->have_sys &&
        (flags & HSA_AMD_MEMORY_POOL_GLOBAL_FLAG_FINE_GRAINED)) {
        p->sys = pool;
        p->have_sys = 1;
    }
    return HSA_STATUS_SUCCESS;
}

static hsa_status_t hsa_picks_agent(hsa_agent_t agent, void *data)
{
    HsaPicks *p = data;
    hsa_device_type_t type;

    if (hsa_agent_get_info(agent, HSA_AGENT_INFO_DEVICE, &type) !=
        HSA_STATUS_SUCCESS) {
        return HSA_STATUS_SUCCESS;
    }
    if (type == HSA_DEVICE_TYPE_GPU && !p->have_gpu) {
        p->gpu = agent;
        p->have_gpu = 1;
        p->pools_of_gpu = 1;
        hsa_amd_agent_iterate_memory_pools(agent, hsa_picks_pool, p);
    } else if (type == HSA_DEVICE_TYPE_CPU && !p->have_cpu) {
        p->cpu = agent;
        p->have_cpu = 1;
        p->pools_of_gpu = 0;
        hsa_amd_agent_iterate_memory_pools(agent, hsa_picks_pool, p);
    }
    return HSA_STATUS_SUCCESS;
}

/* Fills @p (zeroed first); what is missing shows in its have_ fields */
static inline hsa_status_t hsa_pick(HsaPicks *p)
{
    *p = (HsaPicks) { 0 };
    return hsa_iterate_agents(hsa_picks_agent, p);
}

#endif
