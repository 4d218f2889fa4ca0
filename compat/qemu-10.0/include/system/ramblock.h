/*
 * amdkfd-mc in QEMU 10.0: QEMU 11 includes "system/ramblock.h", which 10.0
 * calls "exec/ramblock.h" (see compat/qemu-10.0/README)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "exec/ramblock.h"
