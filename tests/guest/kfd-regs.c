/*
 * amdkfd-mc guest test helper: leave the device in use, as a kernel that
 * kexec'ed into this one (or a crashed driver) would, then bind the driver
 *
 *   kfd-regs leave BDF     (root; the driver must be unbound from BDF)
 *
 * Programs the rings from user space (BAR 0 through sysfs, ring pages
 * found through /proc/self/pagemap), creates as many contexts as the
 * device allows and leaves the rings enabled, then binds amdkfd_mc to
 * BDF.  A driver that resets the device at probe starts with no context;
 * one that does not finds the device full (open of /dev/kfd: ENOSPC).
 * Prints what it did; exit 0 when the device was left in use and the
 * bind was written.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hw/misc/amdkfd-mc-abi.h"

#define RING 64

static volatile uint32_t *regs;

static uint32_t rd(uint32_t reg)
{
    return regs[reg / 4];
}

static void wr(uint32_t reg, uint32_t val)
{
    regs[reg / 4] = val;
    __sync_synchronize();
}

static int fail(const char *what)
{
    printf("kfd-regs: %s: %s\n", what, strerror(errno));
    return 1;
}

static uint64_t phys_of(void *p)
{
    uint64_t ent = 0;
    int fd = open("/proc/self/pagemap", O_RDONLY);
    off_t off = (uintptr_t)p / 4096 * 8;

    if (fd < 0 || pread(fd, &ent, 8, off) != 8) {
        ent = 0;
    }
    if (fd >= 0) {
        close(fd);
    }
    if (!(ent >> 63)) {
        return 0;
    }
    return (ent & ((1ULL << 55) - 1)) * 4096;
}

static int write_file(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY);
    ssize_t n;

    if (fd < 0) {
        return -1;
    }
    n = write(fd, s, strlen(s));
    close(fd);
    return n == (ssize_t)strlen(s) ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct amdkfd_mc_cmd *sq;
    struct amdkfd_mc_cpl *cq;
    char path[256];
    uint64_t sq_pa, cq_pa;
    uint32_t max, i, live;
    uint16_t cmdreg;
    void *rings;
    int fd;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 3 || strcmp(argv[1], "leave")) {
        fprintf(stderr, "usage: kfd-regs leave BDF\n");
        return 2;
    }
    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0",
             argv[2]);
    fd = open(path, O_RDWR | O_SYNC);
    if (fd < 0) {
        return fail(path);
    }
    regs = mmap(NULL, AMDKFD_MC_REGS_SIZE, PROT_READ | PROT_WRITE,
                MAP_SHARED, fd, 0);
    if (regs == MAP_FAILED) {
        return fail("mmap of BAR 0");
    }
    if (rd(AMDKFD_MC_REG_MAGIC) != AMDKFD_MC_MAGIC) {
        printf("kfd-regs: bad magic %#x\n", rd(AMDKFD_MC_REG_MAGIC));
        return 1;
    }
    /* Memory decoding and bus mastering on, INTx off: nobody listens */
    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", argv[2]);
    fd = open(path, O_RDWR);
    if (fd < 0 || pread(fd, &cmdreg, 2, 4) != 2) {
        return fail(path);
    }
    cmdreg |= 0x0002 | 0x0004 | 0x0400;
    if (pwrite(fd, &cmdreg, 2, 4) != 2) {
        return fail("PCI command register");
    }
    close(fd);

    if (posix_memalign(&rings, 4096, 8192)) {
        return fail("ring pages");
    }
    memset(rings, 0, 8192);
    if (mlock(rings, 8192)) {
        return fail("mlock");
    }
    sq = rings;
    cq = (struct amdkfd_mc_cpl *)((char *)rings + 4096);
    sq_pa = phys_of(sq);
    cq_pa = phys_of(cq);
    if (!sq_pa || !cq_pa) {
        printf("kfd-regs: no physical address in /proc/self/pagemap\n");
        return 1;
    }

    wr(AMDKFD_MC_REG_CONTROL, 0);
    wr(AMDKFD_MC_REG_SQ_BASE_LO, (uint32_t)sq_pa);
    wr(AMDKFD_MC_REG_SQ_BASE_HI, (uint32_t)(sq_pa >> 32));
    wr(AMDKFD_MC_REG_CQ_BASE_LO, (uint32_t)cq_pa);
    wr(AMDKFD_MC_REG_CQ_BASE_HI, (uint32_t)(cq_pa >> 32));
    wr(AMDKFD_MC_REG_RING_ENTRIES, RING);
    wr(AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    if (!(rd(AMDKFD_MC_REG_STATUS) & AMDKFD_MC_STATUS_READY)) {
        printf("kfd-regs: rings refused, error %#x\n",
               rd(AMDKFD_MC_REG_ERROR));
        return 1;
    }
    max = rd(AMDKFD_MC_REG_MAX_CONTEXTS);
    for (i = 0; i < max; i++) {
        volatile struct amdkfd_mc_cpl *c = &cq[i % RING];
        uint32_t phase = (i / RING) % 2 ? 0 : AMDKFD_MC_CPL_PHASE;
        int spins = 0;

        memset(&sq[i % RING], 0, sizeof(sq[0]));
        sq[i % RING].opcode = AMDKFD_MC_OP_CREATE_CONTEXT;
        sq[i % RING].cookie = i + 1;
        __sync_synchronize();
        wr(AMDKFD_MC_REG_SQ_TAIL, (i + 1) % RING);
        while ((c->flags & AMDKFD_MC_CPL_PHASE) != phase ||
               c->cookie != i + 1) {
            if (++spins > 20000000) {
                printf("kfd-regs: no completion for context %u\n", i);
                return 1;
            }
        }
        if (c->status != AMDKFD_MC_S_OK) {
            printf("kfd-regs: context %u: status %#x\n", i, c->status);
            break;
        }
        wr(AMDKFD_MC_REG_CQ_HEAD, (i + 1) % RING);
        wr(AMDKFD_MC_REG_IRQ_STATUS, AMDKFD_MC_IRQ_CQ);
    }
    live = rd(AMDKFD_MC_REG_LIVE_CONTEXTS);
    printf("kfd-regs: left the device enabled with %u of %u contexts live\n",
           live, max);
    if (write_file("/sys/bus/pci/drivers/amdkfd_mc/bind", argv[2])) {
        return fail("bind");
    }
    printf("kfd-regs: driver bound to %s\n", argv[2]);
    return live ? 0 : 1;
}
