/*
 * amdkfd-mc demo program (guest side of `make demo`)
 *
 *   kfd-demo owner NAME VA SECRET   keep SECRET in GPU memory at VA until
 *                                   /tmp/demo-done exists
 *   kfd-demo attack NAME:VA ...     try to read each VA through GPU DMA
 *
 * The owners write /tmp/demo-NAME.ready when their secret is in place.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kfdt.h"

#define LEN 64

static void say_ctx(const char *name, KfdProc *p)
{
    printf("demo: %-8s pid %-4d guest context %#x -> host KFD context %#x, "
           "PASID %u%s\n", name, (int)p->pid, p->ctx_id, p->host_ctx_id,
           p->pasid, p->flags & AMDKFD_MC_CTX_SHARED ?
           " (SHARED: legacy-shared=on)" :
           p->flags & AMDKFD_MC_CTX_SECONDARY ? " (own secondary context)" :
           "");
}

static int owner(const char *name, uint64_t va, const char *secret)
{
    char path[64];
    KfdProc p;
    KfdBuf b;
    int ret;
    FILE *f;

    ret = kfdt_open(&p);
    if (!ret) {
        ret = kfdt_buf_new(&p, va, 4096, &b);
    }
    if (ret) {
        printf("demo: %s: %s\n", name, strerror(-ret));
        return 1;
    }
    memset((void *)b.cpu, 0, 4096);
    strncpy((char *)b.cpu, secret, LEN - 1);
    say_ctx(name, &p);
    printf("demo: %-8s stored \"%s\" in GPU memory at VA %#llx\n", name,
           secret, (unsigned long long)va);
    fflush(stdout);
    snprintf(path, sizeof(path), "/tmp/demo-%s.ready", name);
    f = fopen(path, "w");
    if (f) {
        fclose(f);
    }
    while (access("/tmp/demo-done", F_OK)) {
        usleep(20000);
    }
    if (strncmp((char *)b.cpu, secret, LEN - 1)) {
        printf("demo: %s: my secret was changed!\n", name);
        return 1;
    }
    return 0;
}

static int attack(int argc, char **argv)
{
    KfdProc p;
    KfdBuf dst;
    KfdQueue q;
    uint32_t mem_ev, wr;
    int i, ret, stolen = 0;

    ret = kfdt_open(&p);
    if (!ret) {
        ret = kfdt_buf_new(&p, 0x70000000, 4096, &dst);
    }
    if (!ret) {
        ret = kfdt_event_new(&p, KFD_IOC_EVENT_MEMORY, &mem_ev);
    }
    if (ret) {
        printf("demo: mallory: %s\n", strerror(-ret));
        return 2;
    }
    say_ctx("mallory", &p);
    for (i = 0; i < argc; i++) {
        char *name = argv[i], *c = strchr(argv[i], ':');
        uint64_t va;

        if (!c) {
            continue;
        }
        *c = 0;
        va = strtoull(c + 1, NULL, 0);
        /* a fresh queue per attempt: a faulting queue halts */
        ret = kfdt_queue_new(&p, 0x71000000 + i * 0x200000ULL, &q);
        if (ret) {
            printf("demo: mallory: queue: %s\n", strerror(-ret));
            return 2;
        }
        memset((void *)dst.cpu, 0, 4096);
        kfdt_copy(&q, va, dst.va, LEN);
        kfdt_kick(&q);
        ret = kfdt_event_wait(&p, mem_ev, 1000, &wr);
        if (dst.cpu[0]) {
            printf("demo: mallory  GPU DMA from %s's VA %#llx READ: \"%.63s\"\n",
                   name, (unsigned long long)va, (char *)dst.cpu);
            stolen++;
        } else if (!ret && wr == KFD_IOC_WAIT_RESULT_COMPLETE) {
            printf("demo: mallory  GPU DMA from %s's VA %#llx FAULTED "
                   "(GPU VM fault in mallory's own context, nothing read)\n",
                   name, (unsigned long long)va);
        } else {
            printf("demo: mallory  GPU DMA from %s's VA %#llx: nothing read, "
                   "no fault reported (wait %d/%u)\n", name,
                   (unsigned long long)va, ret, wr);
        }
    }
    printf("demo: RESULT %s\n", stolen ? "secrets STOLEN through GPU DMA" :
           "attack faulted, secrets safe");
    return stolen ? 3 : 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 5 && !strcmp(argv[1], "owner")) {
        return owner(argv[2], strtoull(argv[3], NULL, 0), argv[4]);
    }
    if (argc >= 3 && !strcmp(argv[1], "attack")) {
        return attack(argc - 2, argv + 2);
    }
    fprintf(stderr, "usage: kfd-demo owner NAME VA SECRET | "
            "attack NAME:VA ...\n");
    return 2;
}
