/*
 * amdkfd-mc: the device's state
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_AMDKFD_MC_STATE_H
#define HW_MISC_AMDKFD_MC_STATE_H

#include "hw/pci/pci_device.h"
#include "hw/misc/amdkfd-mc.h"
#include "hw/misc/amdkfd-mc-abi.h"
#include "qemu/queue.h"
#include "qemu/thread.h"
#include "dma.h"
#include "range-alloc.h"
#include "worker.h"

typedef struct AmdkfdMcBackend AmdkfdMcBackend;
typedef struct AmdkfdMcBackendFile AmdkfdMcBackendFile;
typedef struct AmdkfdMcBackendOps AmdkfdMcBackendOps;
typedef struct AmdkfdMcMapping AmdkfdMcMapping;
typedef struct AmdkfdMcAsync AmdkfdMcAsync;

/* Pages of guest RAM, in QEMU's RAM address space (ram_addr_t) */
typedef struct AmdkfdMcRamRange {
    uint64_t start;
    uint64_t len;
} AmdkfdMcRamRange;

/* A memory object of a context, as the device tracks it */
typedef struct AmdkfdMcObject {
    uint64_t handle;            /* hash key: keep first */
    uint64_t mmap_offset;
    uint64_t va;
    uint64_t size;
    uint32_t gpu_id;
    uint32_t flags;             /* KFD_IOC_ALLOC_MEM_FLAGS_* */
    uint32_t gpu_mapped;        /* bit per node whose GPU VM maps it */
    bool freeing;               /* a FREE_MEMORY_OF_GPU is in flight */
    uint32_t unmapping;         /* UNMAP_MEMORY_FROM_GPU in flight */
    bool detached;              /* removed while unmaps held it */
    /* guest RAM objects: the pages it is made of */
    AmdkfdMcRamRange *guest;
    uint32_t nr_guest;
} AmdkfdMcObject;

typedef enum AmdkfdMcContextState {
    AMDKFD_MC_CTX_CREATING,     /* the backend is making it */
    AMDKFD_MC_CTX_LIVE,         /* the guest can name it */
    AMDKFD_MC_CTX_DYING,        /* destroyed; freed when nothing runs */
} AmdkfdMcContextState;

/* One guest context: one backend file turned into its own KFD context */
typedef struct AmdkfdMcContext {
    struct AmdkfdMcState *s;
    uint32_t id;                /* guest-visible, never reused */
    AmdkfdMcContextState state;
    bool cancelled;             /* read by workers: skip queued work */
    AmdkfdMcBackendFile *file;
    uint32_t inflight;          /* commands and doorbell runs in workers */

    /* window mappings, and what the limits count */
    QTAILQ_HEAD(, AmdkfdMcMapping) mappings;
    uint32_t nr_mappings;
    uint64_t mapped_bytes;
    GHashTable *objects;        /* handle -> AmdkfdMcObject */
    GHashTable *offsets;        /* mmap offset -> AmdkfdMcObject */
    uint32_t nr_objects;        /* live and being allocated */
    uint32_t nr_waits;          /* WAIT_EVENTS in flight */
    uint64_t guest_bytes;       /* guest RAM in its objects */
    uint32_t host_fds;          /* host fds the backend holds for it */
    uint32_t vm_acquired;       /* bit per node: ACQUIRE_VM done */
    GHashTable *queue_nodes;    /* queue id -> node index */
    uint32_t queues;            /* for the QOM view */
    uint32_t events;

    /* slow commands of this context run one at a time, in order */
    AmdkfdMcSerial serial;
    /* sim doorbell writes, coalesced until a worker runs them */
    QemuMutex db_lock;
    GHashTable *db_pending;     /* doorbell address -> last value */
    bool db_queued;             /* under db_lock */
    bool db_running;            /* db_work submitted and not done yet */
    AmdkfdMcWork db_work;
    /* its end: waits cancelled, then the file closed, both in workers */
    AmdkfdMcWork cancel_work;
    AmdkfdMcWork close_work;
    AmdkfdMcAsync *destroy_cmd; /* the guest's DESTROY_CONTEXT, or NULL */

    QTAILQ_ENTRY(AmdkfdMcContext) next;     /* AmdkfdMcState.all_contexts */
} AmdkfdMcContext;

/* The command rings as the guest programmed them */
typedef struct AmdkfdMcRing {
    uint64_t sq_base;
    uint64_t cq_base;
    uint32_t entries;
    uint32_t sq_head;           /* next SQ entry the device reads */
    uint32_t sq_tail;           /* guest-written doorbell value */
    uint32_t cq_head;           /* guest-consumed completions */
    uint32_t cq_tail;           /* next CQ slot the device writes */
    bool cq_phase;
    bool enabled;
    bool halted;
    bool posted;                /* a completion since the last interrupt */
    uint32_t inflight;          /* commands owed a completion slot */
    /* the rings mapped once (unless a vIOMMU is in the way) */
    AmdkfdMcDmaBuf sq_buf;
    AmdkfdMcDmaBuf cq_buf;
    bool mapped;
} AmdkfdMcRing;

/* Bounds on what a guest can make the device hold (properties) */
typedef struct AmdkfdMcLimits {
    uint32_t max_contexts;
    uint32_t max_mappings;
    uint32_t ctx_max_mappings;
    uint64_t ctx_max_mapped;    /* 0: the window size */
    uint32_t max_objects;
    uint32_t ctx_max_objects;
    uint32_t max_waits;
    uint32_t ctx_max_waits;
    uint32_t max_host_fds;
    uint32_t worker_threads;
    uint32_t obj_max_guest_ranges;  /* per guest memory object */
    uint32_t max_guest_ranges;  /* in all guest memory objects */
    uint64_t ctx_max_guest;     /* bytes of guest RAM in one context */
} AmdkfdMcLimits;

struct AmdkfdMcState {
    PCIDevice parent_obj;

    MemoryRegion regs;
    MemoryRegion msix;

    /*
     * The window BAR: a RAM device region over host memory reserved once
     * at realize, where mappings replace pages in place, and (sim only) a
     * trapped part for doorbells.  Mapping never changes the topology.
     */
    MemoryRegion window;
    MemoryRegion window_ram;
    MemoryRegion window_traps;
    void *window_host;
    uint64_t window_ram_size;
    uint64_t window_trap_size;
    AmdkfdMcRangeAlloc ram_ranges;
    AmdkfdMcRangeAlloc trap_ranges;
    AmdkfdMcMapping **trap_pages;   /* mapping of each trapped page */
    GHashTable *mappings;       /* map id -> AmdkfdMcMapping */
    uint64_t next_map_id;
    uint32_t nr_mappings;
    uint64_t mapped_bytes;
    uint64_t leaked_window_pages;   /* ranges that could not be cleared */

    AmdkfdMcRing ring;
    uint32_t control;
    uint32_t error;
    uint32_t irq_status;
    QEMUBH *ring_bh;
    bool unplugging;
    /* the device's view of memory changed: check the rings again */
    MemoryListener mem_listener;
    bool mem_changed;
    AmdkfdMcDmaCache payloads;  /* RAM around the last payload */

    struct AmdkfdMcCall *inline_call;   /* ioctl.c: the one running now */
    /* commands in workers that are owed a completion, and orphans */
    QTAILQ_HEAD(, AmdkfdMcAsync) async;
    uint32_t nr_async;
    uint64_t async_bytes;
    AmdkfdMcWorkers workers;    /* slow commands and doorbells */
    AmdkfdMcWorkers waiters;    /* WAIT_EVENTS: a thread each */

    const AmdkfdMcBackendOps *be_ops;
    AmdkfdMcBackend *be;
    uint32_t num_nodes;
    uint32_t node_gpu_id[AMDKFD_MC_MAX_NODES];
    struct amdkfd_mc_topology_cache *caches;    /* of the exported nodes */
    uint32_t nr_caches;
    struct amdkfd_mc_topology_link *links;
    uint32_t nr_links;

    GHashTable *contexts;       /* id -> live context */
    QTAILQ_HEAD(, AmdkfdMcContext) all_contexts;
    uint32_t nr_contexts;       /* creating, live and dying */
    uint32_t live_contexts;
    uint32_t next_ctx_id;       /* 0: the id space is used up */
    uint32_t nr_objects;
    uint32_t nr_waits;
    uint32_t host_fds;
    GArray *guest_segs;         /* owners of guest pages in objects */
    uint64_t guest_bytes;
    uint32_t guest_ranges;      /* RAM ranges of all guest objects */
    uint32_t features;          /* AMDKFD_MC_FEATURE_*, fixed at realize */
    /* the largest guest memory object, 0 ranges if there can be none */
    uint32_t guest_obj_max_ranges;
    uint64_t guest_obj_max_bytes;
    uint32_t guest_objects;     /* RAM discard is off while non-zero */

    Error *migration_blocker;

    /* properties */
    char *backend_name;
    char *kfd_path;
    uint64_t window_size;
    bool legacy_shared;
    uint32_t sim_nodes;
    uint32_t first_ctx_id;
    AmdkfdMcLimits limits;
};

#endif
