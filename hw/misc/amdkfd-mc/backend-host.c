/*
 * amdkfd-mc: the host backend, forwarding to the host's /dev/kfd
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "backend.h"

static AmdkfdMcBackend *host_create(const AmdkfdMcBackendConfig *cfg,
                                    Error **errp)
{
    error_setg(errp, "amdkfd-mc: the 'host' backend is not implemented yet");
    error_append_hint(errp, "Use backend=sim for the software model.\n");
    return NULL;
}

const AmdkfdMcBackendOps amdkfd_mc_backend_host = {
    .name = "host",
    .kind = AMDKFD_MC_BACKEND_HOST,
    .create = host_create,
};
