/*
 * amdkfd-mc "sim" backend: events, the event page and WAIT_EVENTS
 *
 * Event ids are per context: signal (and debug) events take the lowest
 * free id from 1 (0 is reserved, as in the kernel), which is also their
 * slot in the event page; other events take ids from 0x80000000.  A call
 * naming an id the context does not have fails with EINVAL, so contexts
 * cannot see, set or wait for each other's events.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "internal.h"

#define SIM_KFD_FIRST_OTHER_EVENT_ID    0x80000000U

/* Slots an event page offers before user space maps it (old clients) */
#define SIM_KFD_INITIAL_SIGNAL_SLOTS    256

#define SIM_KFD_WAIT_INFINITE           0xFFFFFFFFU
#define SIM_KFD_WAIT_MAX_MS             0x7FFFFFFFU

void sim_events_init(SimCtx *ctx)
{
    ctx->events = g_hash_table_new(g_direct_hash, g_direct_equal);
    sim_ida_init(&ctx->signal_ids, 1, KFD_SIGNAL_EVENT_LIMIT - 1);
    sim_ida_init(&ctx->other_ids, SIM_KFD_FIRST_OTHER_EVENT_ID,
                 SIM_KFD_MAX_OTHER_EVENTS);
}

static bool sim_event_is_signal(uint32_t type)
{
    return type == KFD_IOC_EVENT_SIGNAL || type == KFD_IOC_EVENT_DEBUG_EVENT;
}

static SimEvent *sim_event_lookup(SimCtx *ctx, uint32_t id)
{
    return g_hash_table_lookup(ctx->events, GUINT_TO_POINTER(id));
}

static void sim_event_destroy_locked(SimCtx *ctx, SimEvent *ev)
{
    unsigned i;

    /* waiters on it fail (-EIO) rather than touch freed memory */
    for (i = 0; i < ev->waiters->len; i++) {
        SimWaiter *w = g_ptr_array_index(ev->waiters, i);

        w->ev = NULL;
    }
    if (ev->waiters->len) {
        g_cond_broadcast(&ctx->kfd->cond);
    }
    g_hash_table_remove(ctx->events, GUINT_TO_POINTER(ev->id));
    sim_ida_put(ev->id < SIM_KFD_FIRST_OTHER_EVENT_ID ?
                &ctx->signal_ids : &ctx->other_ids, ev->id);
    g_ptr_array_free(ev->waiters, TRUE);
    g_free(ev);
}

void sim_events_fini_locked(SimCtx *ctx)
{
    GList *evs = g_hash_table_get_values(ctx->events);
    GList *l;

    for (l = evs; l; l = l->next) {
        sim_event_destroy_locked(ctx, l->data);
    }
    g_list_free(evs);
    g_hash_table_destroy(ctx->events);
    sim_ida_destroy(&ctx->signal_ids);
    sim_ida_destroy(&ctx->other_ids);
    sim_mem_put_locked(ctx->signal_mem);
    ctx->signal_mem = NULL;
}

void sim_event_set_locked(SimCtx *ctx, SimEvent *ev)
{
    unsigned i;

    /* an auto-reset event that wakes a waiter is consumed by it */
    ev->signaled = !ev->auto_reset || ev->waiters->len == 0;
    if (++ev->age == 0) {
        /* ages 0 and 1 mean "no age" and "never signalled" */
        ev->age = 2;
    }
    for (i = 0; i < ev->waiters->len; i++) {
        SimWaiter *w = g_ptr_array_index(ev->waiters, i);

        w->activated = true;
    }
    g_cond_broadcast(&ctx->kfd->cond);
}

/* The GPU wrote the event's mailbox: its slot of the event page */
static bool sim_event_slot_written(SimCtx *ctx, uint32_t id)
{
    uint64_t *slots = ctx->signal_mem ? ctx->signal_mem->ptr : NULL;

    return slots && id < KFD_SIGNAL_EVENT_LIMIT &&
           qatomic_read(&slots[id]) != SIM_KFD_UNSIGNALED_SLOT;
}

/* The KFD acknowledges an interrupt by resetting the slot, then sets */
static void sim_event_from_interrupt_locked(SimCtx *ctx, SimEvent *ev)
{
    uint64_t *slots = ctx->signal_mem ? ctx->signal_mem->ptr : NULL;

    if (slots && ev->id < KFD_SIGNAL_EVENT_LIMIT) {
        qatomic_set(&slots[ev->id], SIM_KFD_UNSIGNALED_SLOT);
    }
    sim_event_set_locked(ctx, ev);
}

/*
 * An interrupt of a queue of the context (SDMA trap, CP end of pipe):
 * the event of @id, or, as the KFD does when the id names no event,
 * every signal event whose slot the GPU wrote.  @bits is how many bits
 * of the id the interrupt carries; all the interrupts modelled carry at
 * least the 12 that ids below KFD_SIGNAL_EVENT_LIMIT need, so the id is
 * either whole or invalid.
 */
void sim_event_interrupt_locked(SimCtx *ctx, uint32_t id, unsigned bits)
{
    GHashTableIter it;
    gpointer value;
    SimEvent *ev;

    if (bits < 32) {
        id &= (1U << bits) - 1;
    }
    ev = id < KFD_SIGNAL_EVENT_LIMIT ? sim_event_lookup(ctx, id) : NULL;
    if (ev && sim_event_is_signal(ev->type)) {
        sim_event_from_interrupt_locked(ctx, ev);
        return;
    }
    if (!ctx->signal_mem) {
        return;
    }
    g_hash_table_iter_init(&it, ctx->events);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        ev = value;
        if (sim_event_is_signal(ev->type) &&
            sim_event_slot_written(ctx, ev->id)) {
            sim_event_from_interrupt_locked(ctx, ev);
        }
    }
}

void sim_event_set_by_id_locked(SimCtx *ctx, uint32_t id)
{
    SimEvent *ev = sim_event_lookup(ctx, id);

    if (ev && ev->type == KFD_IOC_EVENT_SIGNAL) {
        sim_event_set_locked(ctx, ev);
    }
}

void sim_ctx_vm_fault_locked(SimCtx *ctx, unsigned node, uint64_t va)
{
    struct kfd_hsa_memory_exception_data data;
    uint32_t gpu_id = ctx->kfd->nodes[node].gpu_id;
    GHashTableIter it;
    gpointer value;

    ctx->vm_faults++;
    ctx->last_fault_va = va;
    ctx->last_fault_gpu_id = gpu_id;

    memset(&data, 0, sizeof(data));
    data.failure.NotPresent = 1;
    data.va = va & ~(SIM_KFD_GPU_PAGE_SIZE - 1);
    data.gpu_id = gpu_id;
    data.ErrorType = KFD_MEM_ERR_NO_RAS;

    /* only this context hears of it: the fault carries its PASID */
    g_hash_table_iter_init(&it, ctx->events);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        SimEvent *ev = value;

        if (ev->type == KFD_IOC_EVENT_MEMORY) {
            ev->mem_data = data;
            sim_event_set_locked(ctx, ev);
        }
    }
}

/* Adopt a GTT/VRAM object of the context as its event page */
static int sim_event_page_set_locked(SimCtx *ctx, uint64_t handle)
{
    SimObj *obj;
    int node;

    if (ctx->signal_mem) {
        return -EINVAL;
    }
    node = sim_node_by_gpu_id(ctx->kfd, SIM_KFD_HANDLE_GPU_ID(handle));
    if (node < 0) {
        return -EINVAL;
    }
    if (!ctx->pdd[node].acquired) {
        return -ENODEV;
    }
    obj = sim_obj_lookup(ctx, handle);
    if (!obj || (obj->kind != SIM_OBJ_VRAM && obj->kind != SIM_OBJ_GTT) ||
        obj->size < SIM_KFD_EVENT_PAGE_SIZE) {
        return -EINVAL;
    }
    obj->mem->refs++;
    ctx->signal_mem = obj->mem;
    ctx->signal_handle = handle;
    ctx->signal_mapped_size = SIM_KFD_EVENT_PAGE_SIZE;
    memset(obj->mem->ptr, 0xFF, SIM_KFD_EVENT_PAGE_SIZE);
    return 0;
}

int sim_ioc_create_event(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_create_event_args *a = arg;
    bool signal = sim_event_is_signal(a->event_type);
    uint64_t *slots;
    SimEvent *ev;
    int64_t id;
    int ret;

    /* dGPU clients hand over their own event page with the first call */
    if (a->event_page_offset) {
        ret = sim_event_page_set_locked(ctx, a->event_page_offset);
        if (ret) {
            return ret;
        }
    }
    a->event_page_offset = 0;

    if (signal) {
        if (!ctx->signal_mem) {
            ctx->signal_mem = sim_mem_new_locked(ctx->kfd,
                                                 SIM_KFD_EVENT_PAGE_SIZE,
                                                 SIM_POOL_NONE, 0);
            if (!ctx->signal_mem) {
                return -ENOMEM;
            }
            memset(ctx->signal_mem->ptr, 0xFF, SIM_KFD_EVENT_PAGE_SIZE);
            ctx->signal_mapped_size = SIM_KFD_INITIAL_SIGNAL_SLOTS * 8;
        }
        /* slot 0 is reserved, hence the + 1 */
        if (ctx->signal_ids.used + 1 >= ctx->signal_mapped_size / 8) {
            return -ENOSPC;
        }
        id = sim_ida_get(&ctx->signal_ids);
        if (id < 0) {
            return -ENOSPC;
        }
        slots = ctx->signal_mem->ptr;
        slots[id] = SIM_KFD_UNSIGNALED_SLOT;
    } else {
        id = sim_ida_get(&ctx->other_ids);
        if (id < 0) {
            return -ENOSPC;
        }
    }

    ev = g_new0(SimEvent, 1);
    ev->id = id;
    ev->type = a->event_type;
    ev->auto_reset = a->auto_reset != 0;
    ev->age = 1;
    ev->waiters = g_ptr_array_new();
    g_hash_table_insert(ctx->events, GUINT_TO_POINTER(ev->id), ev);

    if (signal) {
        a->event_page_offset = SIM_KFD_MMAP_TYPE_EVENTS;
        a->event_slot_index = id;
    }
    a->event_id = id;
    a->event_trigger_data = id;
    return 0;
}

int sim_ioc_destroy_event(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_destroy_event_args *a = arg;
    SimEvent *ev = sim_event_lookup(ctx, a->event_id);

    if (!ev) {
        return -EINVAL;
    }
    sim_event_destroy_locked(ctx, ev);
    return 0;
}

int sim_ioc_set_event(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_set_event_args *a = arg;
    SimEvent *ev = sim_event_lookup(ctx, a->event_id);

    /* only plain signal events can be signalled from the CPU */
    if (!ev || ev->type != KFD_IOC_EVENT_SIGNAL) {
        return -EINVAL;
    }
    sim_event_set_locked(ctx, ev);
    /* ROCr sets the event of a signal it stored to: look at the queues */
    sim_ctx_recheck_async_locked(ctx);
    return 0;
}

int sim_ioc_reset_event(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_reset_event_args *a = arg;
    SimEvent *ev = sim_event_lookup(ctx, a->event_id);

    if (!ev || ev->type != KFD_IOC_EVENT_SIGNAL) {
        return -EINVAL;
    }
    ev->signaled = false;
    return 0;
}

static uint32_t sim_wait_test(bool all, uint32_t n, const SimWaiter *w)
{
    uint32_t i, activated = 0;

    for (i = 0; i < n; i++) {
        if (!w[i].ev) {
            return KFD_IOC_WAIT_RESULT_FAIL;
        }
        if (w[i].activated) {
            if (!all) {
                return KFD_IOC_WAIT_RESULT_COMPLETE;
            }
            activated++;
        }
    }
    return activated == n ? KFD_IOC_WAIT_RESULT_COMPLETE :
                            KFD_IOC_WAIT_RESULT_TIMEOUT;
}

static int sim_wait_copy_out(uint32_t n, const SimWaiter *w,
                             struct kfd_event_data *data)
{
    uint32_t i;

    for (i = 0; i < n; i++) {
        SimEvent *ev = w[i].ev;

        if (!ev) {
            return -EINVAL;
        }
        if (!w[i].activated) {
            continue;
        }
        if (ev->type == KFD_IOC_EVENT_MEMORY) {
            data[i].memory_exception_data = ev->mem_data;
        } else if (ev->type == KFD_IOC_EVENT_HW_EXCEPTION) {
            data[i].hw_exception_data = ev->hw_data;
        } else if (ev->type == KFD_IOC_EVENT_SIGNAL && w[i].age_enabled) {
            data[i].signal_event_data.last_event_age = ev->age;
        }
    }
    return 0;
}

int sim_ioc_wait_events(SimKfdFile *f, SimCtx *ctx, void *arg)
{
    struct kfd_ioctl_wait_events_args *a = arg;
    struct kfd_event_data *data = (void *)(uintptr_t)a->events_ptr;
    SimKfd *kfd = ctx->kfd;
    uint64_t seq = f->cancel_seq;
    uint32_t n = a->num_events;
    uint32_t result = KFD_IOC_WAIT_RESULT_FAIL;
    int64_t deadline = 0;
    SimWaiter *w;
    uint32_t i;
    int ret = 0;

    /* more entries than a context can have events is a bad request */
    if (n > SIM_KFD_MAX_WAIT_EVENTS) {
        a->wait_result = KFD_IOC_WAIT_RESULT_FAIL;
        return -EINVAL;
    }
    if (n && !data) {
        a->wait_result = KFD_IOC_WAIT_RESULT_FAIL;
        return -EFAULT;
    }
    w = g_new0(SimWaiter, n);
    for (i = 0; i < n; i++) {
        SimEvent *ev = sim_event_lookup(ctx, data[i].event_id);
        uint64_t last_age = data[i].signal_event_data.last_event_age;

        if (!ev) {
            ret = -EINVAL;
            goto out;
        }
        w[i].ev = ev;
        w[i].activated = ev->signaled;
        ev->signaled = ev->signaled && !ev->auto_reset;
        /* an age of 0 means the caller does not track ages */
        if (ev->type == KFD_IOC_EVENT_SIGNAL && last_age) {
            w[i].age_enabled = true;
            if (ev->age != last_age) {
                w[i].activated = true;
            }
        }
        if (!w[i].activated) {
            g_ptr_array_add(ev->waiters, &w[i]);
        }
    }

    if (a->timeout != 0 && a->timeout != SIM_KFD_WAIT_INFINITE) {
        deadline = g_get_monotonic_time() +
                   (int64_t)MIN(a->timeout, SIM_KFD_WAIT_MAX_MS) * 1000;
    }
    for (;;) {
        result = sim_wait_test(a->wait_for_all, n, w);
        if (result != KFD_IOC_WAIT_RESULT_TIMEOUT) {
            break;
        }
        if (f->closed || f->shut_down || f->cancel_seq != seq) {
            ret = -EINTR;
            break;
        }
        if (a->timeout == 0 ||
            (deadline && g_get_monotonic_time() >= deadline)) {
            break;
        }
        /* sleeps without the model lock: other contexts carry on */
        kfd->blocked_waiters++;
        if (deadline) {
            g_cond_wait_until(&kfd->cond, &kfd->lock, deadline);
        } else {
            g_cond_wait(&kfd->cond, &kfd->lock);
        }
        kfd->blocked_waiters--;
    }
    if (!ret && result == KFD_IOC_WAIT_RESULT_COMPLETE) {
        ret = sim_wait_copy_out(n, w, data);
    }

out:
    for (i = 0; i < n; i++) {
        if (w[i].ev) {
            g_ptr_array_remove_fast(w[i].ev->waiters, &w[i]);
        }
    }
    g_free(w);
    if (ret) {
        a->wait_result = KFD_IOC_WAIT_RESULT_FAIL;
    } else {
        a->wait_result = result;
        if (result == KFD_IOC_WAIT_RESULT_FAIL) {
            ret = -EIO;
        }
    }
    return ret;
}
