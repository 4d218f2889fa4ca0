/*
 * rocm-secrets: the owners and the attacker of the ROCm isolation test,
 * written against the HSA runtime (ROCr) only and linked against Debian's
 * unmodified libhsa-runtime64 (bookworm, 5.2.3).
 *
 *   rocm-secrets owner NAME SECRET
 *       keeps SECRET in device memory (the GPU's coarse-grained VRAM
 *       pool), put there by ROCr's SDMA engine from system memory; writes
 *       the buffer's GPU address to /tmp/rocm-NAME.addr, then
 *       /tmp/rocm-NAME.ready; when /tmp/rocm-done appears it reads the
 *       buffer back by SDMA and checks that it is unchanged.
 *
 *   rocm-secrets attack [--rocr-abort] NAME:ADDR ...
 *       for each target, in a process of its own (its own ROCr and
 *       /dev/kfd: "rocm-secrets attack-one ..." executed anew), copies 64 bytes from ADDR with hsa_amd_memory_async_copy
 *       from the GPU agent to the CPU agent, a copy ROCr 5.2.3 runs on its
 *       SDMA device-to-host blit.  The copy is gated by a barrier-AND
 *       packet on an AQL queue of the attacker's own (its completion
 *       signal is the copy's dependency), and a second barrier-AND packet
 *       waits for the copy; the attacker waits for that one.  A GPU memory
 *       fault is what ROCr reports through the system event handler
 *       registered with hsa_amd_register_system_event_handler (ROCr's
 *       VMFaultHandler, woken by the KFD's memory event, calls it).  With
 *       --rocr-abort no handler is registered, and ROCr's own fault path
 *       runs: its message on stderr, then abort().
 *
 * Lines start with "rocm: " (the demo shows them).  The attacker's exit
 * status: 0 every target faulted and nothing was read, 3 at least one
 * secret was read, 1 anything else (an error, a hang).
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <hsa/hsa.h>
#include <hsa/hsa_ext_amd.h>
#include "hsa-picks.h"

#define LEN 64
#define BUF 4096
#define WAIT_S 30

static HsaPicks g;

/* Set by the fault handler (ROCr's event thread) */
static volatile int fault_seen;
static volatile uint64_t fault_va;
static volatile uint32_t fault_reason;

static const char *name = "?";

static void die_hsa(const char *what, hsa_status_t st)
{
    const char *msg = NULL;

    hsa_status_string(st, &msg);
    printf("rocm: %s: %s failed: 0x%x %s\n", name, what, st, msg ? msg : "");
    exit(1);
}

#define CHECK(call) do { hsa_status_t st_ = (call); \
        if (st_ != HSA_STATUS_SUCCESS) die_hsa(#call, st_); } while (0)

/*
 * The guest driver's record of this process's /dev/kfd context (debugfs),
 * as "guest context C -> host KFD context H, PASID P (kind)"
 */
static void my_context(char *out, size_t len)
{
    FILE *f = fopen("/sys/kernel/debug/amdkfd_mc/contexts", "r");
    unsigned ctx, host, pasid, flags;
    char line[256];
    int pid;

    snprintf(out, len, "no context in the driver's debugfs");
    while (f && fgets(line, sizeof(line), f)) {
        if (sscanf(line, "pid=%d ctx=%x host_ctx=%x pasid=%u flags=%x",
                   &pid, &ctx, &host, &pasid, &flags) == 5 &&
            pid == getpid()) {
            snprintf(out, len, "guest context %#x -> host KFD context %#x, "
                     "PASID %u%s", ctx, host, pasid,
                     flags & 2 ? " (SHARED: legacy-shared=on)" :
                     flags & 1 ? " (own secondary context)" : "");
            break;
        }
    }
    if (f) {
        fclose(f);
    }
}

static void setup(void)
{
    char gpu_name[64] = "", ctx[160];

    CHECK(hsa_init());
    CHECK(hsa_pick(&g));
    if (!g.have_gpu || !g.have_cpu || !g.have_vram || !g.have_sys) {
        printf("rocm: %s: no GPU agent with a VRAM pool and a system pool "
               "(gpu %d cpu %d vram %d sys %d)\n", name, g.have_gpu,
               g.have_cpu, g.have_vram, g.have_sys);
        exit(1);
    }
    hsa_agent_get_info(g.gpu, HSA_AGENT_INFO_NAME, gpu_name);
    my_context(ctx, sizeof(ctx));
    printf("rocm: %-8s pid %-4d ROCr sees GPU agent %s; %s\n", name,
           (int)getpid(), gpu_name, ctx);
}

/* System memory the GPU may reach */
static char *sys_alloc(void)
{
    void *p;

    CHECK(hsa_amd_memory_pool_allocate(g.sys, BUF, 0, &p));
    CHECK(hsa_amd_agents_allow_access(1, &g.gpu, NULL, p));
    memset(p, 0, BUF);
    return p;
}

/* Wait for @s to reach 0 for up to @secs seconds, or for a fault */
static int wait_zero(hsa_signal_t s, int secs)
{
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (hsa_signal_wait_scacquire(s, HSA_SIGNAL_CONDITION_EQ, 0,
                                      100 * 1000 * 1000ULL,
                                      HSA_WAIT_STATE_BLOCKED) == 0) {
            return 0;
        }
        if (fault_seen) {
            return -EFAULT;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec >= secs) {
            return -ETIMEDOUT;
        }
    }
}

/* One SDMA copy of @len bytes, waited for */
static void copy(void *dst, hsa_agent_t dst_agent, const void *src,
                 hsa_agent_t src_agent, size_t len)
{
    hsa_signal_t done;

    CHECK(hsa_signal_create(1, 0, NULL, &done));
    CHECK(hsa_amd_memory_async_copy(dst, dst_agent, src, src_agent, len, 0,
                                    NULL, done));
    if (wait_zero(done, WAIT_S)) {
        printf("rocm: %s: an SDMA copy did not complete\n", name);
        exit(1);
    }
    hsa_signal_destroy(done);
}

static void touch(const char *fmt, const char *arg, const char *text)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), fmt, arg);
    f = fopen(path, "w");
    if (!f) {
        printf("rocm: %s: cannot write %s\n", name, path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static int owner(const char *secret)
{
    char *host, addr[32];
    void *vram;
    int t;

    setup();
    host = sys_alloc();
    CHECK(hsa_amd_memory_pool_allocate(g.vram, BUF, 0, &vram));
    strncpy(host, secret, LEN - 1);
    copy(vram, g.gpu, host, g.cpu, LEN);
    memset(host, 0, BUF);
    printf("rocm: %-8s stored \"%s\" in device memory at GPU address %p "
           "(ROCr's SDMA copy from system memory)\n", name, secret, vram);
    fflush(stdout);
    snprintf(addr, sizeof(addr), "%p\n", vram);
    touch("/tmp/rocm-%s.addr", name, addr);
    touch("/tmp/rocm-%s.ready", name, "");
    for (t = 0; access("/tmp/rocm-done", F_OK); t++) {
        if (t > 20 * 600) {
            printf("rocm: %s: /tmp/rocm-done never came\n", name);
            return 1;
        }
        usleep(50000);
    }
    copy(host, g.cpu, vram, g.gpu, LEN);
    if (strncmp(host, secret, LEN - 1)) {
        printf("rocm: %-8s my secret was changed: \"%.*s\"\n", name, LEN,
               host);
        return 1;
    }
    printf("rocm: %-8s secret intact (read back by SDMA)\n", name);
    hsa_amd_memory_pool_free(vram);
    hsa_amd_memory_pool_free(host);
    CHECK(hsa_shut_down());
    return 0;
}

static hsa_status_t on_event(const hsa_amd_event_t *ev, void *data)
{
    if (ev->event_type != HSA_AMD_GPU_MEMORY_FAULT_EVENT) {
        return HSA_STATUS_ERROR;
    }
    fault_va = ev->memory_fault.virtual_address;
    fault_reason = ev->memory_fault.fault_reason_mask;
    __atomic_store_n(&fault_seen, 1, __ATOMIC_RELEASE);
    return HSA_STATUS_SUCCESS;
}

/* An AQL barrier-AND packet waiting for @dep, completing @completion */
static void barrier(hsa_queue_t *q, hsa_signal_t dep, hsa_signal_t completion)
{
    uint64_t id = hsa_queue_add_write_index_screlease(q, 1);
    hsa_barrier_and_packet_t *p;
    uint16_t hdr;

    while (id - hsa_queue_load_read_index_scacquire(q) >= q->size) {
        usleep(1000);
    }
    p = (hsa_barrier_and_packet_t *)q->base_address + (id & (q->size - 1));
    memset((char *)p + 4, 0, sizeof(*p) - 4);
    p->dep_signal[0] = dep;
    p->completion_signal = completion;
    hdr = HSA_PACKET_TYPE_BARRIER_AND << HSA_PACKET_HEADER_TYPE |
          1 << HSA_PACKET_HEADER_BARRIER |
          HSA_FENCE_SCOPE_SYSTEM << HSA_PACKET_HEADER_SCACQUIRE_FENCE_SCOPE |
          HSA_FENCE_SCOPE_SYSTEM << HSA_PACKET_HEADER_SCRELEASE_FENCE_SCOPE;
    __atomic_store_n((uint32_t *)p, hdr, __ATOMIC_RELEASE);
    hsa_signal_store_screlease(q->doorbell_signal, id);
}

/* One target, in a child: 0 faulted and nothing read, 3 read, 1 error */
static int attack_one(const char *target, uint64_t va, int rocr_abort)
{
    hsa_signal_t gate, copied, done;
    hsa_queue_t *q;
    char *dst;
    int ret, i;

    name = "mallory";
    setup();
    if (!rocr_abort) {
        CHECK(hsa_amd_register_system_event_handler(on_event, NULL));
    }
    dst = sys_alloc();
    CHECK(hsa_queue_create(g.gpu, 64, HSA_QUEUE_TYPE_SINGLE, NULL, NULL,
                           UINT32_MAX, UINT32_MAX, &q));
    CHECK(hsa_signal_create(1, 0, NULL, &gate));
    CHECK(hsa_signal_create(1, 0, NULL, &copied));
    CHECK(hsa_signal_create(1, 0, NULL, &done));
    printf("rocm: mallory  copies %d bytes from %s's GPU address %#" PRIx64
           " (hsa_amd_memory_async_copy GPU->CPU: SDMA), gated and "
           "waited for by AQL barrier packets\n", LEN, target, va);
    fflush(stdout);
    CHECK(hsa_amd_memory_async_copy(dst, g.cpu, (void *)(uintptr_t)va,
                                    g.gpu, LEN, 1, &gate, copied));
    barrier(q, (hsa_signal_t){ 0 }, gate);
    barrier(q, copied, done);
    ret = wait_zero(done, WAIT_S);
    for (i = 0; i < LEN && !dst[i]; i++) {
    }
    if (ret == 0 && i < LEN) {
        printf("rocm: mallory  READ %s's secret: \"%.*s\"\n", target, LEN,
               dst);
        hsa_signal_destroy(gate);
        hsa_signal_destroy(copied);
        hsa_signal_destroy(done);
        hsa_queue_destroy(q);
        hsa_amd_memory_pool_free(dst);
        CHECK(hsa_shut_down());
        return 3;
    }
    if (ret == -EFAULT) {
        printf("rocm: mallory  ROCr reported a GPU memory fault in my own "
               "process: address %#" PRIx64 ", reason %#x%s\n", fault_va,
               fault_reason, fault_reason &
               HSA_AMD_MEMORY_FAULT_PAGE_NOT_PRESENT ? " (page not present)" :
               "");
        printf("rocm: mallory  read nothing from %s (%s)\n", target,
               i < LEN ? "but the buffer changed!" : "buffer still zero");
        if (i < LEN || (fault_va & ~0xFFFULL) != (va & ~0xFFFULL)) {
            printf("rocm: mallory  unexpected: the fault is not at the "
                   "target's page, or data arrived\n");
            return 1;
        }
        /* the SDMA queue stopped at the fault: leave without hsa_shut_down */
        fflush(stdout);
        _exit(0);
    }
    printf("rocm: mallory  the copy from %s neither completed nor faulted "
           "(%s)\n", target, ret == -ETIMEDOUT ? "timed out" : "no data");
    return 1;
}

static int parse_target(const char *arg, char *target, size_t len,
                        uint64_t *va)
{
    const char *colon = strchr(arg, ':');

    if (!colon || colon == arg || (size_t)(colon - arg) >= len) {
        printf("rocm: mallory: bad target %s\n", arg);
        return -1;
    }
    snprintf(target, len, "%.*s", (int)(colon - arg), arg);
    *va = strtoull(colon + 1, NULL, 0);
    return 0;
}

/*
 * Each target in a process of its own, executed afresh (its own address
 * space layout, as separately started programs have: with one shared GPU
 * VM, legacy-shared=on, forked copies would all pick the same GPU
 * addresses for their own buffers)
 */
static int attack(int argc, char **argv)
{
    int rocr_abort = 0, worst = 0, i;

    if (argc > 0 && !strcmp(argv[0], "--rocr-abort")) {
        rocr_abort = 1;
        argc--;
        argv++;
    }
    for (i = 0; i < argc; i++) {
        char target[32];
        uint64_t va;
        int st, rc;
        pid_t pid;

        if (parse_target(argv[i], target, sizeof(target), &va)) {
            return 1;
        }
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
            char *args[] = { "rocm-secrets", "attack-one",
                             rocr_abort ? "--rocr-abort" : argv[i],
                             argv[i], NULL };

            if (!rocr_abort) {
                args[3] = NULL;
            }
            execv("/proc/self/exe", args);
            _exit(1);
        }
        if (pid < 0 || waitpid(pid, &st, 0) != pid) {
            return 1;
        }
        if (WIFEXITED(st)) {
            rc = WEXITSTATUS(st);
        } else {
            printf("rocm: mallory  attack on %s ended by signal %d (%s)\n",
                   target, WTERMSIG(st), strsignal(WTERMSIG(st)));
            rc = rocr_abort && WTERMSIG(st) == SIGABRT ? 0 : 1;
        }
        if (rc == 3 || (rc == 1 && worst != 3)) {
            worst = rc;
        }
    }
    return worst;
}

static int attack_child(int argc, char **argv)
{
    int rocr_abort = argc == 2 && !strcmp(argv[0], "--rocr-abort");
    char target[32];
    uint64_t va;

    if (argc != 1 + rocr_abort ||
        parse_target(argv[rocr_abort], target, sizeof(target), &va)) {
        return 1;
    }
    alarm(WAIT_S * 2);
    return attack_one(target, va, rocr_abort);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && !strcmp(argv[1], "owner")) {
        name = argv[2];
        return owner(argv[3]);
    }
    if (argc >= 3 && !strcmp(argv[1], "attack")) {
        return attack(argc - 2, argv + 2);
    }
    if (argc >= 3 && !strcmp(argv[1], "attack-one")) {
        return attack_child(argc - 2, argv + 2);
    }
    fprintf(stderr, "usage: rocm-secrets owner NAME SECRET | "
            "attack [--rocr-abort] NAME:ADDR ...\n");
    return 2;
}
