/*
 * amdkfd-mc "sim" backend: memory objects and per-context GPUVMs
 *
 * Each context has, per GPU node, its own handle space and its own GPU
 * virtual address space.  Only MAP_MEMORY_TO_GPU puts an object into a
 * GPUVM, and only that context's queues translate through it: this is
 * what isolates contexts from each other.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "internal.h"

#define SIM_KFD_ALLOC_KINDS     (KFD_IOC_ALLOC_MEM_FLAGS_VRAM | \
                                 KFD_IOC_ALLOC_MEM_FLAGS_GTT | \
                                 KFD_IOC_ALLOC_MEM_FLAGS_DOORBELL | \
                                 KFD_IOC_ALLOC_MEM_FLAGS_MMIO_REMAP)

/* BO mmap offsets count pages below the type bits */
#define SIM_KFD_BO_PAGES_MAX    (1ULL << (SIM_KFD_MMAP_TYPE_SHIFT - 12))

void sim_objs_init(SimCtx *ctx)
{
    unsigned i;

    ctx->objs = g_hash_table_new(g_int64_hash, g_int64_equal);
    ctx->bo_offsets = g_hash_table_new(g_int64_hash, g_int64_equal);
    for (i = 0; i < SIM_KFD_MAX_NODES; i++) {
        ctx->pdd[i].vm = g_array_new(FALSE, FALSE, sizeof(SimVma));
    }
}

SimObj *sim_obj_lookup(SimCtx *ctx, uint64_t handle)
{
    return g_hash_table_lookup(ctx->objs, &handle);
}

SimMem *sim_pdd_doorbell_locked(SimCtx *ctx, unsigned node)
{
    SimPdd *pdd = &ctx->pdd[node];

    if (!pdd->doorbell) {
        pdd->doorbell = sim_mem_new_locked(ctx->kfd,
                                           SIM_KFD_DOORBELL_SLICE_SIZE,
                                           SIM_POOL_NONE, 0);
    }
    return pdd->doorbell;
}

SimMem *sim_pdd_mmio_locked(SimCtx *ctx, unsigned node)
{
    SimPdd *pdd = &ctx->pdd[node];

    /* a page per context: writes to it have no effect on anything */
    if (!pdd->mmio) {
        pdd->mmio = sim_mem_new_locked(ctx->kfd, SIM_KFD_MMIO_REMAP_SIZE,
                                       SIM_POOL_NONE, 0);
    }
    return pdd->mmio;
}

/* ---- GPUVM ---- */

/* Index of the last range that starts at or below @va, or -1 */
static int sim_vm_find(GArray *vm, uint64_t va)
{
    int lo = 0, hi = (int)vm->len - 1, found = -1;

    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;

        if (g_array_index(vm, SimVma, mid).start <= va) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return found;
}

void *sim_vm_translate(SimPdd *pdd, uint64_t va, uint64_t len,
                       uint64_t *fault_va)
{
    SimMem *mem;

    return sim_vm_translate_mem(pdd, va, len, fault_va, &mem);
}

void *sim_vm_translate_mem(SimPdd *pdd, uint64_t va, uint64_t len,
                           uint64_t *fault_va, SimMem **mem)
{
    int i = sim_vm_find(pdd->vm, va);
    SimVma *v;

    if (i < 0 || va >= g_array_index(pdd->vm, SimVma, i).end) {
        *fault_va = va;
        return NULL;
    }
    v = &g_array_index(pdd->vm, SimVma, i);
    if (len > v->end - va) {
        /* the first byte past the range that is mapped */
        *fault_va = v->end;
        return NULL;
    }
    *mem = v->obj->mem;
    return (uint8_t *)v->obj->mem->ptr + (va - v->start);
}

static int sim_vm_map_locked(SimCtx *ctx, unsigned node, SimObj *obj)
{
    SimPdd *pdd = &ctx->pdd[node];
    SimVma v;
    int i;

    if (obj->mapped_nodes & (1U << node)) {
        return 0;
    }
    if ((obj->va & (SIM_KFD_GPU_PAGE_SIZE - 1)) ||
        obj->va < SIM_KFD_GPUVM_BASE || obj->va > SIM_KFD_GPUVM_LIMIT ||
        obj->size > SIM_KFD_GPUVM_LIMIT - obj->va + 1) {
        return -EINVAL;
    }
    v.start = obj->va;
    v.end = obj->va + obj->size;
    v.obj = obj;

    /* like amdgpu_vm, refuse ranges that overlap existing mappings */
    i = sim_vm_find(pdd->vm, v.start);
    if (i >= 0 && g_array_index(pdd->vm, SimVma, i).end > v.start) {
        return -EINVAL;
    }
    if (i + 1 < (int)pdd->vm->len &&
        g_array_index(pdd->vm, SimVma, i + 1).start < v.end) {
        return -EINVAL;
    }
    g_array_insert_val(pdd->vm, i + 1, v);
    obj->mapped_nodes |= 1U << node;
    pdd->mapped_bytes += obj->size;
    return 0;
}

static void sim_vm_unmap_locked(SimCtx *ctx, unsigned node, SimObj *obj)
{
    SimPdd *pdd = &ctx->pdd[node];
    int i;

    if (!(obj->mapped_nodes & (1U << node))) {
        return;
    }
    i = sim_vm_find(pdd->vm, obj->va);
    g_assert(i >= 0 && g_array_index(pdd->vm, SimVma, i).obj == obj);
    g_array_remove_index(pdd->vm, i);
    obj->mapped_nodes &= ~(1U << node);
    pdd->mapped_bytes -= obj->size;
}

/* ---- objects ---- */

static void sim_obj_free_locked(SimCtx *ctx, SimObj *obj)
{
    unsigned i;

    for (i = 0; i < SIM_KFD_MAX_NODES; i++) {
        sim_vm_unmap_locked(ctx, i, obj);
    }
    g_hash_table_remove(ctx->objs, &obj->handle);
    if (obj->kind == SIM_OBJ_VRAM || obj->kind == SIM_OBJ_GTT) {
        g_hash_table_remove(ctx->bo_offsets, &obj->mmap_offset);
    }
    sim_ida_put(&ctx->pdd[obj->node].handles, (uint32_t)obj->handle);
    ctx->n_objs--;
    ctx->alloc_bytes -= obj->size;
    /* CPU mappings may keep the memory itself a while longer */
    sim_mem_put_locked(obj->mem);
    g_free(obj);
}

void sim_objs_fini_locked(SimCtx *ctx)
{
    GList *objs = g_hash_table_get_values(ctx->objs);
    GList *l;
    unsigned i;

    for (l = objs; l; l = l->next) {
        sim_obj_free_locked(ctx, l->data);
    }
    g_list_free(objs);
    g_hash_table_destroy(ctx->objs);
    g_hash_table_destroy(ctx->bo_offsets);
    for (i = 0; i < SIM_KFD_MAX_NODES; i++) {
        SimPdd *pdd = &ctx->pdd[i];

        g_array_free(pdd->vm, TRUE);
        sim_mem_put_locked(pdd->doorbell);
        sim_mem_put_locked(pdd->mmio);
        sim_ida_destroy(&pdd->handles);
    }
}

/* ---- ioctls ---- */

int sim_ioc_acquire_vm(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_acquire_vm_args *a = arg;
    SimPdd *pdd;
    int node;

    /*
     * The model has no render nodes; the device passes a stable number
     * per context so that re-acquiring behaves as in the kernel.
     */
    if ((int32_t)a->drm_fd < 0) {
        return -EINVAL;
    }
    node = sim_node_by_gpu_id(ctx->kfd, a->gpu_id);
    if (node < 0) {
        return -EINVAL;
    }
    pdd = &ctx->pdd[node];
    if (pdd->acquired) {
        return pdd->drm_fd == a->drm_fd ? 0 : -EBUSY;
    }
    pdd->acquired = true;
    pdd->drm_fd = a->drm_fd;
    return 0;
}

int sim_ioc_available_memory(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_get_available_memory_args *a = arg;
    SimKfd *kfd = ctx->kfd;
    int node = sim_node_by_gpu_id(kfd, a->gpu_id);

    if (node < 0) {
        return -EINVAL;
    }
    a->available = kfd->cfg.vram_size - kfd->vram_used[node];
    return 0;
}

int sim_ioc_alloc_memory(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_alloc_memory_of_gpu_args *a = arg;
    SimKfd *kfd = ctx->kfd;
    uint32_t kind_flag = a->flags & SIM_KFD_ALLOC_KINDS;
    uint64_t size, offset = 0, pages = 0;
    SimMem *mem = NULL;
    SimPdd *pdd;
    SimObj *obj;
    int64_t idx;
    unsigned kind;
    int node;

    if (a->flags & KFD_IOC_ALLOC_MEM_FLAGS_USERPTR) {
        /* the secondary refusal is upstream's; the model has no user mm */
        return ctx->secondary ? -EOPNOTSUPP : -EINVAL;
    }
    node = sim_node_by_gpu_id(kfd, a->gpu_id);
    if (node < 0) {
        return -EINVAL;
    }
    pdd = &ctx->pdd[node];
    if (!pdd->acquired) {
        return -ENODEV;
    }
    /* the kernel ranks mixed kinds; the model wants exactly one */
    if (!kind_flag || (kind_flag & (kind_flag - 1)) || !a->size) {
        return -EINVAL;
    }
    if (a->size > UINT64_MAX - (SIM_KFD_GPU_PAGE_SIZE - 1)) {
        return -ENOMEM;
    }
    size = ROUND_UP(a->size, SIM_KFD_GPU_PAGE_SIZE);

    switch (kind_flag) {
    case KFD_IOC_ALLOC_MEM_FLAGS_VRAM:
        kind = SIM_OBJ_VRAM;
        if (size > kfd->cfg.vram_size - kfd->vram_used[node]) {
            return -ENOMEM;
        }
        break;
    case KFD_IOC_ALLOC_MEM_FLAGS_GTT:
        kind = SIM_OBJ_GTT;
        if (size > kfd->cfg.gtt_size - kfd->gtt_used) {
            return -ENOMEM;
        }
        break;
    case KFD_IOC_ALLOC_MEM_FLAGS_DOORBELL:
        kind = SIM_OBJ_DOORBELL;
        if (a->size != SIM_KFD_DOORBELL_SLICE_SIZE) {
            return -EINVAL;
        }
        break;
    default:
        kind = SIM_OBJ_MMIO;
        if (a->size != SIM_KFD_MMIO_REMAP_SIZE) {
            return -EINVAL;
        }
        break;
    }

    if (kind == SIM_OBJ_VRAM || kind == SIM_OBJ_GTT) {
        pages = size / SIM_KFD_GPU_PAGE_SIZE;
        if (pages >= SIM_KFD_BO_PAGES_MAX - kfd->next_bo_page) {
            return -ENOMEM;
        }
        offset = SIM_KFD_MMAP_TYPE_BO |
                 (kfd->next_bo_page * SIM_KFD_GPU_PAGE_SIZE);
        mem = sim_mem_new_locked(kfd, size, kind == SIM_OBJ_VRAM ?
                                 node : SIM_POOL_GTT, size);
    } else if (kind == SIM_OBJ_DOORBELL) {
        /* the object is the context's doorbell slice itself */
        offset = SIM_KFD_MMAP_TYPE_DOORBELL | SIM_KFD_MMAP_GPU_ID(a->gpu_id);
        mem = sim_pdd_doorbell_locked(ctx, node);
        if (mem) {
            mem->refs++;
        }
    } else {
        offset = SIM_KFD_MMAP_TYPE_MMIO | SIM_KFD_MMAP_GPU_ID(a->gpu_id);
        mem = sim_pdd_mmio_locked(ctx, node);
        if (mem) {
            mem->refs++;
        }
    }
    if (!mem) {
        return -ENOMEM;
    }
    idx = sim_ida_get(&pdd->handles);
    if (idx < 0) {
        sim_mem_put_locked(mem);
        return -ENOMEM;
    }
    kfd->next_bo_page += pages;

    obj = g_new0(SimObj, 1);
    obj->handle = SIM_KFD_HANDLE(a->gpu_id, (uint32_t)idx);
    obj->node = node;
    obj->kind = kind;
    obj->flags = a->flags;
    obj->va = a->va_addr;
    obj->size = size;
    obj->mmap_offset = offset;
    obj->mem = mem;
    g_hash_table_insert(ctx->objs, &obj->handle, obj);
    if (kind == SIM_OBJ_VRAM || kind == SIM_OBJ_GTT) {
        g_hash_table_insert(ctx->bo_offsets, &obj->mmap_offset, obj);
    }
    ctx->n_objs++;
    ctx->alloc_bytes += size;

    a->handle = obj->handle;
    a->mmap_offset = offset;
    return 0;
}

int sim_import_memory_locked(SimCtx *ctx, uint32_t gpu_id, uint64_t va,
                             uint64_t size, void *host,
                             void (*release)(void *opaque), void *opaque,
                             uint64_t *handle)
{
    SimKfd *kfd = ctx->kfd;
    int node = sim_node_by_gpu_id(kfd, gpu_id);
    SimMem *mem;
    SimObj *obj;
    int64_t idx;

    if (node < 0 || !size || size % SIM_KFD_GPU_PAGE_SIZE || !host ||
        (uintptr_t)host % kfd->host_page) {
        return -EINVAL;
    }
    if (!ctx->pdd[node].acquired) {
        return -ENODEV;
    }
    idx = sim_ida_get(&ctx->pdd[node].handles);
    if (idx < 0) {
        return -ENOMEM;
    }
    mem = g_new0(SimMem, 1);
    mem->kfd = kfd;
    mem->ptr = host;
    mem->size = size;
    mem->pool = SIM_POOL_NONE;
    mem->refs = 1;
    mem->release = release;
    mem->opaque = opaque;
    kfd->refs++;

    obj = g_new0(SimObj, 1);
    obj->handle = SIM_KFD_HANDLE(gpu_id, (uint32_t)idx);
    obj->node = node;
    obj->kind = SIM_OBJ_IMPORTED;
    obj->flags = KFD_IOC_ALLOC_MEM_FLAGS_USERPTR |
                 KFD_IOC_ALLOC_MEM_FLAGS_WRITABLE;
    obj->va = va;
    obj->size = size;
    obj->mem = mem;
    g_hash_table_insert(ctx->objs, &obj->handle, obj);
    ctx->n_objs++;
    ctx->alloc_bytes += size;
    *handle = obj->handle;
    return 0;
}

int sim_ioc_free_memory(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_free_memory_of_gpu_args *a = arg;
    SimObj *obj;

    if (ctx->signal_mem && ctx->signal_handle &&
        a->handle == ctx->signal_handle) {
        return -EPERM;
    }
    if (sim_node_by_gpu_id(ctx->kfd, SIM_KFD_HANDLE_GPU_ID(a->handle)) < 0) {
        return -EINVAL;
    }
    obj = sim_obj_lookup(ctx, a->handle);
    if (!obj) {
        return -EINVAL;
    }
    if (obj->mapped_nodes) {
        return -EBUSY;
    }
    sim_obj_free_locked(ctx, obj);
    return 0;
}

/* Common part of MAP and UNMAP; @map selects the direction */
static int sim_map_common(SimCtx *ctx, uint64_t handle, uint64_t ids_ptr,
                          uint32_t n_devices, uint32_t *n_success, bool map)
{
    const uint32_t *ids = (const uint32_t *)(uintptr_t)ids_ptr;
    SimKfd *kfd = ctx->kfd;
    SimObj *obj;
    uint32_t i;
    int node, peer, ret;

    if (!n_devices || *n_success > n_devices) {
        return -EINVAL;
    }
    /* the kernel would fail to allocate a copy of a huge array */
    if (n_devices > SIM_KFD_MAX_DEVICE_IDS) {
        return -ENOMEM;
    }
    if (!ids) {
        return -EFAULT;
    }
    node = sim_node_by_gpu_id(kfd, SIM_KFD_HANDLE_GPU_ID(handle));
    if (node < 0) {
        return -EINVAL;
    }
    if (!ctx->pdd[node].acquired) {
        return -ENODEV;
    }
    obj = sim_obj_lookup(ctx, handle);
    if (!obj) {
        /* upstream's answer to an unknown handle differs by direction */
        return map ? -ENOMEM : -EINVAL;
    }
    for (i = *n_success; i < n_devices; i++) {
        peer = sim_node_by_gpu_id(kfd, ids[i]);
        if (peer < 0) {
            return -EINVAL;
        }
        if (!ctx->pdd[peer].acquired) {
            return -ENODEV;
        }
        if (map) {
            ret = sim_vm_map_locked(ctx, peer, obj);
            if (ret) {
                return ret;
            }
        } else {
            sim_vm_unmap_locked(ctx, peer, obj);
        }
        *n_success = i + 1;
    }
    return 0;
}

int sim_ioc_map_memory(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_map_memory_to_gpu_args *a = arg;

    return sim_map_common(ctx, a->handle, a->device_ids_array_ptr,
                          a->n_devices, &a->n_success, true);
}

int sim_ioc_unmap_memory(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_unmap_memory_from_gpu_args *a = arg;

    return sim_map_common(ctx, a->handle, a->device_ids_array_ptr,
                          a->n_devices, &a->n_success, false);
}
