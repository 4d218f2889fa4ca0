/*
 * amdkfd-mc demo: what the device does for guest programs, told in a few
 * lines.  It drives the device through the qtest harness the way a guest
 * driver would and checks what it prints.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "amdkfd-mc-harness.h"

#define N_PROGRAMS 3

static void show_programs(AkmcDev *d, uint32_t *host_ids, uint32_t *pasids)
{
    int i;

    for (i = 0; i < N_PROGRAMS; i++) {
        struct amdkfd_mc_context_info info;
        struct kfd_ioctl_get_version_args v = { 0 };
        uint32_t id;
        int32_t result;

        g_assert_cmpuint(akmc_ctx_create(d, &id, &info), ==, AMDKFD_MC_S_OK);
        g_assert_cmpuint(akmc_ioctl(d, id, AMDKFD_IOC_GET_VERSION, &v,
                                    sizeof(v), &result), ==, AMDKFD_MC_S_OK);
        g_assert_cmpint(result, ==, 0);
        host_ids[i] = le32_to_cpu(info.host_ctx_id);
        pasids[i] = le32_to_cpu(info.pasid);
        printf("  program %d: guest context 0x%08x -> host KFD context "
               "%s%u, PASID 0x%x; KFD version %u.%u\n", i + 1, id,
               host_ids[i] == AMDKFD_MC_KFD_PRIMARY_ID ? "(primary) " : "",
               host_ids[i], pasids[i], v.major_version, v.minor_version);
    }
}

static bool all_distinct(const uint32_t *v)
{
    int i, j;

    for (i = 0; i < N_PROGRAMS; i++) {
        for (j = i + 1; j < N_PROGRAMS; j++) {
            if (v[i] == v[j]) {
                return false;
            }
        }
    }
    return true;
}

static void demo(void)
{
    uint32_t host[N_PROGRAMS], pasid[N_PROGRAMS];
    struct amdkfd_mc_device_info info;
    AkmcDev *d;

    d = akmc_start(NULL);
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    g_assert_cmpuint(akmc_device_info(d, &info), ==, AMDKFD_MC_S_OK);
    printf("\nDevice amdkfd-mc: guest ABI %u.%u, backend 'sim' (a software "
           "model of Linux 7.0's KFD %u.%u), %u GPU node(s), up to %u "
           "contexts.\n\n", le32_to_cpu(info.abi_version) >> 16,
           le32_to_cpu(info.abi_version) & 0xffff,
           le32_to_cpu(info.kfd_major), le32_to_cpu(info.kfd_minor),
           le32_to_cpu(info.num_nodes), le32_to_cpu(info.max_contexts));
    printf("%d guest programs open /dev/kfd; each gets its own host "
           "context:\n", N_PROGRAMS);
    show_programs(d, host, pasid);
    g_assert_true(all_distinct(host) && all_distinct(pasid));
    printf("  => %d distinct host contexts and PASIDs: no program can name "
           "another's memory, events or queues.\n\n", N_PROGRAMS);
    akmc_stop(d);

    d = akmc_start(",legacy-shared=on");
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    printf("The same programs on a host kernel before Linux 7.0 "
           "(legacy-shared mode):\n");
    show_programs(d, host, pasid);
    g_assert_false(all_distinct(host));
    printf("  => all %d share the hypervisor's one KFD process: one GPU "
           "address space, one handle space.\n\n", N_PROGRAMS);
    akmc_stop(d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/amdkfd-mc/demo", demo);
    return g_test_run();
}
