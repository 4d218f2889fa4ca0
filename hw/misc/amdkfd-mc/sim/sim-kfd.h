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
 * filled by AMDKFD_IOC_MAP_MEMORY_TO_GPU.  Queues run the hardware's
 * formats (see "Queues and their formats" below): SDMA queues the SDMA v4
 * packets of gfx9, AQL queues HSA barrier packets and completion signals
 * (kernel dispatches end with a queue error, since no shader runs).
 * Every address goes through the submitting context's GPUVM: a miss is
 * a VM fault of that context only.
 *
 * Thread safety: every function may be called from any thread.  One
 * mutex protects the model; AMDKFD_IOC_WAIT_EVENTS sleeps without it.
 * The model starts short-lived threads of its own only to look at
 * waiting queues again after a SET_EVENT (see "Execution" below).
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
#define SIM_KFD_PASS_YIELD              1024    /* packets per lock hold */
#define SIM_KFD_MAX_RECHECK_ROUNDS      65536   /* per trigger */

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
 * Queues and their formats.
 *
 * A queue's ring, its read and write pointers and every address in its
 * packets are GPU virtual addresses of the submitting context's GPUVM on
 * the queue's node.  Every access is translated through that GPUVM and
 * must lie within one mapped object.  A miss is a VM fault of that
 * context only: the packet has no effect, the fault is recorded on the
 * context, its KFD_IOC_EVENT_MEMORY events are signalled (the faulting
 * page, NotPresent) and the queue halts (SIM_KFD_QUEUE_VM_FAULT).  A
 * malformed or unsupported packet halts the queue too.  A halted queue
 * stays halted until it is destroyed; its read pointer names the packet
 * that stopped it.  All values are little-endian.
 *
 * Execution: a write to a queue's doorbell (sim_kfd_doorbell_write())
 * runs the queue in the writer's thread as far as it can go.  A queue
 * whose next packet waits for memory to change (an SDMA memory poll, an
 * AQL barrier) is "waiting": nothing polls it, it is examined again
 *   - on a later doorbell of the queue;
 *   - whenever another queue of the same context completes a packet
 *     (which may have written that memory: completion signals, fences,
 *     atomics, copies), in the thread that ran that queue;
 *   - after AMDKFD_IOC_SET_EVENT in the context (ROCr stores to an
 *     interrupt signal, then sets its event), on a short-lived thread of
 *     the model, never in the caller of the ioctl.
 * A plain CPU store to polled memory that none of these follows is seen
 * at the next of them.  (An atomic update of memory that CPU stores keep
 * changing, 1000 times in a row, waits the same way.)  A queue with
 * queue_percentage 0 keeps its work
 * and runs when UPDATE_QUEUE makes it active again.  A doorbell of a
 * queue that another thread is running is left to that thread.
 *
 * Work is bounded: a pass over a queue executes at most one ring of
 * packets (the write pointer is at most a ring ahead of the read
 * pointer), the waiting queues are examined again for at most
 * SIM_KFD_MAX_RECHECK_ROUNDS rounds per trigger (a round that completes
 * no packet ends it), the model's lock is released during every copy
 * and fill (the memory stays pinned) and every SIM_KFD_PASS_YIELD
 * packets, and no packet is retried in a loop.
 *
 * SDMA queues (KFD_IOC_QUEUE_TYPE_SDMA, _SDMA_XGMI, _SDMA_BY_ENG_ID) run
 * SDMA v4 packets (Vega 10/20, the engine of the modelled gfx906) with
 * the layouts of amdgpu's vega10_sdma_pkt_open.h, as ROCr's BlitSdmaV4
 * writes them.  The ring is an array of dwords, a power of two of at
 * least KFD_MIN_QUEUE_RING_SIZE bytes, 256-byte aligned.  The read and
 * write pointers are byte offsets that only grow (ROCr's monotonic
 * 64-bit indices); the ring offset is the pointer modulo the ring size
 * and a packet may wrap.  The doorbell value is the new write pointer: a
 * multiple of 4 at most one ring ahead of the read pointer, else the
 * queue halts (SIM_KFD_QUEUE_BAD_WPTR).  After each packet the engine
 * stores the read pointer (64 bits) at read_pointer_address; a packet
 * that is not completely written yet waits for a later doorbell.
 *
 * Dword 0 of every packet: op in bits 7:0, sub_op in bits 15:8.
 *
 *   NOP (op 0, sub_op 0): 1 + count dwords, count in bits 29:16 of the
 *     header: the count dwords after it are skipped.  (ROCr pads the end
 *     of its ring with zero dwords: 1-dword NOPs.)
 *   COPY_LINEAR (op 1, sub_op 0): 7 dwords: [1] bits 21:0 the byte count
 *     minus 1 (1 byte to 4 MiB), [2] swap fields (must be 0), [3..4]
 *     source VA, [5..6] destination VA.  Both ranges are checked before
 *     a byte moves; overlap behaves as memmove.  The encrypt (bit 16),
 *     tmz (18) and broadcast (27) forms are not modelled: they halt.
 *   COPY_LINEAR_SUBWIN (op 1, sub_op 4; ROCr's rect copy): 13 dwords:
 *     header bits 31:29 log2 of the element size (0..4), bit 18 tmz
 *     (halts); then the source and the destination window, 5 dwords
 *     each ([1..5] and [6..10]): base VA (2 dwords, 4-aligned), x (bits
 *     13:0) and y (29:16) of the first element, z (bits 10:0) and the
 *     row pitch in elements minus 1 (31:13), the slice pitch in elements
 *     minus 1 (bits 27:0); [11] rect width (13:0) and height (29:16),
 *     [12] depth (10:0), all minus 1, and swap fields (must be 0).  Rows
 *     copy as memmove.  Rows must not overlap (x + width <= pitch, and
 *     with a depth above 1 (y + height) * pitch <= slice pitch), so the
 *     bytes moved never exceed the spans, which must each lie in one
 *     object; anything else halts the queue.
 *   WRITE_LINEAR (op 2, sub_op 0): 5 + count dwords: [1..2] destination
 *     VA (4-aligned), [3] bits 19:0 count = data dwords - 1, swap bits
 *     25:24 (must be 0), then the data.  A packet longer than the ring
 *     halts the queue.  (amdgpu's ring test writes it; ROCr does not.)
 *   FENCE (op 5): 4 dwords: [1..2] VA (4-aligned), [3] a 32-bit value
 *     that is stored there.  The gpa form (header bit 23, a physical
 *     address) halts the queue; the cache policy bits are ignored.
 *   TRAP (op 6): 2 dwords: [1] bits 27:0 int_context.  As the KFD does
 *     with an SDMA trap interrupt (28 valid id bits), the model signals
 *     the context's signal event of that id; ROCr puts the completion
 *     signal's event id there after writing the event's mailbox (its
 *     slot of the event page) with a FENCE.  If the context has no such
 *     event, every signal event whose slot is not SIM_KFD_UNSIGNALED_SLOT
 *     is signalled.  A signalled event's slot is reset to
 *     SIM_KFD_UNSIGNALED_SLOT.  (Unlike the KFD, the model does not
 *     require a written slot for an id that names an event, so clients
 *     whose event page the GPU cannot reach still work.)
 *   POLL_REGMEM (op 8, sub_op 0): 6 dwords: header bit 26 hdp_flush,
 *     bits 30:28 func, bit 31 mem_poll; [1..2] address, [3] reference,
 *     [4] mask, [5] interval and retry count (ignored: a poll waits
 *     until it is satisfied).  With mem_poll = 0 the packet polls a
 *     register or flushes the HDP (hdp_flush = 1 as amdgpu writes it;
 *     ROCr's HDP flush is the dwords 8, 0, 0x80000000, 0, 0, 0): the
 *     model has neither registers nor an HDP, so it completes at once.
 *     With mem_poll = 1 it reads the 32-bit value at the address
 *     (4-aligned) and compares (value & mask) with the reference,
 *     unsigned, by func: 0 always, 1 <, 2 <=, 3 ==, 4 !=, 5 >=, 6 >
 *     (7 halts the queue).  Unsatisfied, the queue waits at the packet.
 *     ROCr waits for a dependency signal with two of them, == 0 on the
 *     high and then the low half of its value.
 *   ATOMIC (op 10): 8 dwords: header bit 16 loop, bit 18 tmz (halts),
 *     bits 31:25 the operation, a TC atomic op code of amdgpu's gfx 8/9
 *     enums: SWAP 7, CMPSWAP 8, ADD 15, SUB 16, SMIN 17, UMIN 18,
 *     SMAX 19, UMAX 20, AND 21, OR 22, XOR 23, INC 24, DEC 25 on 32 bits
 *     with return, plus 32 for 64 bits, plus 64 without return (other
 *     codes, such as the float ones, halt the queue); [1..2] VA aligned
 *     to the operand, [3..4] source data, [5..6] compare data (CMPSWAP),
 *     [7] loop interval (ignored).  The returned value has no
 *     destination in the packet.  With loop = 1, a CMPSWAP whose compare
 *     fails waits like an unsatisfied poll; loop with another operation
 *     halts the queue.  ROCr decrements a completion signal with
 *     ADD_RTN_64 (47) of -1.
 *   CONST_FILL (op 11): 5 dwords: header bits 17:16 swap (must be 0),
 *     bits 31:30 fill size (only 2, dwords, is modelled); [1..2]
 *     destination VA (4-aligned), [3] the 32-bit pattern, [4] bits 21:0
 *     count: (count >> 2) + 1 dwords are filled (amdgpu writes bytes - 1
 *     there, ROCr bytes - 4: the same fill).
 *   TIMESTAMP (op 13, sub_op 2: GET_GLOBAL): 3 dwords: [1..2] VA
 *     (8-aligned) where the 64-bit global GPU timestamp (the 100 MHz
 *     counter of AMDKFD_IOC_GET_CLOCK_COUNTERS) is stored.
 * Any other op or sub_op halts the queue (SIM_KFD_QUEUE_BAD_PACKET).
 *
 * AQL queues (KFD_IOC_QUEUE_TYPE_COMPUTE_AQL) run the HSA architected
 * queuing language as ROCr's AqlQueue uses it on gfx9.  The ring holds
 * ring_size / 64 packets.  read_pointer_address is ROCr's
 * amd_queue_t.read_dispatch_id and write_pointer_address its
 * write_dispatch_id: 64-bit packet indices that only grow.  The doorbell
 * value is the index of the last packet written (ROCr stores the packet
 * id, not id + 1, into the doorbell signal).  The packet processor takes
 * the packets up to the highest index a doorbell named, in order, and
 * stops at the first whose header type is INVALID (not written yet);
 * it does not read write_dispatch_id.  After executing a packet it
 * completes the packet's completion signal (below), sets the header's
 * type to INVALID as the CP does, and then stores the new read index at
 * read_pointer_address.
 *
 * Header (16 bits): bits 7:0 type, bit 8 barrier, bits 10:9 and 12:11
 * acquire and release fence scopes (execution is in order and memory is
 * coherent: the last three change nothing).  Every packet has its
 * completion signal at byte 56.
 *
 *   BARRIER_AND (3): dep_signal[5] at bytes 8..47; satisfied when every
 *     nonzero dependency signal has the value 0 (a 0 handle is a
 *     satisfied dependency).
 *   BARRIER_OR (5): the same layout; satisfied when any nonzero
 *     dependency signal has the value 0 (0 handles are never satisfied:
 *     with no signal at all the packet waits for ever).
 *     Unsatisfied, the queue waits at the barrier.
 *   KERNEL_DISPATCH (2): run by a gfx9 (gfx906) interpreter, in order,
 *     one wave at a time, on the packet's own thread (sim/isa.c):
 *     - packet: setup bits 1:0 dimensions (1..3), workgroup_size_x/y/z
 *       (u16 at 4, 6, 8; each >= 1, product <= SIM_ISA_MAX_WORKGROUP),
 *       grid_size_x/y/z (u32 at 12, 16, 20; each >= 1, the last
 *       workgroup of a dimension may be partial), private_segment_size
 *       (24; must be 0), group_segment_size (28; plus the descriptor's,
 *       <= SIM_ISA_MAX_LDS), kernel_object (32; 64-aligned, nonzero),
 *       kernarg_address (40).  A dimension count, size or object out of
 *       these bounds stops the queue as an unsupported packet (below,
 *       with KFD_EC_MASK of EC_QUEUE_PACKET_DISPATCH_DIM_INVALID,
 *       _WORK_GROUP_SIZE_INVALID, _GROUP_SEGMENT_SIZE_INVALID or
 *       _CODE_INVALID) before any wave runs.
 *     - kernel_object: the code object v3+ kernel descriptor (64 bytes):
 *       group_segment_fixed_size (0), private_segment_fixed_size (4;
 *       must be 0), kernel_code_entry_byte_offset (16; the entry is
 *       256-aligned), compute_pgm_rsrc1 (48; bits 5:0 the VGPR granule:
 *       (g + 1) * 4 VGPRs), compute_pgm_rsrc2 (52; SCRATCH_EN and
 *       TG_SIZE_EN must be 0, TGID_X/Y/Z_EN, TIDIG_COMP_CNT),
 *       kernel_code_properties (56; wave32 is refused).  The private
 *       segment and the workgroup info SGPR are not modelled: such a
 *       kernel is refused with EC_QUEUE_PACKET_DISPATCH_REGISTER_INVALID.
 *     - registers: user SGPRs from s0 in the descriptor's order (private
 *       segment buffer: 4 SGPRs of 0; dispatch pointer: the packet's VA
 *       in the ring; queue pointer: the amd_queue_t, or 0; kernarg
 *       pointer; dispatch id: the packet index; flat scratch init: 0;
 *       private segment size: 0), then the workgroup ids enabled; v0, v1,
 *       v2 the work-item ids; EXEC the wave's work-items; the other SGPRs
 *       0.  The other VGPRs and the LDS hold what the queue's earlier
 *       waves left there (zero at first; never another queue's data).
 *     - instructions (gfx9 encodings): SOP2, SOPK, SOP1, SOPC and SOPP
 *       (integer ALU, compares, EXEC masking, branches, s_getpc/setpc/
 *       swappc; s_waitcnt, s_nop, s_barrier, cache and priority hints),
 *       SMEM s_load_dword{,x2,x4,x8,x16}, s_memtime, s_memrealtime,
 *       s_dcache_*; VOP1/VOP2/VOPC (with a literal) and VOP3a/b: 32-bit
 *       integer ALU, carries, compares (and CMPX) of i32/u32/i64/u64/f32,
 *       v_cndmask, v_readfirstlane/readlane/writelane, v_mbcnt, 24-bit
 *       and 32-bit multiplies, v_mad_u64_u32/i64_i32, 64-bit shifts,
 *       the 3-operand add/shift/or forms, bfe/bfi/alignbit/alignbyte,
 *       min3/max3/med3, and the f32 add/sub/mul/min/max/mac/mad/fma/
 *       rcp/cvt basics; FLAT and GLOBAL loads and stores of 1 to 16
 *       bytes and the 32/64-bit atomics (swap, cmpswap, add, sub, min,
 *       max, and, or, xor, inc, dec; atomic against the CPU); DS
 *       read/write b32/b64 and add_u32 on the workgroup's LDS (FLAT
 *       addresses in the LDS aperture too).  s_trap ends the dispatch
 *       with EC_QUEUE_WAVE_TRAP; any other instruction, encoding (SDWA,
 *       DPP, VOP3P, MUBUF, MTBUF, MIMG, scratch, GDS), register index
 *       beyond the descriptor's VGPRs or the 102 SGPRs, or FLAT access to
 *       the private aperture, with EC_QUEUE_WAVE_ILLEGAL_INSTRUCTION
 *       (SIM_KFD_QUEUE_ILLEGAL_INSTRUCTION); an LDS access out of the
 *       group segment with EC_QUEUE_WAVE_MEMORY_VIOLATION
 *       (SIM_KFD_QUEUE_WAVE_EXCEPTION).
 *     - memory: every instruction fetch, scalar load and FLAT/GLOBAL
 *       access goes through the queue's GPUVM; an unmapped address is
 *       the context's VM fault (as SDMA's: SIM_KFD_QUEUE_VM_FAULT, the
 *       memory exception event), which ends the dispatch.
 *     - bounds: a budget of SIM_ISA_BUDGET units per dispatch, one per
 *       wave instruction and one more per active lane beyond the first
 *       of a FLAT/GLOBAL or DS instruction (more ends it with
 *       EC_QUEUE_WAVE_ABORT, SIM_KFD_QUEUE_WAVE_BUDGET: a kernel that
 *       never ends cannot hang the queue); every SIM_ISA_YIELD units the
 *       model's lock is let go.
 *     Stores done before an error stay done.  A dispatch whose waves all
 *     end completes like a barrier: its completion signal, then the
 *     slot and the read index.  A wave's exception stops the queue at
 *     the packet as below, except that queue_inactive_signal gets
 *     SIM_AQL_ERR_ILLEGAL_INSTRUCTION for an illegal instruction (ROCr:
 *     HSA_STATUS_ERROR_ILLEGAL_INSTRUCTION) and SIM_AQL_ERR_WAVE_EXCEPTION
 *     for the others (HSA_STATUS_ERROR_EXCEPTION), and the KFD's mask is
 *     that of the wave's exception code.
 *   VENDOR_SPECIFIC (0) with AMD's PM4_IB format (SIM_AQL_PM4_IB, u16
 *     at byte 2), as ROCr's ExecutePM4 writes it: bytes 4..19 a PM4
 *     INDIRECT_BUFFER command (type 3, op 0x3f, 4 dwords; bits 7:0 of
 *     its header are not looked at), the buffer's VA at 8 (bits 1:0
 *     ignored) and its size in dwords at 16 (bits 19:0, 1 to
 *     SIM_AQL_PM4_MAX_DWORDS).  The buffer (in the GPUVM, one object)
 *     may hold type-2 filler dwords and type-3 NOP (0x10) and
 *     ACQUIRE_MEM (0x58) commands, which complete at once: the model has
 *     no caches to invalidate (memory is coherent and instructions are
 *     fetched from memory each time).  Any other command, a command
 *     running past the buffer or another vendor format is an unsupported
 *     vendor packet (below).
 *   AGENT_DISPATCH (4), other VENDOR_SPECIFIC (0) packets and the
 *     reserved types: as the CP does with a packet it does not support,
 *     the queue stops at the packet (SIM_KFD_QUEUE_UNSUPPORTED_PACKET;
 *     the packet is not consumed and its completion signal is untouched)
 *     and reports the error in the ways ROCr listens for one:
 *     - if the pointers lie in an amd_queue_t (read_dispatch_id at byte
 *       128; write_dispatch_id at 56, or max_legacy_doorbell_dispatch_
 *       id_plus_1 at 80) whose queue_inactive_signal (at byte 192) is
 *       nonzero, that signal's value becomes the CP's queue error code
 *       SIM_AQL_ERR_INVALID_PACKET (SIM_AQL_ERR_VENDOR_PACKET for vendor
 *       packets) and its event is notified as a completion signal's:
 *       ROCr 5.2.3's queue error handler reports
 *       HSA_STATUS_ERROR_INVALID_PACKET_FORMAT, suspends the queue and
 *       calls the queue's error callback (HIP's aborts the program);
 *     - if the context enabled the runtime (AMDKFD_IOC_RUNTIME_ENABLE)
 *       and CREATE_QUEUE gave a context save area, as the KFD does with
 *       a CP bad-opcode interrupt: KFD_EC_MASK(EC_QUEUE_PACKET_
 *       UNSUPPORTED) (EC_QUEUE_PACKET_VENDOR_UNSUPPORTED for vendor
 *       packets) is ORed into the 64 bits at the area header's
 *       err_payload_addr and its err_event_id is set.  (The KFD writes
 *       through the process's CPU mapping; the model, which has none,
 *       through the GPUVM at the same address, as ROCm maps host memory
 *       at equal CPU and GPU addresses.)
 *
 * Signals (ROCr's amd_signal_t, 64 bytes): kind at byte 0, value (64-bit
 * signed) at 8, event_mailbox_ptr at 16, event_id (32 bits) at 24,
 * start_ts at 32, end_ts at 40.  A handle is the signal's GPU VA; it
 * must be 8-aligned (else the packet is malformed, as an unsupported
 * one).  Completing a completion signal (a nonzero handle) stores
 * start_ts and end_ts if the amd_queue_t's queue_properties (byte 180)
 * has AMD_QUEUE_PROPERTIES_ENABLE_PROFILING (bit 3), decrements the
 * value atomically, and, if event_mailbox_ptr is nonzero, stores the
 * event id there (32 bits) and raises the CP's end-of-pipe interrupt
 * with it (32 valid id bits), handled as the SDMA TRAP above.
 *
 * Queues of type KFD_IOC_QUEUE_TYPE_COMPUTE (PM4) are accepted and never
 * execute.
 */

/* SDMA v4: dword 0, and the sizes of the fixed-size packets */
#define SIM_SDMA_HDR(op, sub_op)        ((uint32_t)(op) | \
                                         ((uint32_t)(sub_op) << 8))
#define SIM_SDMA_OP_NOP                 0
#define SIM_SDMA_OP_COPY                1
#define SIM_SDMA_OP_WRITE               2
#define SIM_SDMA_OP_FENCE               5
#define SIM_SDMA_OP_TRAP                6
#define SIM_SDMA_OP_POLL_REGMEM         8
#define SIM_SDMA_OP_ATOMIC              10
#define SIM_SDMA_OP_CONST_FILL          11
#define SIM_SDMA_OP_TIMESTAMP           13
#define SIM_SDMA_SUBOP_COPY_LINEAR      0
#define SIM_SDMA_SUBOP_COPY_LINEAR_SUBWIN 4
#define SIM_SDMA_SUBOP_WRITE_LINEAR     0
#define SIM_SDMA_SUBOP_TIMESTAMP_GET_GLOBAL 2

#define SIM_SDMA_COPY_LINEAR_DWORDS     7
#define SIM_SDMA_COPY_SUBWIN_DWORDS     13
#define SIM_SDMA_WRITE_LINEAR_DWORDS    4       /* plus the data */
#define SIM_SDMA_FENCE_DWORDS           4
#define SIM_SDMA_TRAP_DWORDS            2
#define SIM_SDMA_POLL_REGMEM_DWORDS     6
#define SIM_SDMA_ATOMIC_DWORDS          8
#define SIM_SDMA_CONST_FILL_DWORDS      5
#define SIM_SDMA_TIMESTAMP_DWORDS       3

/* Header and count fields */
#define SIM_SDMA_NOP_COUNT(n)           ((uint32_t)((n) & 0x3FFF) << 16)
#define SIM_SDMA_COPY_MAX_BYTES         0x400000    /* 22-bit count + 1 */
#define SIM_SDMA_COPY_TMZ               (1U << 18)
#define SIM_SDMA_FENCE_GPA              (1U << 23)
#define SIM_SDMA_TRAP_CONTEXT_MASK      0x0FFFFFFFU
#define SIM_SDMA_POLL_HDP_FLUSH         (1U << 26)
#define SIM_SDMA_POLL_FUNC(f)           ((uint32_t)((f) & 7) << 28)
#define SIM_SDMA_POLL_MEM               (1U << 31)
#define SIM_SDMA_POLL_RETRY_FOREVER     (0xFFFU << 16)
#define SIM_SDMA_ATOMIC_LOOP            (1U << 16)
#define SIM_SDMA_ATOMIC_OP(o)           ((uint32_t)((o) & 0x7F) << 25)
#define SIM_SDMA_FILL_DWORD             (2U << 30)

/* POLL_REGMEM functions */
#define SIM_SDMA_FUNC_ALWAYS            0
#define SIM_SDMA_FUNC_LT                1
#define SIM_SDMA_FUNC_LE                2
#define SIM_SDMA_FUNC_EQ                3
#define SIM_SDMA_FUNC_NE                4
#define SIM_SDMA_FUNC_GE                5
#define SIM_SDMA_FUNC_GT                6

/* ATOMIC operations: 32-bit with return, then the modifiers */
#define SIM_SDMA_ATOMIC_SWAP            7
#define SIM_SDMA_ATOMIC_CMPSWAP         8
#define SIM_SDMA_ATOMIC_ADD             15
#define SIM_SDMA_ATOMIC_SUB             16
#define SIM_SDMA_ATOMIC_SMIN            17
#define SIM_SDMA_ATOMIC_UMIN            18
#define SIM_SDMA_ATOMIC_SMAX            19
#define SIM_SDMA_ATOMIC_UMAX            20
#define SIM_SDMA_ATOMIC_AND             21
#define SIM_SDMA_ATOMIC_OR              22
#define SIM_SDMA_ATOMIC_XOR             23
#define SIM_SDMA_ATOMIC_INC             24
#define SIM_SDMA_ATOMIC_DEC             25
#define SIM_SDMA_ATOMIC_64              32
#define SIM_SDMA_ATOMIC_NO_RETURN       64
/* ROCr's completion-signal decrement: ADD_RTN_64 */
#define SIM_SDMA_ATOMIC_ADD64           (SIM_SDMA_ATOMIC_ADD + \
                                         SIM_SDMA_ATOMIC_64)

/* AQL packets */
#define SIM_AQL_PACKET_SIZE             64

/* AMD's vendor-specific AQL packet: a PM4 indirect buffer */
#define SIM_AQL_PM4_IB                  1       /* the format, at byte 2 */
#define SIM_AQL_PM4_MAX_DWORDS          1024
#define SIM_PM4_HDR(op, dwords)         ((3U << 30) | \
                                         (((dwords) - 2U) << 16) | \
                                         ((uint32_t)(op) << 8))
#define SIM_PM4_OP_NOP                  0x10
#define SIM_PM4_OP_INDIRECT_BUFFER      0x3f
#define SIM_PM4_OP_ACQUIRE_MEM          0x58

/* The shader interpreter's bounds (sim/isa.c) */
#define SIM_ISA_BUDGET                  (1ULL << 22)    /* per dispatch */
#define SIM_ISA_YIELD                   4096    /* instructions per hold */
#define SIM_ISA_MAX_WORKGROUP           1024    /* work-items */
#define SIM_ISA_MAX_LDS                 65536   /* group segment bytes */
#define SIM_AQL_TYPE_VENDOR_SPECIFIC    0
#define SIM_AQL_TYPE_INVALID            1
#define SIM_AQL_TYPE_KERNEL_DISPATCH    2
#define SIM_AQL_TYPE_BARRIER_AND        3
#define SIM_AQL_TYPE_AGENT_DISPATCH     4
#define SIM_AQL_TYPE_BARRIER_OR         5
#define SIM_AQL_HDR_BARRIER             (1U << 8)
#define SIM_AQL_DEP_SIGNALS             5
#define SIM_AQL_DEP_SIGNAL_OFFSET       8
#define SIM_AQL_COMPLETION_OFFSET       56

/* ROCr's amd_signal_t */
#define SIM_SIGNAL_SIZE                 64
#define SIM_SIGNAL_VALUE                8
#define SIM_SIGNAL_MAILBOX              16
#define SIM_SIGNAL_EVENT_ID             24
#define SIM_SIGNAL_START_TS             32
#define SIM_SIGNAL_END_TS               40

/* ROCr's amd_queue_t */
#define SIM_AMD_QUEUE_SIZE              256
#define SIM_AMD_QUEUE_WRITE_ID          56
#define SIM_AMD_QUEUE_LEGACY_WRITE_ID   80
#define SIM_AMD_QUEUE_READ_ID           128
#define SIM_AMD_QUEUE_PROPERTIES        180
#define SIM_AMD_QUEUE_INACTIVE_SIGNAL   192
#define SIM_AMD_QUEUE_PROFILING         (1U << 3)

/* CP queue error codes in queue_inactive_signal, as ROCr decodes them */
#define SIM_AQL_ERR_INVALID_PACKET      32
#define SIM_AQL_ERR_VENDOR_PACKET       256
/* ROCr's HSA_STATUS_ERROR_ILLEGAL_INSTRUCTION: a wave's illegal one */
#define SIM_AQL_ERR_ILLEGAL_INSTRUCTION 0x40000000U
/* ROCr's HSA_STATUS_ERROR_EXCEPTION: a wave's other exception (a trap) */
#define SIM_AQL_ERR_WAVE_EXCEPTION      0x80000000U

/* SimKfdQueueInfo.error */
#define SIM_KFD_QUEUE_OK                0
#define SIM_KFD_QUEUE_VM_FAULT          1
#define SIM_KFD_QUEUE_BAD_PACKET        2
#define SIM_KFD_QUEUE_BAD_WPTR          3
#define SIM_KFD_QUEUE_UNSUPPORTED_PACKET 4
#define SIM_KFD_QUEUE_ILLEGAL_INSTRUCTION 5     /* a dispatch's wave */
#define SIM_KFD_QUEUE_WAVE_BUDGET       6       /* a dispatch ran too long */
#define SIM_KFD_QUEUE_WAVE_EXCEPTION    7       /* a trap, an LDS violation */

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
    uint64_t rptr;              /* bytes (SDMA) or packets (AQL) */
    uint64_t packets;           /* packets completed */
    bool halted;
    bool waiting;               /* at a poll or barrier not satisfied */
    uint32_t error;             /* SIM_KFD_QUEUE_* */
    /* AQL: kernel dispatches the shader interpreter ran (sim/isa.c) */
    uint64_t dispatches;
    uint64_t wave_instructions; /* all of them together */
    uint64_t last_wave_instructions;
    uint64_t last_dispatch_ns;  /* host time of the last one */
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
 * @byte_offset).  Rings the queue whose doorbell that is and runs it (and
 * the context's queues its progress may release) before returning,
 * unless another thread runs it already.  Returns 0, -EINVAL for a
 * doorbell of no queue of this file's context, -EFAULT if the queue took
 * a VM fault now, -EIO if the queue is or became halted.
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

/*
 * Threads of the model's own, over all models: they re-examine waiting
 * queues after a SET_EVENT and keep their context (and its model) alive
 * meanwhile.  sim_kfd_global_idle() waits up to @timeout_us for them to
 * finish and says whether they did.
 */
unsigned sim_kfd_global_engine_threads(void);
bool sim_kfd_global_idle(int64_t timeout_us);

#endif
