/*
 * amdkfd-mc fuzz targets: the input format of amdkfd-mc-cmd and the seeds
 *
 * An input of amdkfd-mc-cmd is a list of records, each one command of the
 * submission ring followed by the bytes of its payload:
 *
 *   offset size  field
 *   0      1     op           opcode as the command carries it
 *   1      1     ctx          0: ctx_id 0; 1-127: the ((ctx - 1) mod n)th
 *                             context this input made; else ctx_id = ctx
 *   2      1     mode         where the payload is (AKF_AT_*, mod 5)
 *   3      1     flags        AKF_F_*
 *   4      2     data_len     payload bytes that follow the record
 *   6      2     fix_off      payload offset of a fixup
 *   8      1     fix          AKF_FIX_*
 *   9      1     fix_arg      which context's object, mapping, ...
 *   10     2     addr_off     added to the payload's address
 *   12     4     payload_len  as the command carries it
 *   16     4     arg0
 *   20     8     arg1
 *   28     8     arg2
 *
 * all little endian.  Fixups put values the device hands out at run time
 * (map ids, handles, mmap offsets, the GPU id) where a guest driver would,
 * so that mutated inputs keep reaching deep into the marshaling.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef AMDKFD_MC_FUZZ_H
#define AMDKFD_MC_FUZZ_H

#define AKF_REC_SIZE        36

/* Where a payload is */
enum {
    AKF_AT_SLOT,            /* its own slot of guest RAM, between canaries */
    AKF_AT_REGS,            /* the register BAR (MMIO) */
    AKF_AT_WINDOW,          /* the window BAR (a RAM device region) */
    AKF_AT_RAM_END,         /* across the end of guest RAM */
    AKF_AT_RAW,             /* fix_off << 48 | addr_off << 12 */
    AKF_AT_MODES,
};

#define AKF_F_SYNC          0x01    /* wait for every completion after it */
#define AKF_F_BAD_FLAGS     0x02    /* cmd.flags = 1 << (fix_arg % 16) */
#define AKF_F_BAD_RESERVED  0x04    /* reserved[fix_arg % 2] = 1 */
#define AKF_F_LEN_DATA      0x08    /* payload_len = data_len */

enum {
    AKF_FIX_NONE,
    AKF_FIX_GPU_ID,         /* u32 at fix_off: the GPU's id */
    AKF_FIX_MAP_ID,         /* arg1: the fix_arg'th window mapping's id */
    AKF_FIX_MMAP_OFFSET,    /* arg1: the fix_arg'th object's mmap offset */
    AKF_FIX_HANDLE,         /* u64 at fix_off: the fix_arg'th object */
    AKF_FIX_DOORBELL,       /* arg1: the fix_arg'th queue's doorbell page */
    AKF_FIX_GPA,            /* u64 at fix_off: + the guest pages' address */
    AKF_FIX_EVENT,          /* u32 at fix_off: the fix_arg'th event's id */
    AKF_FIXES,
};

/* The machine and the device of amdkfd-mc-cmd */
#define AKF_RAM_SIZE        (512 * 1024 * 1024)
#define AKF_SQ_GPA          0x01000000ULL
#define AKF_CQ_GPA          0x01010000ULL
#define AKF_ENTRIES         256
#define AKF_SCRATCH_GPA     0x02000000ULL   /* payload slots */
#define AKF_SCRATCH_SIZE    (4 * 1024 * 1024)
#define AKF_GUEST_PAGES_GPA 0x04000000ULL   /* for ALLOC_GUEST_MEMORY */
#define AKF_GUEST_PAGES     (16 * 1024 * 1024)

/*
 * Write the seed corpora of amdkfd-mc-cmd (@dir/cmd) and of the
 * generic-fuzz configurations (@dir/generic) for the sim GPU @gpu_id
 */
void amdkfd_mc_fuzz_write_seeds(const char *dir, uint32_t gpu_id);

#endif
