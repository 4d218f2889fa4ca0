/*
 * amdkfd-mc in QEMU 10.0: QEMU 11 includes "system/memory_cached.h" for
 * MemoryRegionCache, which 10.0 has in "exec/memory.h" (see
 * compat/qemu-10.0/README)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "exec/memory.h"
