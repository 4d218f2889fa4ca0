/*
 * amdkfd-mc in QEMU 10.0: QEMU 11 includes "hw/core/qdev-properties.h",
 * which 10.0 calls "hw/qdev-properties.h" (see compat/qemu-10.0/README)
 *
 * The file of a device's TypeInfo includes it, so it carries the other
 * difference of that file too: class_init takes "const void *data" in 11
 * and "void *data" in 10.0.  The two function types differ in that
 * qualifier alone, which changes no calling convention, and no class of
 * this device is given data; the 11 class_init is let into 10.0's TypeInfo
 * for the rest of the file.  The 11 build still checks the conversion.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/qdev-properties.h"

#pragma GCC diagnostic ignored "-Wincompatible-pointer-types"
