/*
 * amdkfd-mc: the KFD ioctl interface as the device and its backends see it
 *
 * The structures and request numbers come from the system's
 * <linux/kfd_ioctl.h>; this header adds only what that header lacks on
 * older systems (the multi-context request of Linux 7.0, KFD 1.19).
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_AMDKFD_MC_KFD_H
#define HW_MISC_AMDKFD_MC_KFD_H

#include <linux/kfd_ioctl.h>

#ifndef AMDKFD_IOC_CREATE_PROCESS
#define AMDKFD_IOC_CREATE_PROCESS       _IO(AMDKFD_IOCTL_BASE, 0x27)
#endif

/* The first KFD ioctl version with multiple contexts per process */
#define AMDKFD_MC_KFD_MULTI_CTX_MAJOR   1
#define AMDKFD_MC_KFD_MULTI_CTX_MINOR   19

/*
 * mmap offsets of KFD objects (doorbells, event pages, MMIO) carry a type
 * in bits 63:62 and a GPU id in bits 61:46; offsets of memory objects come
 * from the GPU's DRM render node and have neither.
 */
#define AMDKFD_MC_KFD_MMAP_TYPE_SHIFT   62
#define AMDKFD_MC_KFD_MMAP_GPU_ID_SHIFT 46

/* Context id of a process's primary context */
#define AMDKFD_MC_KFD_PRIMARY_ID        0xffff

#endif
