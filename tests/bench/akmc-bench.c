/*
 * amdkfd-mc benchmarks run from the host through qtest (make bench):
 *
 *   device-cost         ns per forwarded GET_VERSION through the ring
 *                       (4095 commands per doorbell) and its parts
 *   context-scaling     create+destroy of 1024 vs. 4096 contexts, host
 *                       memory per live context
 *   head-of-line        context B's command latency while context A
 *                       blocks in WAIT_EVENTS vs. B alone
 *   window-map-rate     OP_MAP_WINDOW + OP_UNMAP_WINDOW per second with
 *                       10 000 live mappings vs. 10
 *   window-destroy      OP_DESTROY_CONTEXT of a context with 10 000
 *                       mappings
 *   window-rss          QEMU's RSS after unmapping them all vs. before
 *
 * Each figure is printed as "name: value unit (ratio R)"; detail lines
 * start with "# ".  Benchmarks never fail on timing: the exit status is
 * non-zero only when a figure could not be measured at all (a command
 * failed, QEMU did not start).
 *
 *   akmc-bench [throughput|scaling|hol|window]...   (default: all)
 *
 * Needs QTEST_QEMU_BINARY.  AKMC_BENCH_QUICK=1 runs fewer repetitions.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "amdkfd-mc-harness.h"
#include "sim-kfd.h"

#define RING_ENTRIES    4096
#define BATCH_MAX       (RING_ENTRIES - 1)

static bool quick;

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void G_GNUC_NORETURN G_GNUC_PRINTF(1, 2) die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "akmc-bench: cannot run: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static AkmcDev *bench_start(const char *opts, uint32_t entries)
{
    AkmcDev *d = akmc_start(opts);

    if (!(akmc_ring_setup(d, entries) & AMDKFD_MC_STATUS_READY)) {
        die("rings of %u entries did not become ready", entries);
    }
    return d;
}

static uint32_t ctx_new(AkmcDev *d)
{
    uint32_t id = 0;

    if (akmc_ctx_create(d, &id, NULL) != AMDKFD_MC_S_OK) {
        die("OP_CREATE_CONTEXT failed");
    }
    return id;
}

static double qtest_rtt_us(AkmcDev *d)
{
    double v[201];
    int i;

    for (i = 0; i < ARRAY_SIZE(v); i++) {
        int64_t t0 = now_ns();

        akmc_readl(d, AMDKFD_MC_REG_MAGIC);
        v[i] = (now_ns() - t0) / 1e3;
    }
    return median(v, ARRAY_SIZE(v));
}

/* ---- 2. device-cost ---- */

static double direct_rate(void)
{
    SimKfdConfig cfg = {
        .num_nodes = 1,
        .vram_size = 64 << 20,
        .gtt_size = 64 << 20,
        .multi_context = true,
    };
    SimKfd *kfd = sim_kfd_new(&cfg);
    SimKfdFile *f = kfd ? sim_kfd_open(kfd) : NULL;
    double rates[9];
    const int calls = quick ? 200000 : 2000000;
    int r, i;

    if (!f || sim_kfd_ioctl(f, AMDKFD_IOC_CREATE_PROCESS, NULL)) {
        die("the sim model refused a secondary context");
    }
    for (r = 0; r < ARRAY_SIZE(rates); r++) {
        int64_t t0 = now_ns();

        for (i = 0; i < calls; i++) {
            struct kfd_ioctl_get_version_args v = { 0 };

            if (sim_kfd_ioctl(f, AMDKFD_IOC_GET_VERSION, &v) ||
                v.major_version != SIM_KFD_VERSION_MAJOR) {
                die("direct GET_VERSION failed");
            }
        }
        rates[r] = calls / ((now_ns() - t0) / 1e9);
    }
    sim_kfd_close(f);
    sim_kfd_free(kfd);
    return median(rates, ARRAY_SIZE(rates));
}

/*
 * Commands per second of @cmd repeated over the whole SQ: a batch is just
 * a doorbell write, so the guest-side cost of writing commands (plain RAM
 * stores in a real guest, a socket transfer in qtest) is not counted, the
 * device's is.  Every completion of the warm-up batch must have @status.
 */
static double ring_rate(AkmcDev *d, const struct amdkfd_mc_cmd *cmd,
                        uint32_t status)
{
    g_autofree struct amdkfd_mc_cmd *cmds = g_new0(struct amdkfd_mc_cmd,
                                                   RING_ENTRIES);
    g_autofree struct amdkfd_mc_cpl *cpls = g_new0(struct amdkfd_mc_cpl,
                                                   BATCH_MAX);
    const int reps = quick ? 3 : 9, batches = quick ? 3 : 10;
    double rates[9];
    uint32_t i;
    int r, b;

    for (i = 0; i < RING_ENTRIES; i++) {
        cmds[i] = *cmd;
        cmds[i].cookie = i;
    }
    d->sq_tail = akmc_readl(d, AMDKFD_MC_REG_SQ_HEAD);
    akmc_ring_put(d, cmds, RING_ENTRIES);
    g_assert_cmpuint(d->sq_tail, ==, d->cq_head);

    /* Warm up, and check that every command really ran */
    akmc_ring_run(d, BATCH_MAX, cpls);
    for (i = 0; i < BATCH_MAX; i++) {
        if (cpls[i].status != status || cpls[i].result != 0) {
            die("opcode 0x%x through the ring: status %u result %d",
                cmd->opcode, cpls[i].status, (int32_t)cpls[i].result);
        }
    }
    for (r = 0; r < reps; r++) {
        int64_t ns = 0;

        for (b = 0; b < batches; b++) {
            ns += akmc_ring_run(d, BATCH_MAX, NULL);
        }
        rates[r] = (double)batches * BATCH_MAX / (ns / 1e9);
    }
    return median(rates, reps);
}

/*
 * device-cost: ns per forwarded GET_VERSION with the ring pre-filled, and
 * what it is made of: the ring alone (commands of an unknown opcode: fetch
 * and completion), the sim's own call, and the rest (context lookup,
 * marshaling, the payload in and out)
 */
static void bench_throughput(void)
{
    AkmcDev *d = bench_start("", RING_ENTRIES);
    uint32_t ctx = ctx_new(d);
    struct amdkfd_mc_cmd version = {
        .opcode = AMDKFD_MC_OP_IOCTL,
        .ctx_id = ctx,
        .payload_addr = d->payload,
        .payload_len = sizeof(struct kfd_ioctl_get_version_args),
        .arg0 = AMDKFD_IOC_GET_VERSION,
    };
    struct amdkfd_mc_cmd nop = { .opcode = 0x7777 };
    struct kfd_ioctl_get_version_args v;
    double fwd, ring, direct, rtt, per_cmd, ring_ns, sim_ns;

    fwd = ring_rate(d, &version, AMDKFD_MC_S_OK);
    qtest_memread(d->qts, d->payload, &v, sizeof(v));
    if (le32_to_cpu(v.major_version) != SIM_KFD_VERSION_MAJOR) {
        die("GET_VERSION through the ring returned no version");
    }
    ring = ring_rate(d, &nop, AMDKFD_MC_S_INVALID_OPCODE);
    rtt = qtest_rtt_us(d);
    akmc_stop(d);
    direct = direct_rate();

    per_cmd = 1e9 / fwd;
    ring_ns = 1e9 / ring;
    sim_ns = 1e9 / direct;
    printf("device-cost: %.0f ns/command (ratio %.2f)\n", per_cmd,
           per_cmd / 100);
    printf("# device-cost: a forwarded GET_VERSION on backend=sim, %u "
           "commands per doorbell, median of %d; ratio to the goal of "
           "100 ns (goal ratio <= 1)%s\n", BATCH_MAX, quick ? 3 : 9,
           per_cmd > 100 ? " below goal" : "");
    printf("# device-cost: ring alone (fetch, completion, qtest edges) "
           "%.0f ns, the sim's GET_VERSION %.0f ns, context, marshaling "
           "and payload %.0f ns\n", ring_ns, sim_ns,
           MAX(per_cmd - ring_ns - sim_ns, 0));
    printf("# device-cost: qtest round trip %.1f us; a batch pays about 3 "
           "of them (doorbell, final poll, CQ_HEAD): %.1f ns per command "
           "of the figure\n", rtt, 3 * rtt * 1e3 / BATCH_MAX);
}

/* ---- 3. context-scaling ---- */

static uint64_t rss_bytes(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/statm", (int)pid);
    g_autofree char *text = NULL;
    unsigned long size, rss;

    if (!g_file_get_contents(path, &text, NULL, NULL) ||
        sscanf(text, "%lu %lu", &size, &rss) != 2) {
        die("cannot read %s", path);
    }
    return (uint64_t)rss * qemu_real_host_page_size();
}

/* Create @n contexts in batches; their ids go to @ids.  Returns ns. */
static int64_t create_many(AkmcDev *d, uint32_t n, uint32_t *ids,
                           struct amdkfd_mc_cmd *cmds,
                           struct amdkfd_mc_cpl *cpls)
{
    int64_t ns = 0;
    uint32_t done = 0, i;

    while (done < n) {
        uint32_t k = MIN(n - done, BATCH_MAX);

        for (i = 0; i < k; i++) {
            cmds[i] = (struct amdkfd_mc_cmd) {
                .opcode = AMDKFD_MC_OP_CREATE_CONTEXT,
                .cookie = done + i,
            };
        }
        akmc_ring_put(d, cmds, k);
        ns += akmc_ring_run(d, k, cpls);
        for (i = 0; i < k; i++) {
            if (cpls[i].status != AMDKFD_MC_S_OK) {
                die("OP_CREATE_CONTEXT %u of %u: status %u result %d",
                    done + i + 1, n, cpls[i].status, (int32_t)cpls[i].result);
            }
            ids[done + i] = cpls[i].value;
        }
        done += k;
    }
    return ns;
}

static int64_t destroy_many(AkmcDev *d, uint32_t n, const uint32_t *ids,
                            struct amdkfd_mc_cmd *cmds,
                            struct amdkfd_mc_cpl *cpls)
{
    int64_t ns = 0;
    uint32_t done = 0, i;

    while (done < n) {
        uint32_t k = MIN(n - done, BATCH_MAX);

        for (i = 0; i < k; i++) {
            cmds[i] = (struct amdkfd_mc_cmd) {
                .opcode = AMDKFD_MC_OP_DESTROY_CONTEXT,
                .ctx_id = ids[done + i],
                .cookie = done + i,
            };
        }
        akmc_ring_put(d, cmds, k);
        ns += akmc_ring_run(d, k, cpls);
        for (i = 0; i < k; i++) {
            if (cpls[i].status != AMDKFD_MC_S_OK) {
                die("OP_DESTROY_CONTEXT: status %u", cpls[i].status);
            }
        }
        done += k;
    }
    return ns;
}

static uint64_t sim_bytes_per_context(uint32_t n)
{
    SimKfdConfig cfg = {
        .num_nodes = 1,
        .vram_size = 512 << 20,
        .gtt_size = 512 << 20,
        .multi_context = true,
    };
    SimKfd *kfd = sim_kfd_new(&cfg);
    g_autofree SimKfdFile **f = g_new0(SimKfdFile *, n);
    SimKfdFile *primary = sim_kfd_open(kfd);
    uint64_t base, live;
    uint32_t i;

    base = sim_kfd_live_host_bytes(kfd);
    for (i = 0; i < n; i++) {
        f[i] = sim_kfd_open(kfd);
        if (!f[i] || sim_kfd_ioctl(f[i], AMDKFD_IOC_CREATE_PROCESS, NULL)) {
            die("sim model: secondary context %u failed", i);
        }
    }
    live = sim_kfd_live_host_bytes(kfd);
    for (i = 0; i < n; i++) {
        sim_kfd_close(f[i]);
    }
    sim_kfd_close(primary);
    sim_kfd_free(kfd);
    return (live - base) / n;
}

/* The same cycles straight on the model, in this process: ms */
static double sim_cycle_ms(uint32_t n)
{
    SimKfdConfig cfg = {
        .num_nodes = 1,
        .vram_size = 512 << 20,
        .gtt_size = 512 << 20,
        .multi_context = true,
    };
    SimKfd *kfd = sim_kfd_new(&cfg);
    g_autofree SimKfdFile **f = g_new0(SimKfdFile *, n);
    SimKfdFile *primary = sim_kfd_open(kfd);
    int64_t t0;
    uint32_t i;

    t0 = now_ns();
    for (i = 0; i < n; i++) {
        f[i] = sim_kfd_open(kfd);
        if (!f[i] || sim_kfd_ioctl(f[i], AMDKFD_IOC_CREATE_PROCESS, NULL)) {
            die("sim model: secondary context %u failed", i);
        }
    }
    for (i = 0; i < n; i++) {
        sim_kfd_close(f[i]);
    }
    t0 = now_ns() - t0;
    sim_kfd_close(primary);
    sim_kfd_free(kfd);
    return t0 / 1e6;
}

static void bench_scaling(void)
{
    AkmcDev *d = bench_start(",max-contexts=4096", RING_ENTRIES);
    g_autofree struct amdkfd_mc_cmd *cmds = g_new0(struct amdkfd_mc_cmd,
                                                   BATCH_MAX);
    g_autofree struct amdkfd_mc_cpl *cpls = g_new0(struct amdkfd_mc_cpl,
                                                   BATCH_MAX);
    g_autofree uint32_t *ids = g_new0(uint32_t, 4096);
    const int reps = quick ? 3 : 7;
    static const uint32_t sizes[2] = { 1024, 4096 };
    double t[2][7], med[2], sim_med[2];
    uint64_t rss0, rss1, sim_bytes;
    pid_t pid = qtest_pid(d->qts);
    int r, s;

    /* Host memory: QEMU's RSS with 4096 live contexts vs. none */
    rss0 = rss_bytes(pid);
    create_many(d, 4096, ids, cmds, cpls);
    if (akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS) != 4096) {
        die("LIVE_CONTEXTS is not 4096");
    }
    rss1 = rss_bytes(pid);
    destroy_many(d, 4096, ids, cmds, cpls);

    for (r = 0; r < reps; r++) {
        for (s = 0; s < 2; s++) {
            int64_t ns = create_many(d, sizes[s], ids, cmds, cpls);

            ns += destroy_many(d, sizes[s], ids, cmds, cpls);
            t[s][r] = ns / 1e6;
        }
    }
    if (akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS) != 0) {
        die("contexts left after destroy");
    }
    akmc_stop(d);
    med[0] = median(t[0], reps);
    med[1] = median(t[1], reps);
    sim_bytes = sim_bytes_per_context(4096);
    for (r = 0; r < reps; r++) {
        t[0][r] = sim_cycle_ms(1024);
        t[1][r] = sim_cycle_ms(4096);
    }
    sim_med[0] = median(t[0], reps);
    sim_med[1] = median(t[1], reps);

    printf("context-scaling: %.1f ms for 4096 contexts, %.1f ms for 1024, "
           "%" PRIu64 " bytes per context (ratio %.2f)\n", med[1], med[0],
           (rss1 - rss0) / 4096, med[1] / med[0]);
    printf("# context-scaling: create+destroy, %u per doorbell, %.2f us "
           "(1024) and %.2f us (4096) per context; goal ratio <= 4.4\n",
           BATCH_MAX, med[0] * 1e3 / 1024, med[1] * 1e3 / 4096);
    printf("# context-scaling: per live context: %" PRIu64 " bytes of "
           "QEMU RSS (%.1f MiB for 4096), of which %" PRIu64 " bytes "
           "are the sim model's own (sim_kfd_live_host_bytes)\n",
           (rss1 - rss0) / 4096, (rss1 - rss0) / 1048576.0, sim_bytes);
    printf("# context-scaling: the sim model alone (sim_kfd_open + "
           "CREATE_PROCESS, then close, in this process): %.2f ms for 4096, "
           "%.2f ms for 1024 (ratio %.2f)\n", sim_med[1], sim_med[0],
           sim_med[1] / sim_med[0]);
}

/* ---- 4. head-of-line ---- */

typedef struct {
    struct kfd_ioctl_wait_events_args a;
    struct kfd_event_data ev;
} WaitPayload;

static uint32_t event_new(AkmcDev *d, uint32_t ctx, bool signaled_manual)
{
    struct kfd_ioctl_create_event_args a = {
        .event_type = KFD_IOC_EVENT_SIGNAL,
        .auto_reset = signaled_manual ? 0 : 1,
    };
    struct kfd_ioctl_set_event_args set = { 0 };
    int32_t res = -1;

    if (akmc_ioctl(d, ctx, AMDKFD_IOC_CREATE_EVENT, &a, sizeof(a), &res) !=
        AMDKFD_MC_S_OK || res) {
        die("CREATE_EVENT failed (%d)", res);
    }
    if (signaled_manual) {
        set.event_id = a.event_id;
        if (akmc_ioctl(d, ctx, AMDKFD_IOC_SET_EVENT, &set, sizeof(set),
                       &res) != AMDKFD_MC_S_OK || res) {
            die("SET_EVENT failed (%d)", res);
        }
    }
    return a.event_id;
}

/* Latency of one command of B from doorbell to completion, in us */
static double one_cmd_us(AkmcDev *d, struct amdkfd_mc_cmd *cmd)
{
    struct amdkfd_mc_cpl cpl;
    int64_t ns;

    akmc_ring_put(d, cmd, 1);
    ns = akmc_ring_run(d, 1, &cpl);
    if (cpl.cookie != cmd->cookie || cpl.status != AMDKFD_MC_S_OK ||
        cpl.result != 0) {
        die("B's command: cookie %" PRIx64 " (expected %" PRIx64 ") "
            "status %u result %d", cpl.cookie, cmd->cookie, cpl.status,
            (int32_t)cpl.result);
    }
    return ns / 1e3;
}

static void bench_hol(void)
{
    AkmcDev *d = bench_start("", 64);
    const int rounds = 3, samples = quick ? 100 : 400;
    g_autofree double *lat = g_new(double, 2 * rounds * samples);
    g_autofree double *wlat = g_new(double, 2 * rounds * samples);
    uint32_t a = ctx_new(d), b = ctx_new(d);
    uint32_t ev_a = event_new(d, a, false);
    uint32_t ev_b = event_new(d, b, true);
    uint64_t wait_payload = d->payload + 4096, b_payload = d->payload;
    uint64_t b_wait_payload = d->payload + 8192;
    struct amdkfd_mc_cmd get_version = {
        .opcode = AMDKFD_MC_OP_IOCTL, .ctx_id = b,
        .payload_addr = b_payload,
        .payload_len = sizeof(struct kfd_ioctl_get_version_args),
        .arg0 = AMDKFD_IOC_GET_VERSION,
    };
    struct amdkfd_mc_cmd b_wait = {
        .opcode = AMDKFD_MC_OP_IOCTL, .ctx_id = b,
        .payload_addr = b_wait_payload, .payload_len = sizeof(WaitPayload),
        .arg0 = AMDKFD_IOC_WAIT_EVENTS,
    };
    WaitPayload w = { 0 }, wb = { 0 };
    double med[2][2];
    int n[2] = { 0, 0 }, round, i, mode;

    /* B waits on its own manual-reset event that is set: returns at once */
    wb.a.events_ptr = cpu_to_le64(sizeof(wb.a));
    wb.a.num_events = cpu_to_le32(1);
    wb.a.timeout = cpu_to_le32(1000);
    wb.ev.event_id = cpu_to_le32(ev_b);
    qtest_bufwrite(d->qts, b_wait_payload, &wb, sizeof(wb));
    w = wb;

    for (round = 0; round < rounds; round++) {
        for (mode = 0; mode < 2; mode++) {
            struct amdkfd_mc_cmd wait_a = {
                .opcode = AMDKFD_MC_OP_IOCTL, .ctx_id = a,
                .cookie = 0xa000 + round,
                .payload_addr = wait_payload,
                .payload_len = sizeof(WaitPayload),
                .arg0 = AMDKFD_IOC_WAIT_EVENTS,
            };

            if (mode == 1) {
                /* A blocks: a 60 s wait on an event nobody sets yet */
                w.a.timeout = cpu_to_le32(60000);
                w.ev.event_id = cpu_to_le32(ev_a);
                qtest_bufwrite(d->qts, wait_payload, &w, sizeof(w));
                akmc_submit_cmd(d, &wait_a);
                /* Let the worker reach the model's wait */
                g_usleep(50 * 1000);
            }
            for (i = 0; i < samples; i++) {
                get_version.cookie = 0xb0000 + i;
                lat[mode * rounds * samples + n[mode]] =
                    one_cmd_us(d, &get_version);
                b_wait.cookie = 0xc0000 + i;
                wlat[mode * rounds * samples + n[mode]] =
                    one_cmd_us(d, &b_wait);
                n[mode]++;
            }
            if (mode == 1) {
                struct kfd_ioctl_set_event_args set = { .event_id = ev_a };
                struct amdkfd_mc_cmd set_a = {
                    .opcode = AMDKFD_MC_OP_IOCTL, .ctx_id = a,
                    .payload_addr = d->payload + 12288,
                    .payload_len = sizeof(set),
                    .arg0 = AMDKFD_IOC_SET_EVENT,
                };
                struct amdkfd_mc_cpl cpl;
                bool got_wait = false;
                int k;

                /* A must still be waiting: nothing of A completed yet */
                if (akmc_cpl_ready(d, 0)) {
                    die("A's WAIT_EVENTS completed early: A did not block");
                }
                qtest_bufwrite(d->qts, set_a.payload_addr, &set, sizeof(set));
                akmc_submit_cmd(d, &set_a);
                for (k = 0; k < 2; k++) {
                    if (!akmc_next_cpl(d, &cpl, 10 * G_USEC_PER_SEC)) {
                        die("A's completions did not arrive");
                    }
                    got_wait |= cpl.cookie == wait_a.cookie;
                }
                if (!got_wait) {
                    die("A's WAIT_EVENTS did not complete after SET_EVENT");
                }
            }
        }
    }
    med[0][0] = median(lat, n[0]);
    med[1][0] = median(lat + rounds * samples, n[1]);
    med[0][1] = median(wlat, n[0]);
    med[1][1] = median(wlat + rounds * samples, n[1]);
    akmc_stop(d);

    printf("head-of-line: %.1f us with A blocked, %.1f us alone "
           "(ratio %.3f)\n", med[1][0], med[0][0], med[1][0] / med[0][0]);
    printf("# head-of-line: median latency of B's GET_VERSION from doorbell "
           "to completion (qtest round trips included), %d samples each; "
           "goal ratio <= 1.2\n", n[0]);
    printf("# head-of-line: B's own WAIT_EVENTS on a signalled event "
           "(worker thread path): %.1f us with A blocked, %.1f us alone "
           "(ratio %.3f)\n", med[1][1], med[0][1], med[1][1] / med[0][1]);
}

/* ---- window: cost independent of the live mappings ---- */

/* @n MAP_WINDOWs of @offset (4 KiB) in @ctx; the map ids go to @ids */
static int64_t map_many(AkmcDev *d, uint32_t ctx, uint64_t offset,
                        uint32_t n, uint64_t *ids, struct amdkfd_mc_cmd *cmds,
                        struct amdkfd_mc_cpl *cpls)
{
    int64_t ns = 0;
    uint32_t done, i, k;

    for (done = 0; done < n; done += k) {
        k = MIN(n - done, BATCH_MAX);
        for (i = 0; i < k; i++) {
            cmds[i] = (struct amdkfd_mc_cmd) {
                .opcode = AMDKFD_MC_OP_MAP_WINDOW,
                .ctx_id = ctx,
                .cookie = done + i,
                .payload_addr = d->reply,
                .payload_len = sizeof(struct amdkfd_mc_window_map),
                .arg1 = offset,
                .arg2 = 4096,
            };
        }
        akmc_ring_put(d, cmds, k);
        ns += akmc_ring_run(d, k, cpls);
        for (i = 0; i < k; i++) {
            if (cpls[i].status != AMDKFD_MC_S_OK) {
                die("OP_MAP_WINDOW %u failed: status %u", done + i,
                    cpls[i].status);
            }
            ids[done + i] = cpls[i].value;
        }
    }
    return ns;
}

static int64_t unmap_many(AkmcDev *d, uint32_t ctx, uint32_t n,
                          const uint64_t *ids, struct amdkfd_mc_cmd *cmds,
                          struct amdkfd_mc_cpl *cpls)
{
    int64_t ns = 0;
    uint32_t done, i, k;

    for (done = 0; done < n; done += k) {
        k = MIN(n - done, BATCH_MAX);
        for (i = 0; i < k; i++) {
            cmds[i] = (struct amdkfd_mc_cmd) {
                .opcode = AMDKFD_MC_OP_UNMAP_WINDOW,
                .ctx_id = ctx,
                .cookie = done + i,
                .arg1 = ids[done + i],
            };
        }
        akmc_ring_put(d, cmds, k);
        ns += akmc_ring_run(d, k, cpls);
        for (i = 0; i < k; i++) {
            if (cpls[i].status != AMDKFD_MC_S_OK) {
                die("OP_UNMAP_WINDOW failed: status %u", cpls[i].status);
            }
        }
    }
    return ns;
}

/* map+unmap per second of @k mappings while @live others exist */
static double map_rate(AkmcDev *d, uint32_t ctx, uint64_t offset,
                       uint32_t live, uint32_t k, uint64_t *ids,
                       struct amdkfd_mc_cmd *cmds, struct amdkfd_mc_cpl *cpls)
{
    int64_t ns;

    map_many(d, ctx, offset, live, ids, cmds, cpls);
    ns = map_many(d, ctx, offset, k, ids + live, cmds, cpls);
    ns += unmap_many(d, ctx, k, ids + live, cmds, cpls);
    unmap_many(d, ctx, live, ids, cmds, cpls);
    return k / (ns / 1e9);
}

static void bench_window(void)
{
    const uint32_t many = 10000, few = 10, k = quick ? 1000 : 4000;
    AkmcDev *d = bench_start(",ctx-max-mappings=16384", RING_ENTRIES);
    g_autofree struct amdkfd_mc_cmd *cmds = g_new0(struct amdkfd_mc_cmd,
                                                   BATCH_MAX);
    g_autofree struct amdkfd_mc_cpl *cpls = g_new0(struct amdkfd_mc_cpl,
                                                   BATCH_MAX);
    g_autofree uint64_t *ids = g_new0(uint64_t, many + k);
    double rate_many[5], rate_few[5], rss0, rss1;
    int64_t t0, destroy_ns;
    AkmcProc p, q;
    AkmcBuf b, bq;
    int r, rounds = quick ? 3 : 5;
    struct amdkfd_mc_cpl cpl;
    struct amdkfd_mc_cmd cmd;

    akmc_proc_open(d, &p);
    akmc_buf_new_unmapped(&p, 0x1000000, 4096, &b);
    /* warm up, then the baseline RSS */
    map_rate(d, p.ctx, b.mmap_offset, many, k, ids, cmds, cpls);
    rss0 = rss_bytes(qtest_pid(d->qts));
    /* alternate the two sides */
    for (r = 0; r < rounds; r++) {
        rate_few[r] = map_rate(d, p.ctx, b.mmap_offset, few, k, ids, cmds,
                               cpls);
        rate_many[r] = map_rate(d, p.ctx, b.mmap_offset, many, k, ids, cmds,
                                cpls);
    }
    rss1 = rss_bytes(qtest_pid(d->qts));

    /* a context with 10 000 mappings goes in one command */
    akmc_proc_open(d, &q);
    akmc_buf_new_unmapped(&q, 0x1000000, 4096, &bq);
    map_many(d, q.ctx, bq.mmap_offset, many, ids, cmds, cpls);
    cmd = (struct amdkfd_mc_cmd) {
        .opcode = AMDKFD_MC_OP_DESTROY_CONTEXT,
        .ctx_id = q.ctx,
    };
    t0 = now_ns();
    if (akmc_exec(d, &cmd, &cpl) != AMDKFD_MC_S_OK) {
        die("OP_DESTROY_CONTEXT failed");
    }
    destroy_ns = now_ns() - t0;
    akmc_stop(d);

    printf("window-map-rate: %.0f map+unmap/s with %u live mappings, %.0f "
           "with %u (ratio %.3f)\n", median(rate_many, rounds), many,
           median(rate_few, rounds), few,
           median(rate_many, rounds) / median(rate_few, rounds));
    printf("# window-map-rate: %u OP_MAP_WINDOW then %u OP_UNMAP_WINDOW of "
           "4 KiB of one sim GTT object, %u per doorbell, while %u or %u "
           "other mappings of it exist; median of %d alternating rounds; "
           "goal ratio >= 0.8\n", k, k, BATCH_MAX, many, few, rounds);
    printf("window-destroy: %.2f ms for a context with %u mappings\n",
           destroy_ns / 1e6, many);
    printf("# window-destroy: one OP_DESTROY_CONTEXT, qtest round trips "
           "included; O(mappings), each one an mmap of zero pages\n");
    printf("window-rss: %.1f MiB after unmapping everything, %.1f MiB "
           "before (ratio %.3f)\n", rss1 / MiB, rss0 / MiB, rss1 / rss0);
    printf("# window-rss: QEMU's resident set after %d rounds of %u+%u "
           "mappings vs. after one; goal ratio <= 1.05\n", rounds, many, k);
}

int main(int argc, char **argv)
{
    static const char *const every[] = { "throughput", "scaling", "hol",
                                         "window" };
    bool all = argc < 2;
    int i;

    g_test_init(&argc, &argv, NULL);
    quick = getenv("AKMC_BENCH_QUICK") && *getenv("AKMC_BENCH_QUICK") == '1';
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!getenv("QTEST_QEMU_BINARY")) {
        die("QTEST_QEMU_BINARY is not set");
    }
    for (i = all ? 0 : 1; i < (all ? ARRAY_SIZE(every) : argc); i++) {
        const char *what = all ? every[i] : argv[i];

        if (!strcmp(what, "throughput")) {
            bench_throughput();
        } else if (!strcmp(what, "scaling")) {
            bench_scaling();
        } else if (!strcmp(what, "hol")) {
            bench_hol();
        } else if (!strcmp(what, "window")) {
            bench_window();
        } else {
            die("unknown benchmark %s", what);
        }
    }
    return 0;
}
