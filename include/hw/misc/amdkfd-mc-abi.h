/*
 * amdkfd-mc guest ABI: PCI identity, registers, command descriptors,
 * completion records, opcodes and status codes.
 *
 * This is the single definition of the interface between the amdkfd-mc
 * device and its guest driver.  It is shared by the device model, the
 * qtests and the guest Linux driver, so it includes nothing: the includer
 * provides uint16_t, uint32_t and uint64_t (<stdint.h> in user space and
 * QEMU, <linux/types.h> in the kernel).  All multi-byte fields are little
 * endian.
 * docs/specs/amdkfd-mc.rst describes the semantics.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef AMDKFD_MC_ABI_H
#define AMDKFD_MC_ABI_H

/* PCI identity (provisional, from the QEMU 1b36 range) */
#define AMDKFD_MC_PCI_VENDOR_ID         0x1b36
#define AMDKFD_MC_PCI_DEVICE_ID         0x00f0
#define AMDKFD_MC_PCI_REVISION          0x01

/* BARs */
#define AMDKFD_MC_BAR_REGS              0   /* 4 KiB of registers */
#define AMDKFD_MC_BAR_MSIX              1   /* MSI-X table and PBA */
#define AMDKFD_MC_BAR_WINDOW            2   /* 64-bit prefetchable window */
#define AMDKFD_MC_REGS_SIZE             0x1000

/* MSI-X vectors */
#define AMDKFD_MC_MSIX_VEC_CQ           0
#define AMDKFD_MC_MSIX_VECTORS          1

/* ABI version: major changes are incompatible, minor ones add features */
#define AMDKFD_MC_ABI_MAJOR             2
#define AMDKFD_MC_ABI_MINOR             1
#define AMDKFD_MC_MAGIC                 0x434d4b41  /* "AKMC" */

/*
 * Registers in BAR 0.  All are 32 bits wide and must be accessed with
 * naturally aligned 32-bit accesses; other accesses read as zero and are
 * ignored on write.
 */
#define AMDKFD_MC_REG_MAGIC             0x000   /* RO: AMDKFD_MC_MAGIC */
#define AMDKFD_MC_REG_VERSION           0x004   /* RO: major << 16 | minor */
#define AMDKFD_MC_REG_FEATURES          0x008   /* RO: AMDKFD_MC_FEATURE_* */
#define AMDKFD_MC_REG_MAX_CONTEXTS      0x00c   /* RO */
#define AMDKFD_MC_REG_SQ_BASE_LO        0x010   /* RW while disabled */
#define AMDKFD_MC_REG_SQ_BASE_HI        0x014
#define AMDKFD_MC_REG_CQ_BASE_LO        0x018   /* RW while disabled */
#define AMDKFD_MC_REG_CQ_BASE_HI        0x01c
#define AMDKFD_MC_REG_RING_ENTRIES      0x020   /* RW while disabled */
#define AMDKFD_MC_REG_CONTROL           0x024   /* RW: AMDKFD_MC_CONTROL_* */
#define AMDKFD_MC_REG_STATUS            0x028   /* RO: AMDKFD_MC_STATUS_* */
#define AMDKFD_MC_REG_ERROR             0x02c   /* RO; any write clears */
#define AMDKFD_MC_REG_SQ_TAIL           0x030   /* WO doorbell; reads last */
#define AMDKFD_MC_REG_SQ_HEAD           0x034   /* RO */
#define AMDKFD_MC_REG_CQ_HEAD           0x038   /* RW: guest has consumed */
#define AMDKFD_MC_REG_CQ_TAIL           0x03c   /* RO */
#define AMDKFD_MC_REG_IRQ_STATUS        0x040   /* RO; write 1 to clear */
#define AMDKFD_MC_REG_WINDOW_SIZE_LO    0x048   /* RO: window BAR size */
#define AMDKFD_MC_REG_WINDOW_SIZE_HI    0x04c
#define AMDKFD_MC_REG_LIVE_CONTEXTS     0x050   /* RO */

/* FEATURES bits */
#define AMDKFD_MC_FEATURE_MSIX          (1u << 0)
#define AMDKFD_MC_FEATURE_IOCTL         (1u << 1)   /* OP_IOCTL is present */
#define AMDKFD_MC_FEATURE_WINDOW        (1u << 2)   /* OP_MAP/UNMAP_WINDOW */
#define AMDKFD_MC_FEATURE_TOPOLOGY      (1u << 3)   /* OP_QUERY_TOPOLOGY */
#define AMDKFD_MC_FEATURE_ASYNC         (1u << 4)   /* out-of-order cpls */
#define AMDKFD_MC_FEATURE_GUEST_MEMORY  (1u << 5)   /* OP_ALLOC_GUEST_MEMORY */
#define AMDKFD_MC_FEATURE_DRM_INFO      (1u << 6)   /* OP_QUERY_DRM_INFO */

/* CONTROL bits */
#define AMDKFD_MC_CONTROL_ENABLE        (1u << 0)   /* rings are live */
#define AMDKFD_MC_CONTROL_RESET         (1u << 1)   /* write 1: device reset */

/* STATUS bits */
#define AMDKFD_MC_STATUS_READY          (1u << 0)   /* rings enabled */
#define AMDKFD_MC_STATUS_HALTED         (1u << 1)   /* fatal ring error */

/* IRQ_STATUS bits */
#define AMDKFD_MC_IRQ_CQ                (1u << 0)

/* Ring geometry */
#define AMDKFD_MC_RING_ALIGN            4096
#define AMDKFD_MC_RING_MIN_ENTRIES      2
#define AMDKFD_MC_RING_MAX_ENTRIES      4096

/*
 * Largest payload of one command: room for a WAIT_EVENTS on the KFD's
 * limit of 4096 events (24 + 4096 * 48 bytes)
 */
#define AMDKFD_MC_MAX_PAYLOAD           262144

/* Opcodes */
#define AMDKFD_MC_OP_DEVICE_INFO        0x01
#define AMDKFD_MC_OP_CREATE_CONTEXT     0x02
#define AMDKFD_MC_OP_DESTROY_CONTEXT    0x03
#define AMDKFD_MC_OP_IOCTL              0x04
#define AMDKFD_MC_OP_MAP_WINDOW         0x05
#define AMDKFD_MC_OP_UNMAP_WINDOW       0x06
#define AMDKFD_MC_OP_QUERY_TOPOLOGY     0x07
#define AMDKFD_MC_OP_ALLOC_GUEST_MEMORY 0x08
#define AMDKFD_MC_OP_QUERY_DRM_INFO     0x09

/*
 * OP_QUERY_DRM_INFO: arg1 is a node index, arg2 an AMDGPU_INFO query of
 * the amdgpu DRM uapi; these three are answered, with the structure of
 * <drm/amdgpu_drm.h> (as long as the backend's, at most this)
 */
#define AMDKFD_MC_DRM_INFO_VRAM_GTT     0x14    /* AMDGPU_INFO_VRAM_GTT */
#define AMDKFD_MC_DRM_INFO_DEV_INFO     0x16    /* AMDGPU_INFO_DEV_INFO */
#define AMDKFD_MC_DRM_INFO_MEMORY       0x19    /* AMDGPU_INFO_MEMORY */
#define AMDKFD_MC_DRM_INFO_MAX          1024

/* Window mappings are made of whole pages of this size */
#define AMDKFD_MC_WINDOW_PAGE           4096

/*
 * Command status, reported in a completion record or, for errors that have
 * no command to complete, in AMDKFD_MC_REG_ERROR.
 */
#define AMDKFD_MC_S_OK                  0x00
#define AMDKFD_MC_S_INVALID_OPCODE      0x01
#define AMDKFD_MC_S_INVALID_CONTEXT     0x02
#define AMDKFD_MC_S_DMA_ERROR           0x03
#define AMDKFD_MC_S_INVALID_ARGUMENT    0x04
#define AMDKFD_MC_S_NO_RESOURCES        0x05
#define AMDKFD_MC_S_NOT_SUPPORTED       0x06
#define AMDKFD_MC_S_BACKEND_ERROR       0x07
#define AMDKFD_MC_S_NOT_READY           0x08
#define AMDKFD_MC_S_INVALID_RING        0x09

/*
 * Context ids are opaque, non-zero and never reused while the device
 * exists (not even across resets), so a stale id never names a newer
 * context.  When the 32-bit space is used up, OP_CREATE_CONTEXT fails.
 */

/* Submission queue entry: 64 bytes */
struct amdkfd_mc_cmd {
    uint16_t opcode;
    uint16_t flags;             /* must be 0 */
    uint32_t ctx_id;            /* 0 for device-level commands */
    uint64_t cookie;            /* returned unchanged in the completion */
    uint64_t payload_addr;      /* guest physical address */
    uint32_t payload_len;       /* bytes, at most AMDKFD_MC_MAX_PAYLOAD */
    uint32_t arg0;              /* OP_IOCTL: the KFD ioctl request number */
    uint64_t arg1;              /* MAP_WINDOW: mmap offset; UNMAP: map id */
    uint64_t arg2;              /* MAP_WINDOW: length */
    uint64_t reserved[2];       /* must be 0 */
};

/* Completion queue entry: 32 bytes */
struct amdkfd_mc_cpl {
    uint64_t cookie;
    uint32_t status;            /* AMDKFD_MC_S_* */
    int32_t result;             /* OP_IOCTL: 0 or a negative Linux errno */
    uint64_t value;             /* command specific */
    uint32_t sq_head;           /* SQ head after this command */
    uint32_t flags;             /* AMDKFD_MC_CPL_PHASE */
};

/* Toggles each time the device wraps around the completion ring */
#define AMDKFD_MC_CPL_PHASE             (1u << 0)

/* OP_DEVICE_INFO payload (device writes) */
struct amdkfd_mc_device_info {
    uint32_t abi_version;       /* major << 16 | minor */
    uint32_t features;
    uint32_t max_contexts;
    uint32_t live_contexts;
    uint32_t backend;           /* AMDKFD_MC_BACKEND_* */
    uint32_t kfd_major;         /* the backend's KFD ioctl version */
    uint32_t kfd_minor;
    uint32_t num_nodes;         /* GPU nodes exported to the guest */
    uint64_t window_size;
    /* ABI 2.1: one OP_ALLOC_GUEST_MEMORY object at most (0: unsupported) */
    uint32_t guest_obj_max_ranges;
    uint32_t reserved0;
    uint64_t guest_obj_max_bytes;
    uint64_t reserved[1];
};

#define AMDKFD_MC_BACKEND_SIM           1
#define AMDKFD_MC_BACKEND_HOST          2

/* OP_CREATE_CONTEXT payload (optional, device writes) */
struct amdkfd_mc_context_info {
    uint32_t ctx_id;            /* the guest context id, also in cpl.value */
    /* backend context id: 0xffff a primary, AMDKFD_MC_HOST_CTX_UNKNOWN */
    uint32_t host_ctx_id;       /* when the backend cannot tell */
    uint32_t pasid;             /* backend PASID, 0 when not known */
    uint32_t flags;             /* AMDKFD_MC_CTX_* */
};

#define AMDKFD_MC_HOST_CTX_UNKNOWN      0xffffffffu

#define AMDKFD_MC_CTX_SECONDARY         (1u << 0)
#define AMDKFD_MC_CTX_SHARED            (1u << 1)   /* legacy-shared mode */

/*
 * OP_QUERY_TOPOLOGY payload (device writes): a header followed by
 * num_nodes node records, then, if the payload has room for all of them,
 * num_caches cache records and num_links io-link records (the counts are
 * always written, so a guest can size a second query).
 */
struct amdkfd_mc_topology {
    uint32_t num_nodes;
    uint32_t node_size;         /* sizeof(struct amdkfd_mc_topology_node) */
    uint32_t num_caches;
    uint32_t num_links;
};

struct amdkfd_mc_topology_node {
    uint32_t gpu_id;            /* the KFD gpu_id the ioctls take */
    uint32_t vendor_id;
    uint32_t device_id;
    uint32_t location_id;       /* PCI bus << 8 | devfn on the host */
    uint32_t drm_render_minor;
    uint32_t gfx_target_version;
    uint32_t simd_count;
    uint32_t cu_count;
    uint32_t simd_per_cu;
    uint32_t max_waves_per_simd;
    uint32_t lds_size_kib;
    uint32_t num_sdma_engines;
    uint64_t vram_size;
    char name[32];
};

#define AMDKFD_MC_MAX_NODES             16

/* One cache of a GPU node, as the KFD's topology has it in sysfs */
struct amdkfd_mc_topology_cache {
    uint32_t node;              /* index of its node record */
    uint32_t processor_id_low;
    uint32_t level;
    uint32_t size_kib;
    uint32_t line_size;
    uint32_t lines_per_tag;
    uint32_t associativity;
    uint32_t latency;
    uint32_t type;              /* the KFD's (CRAT) cache type flags */
    uint32_t sibling_bits;      /* bits of sibling_map in use */
    uint8_t sibling_map[32];    /* bit i: compute unit i shares it */
};

/* The CPU, as an end of an io link */
#define AMDKFD_MC_TOPO_CPU              0xffffffffu

/* One io link of a GPU node, as the KFD's topology has it in sysfs */
struct amdkfd_mc_topology_link {
    uint32_t node_from;         /* node index, or AMDKFD_MC_TOPO_CPU */
    uint32_t node_to;
    uint32_t type;              /* CRAT io-link type: 2 PCIe, 11 XGMI */
    uint32_t version_major;
    uint32_t version_minor;
    uint32_t weight;
    uint32_t min_latency;
    uint32_t max_latency;
    uint32_t min_bandwidth;     /* MB/s */
    uint32_t max_bandwidth;
    uint32_t recommended_transfer_size;
    uint32_t flags;             /* the KFD's (CRAT) io-link flags */
};

/* Bounds of what one query reports */
#define AMDKFD_MC_MAX_CACHES            1024
#define AMDKFD_MC_MAX_LINKS             64

/*
 * OP_ALLOC_GUEST_MEMORY payload: a memory object of the context made of
 * guest RAM (a guest program's own pages, pinned by the guest driver: the
 * KFD's USERPTR memory), followed by num_ranges struct
 * amdkfd_mc_guest_range.  The device writes handle and mmap_offset; the
 * object is freed with FREE_MEMORY_OF_GPU like any other.
 */
struct amdkfd_mc_guest_memory {
    uint64_t va_addr;           /* GPU virtual address of the object */
    uint64_t size;              /* bytes; the ranges cover it */
    uint32_t gpu_id;
    uint32_t kfd_flags;         /* KFD_IOC_ALLOC_MEM_FLAGS_*, as asked */
    uint32_t num_ranges;
    uint32_t flags;             /* must be 0 */
    uint64_t handle;            /* device writes */
    uint64_t mmap_offset;       /* device writes: 0, not mappable */
    uint64_t reserved[2];
};

/* One range of guest-physical pages of an OP_ALLOC_GUEST_MEMORY */
struct amdkfd_mc_guest_range {
    uint64_t gpa;               /* multiple of 4096 */
    uint64_t len;               /* bytes, non-zero multiple of 4096 */
};

/*
 * OP_MAP_WINDOW payload (device writes): where the mapping is and the id
 * that OP_UNMAP_WINDOW takes.  Map ids are never reused.
 */
struct amdkfd_mc_window_map {
    uint64_t win_offset;        /* byte offset in the window BAR */
    uint64_t map_id;            /* non-zero */
    uint64_t size;              /* bytes mapped */
    uint64_t reserved;
};

#endif /* AMDKFD_MC_ABI_H */
