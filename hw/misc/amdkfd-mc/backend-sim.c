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
#include <drm/amdgpu_drm.h>
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
        if (mmap(at, length, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
                 -1, 0) != at) {
            /* the model's pages may still be there: keep them referenced */
            return -ENOTRECOVERABLE;
        }
        sim_kfd_munmap(f->kfd, ptr, length);
        return err;
    }
    map->ptr = ptr;
    map->size = length;
    map->release = sim_release;
    map->opaque = f->kfd;
    return 0;
}

/* Guest RAM mapped contiguously for the model, and its release */
typedef struct SimGuestMap {
    void *host;
    uint64_t size;
} SimGuestMap;

static void sim_guest_release(void *opaque)
{
    SimGuestMap *g = opaque;

    munmap(g->host, g->size);
    g_free(g);
}

/*
 * The model addresses an object as one host range: map the guest's pages
 * (shared file pages, the very memory the guest sees) one after another
 */
static int sim_import_guest(AmdkfdMcBackendFile *f, const AmdkfdMcGuestPages *p,
                            uint32_t n, uint64_t va, uint64_t size,
                            uint32_t gpu_id, uint64_t *handle)
{
    SimGuestMap *g = g_new(SimGuestMap, 1);
    uint64_t off = 0;
    uint32_t i;
    int ret;

    g->size = size;
    g->host = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (g->host == MAP_FAILED) {
        g_free(g);
        return -ENOMEM;
    }
    for (i = 0; i < n; i++) {
        if (p[i].len > size - off ||
            mmap((uint8_t *)g->host + off, p[i].len, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_FIXED, p[i].fd, p[i].offset) ==
            MAP_FAILED) {
            sim_guest_release(g);
            return -EINVAL;
        }
        off += p[i].len;
    }
    if (off != size) {
        sim_guest_release(g);
        return -EINVAL;
    }
    ret = sim_kfd_import_memory(f->f, gpu_id, va, size, g->host,
                                sim_guest_release, g, handle);
    if (ret) {
        sim_guest_release(g);
    }
    return ret;
}

/* The model has no limit of its own: the device's properties bound it */
static bool sim_guest_limits(AmdkfdMcBackend *be, uint32_t *max_ranges,
                             uint64_t *max_bytes)
{
    *max_ranges = UINT32_MAX;
    *max_bytes = UINT64_MAX;
    return true;
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

/*
 * The caches of the modelled part, Vega 20 (gfx906): the kernel's CRAT
 * table for it (kfd_crat.c: vega20_cache_info) gives, per cache kind, its
 * size and how many compute units share one; the KFD's topology then has
 * one entry per group of compute units, as here.
 */
#define SIM_CACHE_ENABLED   0x01        /* CRAT_CACHE_FLAGS_* */
#define SIM_CACHE_DATA      0x02
#define SIM_CACHE_INST      0x04
#define SIM_CACHE_SIMD      0x10

static const struct {
    uint32_t level, size_kib, type, cu_shared;
} sim_cache_kinds[] = {
    { 1, 16, SIM_CACHE_ENABLED | SIM_CACHE_DATA | SIM_CACHE_SIMD, 1 },
    { 1, 32, SIM_CACHE_ENABLED | SIM_CACHE_INST | SIM_CACHE_SIMD, 3 },
    { 1, 16, SIM_CACHE_ENABLED | SIM_CACHE_DATA | SIM_CACHE_SIMD, 3 },
    { 2, 8192, SIM_CACHE_ENABLED | SIM_CACHE_DATA | SIM_CACHE_SIMD, 16 },
};

/* The KFD numbers GPU nodes' compute units from here, a node apart */
#define SIM_SIMD_ID_BASE    0x80001000u
#define SIM_SIMD_ID_STRIDE  0x1000u

static uint32_t sim_caches(AmdkfdMcBackend *be,
                           struct amdkfd_mc_topology_cache *c, uint32_t max)
{
    uint32_t node, k, cu, n = 0;

    for (node = 0; node < sim_kfd_num_nodes(be->kfd); node++) {
        SimKfdNodeInfo info;

        sim_kfd_node_info(be->kfd, node, &info);
        for (k = 0; k < ARRAY_SIZE(sim_cache_kinds); k++) {
            uint32_t shared = sim_cache_kinds[k].cu_shared;

            for (cu = 0; cu < info.cu_count; cu += shared, n++) {
                struct amdkfd_mc_topology_cache *e = &c[n];
                uint32_t i;

                if (n >= max) {
                    continue;
                }
                memset(e, 0, sizeof(*e));
                e->node = node;
                e->processor_id_low = SIM_SIMD_ID_BASE +
                                      node * SIM_SIMD_ID_STRIDE + cu;
                e->level = sim_cache_kinds[k].level;
                e->size_kib = sim_cache_kinds[k].size_kib;
                e->line_size = 64;
                e->type = sim_cache_kinds[k].type;
                e->sibling_bits = info.cu_count;
                for (i = cu; i < MIN(cu + shared, info.cu_count); i++) {
                    e->sibling_map[i / 8] |= 1 << (i % 8);
                }
            }
        }
    }
    return n;
}

/*
 * Each GPU on PCIe 3.0 x16 to the CPU, with platform atomics (no
 * NO_ATOMICS flags) and no large BAR (not bidirectional), as the KFD
 * reports such a board; bandwidths as amdgpu computes them from the link
 * (2.5 GT/s x1 to 8 GT/s x16)
 */
#define SIM_IOLINK_PCIE     2
#define SIM_IOLINK_ENABLED  0x01

static uint32_t sim_links(AmdkfdMcBackend *be,
                          struct amdkfd_mc_topology_link *l, uint32_t max)
{
    uint32_t node, n = 0;

    for (node = 0; node < sim_kfd_num_nodes(be->kfd) && n < max; node++) {
        l[n++] = (struct amdkfd_mc_topology_link) {
            .node_from = node,
            .node_to = AMDKFD_MC_TOPO_CPU,
            .type = SIM_IOLINK_PCIE,
            .weight = 20,
            .min_bandwidth = 250,
            .max_bandwidth = 15754,
            .flags = SIM_IOLINK_ENABLED,
        };
    }
    return n;
}

/*
 * What amdgpu answers for a Vega 20 with 60 of its 64 compute units
 * enabled (AMD Instinct MI50): four shader engines of one array each,
 * 15 CUs active per array, HBM2 on a 4096-bit bus, 1725 MHz engine and
 * 1000 MHz memory clock, the 100 MHz GPU counter of GET_CLOCK_COUNTERS,
 * and amdgpu's GPU VA range for user mode (a 2 MiB reserved bottom up to
 * 2^47 - 2^32... see amdgpu_vm.h; here 0x200000 to 0x800000000000)
 */
#define SIM_DRM_EXTERNAL_REV    0x28    /* chip revision + 0x28 on Vega 20 */
/*
 * The MI50's PCI revision: libdrm names the board from amdgpu.ids by
 * device and revision (66A1 rev 02: "AMD Instinct MI60 / MI50"); with
 * a revision that matches no line it falls back to a generic name
 */
#define SIM_DRM_PCI_REV         0x02
#define SIM_DRM_CU_PER_SH       15

static int sim_drm_info(AmdkfdMcBackend *be, uint32_t index, uint32_t query,
                        void *buf, uint32_t len)
{
    SimKfdNodeInfo node;

    if (!sim_kfd_node_info(be->kfd, index, &node)) {
        return -EINVAL;
    }
    switch (query) {
    case AMDKFD_MC_DRM_INFO_DEV_INFO: {
        struct drm_amdgpu_info_device d = {
            .device_id = node.device_id,
            .chip_rev = 0,
            .external_rev = SIM_DRM_EXTERNAL_REV,
            .pci_rev = SIM_DRM_PCI_REV,
            .family = AMDGPU_FAMILY_AI,
            .num_shader_engines = 4,
            .num_shader_arrays_per_engine = 1,
            .gpu_counter_freq = 100000,
            .max_engine_clock = 1725000,
            .max_memory_clock = 1000000,
            .cu_active_number = node.cu_count,
            .enabled_rb_pipes_mask = 0xffff,
            .num_rb_pipes = 16,
            .num_hw_gfx_contexts = 8,
            .virtual_address_offset = 0x200000,
            .virtual_address_max = 0x800000000000ULL,
            .virtual_address_alignment = 4096,
            .pte_fragment_size = 2 * MiB,
            .gart_page_size = 4096,
            .vram_type = AMDGPU_VRAM_TYPE_HBM,
            .vram_bit_width = 4096,
            .wave_front_size = 64,
            .num_shader_visible_vgprs = 256,
            .num_cu_per_sh = SIM_DRM_CU_PER_SH,
            .num_tcc_blocks = 16,
        };
        int se;

        for (se = 0; se < 4; se++) {
            d.cu_bitmap[se][0] = (1u << SIM_DRM_CU_PER_SH) - 1;
            d.cu_ao_bitmap[se][0] = d.cu_bitmap[se][0];
        }
        memcpy(buf, &d, MIN(len, sizeof(d)));
        return sizeof(d);
    }
    case AMDKFD_MC_DRM_INFO_VRAM_GTT: {
        struct drm_amdgpu_info_vram_gtt v = {
            .vram_size = node.vram_size,
            .vram_cpu_accessible_size = node.vram_size,
            .gtt_size = SIM_GTT,
        };

        memcpy(buf, &v, MIN(len, sizeof(v)));
        return sizeof(v);
    }
    case AMDKFD_MC_DRM_INFO_MEMORY: {
        struct drm_amdgpu_memory_info m = {
            .vram = { node.vram_size, node.vram_size, 0, node.vram_size },
            .cpu_accessible_vram = { node.vram_size, node.vram_size, 0,
                                     node.vram_size },
            .gtt = { SIM_GTT, SIM_GTT, 0, SIM_GTT },
        };

        memcpy(buf, &m, MIN(len, sizeof(m)));
        return sizeof(m);
    }
    default:
        return -EINVAL;
    }
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
    .import_guest = sim_import_guest,
    .guest_limits = sim_guest_limits,
    .doorbell_write = sim_doorbell_write,
    .cancel_waits = sim_cancel_waits,
    .node_info = sim_node_info,
    .caches = sim_caches,
    .links = sim_links,
    .drm_info = sim_drm_info,
    .live_contexts = sim_live_contexts,
};
