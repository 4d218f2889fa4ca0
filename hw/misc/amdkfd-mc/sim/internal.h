/*
 * amdkfd-mc "sim" backend: internal state shared by the sim-kfd*.c files
 *
 * Everything here is protected by SimKfd.lock unless said otherwise;
 * functions named *_locked expect it held.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_AMDKFD_MC_SIM_INTERNAL_H
#define HW_MISC_AMDKFD_MC_SIM_INTERNAL_H

#include "sim-kfd.h"

/* Lowest-free id allocator over [base, base + count); bitmap made lazily */
typedef struct SimIda {
    uint32_t base;
    uint32_t count;
    uint32_t hint;              /* every index below it is in use */
    uint32_t used;
    uint64_t *bits;
} SimIda;

/* Host memory behind objects, doorbells and event pages (refcounted) */
typedef struct SimMem {
    SimKfd *kfd;
    void *ptr;
    uint64_t size;              /* host bytes, a multiple of the page */
    int pool;                   /* SIM_POOL_* or the VRAM node index */
    uint64_t charge;            /* bytes charged to the pool */
    unsigned refs;
    /* memory the model does not own (imported): given back with this */
    void (*release)(void *opaque);
    void *opaque;
} SimMem;

#define SIM_POOL_NONE   (-1)
#define SIM_POOL_GTT    (-2)

enum {
    SIM_OBJ_VRAM,
    SIM_OBJ_GTT,
    SIM_OBJ_DOORBELL,
    SIM_OBJ_MMIO,
    SIM_OBJ_IMPORTED,           /* memory of the model's user (guest RAM) */
};

typedef struct SimObj {
    uint64_t handle;            /* hash key: keep first */
    unsigned node;
    unsigned kind;
    uint32_t flags;
    uint64_t va;
    uint64_t size;              /* rounded up to the GPU page */
    uint64_t mmap_offset;
    uint32_t mapped_nodes;      /* bit per node whose GPUVM maps it */
    SimMem *mem;
} SimObj;

/* One range of a GPUVM; GPUVMs are arrays sorted by start */
typedef struct SimVma {
    uint64_t start;
    uint64_t end;               /* exclusive */
    SimObj *obj;
} SimVma;

/* Per context and GPU node (the kernel's kfd_process_device) */
typedef struct SimPdd {
    bool acquired;
    uint32_t drm_fd;
    GArray *vm;                 /* of SimVma */
    uint64_t mapped_bytes;
    SimIda handles;
    SimMem *doorbell;           /* the context's doorbell slice */
    SimMem *mmio;               /* the MMIO remap page */
} SimPdd;

/* What the shader interpreter did on a queue */
typedef struct SimIsaStats {
    uint64_t dispatches;
    uint64_t instructions;      /* wave instructions */
    uint64_t last_instructions;
    uint64_t last_ns;
} SimIsaStats;

typedef struct SimQueue {
    uint32_t id;
    unsigned node;
    uint32_t type;
    bool aql;                   /* else SDMA if sdma, else never runs */
    bool sdma;
    uint64_t ring_va;
    uint32_t ring_size;
    uint64_t rptr_va;
    uint64_t wptr_va;
    uint64_t csa_va;            /* context save area, 0 if none */
    uint64_t csa_size;
    uint32_t percentage;
    uint32_t priority;
    /*
     * SDMA: byte pointers, wptr the last doorbell's.  AQL: packet
     * indices, wptr one past the highest index a doorbell named.
     */
    uint64_t rptr;
    uint64_t wptr;
    uint64_t packets;
    bool halted;
    bool waiting;               /* counted in SimCtx.n_waiting */
    uint32_t error;
    /*
     * A thread runs the queue (its lock is dropped during copies); a
     * doorbell or a re-examination meanwhile sets rung for that thread,
     * and DESTROY/UPDATE_QUEUE wait until the queue is idle.
     */
    bool busy;
    bool rung;
    SimIsaStats isa;            /* AQL: the kernel dispatches it ran */
    /*
     * The interpreter's VGPRs and LDS, kept from dispatch to dispatch
     * (zeroed when made, so only this queue's own data is ever left)
     */
    void *isa_mem;
    size_t isa_mem_size;
} SimQueue;

typedef struct SimEvent SimEvent;

/* One event of one WAIT_EVENTS call */
typedef struct SimWaiter {
    SimEvent *ev;               /* NULL once the event is destroyed */
    bool activated;
    bool age_enabled;
} SimWaiter;

struct SimEvent {
    uint32_t id;
    uint32_t type;
    bool auto_reset;
    bool signaled;
    uint64_t age;
    GPtrArray *waiters;         /* of SimWaiter */
    struct kfd_hsa_memory_exception_data mem_data;
    struct kfd_hsa_hw_exception_data hw_data;
};

typedef struct SimCtx SimCtx;

struct SimCtx {
    SimKfd *kfd;
    uint32_t id;
    uint32_t pasid;
    bool secondary;
    SimCtx *primary;            /* secondaries: holds a reference */
    unsigned refs;              /* files, secondaries, calls in flight */
    SimIda sec_ids;             /* primary: ids of its secondaries */
    SimPdd pdd[SIM_KFD_MAX_NODES];

    GHashTable *objs;           /* handle -> SimObj */
    GHashTable *bo_offsets;     /* mmap offset -> SimObj (VRAM/GTT) */
    uint32_t n_objs;
    uint64_t alloc_bytes;

    GHashTable *events;         /* id -> SimEvent */
    SimIda signal_ids;
    SimIda other_ids;
    SimMem *signal_mem;         /* event page */
    uint64_t signal_handle;     /* its object, if user-allocated */
    uint64_t signal_mapped_size;

    GHashTable *queues;         /* id -> SimQueue */
    SimIda queue_ids;
    unsigned n_waiting;         /* queues waiting for memory */
    bool recheck_wanted;        /* for the re-examination thread */
    bool recheck_running;

    bool runtime_enabled;
    /* its only file is closing: the engines stop between packets */
    bool stopping;
    int32_t xnack;
    uint64_t vm_faults;
    uint64_t last_fault_va;
    uint32_t last_fault_gpu_id;
};

struct SimKfdFile {
    SimKfd *kfd;
    SimCtx *ctx;
    unsigned busy;              /* calls in flight */
    bool closed;
    bool shut_down;             /* every wait fails from now on */
    uint64_t cancel_seq;
};

struct SimKfd {
    GMutex lock;
    GCond cond;                 /* event state changes, cancellations */
    unsigned refs;              /* creator, files, SimMems */
    SimKfdConfig cfg;
    SimKfdNodeInfo nodes[SIM_KFD_MAX_NODES];
    uint64_t vram_used[SIM_KFD_MAX_NODES];
    uint64_t gtt_used;
    uint64_t host_page;

    SimCtx *primary;
    SimIda pasids;
    uint32_t pasid_next;
    uint64_t next_bo_page;
    GHashTable *maps;           /* host address -> SimMap */

    unsigned live_contexts;
    unsigned live_mappings;
    unsigned blocked_waiters;
    unsigned engine_threads;    /* the model is not freed while any run */
    uint64_t live_bytes;
};

/* kfd.c */
void sim_kfd_unlock(SimKfd *kfd);
void sim_ctx_put_locked(SimCtx *ctx);
void sim_global_engine_threads_add(int n);
uint64_t sim_gpu_clock(void);
void sim_ida_init(SimIda *ida, uint32_t base, uint32_t count);
int64_t sim_ida_get(SimIda *ida);
void sim_ida_put(SimIda *ida, uint32_t id);
void sim_ida_destroy(SimIda *ida);

int sim_node_by_gpu_id(SimKfd *kfd, uint32_t gpu_id);
SimMem *sim_mem_new_locked(SimKfd *kfd, uint64_t size, int pool,
                           uint64_t charge);
void sim_mem_put_locked(SimMem *mem);

/* memory.c */
void sim_objs_init(SimCtx *ctx);
void sim_objs_fini_locked(SimCtx *ctx);
SimObj *sim_obj_lookup(SimCtx *ctx, uint64_t handle);
SimMem *sim_pdd_doorbell_locked(SimCtx *ctx, unsigned node);
SimMem *sim_pdd_mmio_locked(SimCtx *ctx, unsigned node);
void *sim_vm_translate(SimPdd *pdd, uint64_t va, uint64_t len,
                       uint64_t *fault_va);
/* The same, also giving the memory behind it (to pin across an unlock) */
void *sim_vm_translate_mem(SimPdd *pdd, uint64_t va, uint64_t len,
                           uint64_t *fault_va, SimMem **mem);
int sim_ioc_acquire_vm(SimKfdFile *f, SimCtx *ctx, void *arg);
int sim_ioc_available_memory(SimKfdFile *f, SimCtx *ctx, void *arg);
int sim_ioc_alloc_memory(SimKfdFile *f, SimCtx *ctx, void *arg);
int sim_ioc_free_memory(SimKfdFile *f, SimCtx *ctx, void *arg);
int sim_import_memory_locked(SimCtx *ctx, uint32_t gpu_id, uint64_t va,
                             uint64_t size, void *host,
                             void (*release)(void *opaque), void *opaque,
                             uint64_t *handle);
int sim_ioc_map_memory(SimKfdFile *f, SimCtx *ctx, void *arg);
int sim_ioc_unmap_memory(SimKfdFile *f, SimCtx *ctx, void *arg);

/* events.c */
void sim_events_init(SimCtx *ctx);
void sim_events_fini_locked(SimCtx *ctx);
void sim_event_set_locked(SimCtx *ctx, SimEvent *ev);
/* The KFD's handling of an event interrupt with @bits valid id bits */
void sim_event_interrupt_locked(SimCtx *ctx, uint32_t id, unsigned bits);
/* kfd_set_event() of the kernel: a signal event by id, if it exists */
void sim_event_set_by_id_locked(SimCtx *ctx, uint32_t id);
void sim_ctx_vm_fault_locked(SimCtx *ctx, unsigned node, uint64_t va);
int sim_ioc_create_event(SimKfdFile *f, SimCtx *ctx, void *arg);
int sim_ioc_destroy_event(SimKfdFile *f, SimCtx *ctx, void *arg);
int sim_ioc_set_event(SimKfdFile *f, SimCtx *ctx, void *arg);
int sim_ioc_reset_event(SimKfdFile *f, SimCtx *ctx, void *arg);
int sim_ioc_wait_events(SimKfdFile *f, SimCtx *ctx, void *arg);

/* queues.c */
void sim_queues_init(SimCtx *ctx);
void sim_queues_fini_locked(SimCtx *ctx);
void sim_queue_free(gpointer q);
int sim_ioc_create_queue(SimKfdFile *f, SimCtx *ctx, void *arg);
int sim_ioc_destroy_queue(SimKfdFile *f, SimCtx *ctx, void *arg);
int sim_ioc_update_queue(SimKfdFile *f, SimCtx *ctx, void *arg);
int sim_doorbell_locked(SimCtx *ctx, uint64_t offset, uint64_t value);
/* Re-examine the context's waiting queues soon, on a thread of the model */
void sim_ctx_recheck_async_locked(SimCtx *ctx);

/*
 * Shared by the engines.  A pass over @q runs its packets and returns
 * whether it completed any; on a fault or a bad packet it halts @q.
 */
typedef enum SimRun {
    SIM_RUN_DONE,               /* the packet is complete */
    SIM_RUN_WAIT,               /* it waits for memory to change */
    SIM_RUN_STOP,               /* the queue halted */
} SimRun;

SimRun sim_queue_halt(SimQueue *q, uint32_t error);
SimRun sim_queue_fault(SimCtx *ctx, SimQueue *q, uint64_t va);
void sim_queue_set_waiting(SimCtx *ctx, SimQueue *q, bool waiting);
/*
 * Host address of [@va, @va + @len) in the queue's GPUVM (within one
 * object); NULL after a VM fault of the context.  Valid while the lock
 * is held; @mem, if not NULL, gets the memory to pin across an unlock.
 */
void *sim_queue_mem(SimCtx *ctx, SimQueue *q, uint64_t va, uint64_t len,
                    SimMem **mem);
bool sim_queue_read(SimCtx *ctx, SimQueue *q, uint64_t va, void *buf,
                    uint32_t len);
bool sim_queue_write(SimCtx *ctx, SimQueue *q, uint64_t va, const void *buf,
                     uint32_t len);
/* A queue's ring, pinned for a pass (engines drop the lock meanwhile) */
typedef struct SimRing {
    uint8_t *ptr;
    SimMem *mem;
    uint32_t size;
} SimRing;

/* false after a VM fault on the ring */
bool sim_ring_pin(SimCtx *ctx, SimQueue *q, SimRing *r);
void sim_ring_unpin(SimRing *r);
/* Let other threads have the model a moment; false as sim_ring_pin() */
bool sim_ring_yield(SimCtx *ctx, SimQueue *q, SimRing *r);
/* memmove and memset with the lock dropped and both memories pinned */
void sim_copy_unlocked(SimCtx *ctx, void *dst, SimMem *dst_mem,
                       const void *src, SimMem *src_mem, uint64_t len);
void sim_fill_unlocked(SimCtx *ctx, void *dst, SimMem *dst_mem,
                       uint32_t pattern, uint64_t dwords);

/* sdma.c */
bool sim_sdma_pass_locked(SimCtx *ctx, SimQueue *q);

/* aql.c */
bool sim_aql_pass_locked(SimCtx *ctx, SimQueue *q);
/*
 * Halt @q at its current packet with the KFD exception code @ec (a packet
 * error, or a wave's ILLEGAL_INSTRUCTION or ABORT) reported as ROCr and
 * the KFD's runtime interface expect it
 */
SimRun sim_aql_error(SimCtx *ctx, SimQueue *q, uint32_t ec);

/* isa.c */
/*
 * Run the KERNEL_DISPATCH packet @pkt (a copy) of @q, at @slot_va in the
 * ring, whose amd_queue_t is at @queue_va (0 if none): DONE when every
 * wave ended, else the queue halted (sim_aql_error() or a VM fault) or
 * the context is closing (STOP).  The lock is dropped at times (@ring
 * re-pinned).  @stats gets the instructions and time.
 */
SimRun sim_isa_dispatch(SimCtx *ctx, SimQueue *q, SimRing *ring,
                        const uint8_t *pkt, uint64_t slot_va,
                        uint64_t queue_va, SimIsaStats *stats);

#endif
