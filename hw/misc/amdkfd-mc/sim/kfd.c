/*
 * amdkfd-mc "sim" backend: model core
 *
 * Files and contexts, id allocators, host memory, topology, the ioctl
 * dispatcher and the small ioctls, mmap and introspection.  Memory
 * objects and GPUVMs are in memory.c, events in events.c,
 * queues and their scheduling in queues.c, the SDMA engine in
 * sdma.c and the AQL packet processor in aql.c.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/mman.h>
#include "internal.h"

/* Ioctl numbers served: [START, END) as in the kernel's table */
#define SIM_KFD_COMMAND_START           0x01
#define SIM_KFD_COMMAND_END_LEGACY      0x27
#define SIM_KFD_COMMAND_END_MC          0x28

/* PASIDs come from the upper half of a 16-bit space, as amdgpu's do */
#define SIM_KFD_PASID_BASE              0x8000
#define SIM_KFD_PASID_COUNT             0x8000

/* Bounds of the configuration */
#define SIM_KFD_MIN_POOL                (1ULL << 20)
#define SIM_KFD_MAX_POOL                (1ULL << 40)

/* A typical GFX9 dGPU (Vega 20) is what the topology describes */
#define SIM_KFD_VENDOR_ID               0x1002
#define SIM_KFD_DEVICE_ID               0x66a1
#define SIM_KFD_GFX_TARGET              90006
#define SIM_KFD_CU_COUNT                60
#define SIM_KFD_SIMD_PER_CU             4

typedef struct SimMap {
    SimMem *mem;
    unsigned count;
} SimMap;

/* Leak accounting over every model of the process */
static GMutex sim_global_lock;
static GCond sim_global_cond;
static unsigned sim_global_contexts;
static uint64_t sim_global_bytes;
static unsigned sim_global_engine_threads;

static void sim_global_add(int contexts, int64_t bytes)
{
    g_mutex_lock(&sim_global_lock);
    sim_global_contexts += contexts;
    sim_global_bytes += bytes;
    g_mutex_unlock(&sim_global_lock);
}

void sim_global_engine_threads_add(int n)
{
    g_mutex_lock(&sim_global_lock);
    sim_global_engine_threads += n;
    g_cond_broadcast(&sim_global_cond);
    g_mutex_unlock(&sim_global_lock);
}

/* The GPU's global timestamp: a 100 MHz counter */
uint64_t sim_gpu_clock(void)
{
    return (uint64_t)g_get_monotonic_time() * 100;
}

/* ---- id allocator ---- */

void sim_ida_init(SimIda *ida, uint32_t base, uint32_t count)
{
    memset(ida, 0, sizeof(*ida));
    ida->base = base;
    ida->count = count;
}

/* First free index in [from, to), or -1 */
static int64_t sim_ida_scan(SimIda *ida, uint32_t from, uint32_t to)
{
    while (from < to) {
        uint32_t w = from / 64;
        uint64_t free_bits = ~ida->bits[w] & (UINT64_MAX << (from % 64));

        if (free_bits) {
            uint32_t idx = w * 64 + __builtin_ctzll(free_bits);

            return idx < to ? idx : -1;
        }
        from = (w + 1) * 64;
    }
    return -1;
}

static int64_t sim_ida_get_from(SimIda *ida, uint32_t from)
{
    int64_t idx;

    if (ida->used >= ida->count) {
        return -1;
    }
    if (!ida->bits) {
        ida->bits = g_new0(uint64_t, (ida->count + 63) / 64);
    }
    if (from >= ida->count) {
        from = 0;
    }
    idx = sim_ida_scan(ida, from, ida->count);
    if (idx < 0) {
        idx = sim_ida_scan(ida, 0, from);
    }
    if (idx < 0) {
        return -1;
    }
    ida->bits[idx / 64] |= 1ULL << (idx % 64);
    ida->used++;
    if (idx == ida->hint) {
        ida->hint = idx + 1;
    }
    return ida->base + idx;
}

int64_t sim_ida_get(SimIda *ida)
{
    return sim_ida_get_from(ida, ida->hint);
}

void sim_ida_put(SimIda *ida, uint32_t id)
{
    uint32_t idx = id - ida->base;

    if (id < ida->base || idx >= ida->count || !ida->bits ||
        !(ida->bits[idx / 64] & (1ULL << (idx % 64)))) {
        return;
    }
    ida->bits[idx / 64] &= ~(1ULL << (idx % 64));
    ida->used--;
    if (idx < ida->hint) {
        ida->hint = idx;
    }
    if (!ida->used) {
        /* idle contexts should cost little memory */
        sim_ida_destroy(ida);
    }
}

void sim_ida_destroy(SimIda *ida)
{
    g_free(ida->bits);
    ida->bits = NULL;
    ida->used = 0;
    ida->hint = 0;
}

/* ---- host memory ---- */

SimMem *sim_mem_new_locked(SimKfd *kfd, uint64_t size, int pool,
                           uint64_t charge)
{
    uint64_t host_size = ROUND_UP(size, kfd->host_page);
    SimMem *mem;
    void *ptr;
    int fd;

    if (!size || size > SIM_KFD_MAX_POOL) {
        return NULL;
    }
    /*
     * Page aligned, zeroed, committed lazily, and named, so that a leak
     * check can find every object's mapping in /proc/<pid>/maps.
     */
    fd = memfd_create(SIM_KFD_MEMFD_NAME, MFD_CLOEXEC);
    if (fd < 0) {
        return NULL;
    }
    if (ftruncate(fd, host_size) < 0) {
        close(fd);
        return NULL;
    }
    ptr = mmap(NULL, host_size, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_NORESERVE, fd, 0);
    close(fd);
    if (ptr == MAP_FAILED) {
        return NULL;
    }
    mem = g_new0(SimMem, 1);
    mem->kfd = kfd;
    mem->ptr = ptr;
    mem->size = host_size;
    mem->pool = pool;
    mem->charge = charge;
    mem->refs = 1;
    if (pool == SIM_POOL_GTT) {
        kfd->gtt_used += charge;
    } else if (pool >= 0) {
        kfd->vram_used[pool] += charge;
    }
    kfd->refs++;
    kfd->live_bytes += host_size;
    sim_global_add(0, host_size);
    return mem;
}

void sim_mem_put_locked(SimMem *mem)
{
    SimKfd *kfd;

    if (!mem || --mem->refs) {
        return;
    }
    kfd = mem->kfd;
    if (mem->pool == SIM_POOL_GTT) {
        kfd->gtt_used -= mem->charge;
    } else if (mem->pool >= 0) {
        kfd->vram_used[mem->pool] -= mem->charge;
    }
    if (mem->release) {
        mem->release(mem->opaque);
    } else {
        munmap(mem->ptr, mem->size);
        kfd->live_bytes -= mem->size;
        sim_global_add(0, -(int64_t)mem->size);
    }
    kfd->refs--;
    g_free(mem);
}

/* ---- model ---- */

static uint32_t sim_mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static void sim_kfd_init_nodes(SimKfd *kfd)
{
    unsigned i, j;

    for (i = 0; i < kfd->cfg.num_nodes; i++) {
        SimKfdNodeInfo *n = &kfd->nodes[i];
        uint32_t id = sim_mix32((SIM_KFD_DEVICE_ID << 16) + i) & 0xFFFF;
        bool clash;

        /* like the kernel's hashed gpu_ids: stable, nonzero, unique */
        do {
            clash = id == 0;
            for (j = 0; j < i; j++) {
                clash |= kfd->nodes[j].gpu_id == id;
            }
            if (clash) {
                id = (id + 1) & 0xFFFF;
            }
        } while (clash);

        n->gpu_id = id;
        n->vendor_id = SIM_KFD_VENDOR_ID;
        n->device_id = SIM_KFD_DEVICE_ID;
        n->location_id = (0x03 + i) << 8;
        n->drm_render_minor = 128 + i;
        n->gfx_target_version = SIM_KFD_GFX_TARGET;
        n->cu_count = SIM_KFD_CU_COUNT;
        n->simd_per_cu = SIM_KFD_SIMD_PER_CU;
        n->simd_count = SIM_KFD_CU_COUNT * SIM_KFD_SIMD_PER_CU;
        n->max_waves_per_simd = 10;
        n->lds_size_kib = 64;
        n->num_sdma_engines = SIM_KFD_NUM_SDMA_ENGINES;
        n->vram_size = kfd->cfg.vram_size;
        snprintf(n->name, sizeof(n->name), "gfx906");
    }
}

const char *sim_kfd_config_check(const SimKfdConfig *cfg)
{
    if (!cfg) {
        return "no configuration";
    }
    if (cfg->num_nodes < 1 || cfg->num_nodes > SIM_KFD_MAX_NODES) {
        return "the number of GPU nodes must be 1 to 4";
    }
    if (cfg->vram_size < SIM_KFD_MIN_POOL ||
        cfg->vram_size > SIM_KFD_MAX_POOL) {
        return "VRAM size must be 1 MiB to 1 TiB";
    }
    if (cfg->gtt_size < SIM_KFD_MIN_POOL ||
        cfg->gtt_size > SIM_KFD_MAX_POOL) {
        return "GTT size must be 1 MiB to 1 TiB";
    }
    return NULL;
}

SimKfd *sim_kfd_new(const SimKfdConfig *cfg)
{
    SimKfd *kfd;

    if (sim_kfd_config_check(cfg)) {
        return NULL;
    }
    kfd = g_new0(SimKfd, 1);
    g_mutex_init(&kfd->lock);
    g_cond_init(&kfd->cond);
    kfd->refs = 1;
    kfd->cfg = *cfg;
    kfd->cfg.vram_size = ROUND_DOWN(cfg->vram_size, SIM_KFD_GPU_PAGE_SIZE);
    kfd->cfg.gtt_size = ROUND_DOWN(cfg->gtt_size, SIM_KFD_GPU_PAGE_SIZE);
    /* a header inline, so the model still links without QEMU's libs */
    kfd->host_page = MAX(qemu_real_host_page_size(), SIM_KFD_GPU_PAGE_SIZE);
    sim_ida_init(&kfd->pasids, SIM_KFD_PASID_BASE, SIM_KFD_PASID_COUNT);
    kfd->pasid_next = SIM_KFD_PASID_BASE;
    kfd->next_bo_page = 1;
    kfd->maps = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                      NULL, g_free);
    sim_kfd_init_nodes(kfd);
    return kfd;
}

static void sim_kfd_finalize(SimKfd *kfd)
{
    g_hash_table_destroy(kfd->maps);
    sim_ida_destroy(&kfd->pasids);
    g_cond_clear(&kfd->cond);
    g_mutex_clear(&kfd->lock);
    g_free(kfd);
}

/*
 * Unlock, and release the model if that was its last reference (an
 * engine thread that still runs releases it when it ends)
 */
void sim_kfd_unlock(SimKfd *kfd)
{
    bool dead = kfd->refs == 0 && kfd->engine_threads == 0;

    g_mutex_unlock(&kfd->lock);
    if (dead) {
        sim_kfd_finalize(kfd);
    }
}

void sim_kfd_free(SimKfd *kfd)
{
    if (!kfd) {
        return;
    }
    g_mutex_lock(&kfd->lock);
    kfd->refs--;
    sim_kfd_unlock(kfd);
}

unsigned sim_kfd_num_nodes(SimKfd *kfd)
{
    return kfd->cfg.num_nodes;
}

bool sim_kfd_node_info(SimKfd *kfd, unsigned index, SimKfdNodeInfo *info)
{
    if (index >= kfd->cfg.num_nodes) {
        return false;
    }
    *info = kfd->nodes[index];
    return true;
}

int sim_node_by_gpu_id(SimKfd *kfd, uint32_t gpu_id)
{
    unsigned i;

    for (i = 0; i < kfd->cfg.num_nodes; i++) {
        if (gpu_id && kfd->nodes[i].gpu_id == gpu_id) {
            return i;
        }
    }
    return -1;
}

/* ---- contexts ---- */

static SimCtx *sim_ctx_new_locked(SimKfd *kfd, SimCtx *primary, uint32_t id)
{
    int64_t pasid;
    SimCtx *ctx;
    unsigned i;

    /* cyclic, so that a stale PASID does not name a new context soon */
    pasid = sim_ida_get_from(&kfd->pasids,
                             kfd->pasid_next - SIM_KFD_PASID_BASE);
    if (pasid < 0) {
        return NULL;
    }
    kfd->pasid_next = pasid + 1;

    ctx = g_new0(SimCtx, 1);
    ctx->kfd = kfd;
    ctx->id = id;
    ctx->pasid = pasid;
    ctx->secondary = primary != NULL;
    ctx->primary = primary;
    if (primary) {
        primary->refs++;
    }
    sim_ida_init(&ctx->sec_ids, 0, SIM_KFD_MAX_SECONDARY_ID + 1);
    for (i = 0; i < SIM_KFD_MAX_NODES; i++) {
        sim_ida_init(&ctx->pdd[i].handles, 0, SIM_KFD_MAX_OBJECTS);
    }
    sim_objs_init(ctx);
    sim_events_init(ctx);
    sim_queues_init(ctx);
    kfd->live_contexts++;
    sim_global_add(1, 0);
    return ctx;
}

static void sim_ctx_destroy_locked(SimCtx *ctx)
{
    SimKfd *kfd = ctx->kfd;

    sim_queues_fini_locked(ctx);
    sim_events_fini_locked(ctx);
    sim_objs_fini_locked(ctx);
    if (ctx->secondary) {
        /* unlike the first upstream version, give the id back */
        sim_ida_put(&ctx->primary->sec_ids, ctx->id);
        sim_ctx_put_locked(ctx->primary);
    } else {
        if (kfd->primary == ctx) {
            kfd->primary = NULL;
        }
        sim_ida_destroy(&ctx->sec_ids);
    }
    sim_ida_put(&kfd->pasids, ctx->pasid);
    kfd->live_contexts--;
    sim_global_add(-1, 0);
    g_free(ctx);
}

void sim_ctx_put_locked(SimCtx *ctx)
{
    if (--ctx->refs == 0) {
        sim_ctx_destroy_locked(ctx);
    }
}

/* ---- files ---- */

SimKfdFile *sim_kfd_open(SimKfd *kfd)
{
    SimKfdFile *f;

    g_mutex_lock(&kfd->lock);
    if (!kfd->primary) {
        kfd->primary = sim_ctx_new_locked(kfd, NULL, SIM_KFD_PRIMARY_ID);
        if (!kfd->primary) {
            g_mutex_unlock(&kfd->lock);
            return NULL;
        }
    }
    f = g_new0(SimKfdFile, 1);
    f->kfd = kfd;
    f->ctx = kfd->primary;
    f->ctx->refs++;
    kfd->refs++;
    g_mutex_unlock(&kfd->lock);
    return f;
}

static void sim_file_free_locked(SimKfdFile *f)
{
    SimKfd *kfd = f->kfd;

    sim_ctx_put_locked(f->ctx);
    g_free(f);
    kfd->refs--;
}

/*
 * A call on a file pins the file and its current context, so that a
 * concurrent close (or CREATE_PROCESS) cannot free them under it.
 */
static SimCtx *sim_file_enter_locked(SimKfdFile *f)
{
    if (f->closed) {
        return NULL;
    }
    f->busy++;
    f->ctx->refs++;
    return f->ctx;
}

static void sim_file_leave_locked(SimKfdFile *f, SimCtx *ctx)
{
    sim_ctx_put_locked(ctx);
    if (--f->busy == 0 && f->closed) {
        sim_file_free_locked(f);
    }
}

void sim_kfd_close(SimKfdFile *file)
{
    SimKfd *kfd;

    if (!file) {
        return;
    }
    kfd = file->kfd;
    g_mutex_lock(&kfd->lock);
    if (!file->closed) {
        file->closed = true;
        file->cancel_seq++;
        g_cond_broadcast(&kfd->cond);
        if (!file->busy) {
            sim_file_free_locked(file);
        }
    }
    sim_kfd_unlock(kfd);
}

void sim_kfd_file_shutdown(SimKfdFile *file)
{
    SimKfd *kfd = file->kfd;

    g_mutex_lock(&kfd->lock);
    file->shut_down = true;
    file->cancel_seq++;
    /*
     * A secondary is this file's alone: its queues need not finish (the
     * KFD preempts and destroys them at close).  A primary shared by
     * several files (legacy-shared) runs on.
     */
    if (file->ctx && file->ctx->secondary) {
        file->ctx->stopping = true;
    }
    g_cond_broadcast(&kfd->cond);
    g_mutex_unlock(&kfd->lock);
}

void sim_kfd_file_cancel_waits(SimKfdFile *file)
{
    SimKfd *kfd = file->kfd;

    g_mutex_lock(&kfd->lock);
    if (!file->closed) {
        file->cancel_seq++;
        g_cond_broadcast(&kfd->cond);
    }
    g_mutex_unlock(&kfd->lock);
}

/* ---- small ioctls ---- */

static int sim_ioc_get_version(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_get_version_args *a = arg;

    a->major_version = SIM_KFD_VERSION_MAJOR;
    a->minor_version = ctx->kfd->cfg.multi_context ?
        SIM_KFD_VERSION_MINOR_MC : SIM_KFD_VERSION_MINOR_LEGACY;
    return 0;
}

static int sim_ioc_create_process(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    SimCtx *sec;
    int64_t id;

    if (ctx->secondary) {
        return -EINVAL;
    }
    id = sim_ida_get(&ctx->sec_ids);
    if (id < 0) {
        return -ENOSPC;
    }
    sec = sim_ctx_new_locked(ctx->kfd, ctx, id);
    if (!sec) {
        sim_ida_put(&ctx->sec_ids, id);
        return -ENOSPC;
    }
    /* the file now refers to the secondary, which pins the primary */
    sec->refs++;
    f->ctx = sec;
    sim_ctx_put_locked(ctx);
    return 0;
}

static void sim_fill_apertures(SimKfd *kfd, unsigned node,
                               struct kfd_process_device_apertures *ap)
{
    memset(ap, 0, sizeof(*ap));
    ap->lds_base = SIM_KFD_LDS_BASE;
    ap->lds_limit = SIM_KFD_LDS_BASE | SIM_KFD_APERTURE_SPAN;
    ap->scratch_base = SIM_KFD_SCRATCH_BASE;
    ap->scratch_limit = SIM_KFD_SCRATCH_BASE | SIM_KFD_APERTURE_SPAN;
    ap->gpuvm_base = SIM_KFD_GPUVM_BASE;
    ap->gpuvm_limit = SIM_KFD_GPUVM_LIMIT;
    ap->gpu_id = kfd->nodes[node].gpu_id;
}

static int sim_ioc_get_apertures(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_get_process_apertures_args *a = arg;
    unsigned n = MIN(ctx->kfd->cfg.num_nodes, NUM_OF_SUPPORTED_GPUS);
    unsigned i;

    memset(a->process_apertures, 0, sizeof(a->process_apertures));
    for (i = 0; i < n; i++) {
        sim_fill_apertures(ctx->kfd, i, &a->process_apertures[i]);
    }
    a->num_of_nodes = n;
    return 0;
}

static int sim_ioc_get_apertures_new(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_get_process_apertures_new_args *a = arg;
    struct kfd_process_device_apertures *ap;
    unsigned i, n;

    if (a->num_of_nodes == 0) {
        /* a query of how many entries to allocate */
        a->num_of_nodes = ctx->kfd->cfg.num_nodes;
        return 0;
    }
    ap = (void *)(uintptr_t)a->kfd_process_device_apertures_ptr;
    if (!ap) {
        return -EFAULT;
    }
    n = MIN(ctx->kfd->cfg.num_nodes, a->num_of_nodes);
    for (i = 0; i < n; i++) {
        sim_fill_apertures(ctx->kfd, i, &ap[i]);
    }
    a->num_of_nodes = n;
    return 0;
}

static int sim_ioc_set_memory_policy(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_set_memory_policy_args *a = arg;
    int node;

    if ((a->default_policy != KFD_IOC_CACHE_POLICY_COHERENT &&
         a->default_policy != KFD_IOC_CACHE_POLICY_NONCOHERENT) ||
        (a->alternate_policy != KFD_IOC_CACHE_POLICY_COHERENT &&
         a->alternate_policy != KFD_IOC_CACHE_POLICY_NONCOHERENT)) {
        return -EINVAL;
    }
    node = sim_node_by_gpu_id(ctx->kfd, a->gpu_id);
    if (node < 0) {
        return -EINVAL;
    }
    return ctx->pdd[node].acquired ? 0 : -ESRCH;
}

static int sim_ioc_get_clock_counters(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_get_clock_counters_args *a = arg;
    uint64_t ns = g_get_monotonic_time() * 1000;

    /* the GPU clock of SDMA timestamps; 0 for a gpu_id of no node */
    a->gpu_clock_counter = sim_node_by_gpu_id(ctx->kfd, a->gpu_id) >= 0 ?
        sim_gpu_clock() : 0;
    a->cpu_clock_counter = ns;
    a->system_clock_counter = ns;
    a->system_clock_freq = 1000000000ULL;
    return 0;
}

static int sim_ioc_deprecated(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    return -EINVAL;
}

static int sim_ioc_gpu_acquired(SimCtx *ctx, uint32_t gpu_id, int unbound)
{
    int node = sim_node_by_gpu_id(ctx->kfd, gpu_id);

    if (node < 0) {
        return -EINVAL;
    }
    return ctx->pdd[node].acquired ? 0 : unbound;
}

static int sim_ioc_set_scratch(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_set_scratch_backing_va_args *a = arg;

    return sim_ioc_gpu_acquired(ctx, a->gpu_id, -ENODEV);
}

static int sim_ioc_set_trap_handler(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_set_trap_handler_args *a = arg;

    return sim_ioc_gpu_acquired(ctx, a->gpu_id, -ESRCH);
}

static int sim_ioc_set_xnack_mode(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_set_xnack_mode_args *a = arg;

    if (a->xnack_enabled < 0) {
        a->xnack_enabled = ctx->xnack;
        return 0;
    }
    if (g_hash_table_size(ctx->queues)) {
        return -EBUSY;
    }
    /* the modelled GPUs cannot retry page faults */
    return a->xnack_enabled ? -EPERM : 0;
}

static int sim_ioc_runtime_enable(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_runtime_enable_args *a = arg;

    if (a->mode_mask & KFD_RUNTIME_ENABLE_MODE_ENABLE_MASK) {
        if (ctx->runtime_enabled) {
            return -EBUSY;
        }
        ctx->runtime_enabled = true;
    } else {
        ctx->runtime_enabled = false;
    }
    return 0;
}

static int sim_ioc_svm(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_svm_args *a = arg;

    if (ctx->secondary) {
        return -EOPNOTSUPP;
    }
    if ((a->start_addr | a->size) & (SIM_KFD_GPU_PAGE_SIZE - 1) ||
        !a->start_addr || !a->size) {
        return -EINVAL;
    }
    /* the modelled GPUs have no SVM support (svm_disabled) */
    return -EPERM;
}

static int sim_ioc_dbg_trap(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    /* no debugger model: what the primary answers without a GPU */
    return ctx->secondary ? -EOPNOTSUPP : -EINVAL;
}

/*
 * GFX9 has no tile mode tables (the kernel leaves them zero), and Vega
 * 20's GB_ADDR_CONFIG carries these fixed bits; banks and ranks are not
 * set from GFX9 on
 */
#define SIM_KFD_GB_ADDR_CONFIG          0x22014042
#define SIM_KFD_TILE_CONFIGS            32
#define SIM_KFD_MACRO_TILE_CONFIGS      16

static int sim_ioc_get_tile_config(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_get_tile_config_args *a = arg;

    if (sim_node_by_gpu_id(ctx->kfd, a->gpu_id) < 0) {
        return -EINVAL;
    }
    a->gb_addr_config = SIM_KFD_GB_ADDR_CONFIG;
    a->num_banks = 0;
    a->num_ranks = 0;
    a->num_tile_configs = MIN(a->num_tile_configs, SIM_KFD_TILE_CONFIGS);
    a->num_macro_tile_configs = MIN(a->num_macro_tile_configs,
                                    SIM_KFD_MACRO_TILE_CONFIGS);
    /* the caller's arrays, already bounds-checked, get the zero tables */
    if ((a->num_tile_configs && !a->tile_config_ptr) ||
        (a->num_macro_tile_configs && !a->macro_tile_config_ptr)) {
        return -EFAULT;
    }
    if (a->num_tile_configs) {
        memset((void *)(uintptr_t)a->tile_config_ptr, 0,
               a->num_tile_configs * sizeof(uint32_t));
    }
    if (a->num_macro_tile_configs) {
        memset((void *)(uintptr_t)a->macro_tile_config_ptr, 0,
               a->num_macro_tile_configs * sizeof(uint32_t));
    }
    return 0;
}

static int sim_ioc_unmodelled(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    /* CRIU, dma-buf, SMI, GWS, CU masks, wave state */
    return -EOPNOTSUPP;
}

typedef int SimIocFn(SimKfdFile *f, SimCtx *ctx, void *arg);

typedef struct SimIoc {
    unsigned long request;
    SimIocFn *fn;
} SimIoc;

#define SIM_IOC(req, fn)  [_IOC_NR(req)] = { req, fn }

static const SimIoc sim_iocs[SIM_KFD_COMMAND_END_MC] = {
    SIM_IOC(AMDKFD_IOC_GET_VERSION, sim_ioc_get_version),
    SIM_IOC(AMDKFD_IOC_CREATE_QUEUE, sim_ioc_create_queue),
    SIM_IOC(AMDKFD_IOC_DESTROY_QUEUE, sim_ioc_destroy_queue),
    SIM_IOC(AMDKFD_IOC_SET_MEMORY_POLICY, sim_ioc_set_memory_policy),
    SIM_IOC(AMDKFD_IOC_GET_CLOCK_COUNTERS, sim_ioc_get_clock_counters),
    SIM_IOC(AMDKFD_IOC_GET_PROCESS_APERTURES, sim_ioc_get_apertures),
    SIM_IOC(AMDKFD_IOC_UPDATE_QUEUE, sim_ioc_update_queue),
    SIM_IOC(AMDKFD_IOC_CREATE_EVENT, sim_ioc_create_event),
    SIM_IOC(AMDKFD_IOC_DESTROY_EVENT, sim_ioc_destroy_event),
    SIM_IOC(AMDKFD_IOC_SET_EVENT, sim_ioc_set_event),
    SIM_IOC(AMDKFD_IOC_RESET_EVENT, sim_ioc_reset_event),
    SIM_IOC(AMDKFD_IOC_WAIT_EVENTS, sim_ioc_wait_events),
    SIM_IOC(AMDKFD_IOC_DBG_REGISTER_DEPRECATED, sim_ioc_deprecated),
    SIM_IOC(AMDKFD_IOC_DBG_UNREGISTER_DEPRECATED, sim_ioc_deprecated),
    SIM_IOC(AMDKFD_IOC_DBG_ADDRESS_WATCH_DEPRECATED, sim_ioc_deprecated),
    SIM_IOC(AMDKFD_IOC_DBG_WAVE_CONTROL_DEPRECATED, sim_ioc_deprecated),
    SIM_IOC(AMDKFD_IOC_SET_SCRATCH_BACKING_VA, sim_ioc_set_scratch),
    SIM_IOC(AMDKFD_IOC_GET_TILE_CONFIG, sim_ioc_get_tile_config),
    SIM_IOC(AMDKFD_IOC_SET_TRAP_HANDLER, sim_ioc_set_trap_handler),
    SIM_IOC(AMDKFD_IOC_GET_PROCESS_APERTURES_NEW, sim_ioc_get_apertures_new),
    SIM_IOC(AMDKFD_IOC_ACQUIRE_VM, sim_ioc_acquire_vm),
    SIM_IOC(AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, sim_ioc_alloc_memory),
    SIM_IOC(AMDKFD_IOC_FREE_MEMORY_OF_GPU, sim_ioc_free_memory),
    SIM_IOC(AMDKFD_IOC_MAP_MEMORY_TO_GPU, sim_ioc_map_memory),
    SIM_IOC(AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU, sim_ioc_unmap_memory),
    SIM_IOC(AMDKFD_IOC_SET_CU_MASK, sim_ioc_unmodelled),
    SIM_IOC(AMDKFD_IOC_GET_QUEUE_WAVE_STATE, sim_ioc_unmodelled),
    SIM_IOC(AMDKFD_IOC_GET_DMABUF_INFO, sim_ioc_unmodelled),
    SIM_IOC(AMDKFD_IOC_IMPORT_DMABUF, sim_ioc_unmodelled),
    SIM_IOC(AMDKFD_IOC_ALLOC_QUEUE_GWS, sim_ioc_unmodelled),
    SIM_IOC(AMDKFD_IOC_SMI_EVENTS, sim_ioc_unmodelled),
    SIM_IOC(AMDKFD_IOC_SVM, sim_ioc_svm),
    SIM_IOC(AMDKFD_IOC_SET_XNACK_MODE, sim_ioc_set_xnack_mode),
    SIM_IOC(AMDKFD_IOC_CRIU_OP, sim_ioc_unmodelled),
    SIM_IOC(AMDKFD_IOC_AVAILABLE_MEMORY, sim_ioc_available_memory),
    SIM_IOC(AMDKFD_IOC_EXPORT_DMABUF, sim_ioc_unmodelled),
    SIM_IOC(AMDKFD_IOC_RUNTIME_ENABLE, sim_ioc_runtime_enable),
    SIM_IOC(AMDKFD_IOC_DBG_TRAP, sim_ioc_dbg_trap),
    SIM_IOC(AMDKFD_IOC_CREATE_PROCESS, sim_ioc_create_process),
};

int sim_kfd_ioctl(SimKfdFile *file, unsigned long request, void *arg)
{
    SimKfd *kfd = file->kfd;
    unsigned nr = _IOC_NR(request);
    unsigned end = kfd->cfg.multi_context ? SIM_KFD_COMMAND_END_MC :
                                            SIM_KFD_COMMAND_END_LEGACY;
    SimCtx *ctx;
    int ret;

    /* the kernel answers numbers outside its table with ENOTTY */
    if (nr < SIM_KFD_COMMAND_START || nr >= end || !sim_iocs[nr].fn) {
        return -ENOTTY;
    }
    /*
     * The kernel would adapt other sizes; the model reads the whole
     * structure from @arg, so it takes only the exact request.
     */
    if (request != sim_iocs[nr].request) {
        return -EINVAL;
    }
    if (_IOC_SIZE(request) && !arg) {
        return -EFAULT;
    }

    g_mutex_lock(&kfd->lock);
    ctx = sim_file_enter_locked(file);
    if (!ctx) {
        g_mutex_unlock(&kfd->lock);
        return -EBADF;
    }
    ret = sim_iocs[nr].fn(file, ctx, arg);
    sim_file_leave_locked(file, ctx);
    sim_kfd_unlock(kfd);
    return ret;
}

/* ---- mmap ---- */

static SimMem *sim_mmap_resolve_locked(SimCtx *ctx, uint64_t offset,
                                       uint64_t length, int *err)
{
    uint64_t type = offset & SIM_KFD_MMAP_TYPE_MASK;
    uint32_t gpu_id = (offset >> SIM_KFD_MMAP_GPU_ID_SHIFT) & 0xFFFF;
    SimObj *obj;
    int node = -1;

    *err = -EINVAL;
    if (type == SIM_KFD_MMAP_TYPE_BO) {
        obj = g_hash_table_lookup(ctx->bo_offsets, &offset);
        if (!obj || length > obj->size) {
            return NULL;
        }
        return obj->mem;
    }
    if (type == SIM_KFD_MMAP_TYPE_EVENTS) {
        if (offset != SIM_KFD_MMAP_TYPE_EVENTS ||
            length > SIM_KFD_EVENT_PAGE_SIZE || !ctx->signal_mem) {
            return NULL;
        }
        /* as in the kernel, the mapped size bounds the signal slots */
        ctx->signal_mapped_size = ROUND_UP(length, SIM_KFD_GPU_PAGE_SIZE);
        return ctx->signal_mem;
    }

    /* doorbell and MMIO pages: per node, whole-page offsets only */
    node = sim_node_by_gpu_id(ctx->kfd, gpu_id);
    if (node < 0 || (offset & SIM_KFD_MMAP_OFFSET_MASK)) {
        return NULL;
    }
    if (type == SIM_KFD_MMAP_TYPE_DOORBELL) {
        if (length > SIM_KFD_DOORBELL_SLICE_SIZE) {
            return NULL;
        }
        *err = -ENOMEM;
        return sim_pdd_doorbell_locked(ctx, node);
    }
    if (length > SIM_KFD_MMIO_REMAP_SIZE) {
        return NULL;
    }
    *err = -ENOMEM;
    return sim_pdd_mmio_locked(ctx, node);
}

void *sim_kfd_mmap(SimKfdFile *file, uint64_t offset, uint64_t length,
                   int *err)
{
    SimKfd *kfd = file->kfd;
    SimMem *mem = NULL;
    SimMap *map;
    SimCtx *ctx;
    int ret = -EINVAL;

    g_mutex_lock(&kfd->lock);
    ctx = sim_file_enter_locked(file);
    if (!ctx) {
        ret = -EBADF;
    } else {
        if (length) {
            mem = sim_mmap_resolve_locked(ctx, offset, length, &ret);
        }
        if (mem) {
            ret = 0;
            mem->refs++;
            kfd->live_mappings++;
            map = g_hash_table_lookup(kfd->maps, mem->ptr);
            if (!map) {
                map = g_new0(SimMap, 1);
                map->mem = mem;
                g_hash_table_insert(kfd->maps, mem->ptr, map);
            }
            map->count++;
        }
        sim_file_leave_locked(file, ctx);
    }
    sim_kfd_unlock(kfd);
    if (err) {
        *err = ret;
    }
    return mem ? mem->ptr : NULL;
}

int sim_kfd_munmap(SimKfd *kfd, void *addr, uint64_t length)
{
    SimMap *map;
    SimMem *mem;

    g_mutex_lock(&kfd->lock);
    map = g_hash_table_lookup(kfd->maps, addr);
    if (!map || !length || length > map->mem->size) {
        g_mutex_unlock(&kfd->lock);
        return -EINVAL;
    }
    mem = map->mem;
    if (--map->count == 0) {
        g_hash_table_remove(kfd->maps, addr);
    }
    kfd->live_mappings--;
    sim_mem_put_locked(mem);
    sim_kfd_unlock(kfd);
    return 0;
}

/* ---- imported memory ---- */

int sim_kfd_import_memory(SimKfdFile *file, uint32_t gpu_id, uint64_t va,
                          uint64_t size, void *host,
                          void (*release)(void *opaque), void *opaque,
                          uint64_t *handle)
{
    SimKfd *kfd = file->kfd;
    SimCtx *ctx;
    int ret;

    g_mutex_lock(&kfd->lock);
    ctx = sim_file_enter_locked(file);
    if (!ctx) {
        g_mutex_unlock(&kfd->lock);
        return -EBADF;
    }
    ret = sim_import_memory_locked(ctx, gpu_id, va, size, host, release,
                                   opaque, handle);
    sim_file_leave_locked(file, ctx);
    sim_kfd_unlock(kfd);
    return ret;
}

/* ---- doorbells ---- */

int sim_kfd_doorbell_write(SimKfdFile *file, uint64_t doorbell_offset,
                           uint64_t byte_offset, uint64_t value)
{
    SimKfd *kfd = file->kfd;
    SimCtx *ctx;
    int ret;

    if (byte_offset > UINT64_MAX - doorbell_offset) {
        return -EINVAL;
    }
    g_mutex_lock(&kfd->lock);
    ctx = sim_file_enter_locked(file);
    if (!ctx) {
        g_mutex_unlock(&kfd->lock);
        return -EBADF;
    }
    ret = sim_doorbell_locked(ctx, doorbell_offset + byte_offset, value);
    sim_file_leave_locked(file, ctx);
    sim_kfd_unlock(kfd);
    return ret;
}

/* ---- introspection ---- */

int sim_kfd_file_info(SimKfdFile *file, SimKfdContextInfo *info)
{
    SimKfd *kfd = file->kfd;
    SimCtx *ctx;
    unsigned i;

    memset(info, 0, sizeof(*info));
    g_mutex_lock(&kfd->lock);
    if (file->closed) {
        g_mutex_unlock(&kfd->lock);
        return -EBADF;
    }
    ctx = file->ctx;
    info->id = ctx->id;
    info->pasid = ctx->pasid;
    info->secondary = ctx->secondary;
    info->runtime_enabled = ctx->runtime_enabled;
    info->n_objects = ctx->n_objs;
    info->n_events = g_hash_table_size(ctx->events);
    info->n_queues = g_hash_table_size(ctx->queues);
    info->alloc_bytes = ctx->alloc_bytes;
    for (i = 0; i < kfd->cfg.num_nodes; i++) {
        info->gpuvm_mapped_bytes += ctx->pdd[i].mapped_bytes;
    }
    info->vm_faults = ctx->vm_faults;
    info->last_fault_va = ctx->last_fault_va;
    info->last_fault_gpu_id = ctx->last_fault_gpu_id;
    g_mutex_unlock(&kfd->lock);
    return 0;
}

uint64_t sim_kfd_vm_faults(SimKfdFile *file)
{
    SimKfdContextInfo info;

    return sim_kfd_file_info(file, &info) ? 0 : info.vm_faults;
}

int sim_kfd_queue_info(SimKfdFile *file, uint32_t queue_id,
                       SimKfdQueueInfo *info)
{
    SimKfd *kfd = file->kfd;
    SimQueue *q;
    int ret = -EINVAL;

    memset(info, 0, sizeof(*info));
    g_mutex_lock(&kfd->lock);
    if (file->closed) {
        ret = -EBADF;
    } else {
        q = g_hash_table_lookup(file->ctx->queues,
                                GUINT_TO_POINTER(queue_id));
        if (q) {
            info->type = q->type;
            info->gpu_id = kfd->nodes[q->node].gpu_id;
            info->rptr = q->rptr;
            info->packets = q->packets;
            info->halted = q->halted;
            info->waiting = q->waiting;
            info->error = q->error;
            info->dispatches = q->isa.dispatches;
            info->wave_instructions = q->isa.instructions;
            info->last_wave_instructions = q->isa.last_instructions;
            info->last_dispatch_ns = q->isa.last_ns;
            ret = 0;
        }
    }
    g_mutex_unlock(&kfd->lock);
    return ret;
}

unsigned sim_kfd_live_contexts(SimKfd *kfd)
{
    unsigned n;

    g_mutex_lock(&kfd->lock);
    n = kfd->live_contexts;
    g_mutex_unlock(&kfd->lock);
    return n;
}

uint64_t sim_kfd_live_host_bytes(SimKfd *kfd)
{
    uint64_t n;

    g_mutex_lock(&kfd->lock);
    n = kfd->live_bytes;
    g_mutex_unlock(&kfd->lock);
    return n;
}

unsigned sim_kfd_live_mappings(SimKfd *kfd)
{
    unsigned n;

    g_mutex_lock(&kfd->lock);
    n = kfd->live_mappings;
    g_mutex_unlock(&kfd->lock);
    return n;
}

unsigned sim_kfd_blocked_waiters(SimKfd *kfd)
{
    unsigned n;

    g_mutex_lock(&kfd->lock);
    n = kfd->blocked_waiters;
    g_mutex_unlock(&kfd->lock);
    return n;
}

unsigned sim_kfd_global_live_contexts(void)
{
    unsigned n;

    g_mutex_lock(&sim_global_lock);
    n = sim_global_contexts;
    g_mutex_unlock(&sim_global_lock);
    return n;
}

uint64_t sim_kfd_global_live_host_bytes(void)
{
    uint64_t n;

    g_mutex_lock(&sim_global_lock);
    n = sim_global_bytes;
    g_mutex_unlock(&sim_global_lock);
    return n;
}

unsigned sim_kfd_global_engine_threads(void)
{
    unsigned n;

    g_mutex_lock(&sim_global_lock);
    n = sim_global_engine_threads;
    g_mutex_unlock(&sim_global_lock);
    return n;
}

bool sim_kfd_global_idle(int64_t timeout_us)
{
    int64_t deadline = g_get_monotonic_time() + MAX(timeout_us, 0);
    bool idle;

    g_mutex_lock(&sim_global_lock);
    while (sim_global_engine_threads &&
           g_cond_wait_until(&sim_global_cond, &sim_global_lock, deadline)) {
        /* woken: look again */
    }
    idle = sim_global_engine_threads == 0;
    g_mutex_unlock(&sim_global_lock);
    return idle;
}
