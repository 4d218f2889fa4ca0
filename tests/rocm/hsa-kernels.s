// hsa-kernels.s: the two gfx906 kernels of tests/rocm/hsa-kernel.c, for
// the sim's ISA interpreter (hw/misc/amdkfd-mc/sim/isa.c).  Assembled by
// tests/vm/rocm/common.sh into a code object v4 (llvm-mc-14, ld.lld-14)
// that bookworm's ROCr 5.2.3 loads.
//
//   store(uint32_t *out, uint32_t count): work-item i (global id, workgroups
//       of 256 along x) writes i * 3 + 7 to out[i] if i < count
//   illegal(uint32_t *out, uint32_t count): one MUBUF load, which the
//       interpreter does not model (an illegal instruction for the queue)
//
// Copyright (c) 2026 The amdkfd-mc authors
//
// SPDX-License-Identifier: GPL-2.0-or-later

	.amdgcn_target "amdgcn-amd-amdhsa--gfx906"

	.text
	.globl	store
	.p2align 8
	.type	store,@function
store:
	// s[0:1] kernarg pointer, s2 workgroup id x, v0 work-item id x
	s_load_dwordx4	s[4:7], s[0:1], 0x0	// s[4:5] out, s6 count
	s_lshl_b32	s3, s2, 8		// workgroup id * 256
	v_add_u32	v1, s3, v0		// global id
	s_waitcnt	lgkmcnt(0)
	v_cmp_gt_u32	vcc, s6, v1		// id < count
	s_and_saveexec_b64 s[8:9], vcc
	s_cbranch_execz	.Lstore_done
	v_mul_u32_u24	v2, 3, v1
	v_add_u32	v2, 7, v2		// id * 3 + 7
	v_lshlrev_b32	v3, 2, v1		// id * 4
	v_mov_b32	v4, s5
	v_add_co_u32	v3, vcc, s4, v3
	v_addc_co_u32	v4, vcc, 0, v4, vcc
	global_store_dword v[3:4], v2, off
	s_waitcnt	vmcnt(0)
.Lstore_done:
	s_endpgm
.Lstore_end:
	.size	store, .Lstore_end-store

	.globl	illegal
	.p2align 8
	.type	illegal,@function
illegal:
	s_load_dwordx2	s[4:5], s[0:1], 0x0
	s_mov_b32	s6, -1
	s_mov_b32	s7, 0x00027000
	s_waitcnt	lgkmcnt(0)
	buffer_load_dword v1, off, s[4:7], 0	// MUBUF: not modelled
	s_waitcnt	vmcnt(0)
	s_endpgm
.Lillegal_end:
	.size	illegal, .Lillegal_end-illegal

	.rodata
	.p2align 6
	.amdhsa_kernel store
		.amdhsa_user_sgpr_private_segment_buffer 0
		.amdhsa_user_sgpr_kernarg_segment_ptr 1
		.amdhsa_kernarg_size 16
		.amdhsa_system_sgpr_workgroup_id_x 1
		.amdhsa_system_vgpr_workitem_id 0
		.amdhsa_next_free_vgpr 5
		.amdhsa_next_free_sgpr 10
	.end_amdhsa_kernel

	.p2align 6
	.amdhsa_kernel illegal
		.amdhsa_user_sgpr_private_segment_buffer 0
		.amdhsa_user_sgpr_kernarg_segment_ptr 1
		.amdhsa_kernarg_size 16
		.amdhsa_system_sgpr_workgroup_id_x 1
		.amdhsa_system_vgpr_workitem_id 0
		.amdhsa_next_free_vgpr 2
		.amdhsa_next_free_sgpr 8
	.end_amdhsa_kernel

	.amdgpu_metadata
---
amdhsa.version: [ 1, 1 ]
amdhsa.target: "amdgcn-amd-amdhsa--gfx906"
amdhsa.kernels:
  - .name: store
    .symbol: store.kd
    .kernarg_segment_size: 16
    .kernarg_segment_align: 8
    .group_segment_fixed_size: 0
    .private_segment_fixed_size: 0
    .wavefront_size: 64
    .sgpr_count: 16
    .vgpr_count: 5
    .max_flat_workgroup_size: 256
    .args:
      - { .name: out, .size: 8, .offset: 0, .value_kind: global_buffer, .value_type: u32, .address_space: global }
      - { .name: count, .size: 4, .offset: 8, .value_kind: by_value, .value_type: u32 }
  - .name: illegal
    .symbol: illegal.kd
    .kernarg_segment_size: 16
    .kernarg_segment_align: 8
    .group_segment_fixed_size: 0
    .private_segment_fixed_size: 0
    .wavefront_size: 64
    .sgpr_count: 14
    .vgpr_count: 2
    .max_flat_workgroup_size: 256
    .args:
      - { .name: out, .size: 8, .offset: 0, .value_kind: global_buffer, .value_type: u32, .address_space: global }
      - { .name: count, .size: 4, .offset: 8, .value_kind: by_value, .value_type: u32 }
...
	.end_amdgpu_metadata
