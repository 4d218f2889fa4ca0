/*
 * amdkfd-mc guest test helper: files and mappings that outlive the device
 *
 *   kfd-lifetime hold     open /dev/kfd, map a GTT buffer, write
 *                         /tmp/lt.ready, wait for /tmp/lt.go (the device
 *                         is removed meanwhile), then expect the mapping
 *                         to be revoked (SIGBUS), ioctls to fail with
 *                         ENODEV and close to work
 *   kfd-lifetime use      open, allocate, map, write and read back
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <signal.h>
#include "kfdt.h"

static sigjmp_buf jb;

static void on_sigbus(int sig)
{
    siglongjmp(jb, 1);
}

static int use(void)
{
    KfdProc p;
    KfdBuf b;
    int ret = kfdt_open(&p);

    if (!ret) {
        ret = kfdt_buf_new(&p, 0x10000000, 4096, &b);
    }
    if (ret) {
        printf("kfd-lifetime: use: %s\n", strerror(-ret));
        return 1;
    }
    memset((void *)b.cpu, 0x3c, 4096);
    ret = b.cpu[4095] == 0x3c ? 0 : 1;
    printf("kfd-lifetime: use after re-probe: %s (guest ctx %#x)\n",
           ret ? "FAIL" : "ok", p.ctx_id);
    return ret;
}

static int hold(void)
{
    struct kfd_ioctl_get_version_args v = { 0 };
    volatile uint8_t x = 0;
    int ret, bad = 0;
    KfdProc p;
    KfdBuf b;
    FILE *f;

    ret = kfdt_open(&p);
    if (!ret) {
        ret = kfdt_buf_new(&p, 0x10000000, 4096, &b);
    }
    if (ret) {
        printf("kfd-lifetime: hold: %s\n", strerror(-ret));
        return 1;
    }
    memset((void *)b.cpu, 0x7e, 4096);
    f = fopen("/tmp/lt.ready", "w");
    if (f) {
        fclose(f);
    }
    while (access("/tmp/lt.go", F_OK)) {
        usleep(20000);
    }
    signal(SIGBUS, on_sigbus);
    if (!sigsetjmp(jb, 1)) {
        x = b.cpu[0];
        printf("kfd-lifetime: mapping still readable after removal (%#x)\n",
               x);
        bad++;
    } else {
        printf("kfd-lifetime: mapping revoked on removal (SIGBUS): ok\n");
    }
    ret = kfdt_ioctl(&p, AMDKFD_IOC_GET_VERSION, &v);
    printf("kfd-lifetime: ioctl after removal: %d (%s): %s\n", ret,
           strerror(-ret), ret == -ENODEV ? "ok" : "FAIL");
    bad += ret != -ENODEV;
    munmap((void *)b.cpu, 4096);
    ret = close(p.fd);
    printf("kfd-lifetime: close after removal: %d: %s\n", ret,
           ret ? "FAIL" : "ok");
    bad += ret != 0;
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && !strcmp(argv[1], "hold")) {
        return hold();
    }
    if (argc == 2 && !strcmp(argv[1], "use")) {
        return use();
    }
    fprintf(stderr, "usage: kfd-lifetime hold|use\n");
    return 2;
}
