/*
 * amdkfd-mc qtest: the groups of cases that make up the test binary
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef AMDKFD_MC_TESTS_H
#define AMDKFD_MC_TESTS_H

void amdkfd_mc_add_isolation_tests(void);
void amdkfd_mc_add_bad_input_tests(void);
void amdkfd_mc_add_lifecycle_tests(void);
void amdkfd_mc_add_hardening_tests(void);
void amdkfd_mc_add_limits_tests(void);
void amdkfd_mc_add_guest_memory_tests(void);

#endif
