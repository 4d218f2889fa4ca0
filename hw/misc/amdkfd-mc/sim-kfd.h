/*
 * amdkfd-mc "sim" backend: a software model of the Linux KFD (/dev/kfd)
 *
 * The model is used in-process by the amdkfd-mc device.  Its interface
 * mirrors the kernel's: a SimKfd is the character device, a SimKfdFile
 * is one open file of the one process that uses it (QEMU), and
 * sim_kfd_ioctl() takes the real AMDKFD_IOC_* numbers with the real
 * argument structures of <linux/kfd_ioctl.h>, returning 0 or a negative
 * errno.  Embedded pointers in those structures (device id arrays, event
 * data arrays, aperture arrays) are HOST pointers that the caller has
 * already bounds-checked and copied; the model never sees guest
 * addresses.
 *
 * Contexts follow the multi-context semantics of Linux 7.0 (KFD 1.19):
 * the first open creates the process's primary context (id 0xFFFF); every
 * later open refers to the same primary; AMDKFD_IOC_CREATE_PROCESS turns
 * a file into a new secondary context (id 0..0xFFFE, lowest free first,
 * ids are reused after destroy).  With multi_context = false the model
 * behaves as a pre-7.0 kernel: KFD 1.17 and CREATE_PROCESS = -ENOTTY, so
 * all files share the primary (the negative control of the isolation
 * tests).
 *
 * Each context owns its memory handles, event ids, queues, PASID, VM
 * fault record and, per GPU node, a GPU virtual address space (GPUVM)
 * filled by AMDKFD_IOC_MAP_MEMORY_TO_GPU.  An SDMA-style DMA engine runs
 * the packets of SDMA queues (see "Packets" below) and translates every
 * address through the submitting context's GPUVM: a miss is a VM fault
 * of that context only.
 *
 * Thread safety: every function may be called from any thread.  One
 * mutex protects the model; AMDKFD_IOC_WAIT_EVENTS sleeps without it.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_AMDKFD_MC_SIM_KFD_H
#define HW_MISC_AMDKFD_MC_SIM_KFD_H

#include "hw/misc/amdkfd-mc-abi.h"
#include "hw/misc/amdkfd-mc-kfd.h"

/* Reported by AMDKFD_IOC_GET_VERSION */
#define SIM_KFD_VERSION_MAJOR           1
#define SIM_KFD_VERSION_MINOR_MC        19  /* multi_context = true */
#define SIM_KFD_VERSION_MINOR_LEGACY    17  /* multi_context = false */

/* Context ids, as in sysfs proc/<pid>/ and proc/<pid>/context_<id>/ */
#define SIM_KFD_PRIMARY_ID              AMDKFD_MC_KFD_PRIMARY_ID
#define SIM_KFD_MAX_SECONDARY_ID        0xFFFE

/* Limits of the model (guest-controlled values are checked against them) */
#define SIM_KFD_MAX_NODES               4
#define SIM_KFD_GPU_PAGE_SIZE           4096ULL
#define SIM_KFD_MAX_OBJECTS             16384   /* per context and node */
#define SIM_KFD_MAX_QUEUES              1024    /* per context */
#define SIM_KFD_MAX_OTHER_EVENTS        4096    /* non-signal, per ctx */
#define SIM_KFD_MAX_WAIT_EVENTS         KFD_SIGNAL_EVENT_LIMIT
#define SIM_KFD_MAX_DEVICE_IDS          4096    /* map/unmap n_devices */
#define SIM_KFD_NUM_SDMA_ENGINES        2       /* per node */

/* Sizes the kernel ABI fixes */
#define SIM_KFD_DOORBELL_SIZE           8       /* 64-bit doorbells */
#define SIM_KFD_DOORBELL_SLICE_SIZE     (SIM_KFD_MAX_QUEUES * \
                                         SIM_KFD_DOORBELL_SIZE)
#define SIM_KFD_EVENT_PAGE_SIZE         (KFD_SIGNAL_EVENT_LIMIT * 8)
#define SIM_KFD_MMIO_REMAP_SIZE         4096

/* Host memory of the model's objects appears under this name in maps */
#define SIM_KFD_MEMFD_NAME              "amdkfd-mc-sim"

/* Value of an unsignalled slot in the event page */
#define SIM_KFD_UNSIGNALED_SLOT         UINT64_MAX

/*
 * GPUVM aperture of every node (a GFX9-style 47-bit VM); LDS and scratch
 * apertures are reported as on GFX9 but are not backed by anything.
 */
#define SIM_KFD_GPUVM_BASE              0x10000ULL
#define SIM_KFD_GPUVM_LIMIT             ((1ULL << 47) - 1)
#define SIM_KFD_LDS_BASE                (1ULL << 48)
#define SIM_KFD_SCRATCH_BASE            (2ULL << 48)
#define SIM_KFD_APERTURE_SPAN           0xFFFFFFFFULL

/*
 * mmap offsets.  Bits 63:62 give the type; doorbell and MMIO offsets
 * carry the gpu_id in bits 61:46, as the kernel's do.  Memory objects
 * (VRAM/GTT), which a real client maps through its DRM render node, are
 * mapped through the same SimKfdFile here, with offsets of type BO that
 * are unique per SimKfd and never reused.
 */
#define SIM_KFD_MMAP_TYPE_SHIFT         AMDKFD_MC_KFD_MMAP_TYPE_SHIFT
#define SIM_KFD_MMAP_TYPE_MASK          (3ULL << SIM_KFD_MMAP_TYPE_SHIFT)
#define SIM_KFD_MMAP_TYPE_MMIO          (0ULL << SIM_KFD_MMAP_TYPE_SHIFT)
#define SIM_KFD_MMAP_TYPE_BO            (1ULL << SIM_KFD_MMAP_TYPE_SHIFT)
#define SIM_KFD_MMAP_TYPE_EVENTS        (2ULL << SIM_KFD_MMAP_TYPE_SHIFT)
#define SIM_KFD_MMAP_TYPE_DOORBELL      (3ULL << SIM_KFD_MMAP_TYPE_SHIFT)
#define SIM_KFD_MMAP_GPU_ID_SHIFT       AMDKFD_MC_KFD_MMAP_GPU_ID_SHIFT
#define SIM_KFD_MMAP_GPU_ID(id)         ((uint64_t)((id) & 0xFFFF) << \
                                         SIM_KFD_MMAP_GPU_ID_SHIFT)
#define SIM_KFD_MMAP_OFFSET_MASK        ((1ULL << SIM_KFD_MMAP_GPU_ID_SHIFT) \
                                         - 1)

/* Memory handles, as the kernel makes them: gpu_id << 32 | index */
#define SIM_KFD_HANDLE(gpu_id, idx)     (((uint64_t)(gpu_id) << 32) | (idx))
#define SIM_KFD_HANDLE_GPU_ID(h)        ((uint32_t)((h) >> 32))

/*
 * Packets of SDMA queues.
 *
 * The ring is an array of little-endian 32-bit dwords in a memory object
 * mapped in the context's GPUVM at CREATE_QUEUE's ring_base_address; its
 * size is a power of two of at least KFD_MIN_QUEUE_RING_SIZE bytes.  The
 * read and write pointers are byte counts that only grow; the ring offset
 * is the pointer modulo the ring size, and a packet may wrap.
 *
 * A write to the queue's doorbell (sim_kfd_doorbell_write()) gives the new
 * write pointer.  The engine then runs every complete packet between the
 * read and the write pointer, synchronously, and after each packet stores
 * the read pointer (64-bit) at read_pointer_address.  A packet that is
 * not complete yet waits for the next doorbell.
 *
 * Every address (ring, packet operands, read pointer) is a GPU virtual
 * address translated through the submitting context's GPUVM on the
 * queue's node; a range must lie within one mapped object.  A miss is a
 * VM fault: nothing of the packet is done, the fault is recorded on the
 * context, its KFD_IOC_EVENT_MEMORY events are signalled and the queue
 * halts.  A malformed packet halts the queue as well.
 *
 * Dword 0 of every packet: bits 7:0 opcode, bits 31:8 zero.
 *
 *   NOP          1 dword
 *   LINEAR_COPY  6 dwords: [1] byte count, [2] source VA low,
 *                [3] source VA high, [4] destination VA low,
 *                [5] destination VA high.  Overlap behaves as memmove.
 *   FENCE        4 dwords: [1] VA low, [2] VA high (4-byte aligned),
 *                [3] 32-bit value to store
 *   TRAP         2 dwords: [1] event id of the same context; signals it
 *                (signal or debug events; other ids are ignored, as
 *                the kernel ignores interrupts for unknown events)
 */
#define SIM_KFD_PKT_NOP                 0x00
#define SIM_KFD_PKT_LINEAR_COPY         0x01
#define SIM_KFD_PKT_FENCE               0x02
#define SIM_KFD_PKT_TRAP                0x03
#define SIM_KFD_PKT_NOP_DWORDS          1
#define SIM_KFD_PKT_LINEAR_COPY_DWORDS  6
#define SIM_KFD_PKT_FENCE_DWORDS        4
#define SIM_KFD_PKT_TRAP_DWORDS         2

/* SimKfdQueueInfo.error */
#define SIM_KFD_QUEUE_OK                0
#define SIM_KFD_QUEUE_VM_FAULT          1
#define SIM_KFD_QUEUE_BAD_PACKET        2
#define SIM_KFD_QUEUE_BAD_WPTR          3

/* The kernel-internal ENOTSUPP that CREATE_QUEUE returns for bad types */
#define SIM_KFD_ENOTSUPP                524

typedef struct SimKfd SimKfd;
typedef struct SimKfdFile SimKfdFile;

typedef struct SimKfdConfig {
    uint32_t num_nodes;         /* GPU nodes, 1..SIM_KFD_MAX_NODES */
    uint64_t vram_size;         /* bytes of VRAM per node */
    uint64_t gtt_size;          /* bytes of GTT, shared by all nodes */
    bool multi_context;         /* Linux >= 7.0 rather than 6.12 */
} SimKfdConfig;

/*
 * Topology of one GPU node, for the device's topology query: the record of
 * the guest ABI, in host byte order here.  gpu_id is stable, nonzero,
 * unique and 16 bits wide; location_id is PCI bus << 8 | devfn.
 */
typedef struct amdkfd_mc_topology_node SimKfdNodeInfo;

typedef struct SimKfdContextInfo {
    uint32_t id;                /* SIM_KFD_PRIMARY_ID or secondary id */
    uint32_t pasid;
    bool secondary;
    bool runtime_enabled;
    uint32_t n_objects;
    uint32_t n_events;
    uint32_t n_queues;
    uint64_t alloc_bytes;       /* sum of object sizes */
    uint64_t gpuvm_mapped_bytes;    /* sum over nodes */
    uint64_t vm_faults;
    uint64_t last_fault_va;
    uint32_t last_fault_gpu_id;
} SimKfdContextInfo;

typedef struct SimKfdQueueInfo {
    uint32_t type;              /* KFD_IOC_QUEUE_TYPE_* */
    uint32_t gpu_id;
    uint64_t rptr;
    uint64_t packets;           /* packets completed */
    bool halted;
    uint32_t error;             /* SIM_KFD_QUEUE_* */
} SimKfdQueueInfo;

/*
 * Return NULL if @cfg is usable, else a message saying why not.
 */
const char *sim_kfd_config_check(const SimKfdConfig *cfg);

/*
 * Create a model; NULL if sim_kfd_config_check() refuses @cfg.
 * sim_kfd_free() drops the creator's reference; the model is released
 * when its last file is closed and its last mapping is unmapped.
 */
SimKfd *sim_kfd_new(const SimKfdConfig *cfg);
void sim_kfd_free(SimKfd *kfd);

unsigned sim_kfd_num_nodes(SimKfd *kfd);
bool sim_kfd_node_info(SimKfd *kfd, unsigned index, SimKfdNodeInfo *info);

/*
 * open("/dev/kfd"): the file refers to the primary context, created by
 * the first open.  NULL if no context can be created (PASIDs exhausted).
 */
SimKfdFile *sim_kfd_open(SimKfd *kfd);

/*
 * close(): wakes the file's waiters (they return -EINTR), then releases
 * the file once no call is running on it.  A secondary context dies with
 * its file; the primary when no file or secondary refers to it any more.
 * Mappings stay valid until sim_kfd_munmap().
 */
void sim_kfd_close(SimKfdFile *file);

/* ioctl(): 0 or a negative errno, as the kernel returns them */
int sim_kfd_ioctl(SimKfdFile *file, unsigned long request, void *arg);

/*
 * mmap(): resolve @offset in the file's own context and return a host
 * pointer to @length bytes of the object's memory (page aligned), or NULL
 * with *err set.  The mapping keeps the memory alive until
 * sim_kfd_munmap(), even after the object, its context or the file are
 * gone.
 */
void *sim_kfd_mmap(SimKfdFile *file, uint64_t offset, uint64_t length,
                   int *err);
int sim_kfd_munmap(SimKfd *kfd, void *addr, uint64_t length);

/*
 * A 64-bit write of @value at byte @byte_offset of the doorbell mapping
 * at @doorbell_offset (an mmap offset of type DOORBELL, e.g. the one
 * CREATE_QUEUE returns, with the in-slice part either in the offset or in
 * @byte_offset).  Rings the queue whose doorbell that is.  Returns 0,
 * -EINVAL for a doorbell of no queue of this file's context, -EFAULT if
 * the queue took a VM fault now, -EIO if the queue is or became halted.
 */
int sim_kfd_doorbell_write(SimKfdFile *file, uint64_t doorbell_offset,
                           uint64_t byte_offset, uint64_t value);

/*
 * A memory object of the file's context over @size bytes (a multiple of
 * the GPU page) of memory the caller owns at @host, e.g. guest RAM that a
 * guest program registered (KFD's USERPTR): like ALLOC_MEMORY_OF_GPU of
 * GTT memory at GPU address @va on @gpu_id, which MAP_MEMORY_TO_GPU then
 * puts in the context's GPU VM.  The object has no mmap offset.  When the
 * model no longer uses the memory (the object is freed and no DMA runs
 * on it), it calls @release(@opaque).  Returns 0 and the handle, or a
 * negative errno (then @release is not called).
 */
int sim_kfd_import_memory(SimKfdFile *file, uint32_t gpu_id, uint64_t va,
                          uint64_t size, void *host,
                          void (*release)(void *opaque), void *opaque,
                          uint64_t *handle);

/* Make every WAIT_EVENTS now blocked on @file return -EINTR */
void sim_kfd_file_cancel_waits(SimKfdFile *file);

/*
 * The same for every WAIT_EVENTS on @file from now on, also those that
 * have not started yet: for a file about to be closed by another thread.
 */
void sim_kfd_file_shutdown(SimKfdFile *file);

/* Introspection of the file's context; -EBADF once the file is closed */
int sim_kfd_file_info(SimKfdFile *file, SimKfdContextInfo *info);
uint64_t sim_kfd_vm_faults(SimKfdFile *file);
int sim_kfd_queue_info(SimKfdFile *file, uint32_t queue_id,
                       SimKfdQueueInfo *info);

/* Leak accounting: per model, and for all models of the process */
unsigned sim_kfd_live_contexts(SimKfd *kfd);
uint64_t sim_kfd_live_host_bytes(SimKfd *kfd);
unsigned sim_kfd_live_mappings(SimKfd *kfd);
/* Threads now sleeping in WAIT_EVENTS (for tests and head-of-line) */
unsigned sim_kfd_blocked_waiters(SimKfd *kfd);

unsigned sim_kfd_global_live_contexts(void);
uint64_t sim_kfd_global_live_host_bytes(void);

#endif
