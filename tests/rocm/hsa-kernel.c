/*
 * hsa-kernel: kernels dispatched by ROCr on the sim's GPU, written against
 * the HSA runtime (ROCr) only and linked against Debian's unmodified
 * libhsa-runtime64 (bookworm, 5.2.3).
 *
 *   hsa-kernel CODE_OBJECT
 *       loads CODE_OBJECT (tests/rocm/hsa-kernels.s assembled for gfx906,
 *       code object v4) into an executable for the GPU agent, then
 *       - "store": a 1-D grid of N work-items in workgroups of WG, each
 *         writing id * 3 + 7 into its element of a buffer of the
 *         fine-grained system pool; the program checks every element
 *       - "illegal": one wave running an instruction the sim does not
 *         model (MUBUF), on a queue of its own: the queue must stop and
 *         ROCr must report it through the error callback given to
 *         hsa_queue_create, within WAIT_S seconds
 *       Both go through an AQL KERNEL_DISPATCH packet written the
 *       documented way: body first, the header last with a release
 *       store, then the doorbell signal.
 *
 * Lines start with "hsa-kernel: ".  Exit status: 0 the store kernel's data
 * are right and the illegal one was reported by ROCr's queue error
 * callback; 1 anything else.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <hsa/hsa.h>
#include <hsa/hsa_ext_amd.h>
#include "hsa-picks.h"

#define N 4096
#define WG 256
#define WAIT_S 20

static HsaPicks g;

/* What ROCr reported through a queue's error callback (its event thread) */
struct qerr {
    const char *label;
    volatile int seen;              /* set by ROCr's thread, polled here */
    volatile hsa_status_t status;   /* set by ROCr's thread, polled here */
};

static void die_hsa(const char *what, hsa_status_t st)
{
    const char *msg = NULL;

    hsa_status_string(st, &msg);
    printf("hsa-kernel: %s failed: 0x%x %s\n", what, st, msg ? msg : "");
    exit(1);
}

#define CHECK(call) do { hsa_status_t st_ = (call); \
        if (st_ != HSA_STATUS_SUCCESS) die_hsa(#call, st_); } while (0)

/* @len bytes of the system pool, zeroed, which the GPU may reach */
static void *sys_alloc(size_t len)
{
    void *p;

    CHECK(hsa_amd_memory_pool_allocate(g.sys, len, 0, &p));
    CHECK(hsa_amd_agents_allow_access(1, &g.gpu, NULL, p));
    memset(p, 0, len);
    return p;
}

static void *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    n = f && !fseek(f, 0, SEEK_END) ? ftell(f) : -1;
    if (n <= 0 || fseek(f, 0, SEEK_SET)) {
        printf("hsa-kernel: cannot read %s\n", path);
        exit(1);
    }
    buf = malloc(n);
    if (!buf || fread(buf, 1, n, f) != (size_t)n) {
        printf("hsa-kernel: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    *len = n;
    return buf;
}

struct kernel {
    const char *name;
    uint64_t object;
    uint32_t kernarg_size, group_size, private_size;
};

static void find_kernel(hsa_executable_t exe, struct kernel *k)
{
    hsa_executable_symbol_t sym;
    char sym_name[64];

    snprintf(sym_name, sizeof(sym_name), "%s.kd", k->name);
    CHECK(hsa_executable_get_symbol_by_name(exe, sym_name, &g.gpu, &sym));
    CHECK(hsa_executable_symbol_get_info(
              sym, HSA_EXECUTABLE_SYMBOL_INFO_KERNEL_OBJECT, &k->object));
    CHECK(hsa_executable_symbol_get_info(
              sym, HSA_EXECUTABLE_SYMBOL_INFO_KERNEL_KERNARG_SEGMENT_SIZE,
              &k->kernarg_size));
    CHECK(hsa_executable_symbol_get_info(
              sym, HSA_EXECUTABLE_SYMBOL_INFO_KERNEL_GROUP_SEGMENT_SIZE,
              &k->group_size));
    CHECK(hsa_executable_symbol_get_info(
              sym, HSA_EXECUTABLE_SYMBOL_INFO_KERNEL_PRIVATE_SEGMENT_SIZE,
              &k->private_size));
    printf("hsa-kernel: kernel %s: descriptor at %#" PRIx64 ", kernargs %u "
           "bytes, group %u, private %u\n", k->name, k->object,
           k->kernarg_size, k->group_size, k->private_size);
}

static void on_queue_error(hsa_status_t status, hsa_queue_t *q, void *data)
{
    struct qerr *e = data;

    e->status = status;
    __atomic_store_n(&e->seen, 1, __ATOMIC_RELEASE);
}

/*
 * One KERNEL_DISPATCH packet of @k on @q: a 1-D grid of @grid work-items
 * in workgroups of @wg, kernargs at @kernargs, completing @done
 */
static void dispatch(hsa_queue_t *q, const struct kernel *k, uint32_t grid,
                     uint16_t wg, void *kernargs, hsa_signal_t done)
{
    uint64_t id = hsa_queue_add_write_index_screlease(q, 1);
    hsa_kernel_dispatch_packet_t *p;
    uint16_t hdr;
    uint32_t word;

    while (id - hsa_queue_load_read_index_scacquire(q) >= q->size) {
        usleep(1000);
    }
    p = (hsa_kernel_dispatch_packet_t *)q->base_address + (id & (q->size - 1));
    memset((char *)p + 4, 0, sizeof(*p) - 4);
    p->workgroup_size_x = wg;
    p->workgroup_size_y = 1;
    p->workgroup_size_z = 1;
    p->grid_size_x = grid;
    p->grid_size_y = 1;
    p->grid_size_z = 1;
    p->private_segment_size = k->private_size;
    p->group_segment_size = k->group_size;
    p->kernel_object = k->object;
    p->kernarg_address = kernargs;
    p->completion_signal = done;
    hdr = HSA_PACKET_TYPE_KERNEL_DISPATCH << HSA_PACKET_HEADER_TYPE |
          1 << HSA_PACKET_HEADER_BARRIER |
          HSA_FENCE_SCOPE_SYSTEM << HSA_PACKET_HEADER_SCACQUIRE_FENCE_SCOPE |
          HSA_FENCE_SCOPE_SYSTEM << HSA_PACKET_HEADER_SCRELEASE_FENCE_SCOPE;
    /* header and setup (1 dimension) in one release store */
    word = hdr | 1u << (16 + HSA_KERNEL_DISPATCH_PACKET_SETUP_DIMENSIONS);
    __atomic_store_n((uint32_t *)p, word, __ATOMIC_RELEASE);
    hsa_signal_store_screlease(q->doorbell_signal, id);
}

static double since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * Wait up to WAIT_S seconds for @s to reach 0 or, with @e, for a report
 * of the queue's error callback: 0 the signal, -EIO the report, -ETIMEDOUT
 */
static int wait_done(hsa_signal_t s, struct qerr *e)
{
    struct timespec t0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (e && __atomic_load_n(&e->seen, __ATOMIC_ACQUIRE)) {
            return -EIO;
        }
        if (hsa_signal_wait_scacquire(s, HSA_SIGNAL_CONDITION_EQ, 0,
                                      50 * 1000 * 1000ULL,
                                      HSA_WAIT_STATE_BLOCKED) == 0) {
            return 0;
        }
        if (since(&t0) >= WAIT_S) {
            return -ETIMEDOUT;
        }
    }
}

struct args {
    uint32_t *out;
    uint32_t count;
    uint32_t pad;
};

static int run_store(const struct kernel *k)
{
    struct qerr err = { .label = "store" };
    struct timespec t0;
    hsa_signal_t done;
    struct args *a;
    hsa_queue_t *q;
    uint32_t *out;
    int ret, bad = 0, first = -1, i;

    if (k->kernarg_size > sizeof(*a)) {
        printf("hsa-kernel: store wants %u bytes of kernargs\n",
               k->kernarg_size);
        return 1;
    }
    CHECK(hsa_queue_create(g.gpu, 64, HSA_QUEUE_TYPE_SINGLE, on_queue_error,
                           &err, UINT32_MAX, UINT32_MAX, &q));
    CHECK(hsa_signal_create(1, 0, NULL, &done));
    out = sys_alloc(N * sizeof(*out));
    for (i = 0; i < N; i++) {
        out[i] = 0xdeadbeef;
    }
    a = sys_alloc(sizeof(*a));
    a->out = out;
    a->count = N;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    dispatch(q, k, N, WG, a, done);
    ret = wait_done(done, &err);
    if (ret) {
        const char *msg = NULL;

        if (ret == -EIO) {
            hsa_status_string(err.status, &msg);
        }
        printf("hsa-kernel: store: %s%s\n",
               ret == -EIO ? "ROCr reported a queue error: " :
               "no completion in time", msg ? msg : "");
        return 1;
    }
    for (i = 0; i < N; i++) {
        if (out[i] != (uint32_t)i * 3 + 7) {
            if (first < 0) {
                first = i;
            }
            bad++;
        }
    }
    printf("hsa-kernel: store: %d work-items in workgroups of %d done in "
           "%.3f s; %d of %d elements are id*3+7%s\n", N, WG, since(&t0),
           N - bad, N, bad ? "" : " (all)");
    if (bad) {
        printf("hsa-kernel: store: first wrong element %d: %#x\n", first,
               out[first]);
    }
    hsa_signal_destroy(done);
    CHECK(hsa_queue_destroy(q));
    hsa_amd_memory_pool_free(a);
    hsa_amd_memory_pool_free(out);
    return bad != 0;
}

static int run_illegal(const struct kernel *k)
{
    struct qerr err = { .label = "illegal" };
    struct timespec t0;
    const char *msg = NULL;
    hsa_signal_t done;
    struct args *a;
    hsa_queue_t *q;
    int ret;

    CHECK(hsa_queue_create(g.gpu, 64, HSA_QUEUE_TYPE_SINGLE, on_queue_error,
                           &err, UINT32_MAX, UINT32_MAX, &q));
    CHECK(hsa_signal_create(1, 0, NULL, &done));
    a = sys_alloc(sizeof(*a) + 64);
    a->out = (uint32_t *)(a + 1);
    a->count = 1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    dispatch(q, k, 64, 64, a, done);
    ret = wait_done(done, &err);
    if (ret == -EIO) {
        hsa_status_string(err.status, &msg);
        printf("hsa-kernel: illegal: after %.3f s ROCr's queue error "
               "callback reported status 0x%x: %s\n", since(&t0),
               err.status, msg ? msg : "(no string)");
    } else {
        printf("hsa-kernel: illegal: %s\n", ret == 0 ?
               "the dispatch completed, no error report" :
               "neither a completion nor an error report in time");
    }
    /* the queue is dead: it and its signal go with the process */
    return ret != -EIO || err.status == HSA_STATUS_SUCCESS;
}

int main(int argc, char **argv)
{
    struct kernel store = { .name = "store" }, illegal = { .name = "illegal" };
    hsa_code_object_reader_t reader;
    hsa_executable_t exe;
    char gpu_name[64] = "", isa_name[128] = "";
    hsa_profile_t profile;
    hsa_isa_t isa;
    uint32_t len;
    size_t size;
    void *co;
    int bad;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 2) {
        fprintf(stderr, "usage: hsa-kernel CODE_OBJECT\n");
        return 2;
    }
    alarm(WAIT_S * 4);
    co = read_file(argv[1], &size);
    CHECK(hsa_init());
    CHECK(hsa_pick(&g));
    if (!g.have_gpu || !g.have_sys) {
        printf("hsa-kernel: no GPU agent and fine-grained system pool "
               "(gpu %d sys %d)\n", g.have_gpu, g.have_sys);
        return 1;
    }
    hsa_agent_get_info(g.gpu, HSA_AGENT_INFO_NAME, gpu_name);
    CHECK(hsa_agent_get_info(g.gpu, HSA_AGENT_INFO_PROFILE, &profile));
    CHECK(hsa_agent_get_info(g.gpu, HSA_AGENT_INFO_ISA, &isa));
    CHECK(hsa_isa_get_info_alt(isa, HSA_ISA_INFO_NAME_LENGTH, &len));
    if (len < sizeof(isa_name)) {
        hsa_isa_get_info_alt(isa, HSA_ISA_INFO_NAME, isa_name);
    }
    printf("hsa-kernel: GPU agent %s, ISA %s; loading %s (%zu bytes)\n",
           gpu_name, isa_name, argv[1], size);
    CHECK(hsa_code_object_reader_create_from_memory(co, size, &reader));
    CHECK(hsa_executable_create_alt(profile,
                                    HSA_DEFAULT_FLOAT_ROUNDING_MODE_DEFAULT,
                                    NULL, &exe));
    CHECK(hsa_executable_load_agent_code_object(exe, g.gpu, reader, NULL,
                                                NULL));
    CHECK(hsa_executable_freeze(exe, NULL));
    find_kernel(exe, &store);
    find_kernel(exe, &illegal);
    bad = run_store(&store);
    bad |= run_illegal(&illegal);
    printf("hsa-kernel: %s\n", bad ? "FAIL" : "PASS");
    /*
     * ROCr's hsa_shut_down waits for the dead queue: leave without it
     * once the report is in (as rocm-secrets does after a fault)
     */
    fflush(stdout);
    _exit(bad);
}
