/*
 * amdkfd-mc: paravirtual KFD device with one isolated host context per
 * guest program
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_AMDKFD_MC_H
#define HW_MISC_AMDKFD_MC_H

#include "hw/pci/pci_device.h"
#include "hw/misc/amdkfd-mc-abi.h"
#include "qemu/queue.h"
#include "qom/object.h"

#define TYPE_AMDKFD_MC "amdkfd-mc"
OBJECT_DECLARE_SIMPLE_TYPE(AmdkfdMcState, AMDKFD_MC)

#define AMDKFD_MC_DEFAULT_MAX_CONTEXTS  256
#define AMDKFD_MC_LIMIT_MAX_CONTEXTS    4096
#define AMDKFD_MC_DEFAULT_WINDOW_SIZE   (256 * MiB)

typedef struct AmdkfdMcBackend AmdkfdMcBackend;
typedef struct AmdkfdMcBackendFile AmdkfdMcBackendFile;
typedef struct AmdkfdMcBackendOps AmdkfdMcBackendOps;
typedef struct AmdkfdMcMapping AmdkfdMcMapping;

/* One guest context: one backend file turned into its own KFD context */
typedef struct AmdkfdMcContext {
    uint32_t id;                /* guest-visible id, 0 when the slot is free */
    uint16_t generation;        /* bumped on every reuse of the slot */
    AmdkfdMcBackendFile *file;
    uint32_t inflight;          /* asynchronous commands still running */
    bool dying;                 /* destroyed; freed when inflight is 0 */
    uint64_t mapped_bytes;
    GHashTable *objects;        /* memory handle -> mmap offset */
    uint32_t queues;            /* created and not destroyed, for QOM */
    uint32_t events;
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
    uint32_t inflight;          /* commands owed a completion slot */
    uint32_t epoch;             /* bumped when the rings stop */
} AmdkfdMcRing;

struct AmdkfdMcState {
    PCIDevice parent_obj;

    MemoryRegion regs;
    MemoryRegion msix;
    MemoryRegion window;

    AmdkfdMcRing ring;
    uint32_t control;
    uint32_t error;
    uint32_t irq_status;
    QEMUBH *ring_bh;

    const AmdkfdMcBackendOps *be_ops;
    AmdkfdMcBackend *be;
    AmdkfdMcContext *contexts;  /* [max_contexts + 1], slot 0 unused */
    uint32_t *free_slots;       /* stack of free slot numbers */
    uint32_t nr_free_slots;
    uint32_t live_contexts;
    uint32_t inflight_total;    /* asynchronous commands in worker threads */

    /* window BAR allocation, in AMDKFD_MC_WINDOW_PAGE pages */
    unsigned long *window_bitmap;
    unsigned long window_pages;
    QTAILQ_HEAD(, AmdkfdMcMapping) mappings;
    uint64_t mapped_bytes;

    Error *migration_blocker;

    /* properties */
    char *backend_name;
    char *kfd_path;
    uint32_t max_contexts;
    uint64_t window_size;
    bool legacy_shared;
    uint32_t sim_nodes;
};

#endif
