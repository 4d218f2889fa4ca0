/*
 * amdkfd-mc in QEMU 10.0: QEMU 11 includes "hw/core/boards.h", which 10.0
 * calls "hw/boards.h" (see compat/qemu-10.0/README)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/boards.h"
