/*
 * amdkfd-mc in QEMU 10.0: QEMU 11 includes "hw/core/qdev-properties.h", which 10.0
 * calls "hw/qdev-properties.h" (see compat/qemu-10.0/README)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/qdev-properties.h"
