/*
 * amdkfd-mc fuzz target (placeholder while the build starts)
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "fuzz.h"
