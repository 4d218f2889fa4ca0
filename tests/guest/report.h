/*
 * The result lines of the guest test programs: one "ok   what" or
 * "FAIL what" line per check and a closing "PROG: PASS (0 failed)" line,
 * which the run-*.sh scripts and check-guest match.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int report_failed;

static void check(bool ok, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void check(bool ok, const char *fmt, ...)
{
    va_list ap;

    printf("%s ", ok ? "ok  " : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    /* the line must be out before a crash or a hang that may follow */
    fflush(stdout);
    report_failed += !ok;
}

/* the closing line; returns the exit status */
static int report_finish(const char *prog)
{
    printf("%s: %s (%d failed)\n", prog, report_failed ? "FAIL" : "PASS",
           report_failed);
    return report_failed ? 1 : 0;
}

#endif
