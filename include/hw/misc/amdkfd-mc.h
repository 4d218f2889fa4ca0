/*
 * amdkfd-mc: paravirtual KFD device with one isolated host context per
 * guest program
 *
 * The device's state is private to hw/misc/amdkfd-mc/ (amdkfd-mc-state.h);
 * what other code needs is its type and these defaults.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_AMDKFD_MC_H
#define HW_MISC_AMDKFD_MC_H

#include "qom/object.h"

#define TYPE_AMDKFD_MC "amdkfd-mc"
OBJECT_DECLARE_SIMPLE_TYPE(AmdkfdMcState, AMDKFD_MC)

#define AMDKFD_MC_DEFAULT_MAX_CONTEXTS  256
#define AMDKFD_MC_LIMIT_MAX_CONTEXTS    4096
#define AMDKFD_MC_DEFAULT_WINDOW_SIZE   (256 * MiB)

#endif
