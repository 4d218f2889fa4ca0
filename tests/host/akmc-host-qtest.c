/*
 * akmc-host-qtest: amdkfd-mc with backend=host against a real host KFD
 * (the check-host rung of docs/devel/amdkfd-mc.rst).
 *
 * A qtest client, run where /dev/kfd is the KFD under test (the patched
 * Linux 6.12 VM of tests/vm/host/).  It starts QEMU (QTEST_QEMU_BINARY)
 * with "-device amdkfd-mc,backend=host", drives the device through the
 * qtest harness and checks, from the outside, what the host kernel shows
 * for the QEMU process: /sys/class/kfd/kfd/proc/<qemu pid>/context_<id>,
 * /proc/<qemu pid>/fd and /proc/<qemu pid>/maps.
 *
 * Modes (several may follow each other; the default is patched):
 *   akmc-host-qtest patched     contexts, events, event pages, destroy,
 *                               reset and hot-unplug (GPU-less subset)
 *   akmc-host-qtest gpu         on a host with an AMD GPU: ACQUIRE_VM per
 *                               context, GTT memory in the window, the same
 *                               GPU VA in two contexts, handles, queues,
 *                               doorbells, destroy and reset with GPU state
 *   akmc-host-qtest stock       negative control: on a KFD without
 *                               CREATE_PROCESS the device refuses to realize
 *   akmc-host-qtest bench [N]   create+destroy cycles per second of real
 *                               secondaries, through the device and direct
 *
 * Output: "PASS <id> <what>", "FAIL <id> <what>", "INFO ..." lines and a
 * final "N passed, N failed"; exit status 0 only when every check passed.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <linux/udmabuf.h>
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qemu/thread.h"
#include "amdkfd-mc-harness.h"

#define KFD_PROC        "/sys/class/kfd/kfd/proc"
#define KFD_DEV         "/dev/kfd"
#define EVENT_PAGE_SIZE (4096 * 8)      /* KFD_SIGNAL_EVENT_LIMIT slots */
#define UNSIGNALED_SLOT UINT64_MAX      /* what KFD puts in a free slot */
#define HP_SLOT         6
#define MAX_CTX         8

static int passed, failed;

static void G_GNUC_PRINTF(3, 4) check(bool ok, const char *id,
                                      const char *fmt, ...)
{
    va_list ap;

    printf("%s %s ", ok ? "PASS" : "FAIL", id);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (ok) {
        passed++;
    } else {
        failed++;
    }
}

static void G_GNUC_PRINTF(1, 2) info(const char *fmt, ...)
{
    va_list ap;

    printf("INFO ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static double now_s(void)
{
    return g_get_monotonic_time() / 1e6;
}

/* ---- what the host shows of the QEMU process ---- */

static int count_fds(int pid)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", pid);
    GDir *d = g_dir_open(dir, 0, NULL);
    int n = 0;

    if (!d) {
        return -1;
    }
    while (g_dir_read_name(d)) {
        n++;
    }
    g_dir_close(d);
    return n;
}

/* Mappings of KFD objects (event pages) in the process */
static int count_kfd_maps(int pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/maps", pid);
    g_autofree char *text = NULL;
    int n = 0;
    char *p;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return -1;
    }
    for (p = text; (p = strstr(p, KFD_DEV)); p++) {
        n++;
    }
    return n;
}

/* The context_<id> directories under proc/<pid>/, as a bitmap of ids */
static int sysfs_contexts(int pid, GString *list)
{
    g_autofree char *dir = g_strdup_printf(KFD_PROC "/%d", pid);
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    int n = 0;

    if (list) {
        g_string_truncate(list, 0);
    }
    while (d && (name = g_dir_read_name(d))) {
        if (g_str_has_prefix(name, "context_")) {
            n++;
            if (list) {
                g_string_append_printf(list, "%s%s", list->len ? "," : "",
                                       name + 8);
            }
        }
    }
    if (d) {
        g_dir_close(d);
    }
    return n;
}

static bool primary_dir_exists(int pid)
{
    g_autofree char *dir = g_strdup_printf(KFD_PROC "/%d", pid);

    return g_file_test(dir, G_FILE_TEST_IS_DIR);
}

static bool ctx_dir_exists(int pid, uint32_t id)
{
    g_autofree char *dir = g_strdup_printf(KFD_PROC "/%d/context_%u", pid,
                                           id);

    return g_file_test(dir, G_FILE_TEST_IS_DIR);
}

static uint64_t ctx_pasid(int pid, uint32_t id)
{
    g_autofree char *path = g_strdup_printf(KFD_PROC "/%d/context_%u/pasid",
                                            pid, id);
    g_autofree char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return UINT64_MAX;
    }
    return g_ascii_strtoull(text, NULL, 10);
}

/* Poll @what until it equals @want, for up to @ms; returns the last value */
static int poll_eq(int (*what)(int), int pid, int want, int ms, int *took)
{
    gint64 t0 = g_get_monotonic_time();
    int v;

    for (;;) {
        v = what(pid);
        if (v == want || g_get_monotonic_time() - t0 > ms * 1000) {
            break;
        }
        g_usleep(2000);
    }
    if (took) {
        *took = (g_get_monotonic_time() - t0) / 1000;
    }
    return v;
}

static int count_ctx_dirs(int pid)
{
    return sysfs_contexts(pid, NULL);
}

static bool wait_ctx_gone(int pid, uint32_t id, int ms, int *took)
{
    gint64 t0 = g_get_monotonic_time();

    while (ctx_dir_exists(pid, id) &&
           g_get_monotonic_time() - t0 < ms * 1000) {
        g_usleep(2000);
    }
    *took = (g_get_monotonic_time() - t0) / 1000;
    return !ctx_dir_exists(pid, id);
}

/* ---- device helpers ---- */

typedef struct Ctx {
    uint32_t id;                /* guest id */
    struct amdkfd_mc_context_info info;
    AkmcProc p;                 /* for the harness's event helpers */
} Ctx;

static uint32_t ctx_new(AkmcDev *d, Ctx *c)
{
    uint32_t st;

    memset(c, 0, sizeof(*c));
    st = akmc_ctx_create(d, &c->id, &c->info);
    c->p.d = d;
    c->p.ctx = c->id;
    return st;
}

static int32_t event_new(Ctx *c, struct kfd_ioctl_create_event_args *a)
{
    int32_t result = -1;

    memset(a, 0, sizeof(*a));
    a->event_type = KFD_IOC_EVENT_SIGNAL;
    a->auto_reset = 1;
    g_assert_cmpuint(akmc_ioctl(c->p.d, c->id, AMDKFD_IOC_CREATE_EVENT, a,
                                sizeof(*a), &result), ==, AMDKFD_MC_S_OK);
    return result;
}

typedef struct WaitCmd {
    struct kfd_ioctl_wait_events_args a;
    struct kfd_event_data ev;
} WaitCmd;

/* Submit WAIT_EVENTS on one event with its own payload; returns cookie */
static uint64_t wait_submit(AkmcDev *d, uint32_t ctx, uint64_t payload,
                            uint32_t event, uint32_t timeout_ms)
{
    WaitCmd w = { 0 };
    struct amdkfd_mc_cmd cmd = { 0 };

    w.a.events_ptr = sizeof(w.a);
    w.a.num_events = 1;
    w.a.timeout = timeout_ms;
    w.ev.event_id = event;
    qtest_memwrite(d->qts, payload, &w, sizeof(w));
    cmd.opcode = AMDKFD_MC_OP_IOCTL;
    cmd.ctx_id = ctx;
    cmd.arg0 = AMDKFD_IOC_WAIT_EVENTS;
    cmd.payload_addr = payload;
    cmd.payload_len = sizeof(w);
    return akmc_submit_cmd(d, &cmd);
}

static uint64_t set_submit(AkmcDev *d, uint32_t ctx, uint64_t payload,
                           uint32_t event)
{
    struct kfd_ioctl_set_event_args a = { .event_id = event };
    struct amdkfd_mc_cmd cmd = { 0 };

    qtest_memwrite(d->qts, payload, &a, sizeof(a));
    cmd.opcode = AMDKFD_MC_OP_IOCTL;
    cmd.ctx_id = ctx;
    cmd.arg0 = AMDKFD_IOC_SET_EVENT;
    cmd.payload_addr = payload;
    cmd.payload_len = sizeof(a);
    return akmc_submit_cmd(d, &cmd);
}

/* Wait for the completion of @cookie, keeping others in @seen */
static bool collect(AkmcDev *d, uint64_t cookie, struct amdkfd_mc_cpl *out,
                    GArray *seen, int64_t timeout_us)
{
    gint64 deadline = g_get_monotonic_time() + timeout_us;
    struct amdkfd_mc_cpl cpl;
    guint i;

    for (i = 0; i < seen->len; i++) {
        if (g_array_index(seen, struct amdkfd_mc_cpl, i).cookie == cookie) {
            *out = g_array_index(seen, struct amdkfd_mc_cpl, i);
            g_array_remove_index(seen, i);
            return true;
        }
    }
    while (g_get_monotonic_time() < deadline) {
        if (!akmc_next_cpl(d, &cpl, deadline - g_get_monotonic_time())) {
            return false;
        }
        if (cpl.cookie == cookie) {
            *out = cpl;
            return true;
        }
        g_array_append_val(seen, cpl);
    }
    return false;
}

static const char *st_name(uint32_t st)
{
    static char buf[32];

    switch (st) {
    case AMDKFD_MC_S_OK: return "S_OK";
    case AMDKFD_MC_S_INVALID_CONTEXT: return "S_INVALID_CONTEXT";
    case AMDKFD_MC_S_INVALID_ARGUMENT: return "S_INVALID_ARGUMENT";
    case AMDKFD_MC_S_BACKEND_ERROR: return "S_BACKEND_ERROR";
    case AMDKFD_MC_S_NOT_SUPPORTED: return "S_NOT_SUPPORTED";
    case AMDKFD_MC_S_NO_RESOURCES: return "S_NO_RESOURCES";
    default:
        snprintf(buf, sizeof(buf), "status 0x%x", st);
        return buf;
    }
}

static const char *err_name(int32_t r)
{
    static char buf[4][32];
    static int i;

    i = (i + 1) % 4;
    if (r == 0) {
        return "0";
    }
    snprintf(buf[i], sizeof(buf[i]), "%s", r == -EINVAL ? "-EINVAL" :
             r == -ENOTTY ? "-ENOTTY" : r == -EOPNOTSUPP ? "-EOPNOTSUPP" :
             r == -EBADF ? "-EBADF" : r == -EPERM ? "-EPERM" : "");
    if (!buf[i][0]) {
        snprintf(buf[i], sizeof(buf[i]), "%d", r);
    }
    return buf[i];
}

static QList *qom_contexts(AkmcDev *d, QDict **rsp)
{
    *rsp = qtest_qmp(d->qts, "{ 'execute': 'qom-get', 'arguments': "
                     "{ 'path': '/machine/peripheral/kfd', "
                     "'property': 'contexts' } }");
    return qdict_get_qlist(*rsp, "return");
}

/* ---- patched kernel: the GPU-less subset on the real KFD ---- */

static void test_contexts_events_reset(void)
{
    AkmcDev *d = akmc_boot("-machine q35 -device amdkfd-mc,id=kfd,"
                           "backend=host");
    struct amdkfd_mc_device_info di;
    struct kfd_ioctl_create_event_args ea, eb, ec;
    g_autoptr(GString) list = g_string_new("");
    g_autoptr(GArray) seen = g_array_new(false, false,
                                         sizeof(struct amdkfd_mc_cpl));
    struct amdkfd_mc_cpl cpl;
    uint64_t pay2, pay3, ck_wait, ck_set, win_a = 0, win_b = 0;
    uint32_t wait_result, st, old_b_host;
    int32_t r, r1, r2, r3, r4;
    Ctx c[3], extra;
    int pid, fds0, maps0, i, n, took, v;
    bool ok, page_ok = false;
    double t0;
    QDict *rsp;
    QList *ql;

    pid = qtest_pid(d->qts);
    akmc_attach(d);
    pay2 = guest_alloc(&d->qs->alloc, 4096);
    pay3 = guest_alloc(&d->qs->alloc, 4096);
    st = akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES);
    g_assert_cmphex(st, ==, AMDKFD_MC_STATUS_READY);
    g_assert_cmpuint(akmc_device_info(d, &di), ==, AMDKFD_MC_S_OK);
    check(le32_to_cpu(di.backend) == AMDKFD_MC_BACKEND_HOST &&
          le32_to_cpu(di.kfd_major) == 1 && le32_to_cpu(di.kfd_minor) >= 19,
          "realize", "backend=host realized on the real KFD (backend %u, "
          "KFD %u.%u, %u GPU nodes)", le32_to_cpu(di.backend),
          le32_to_cpu(di.kfd_major), le32_to_cpu(di.kfd_minor),
          le32_to_cpu(di.num_nodes));

    fds0 = count_fds(pid);
    maps0 = count_kfd_maps(pid);
    n = sysfs_contexts(pid, list);
    check(primary_dir_exists(pid) && n == 0, "realize-probe",
          "QEMU holds its primary (proc/%d/ exists) and the realize probe "
          "left no context (%d context_* dirs)", pid, n);
    info("baseline of QEMU pid %d: %d open fds, %d KFD mappings", pid, fds0,
         maps0);

    /* I1: every guest context is its own real secondary */
    ok = true;
    for (i = 0; i < 3; i++) {
        st = ctx_new(d, &c[i]);
        if (st != AMDKFD_MC_S_OK) {
            check(false, "ctx-create", "OP_CREATE_CONTEXT %d = %s", i,
                  st_name(st));
            goto out;
        }
        if (!(le32_to_cpu(c[i].info.flags) & AMDKFD_MC_CTX_SECONDARY) ||
            le32_to_cpu(c[i].info.host_ctx_id) >= 0xffff ||
            !ctx_dir_exists(pid, le32_to_cpu(c[i].info.host_ctx_id))) {
            ok = false;
        }
    }
    n = sysfs_contexts(pid, list);
    check(ok && n == 3, "ctx-sysfs",
          "3 guest contexts -> host ids %u,%u,%u (secondary flags set); "
          "proc/<qemu>/ has context_{%s}",
          le32_to_cpu(c[0].info.host_ctx_id),
          le32_to_cpu(c[1].info.host_ctx_id),
          le32_to_cpu(c[2].info.host_ctx_id), list->str);
    check(c[0].info.host_ctx_id != c[1].info.host_ctx_id &&
          c[1].info.host_ctx_id != c[2].info.host_ctx_id &&
          c[0].info.host_ctx_id != c[2].info.host_ctx_id,
          "ctx-distinct", "host context ids are distinct");
    ok = true;
    for (i = 0; i < 3; i++) {
        uint64_t p = ctx_pasid(pid, le32_to_cpu(c[i].info.host_ctx_id));

        ok &= p == le32_to_cpu(c[i].info.pasid);
    }
    /*
     * 6.12: the PASID belongs to the kfd_process, distinct and non-zero;
     * 7.x: it belongs to the process-device and sysfs reads 0 (fact 9).
     */
    check(ok && ((c[0].info.pasid != c[1].info.pasid &&
                  c[1].info.pasid != c[2].info.pasid &&
                  c[0].info.pasid != c[2].info.pasid && c[0].info.pasid) ||
                 (!c[0].info.pasid && !c[1].info.pasid && !c[2].info.pasid)),
          "ctx-pasid", "PASIDs %u,%u,%u reported by OP_CREATE_CONTEXT match "
          "context_<id>/pasid (distinct, or all 0 where the PASID is per "
          "process-device)",
          le32_to_cpu(c[0].info.pasid), le32_to_cpu(c[1].info.pasid),
          le32_to_cpu(c[2].info.pasid));
    ql = qom_contexts(d, &rsp);
    ok = ql && qlist_size(ql) == 3;
    if (ok) {
        QListEntry *e;

        i = 0;
        QLIST_FOREACH_ENTRY(ql, e) {
            QDict *cd = qobject_to(QDict, qlist_entry_obj(e));

            ok &= i < 3 && qdict_get_int(cd, "guest-id") == c[i].id &&
                  qdict_get_int(cd, "host-id") == c[i].info.host_ctx_id &&
                  qdict_get_int(cd, "pasid") == c[i].info.pasid;
            i++;
        }
    }
    qobject_unref(rsp);
    check(ok, "qom-contexts", "QOM 'contexts' lists the 3 contexts with the "
          "same guest ids, host ids and PASIDs");
    v = akmc_qom_get_uint(d, "backend-contexts");
    n = count_fds(pid);
    check(n == fds0 + 3 && v == 4, "ctx-fds",
          "QEMU holds one KFD fd per context (%d fds = baseline %d + 3; "
          "backend-contexts %d = 3 + primary)", n, fds0, v);

    /* I2, I5: events through the device */
    r = event_new(&c[0], &ea);
    check(r == 0, "event-create", "CREATE_EVENT on A = %s (id %u, slot %u, "
          "page offset 0x%" PRIx64 ")", err_name(r), ea.event_id,
          ea.event_slot_index, (uint64_t)ea.event_page_offset);
    r1 = akmc_event_op(&c[1].p, AMDKFD_IOC_SET_EVENT, ea.event_id);
    r2 = akmc_event_op(&c[1].p, AMDKFD_IOC_RESET_EVENT, ea.event_id);
    r3 = akmc_event_wait(&c[1].p, ea.event_id, 0, &wait_result, NULL);
    r4 = akmc_event_op(&c[1].p, AMDKFD_IOC_DESTROY_EVENT, ea.event_id);
    check(r1 == -EINVAL, "event-set-other",
          "SET_EVENT of A's event id through B = %s (want -EINVAL)",
          err_name(r1));
    check(r2 == -EINVAL, "event-reset-other",
          "RESET_EVENT of A's event id through B = %s (want -EINVAL)",
          err_name(r2));
    check(r3 == -EINVAL, "event-wait-other",
          "WAIT_EVENTS on A's event id through B = %s (want -EINVAL)",
          err_name(r3));
    check(r4 == -EINVAL, "event-destroy-other",
          "DESTROY_EVENT of A's event id through B = %s (want -EINVAL)",
          err_name(r4));
    r = akmc_event_wait(&c[0].p, ea.event_id, 0, &wait_result, NULL);
    check(r == 0 && wait_result == KFD_IOC_WAIT_RESULT_TIMEOUT,
          "event-unchanged", "A's event still unsignalled after B's attempts "
          "(wait %s, result %u)", err_name(r), wait_result);
    r = event_new(&c[1], &eb);
    check(r == 0 && eb.event_id == ea.event_id, "event-ids-per-context",
          "B's first event id %u equals A's %u (ids are per context)",
          eb.event_id, ea.event_id);

    /* A blocks in WAIT_EVENTS; B keeps working; A's own SET wakes A */
    t0 = now_s();
    ck_wait = wait_submit(d, c[0].id, pay2, ea.event_id, 10000);
    g_usleep(200 * 1000);
    r = akmc_event_op(&c[1].p, AMDKFD_IOC_SET_EVENT, eb.event_id);
    r1 = akmc_event_wait(&c[1].p, eb.event_id, 0, &wait_result, NULL);
    check(r == 0 && r1 == 0 && wait_result == KFD_IOC_WAIT_RESULT_COMPLETE &&
          seen->len == 0, "event-other-unblocked",
          "while A waits, B sets and waits its own event (set %s, wait %s, "
          "result %u; A's wait still pending: %s)", err_name(r),
          err_name(r1), wait_result, seen->len ? "no" : "yes");
    ck_set = set_submit(d, c[0].id, pay3, ea.event_id);
    ok = collect(d, ck_set, &cpl, seen, 5 * G_USEC_PER_SEC);
    r = ok ? cpl.result : -1;
    ok = collect(d, ck_wait, &cpl, seen, 5 * G_USEC_PER_SEC);
    {
        WaitCmd w;

        qtest_memread(d->qts, pay2, &w, sizeof(w));
        check(ok && r == 0 && cpl.status == AMDKFD_MC_S_OK &&
              cpl.result == 0 &&
              w.a.wait_result == KFD_IOC_WAIT_RESULT_COMPLETE &&
              now_s() - t0 < 5, "event-wake-own",
              "A's blocked WAIT_EVENTS woken by A's SET_EVENT (set %s, wait "
              "%s/%d, result %u) after %.2f s", err_name(r),
              ok ? st_name(cpl.status) : "lost", ok ? cpl.result : 0,
              w.a.wait_result, now_s() - t0);
    }

    /* Event pages through OP_MAP_WINDOW (I4: each context gets its own) */
    st = akmc_map_window(d, c[0].id, ea.event_page_offset, EVENT_PAGE_SIZE,
                         &win_a, NULL, &r1);
    v = akmc_map_window(d, c[1].id, eb.event_page_offset, EVENT_PAGE_SIZE,
                        &win_b, NULL, &r2);
    check(st == AMDKFD_MC_S_OK && v == AMDKFD_MC_S_OK, "event-page-map",
          "OP_MAP_WINDOW of A's and B's event pages (offset 0x%" PRIx64
          ", %d KiB) = %s/%s, %s/%s", (uint64_t)ea.event_page_offset,
          EVENT_PAGE_SIZE / 1024, st_name(st), err_name(r1), st_name(v),
          err_name(r2));
    if (st == AMDKFD_MC_S_OK && v == AMDKFD_MC_S_OK) {
        uint64_t sa, sb, sa2, sb2, mark = 0x5a5a5a5a00000001ull;
        uint32_t slot = ea.event_slot_index;

        page_ok = true;
        qpci_memread(d->pdev, d->window, win_a + slot * 8, &sa, 8);
        qpci_memread(d->pdev, d->window, win_b + slot * 8, &sb, 8);
        qpci_memwrite(d->pdev, d->window, win_a + slot * 8, &mark, 8);
        qpci_memread(d->pdev, d->window, win_a + slot * 8, &sa2, 8);
        qpci_memread(d->pdev, d->window, win_b + slot * 8, &sb2, 8);
        check(sa == UNSIGNALED_SLOT && sb == UNSIGNALED_SLOT,
              "event-page-real", "slot %u reads 0x%" PRIx64 " / 0x%" PRIx64
              " in A's / B's window mapping (KFD's unsignalled value)",
              slot, sa, sb);
        check(sa2 == mark && sb2 == sb, "event-page-own",
              "a window write to A's slot %u reads back 0x%" PRIx64 " and "
              "is not visible in B's page (B's slot 0x%" PRIx64 ")", slot,
              sa2, sb2);
        qpci_memwrite(d->pdev, d->window, win_a + slot * 8, &sa, 8);
        n = count_kfd_maps(pid);
        check(n == maps0 + 2 &&
              akmc_qom_get_uint(d, "mapped-bytes") == 2 * EVENT_PAGE_SIZE,
              "event-page-host-maps", "QEMU maps the two event pages from "
              "/dev/kfd (%d KFD mappings, baseline %d)", n, maps0);
    }

    /* I6: destroying B frees B on the host; A keeps working */
    old_b_host = le32_to_cpu(c[1].info.host_ctx_id);
    st = akmc_ctx_destroy(d, c[1].id);
    ok = wait_ctx_gone(pid, old_b_host, 2000, &took);
    n = count_fds(pid);
    check(st == AMDKFD_MC_S_OK && ok && n == fds0 + 2, "destroy-sysfs",
          "OP_DESTROY_CONTEXT of B = %s: context_%u gone after %d ms, %d fds "
          "(baseline + 2)", st_name(st), old_b_host, took, n);
    if (page_ok) {
        v = poll_eq(count_kfd_maps, pid, maps0 + 1, 2000, &took);
        check(v == maps0 + 1, "destroy-unmaps", "B's event page unmapped "
              "from QEMU (%d KFD mappings after %d ms)", v, took);
    }
    r = akmc_event_op(&c[0].p, AMDKFD_IOC_SET_EVENT, ea.event_id);
    r1 = akmc_event_wait(&c[0].p, ea.event_id, 0, &wait_result, NULL);
    check(r == 0 && r1 == 0 && wait_result == KFD_IOC_WAIT_RESULT_COMPLETE,
          "destroy-other-works", "A still sets and waits its event after B "
          "is gone (set %s, wait %s, result %u)", err_name(r), err_name(r1),
          wait_result);
    {
        struct kfd_ioctl_set_event_args sa = { .event_id = ea.event_id };
        int32_t res;

        st = akmc_ioctl(d, c[1].id, AMDKFD_IOC_SET_EVENT, &sa, sizeof(sa),
                        &res);
    }
    check(st == AMDKFD_MC_S_INVALID_CONTEXT, "destroy-stale-id",
          "B's destroyed guest id is refused (%s)", st_name(st));
    st = ctx_new(d, &extra);
    check(st == AMDKFD_MC_S_OK &&
          le32_to_cpu(extra.info.host_ctx_id) == old_b_host &&
          ctx_dir_exists(pid, old_b_host), "id-reuse",
          "a new context gets B's freed host id %u (got %u, %s)",
          old_b_host, le32_to_cpu(extra.info.host_ctx_id), st_name(st));

    /* I7: CONTROL.RESET with a mapped page and a wait in flight */
    r = event_new(&c[2], &ec);
    ck_wait = wait_submit(d, c[2].id, pay2, ec.event_id, 30000);
    g_usleep(200 * 1000);
    info("before reset: %d contexts, %d fds, %d KFD mappings",
         count_ctx_dirs(pid), count_fds(pid), count_kfd_maps(pid));
    t0 = now_s();
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_RESET);
    v = akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS);
    ok = akmc_wait_backend_contexts(d, 0);
    n = poll_eq(count_ctx_dirs, pid, 0, 2000, NULL);
    i = poll_eq(count_fds, pid, fds0, 5000, &took);
    check(v == 0 && ok && n == 0 && i == fds0, "reset-contexts",
          "CONTROL.RESET (event %s, WAIT_EVENTS of 30 s in flight): "
          "live-contexts %d, backend-contexts %s, %d context_* left, "
          "%d fds (baseline %d) after %.2f s", err_name(r), v,
          ok ? "0" : "not 0", n, i, fds0, now_s() - t0);
    n = poll_eq(count_kfd_maps, pid, maps0, 2000, &took);
    check(n == maps0 && akmc_qom_get_uint(d, "mapped-bytes") == 0,
          "reset-maps", "no KFD mapping left in QEMU (%d, baseline %d, "
          "%d ms)", n, maps0, took);
    check(primary_dir_exists(pid), "reset-primary",
          "the primary survives the reset (proc/%d/ exists)", pid);
    g_array_set_size(seen, 0);
    st = akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES);
    {
        Ctx again;
        uint32_t hid;

        v = ctx_new(d, &again);
        hid = le32_to_cpu(again.info.host_ctx_id);
        ok = v == AMDKFD_MC_S_OK && ctx_dir_exists(pid, hid);
        v = akmc_ctx_destroy(d, again.id);
        check(st == AMDKFD_MC_STATUS_READY && ok && v == AMDKFD_MC_S_OK &&
              wait_ctx_gone(pid, hid, 2000, &took), "reset-reuse",
              "after reset the device creates (context_%u) and destroys "
              "contexts again", hid);
    }
    (void)ck_wait;
out:
    akmc_stop(d);
    n = 0;
    while (primary_dir_exists(pid) && n++ < 1000) {
        g_usleep(2000);
    }
    check(!primary_dir_exists(pid), "quit-primary", "after QEMU quits, "
          "proc/%d/ is gone", pid);
}

static void hotplug_round(AkmcDev *d, int pid, int fds0, int maps0,
                          int round)
{
    struct kfd_ioctl_create_event_args ea, eb;
    g_autoptr(GString) list = g_string_new("");
    uint64_t win = 0;
    int32_t res = -1;
    uint32_t st;
    Ctx a, b;
    gint64 t0;
    int n, took;
    QDict *rsp;

    qtest_qmp_device_add(d->qts, "amdkfd-mc", "kfd",
                         "{'addr': %s, 'backend': 'host', "
                         "'window-size': 16777216}", stringify(HP_SLOT));
    akmc_attach(d);
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    g_assert_cmpuint(ctx_new(d, &a), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(ctx_new(d, &b), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(event_new(&a, &ea), ==, 0);
    g_assert_cmpint(event_new(&b, &eb), ==, 0);
    st = akmc_map_window(d, a.id, ea.event_page_offset, EVENT_PAGE_SIZE,
                         &win, NULL, &res);
    wait_submit(d, a.id, d->payload, ea.event_id, 30000);
    g_usleep(200 * 1000);
    n = sysfs_contexts(pid, list);
    info("hot-unplug round %d: before unplug context_{%s}, %d fds, "
         "%d KFD mappings (event page map %s)", round, list->str,
         count_fds(pid), count_kfd_maps(pid), st_name(st));

    t0 = g_get_monotonic_time();
    qpci_unplug_acpi_device_test(d->qts, "kfd", HP_SLOT);
    akmc_detach(d);
    took = (g_get_monotonic_time() - t0) / 1000;
    rsp = qtest_qmp(d->qts, "{ 'execute': 'qom-get', 'arguments': "
                    "{ 'path': '/machine/peripheral/kfd', "
                    "'property': 'live-contexts' } }");
    check(qdict_haskey(rsp, "error") && n == 2 && took < 10000,
          "unplug-done", "round %d: ACPI unplug with 2 contexts and a 30 s "
          "wait in flight completed in %d ms", round, took);
    qobject_unref(rsp);
    n = poll_eq(count_ctx_dirs, pid, 0, 2000, NULL);
    sysfs_contexts(pid, list);
    check(n == 0, "unplug-sysfs", "round %d: no context_* left (%d: {%s})",
          round, n, list->str);
    n = poll_eq(count_fds, pid, fds0, 5000, &took);
    check(n == fds0, "unplug-fds", "round %d: QEMU's fds back to baseline "
          "%d (%d, %d ms)", round, fds0, n, took);
    n = poll_eq(count_kfd_maps, pid, maps0, 2000, &took);
    check(n == maps0, "unplug-maps", "round %d: no KFD mapping left (%d, "
          "baseline %d)", round, n, maps0);
}

static void test_hotplug_unplug(void)
{
    AkmcDev *d = akmc_boot("-machine pc");
    int pid = qtest_pid(d->qts);
    int fds0 = count_fds(pid), maps0 = count_kfd_maps(pid), round;

    info("hot-unplug: baseline of QEMU pid %d without the device: %d fds, "
         "%d KFD mappings, proc/%d/ %s", pid, fds0, maps0, pid,
         primary_dir_exists(pid) ? "exists" : "absent");
    for (round = 0; round < 2; round++) {
        hotplug_round(d, pid, fds0, maps0, round);
    }
    akmc_stop(d);
}

/*
 * Host waits are one ioctl each (issue 11): a WAIT_EVENTS for all of two
 * auto-reset events completes when they fire 300 ms apart (slices of
 * 100 ms lost the first signal), a timed wait returns its own timeout
 * unchanged, and the mmap kinds a guest may map are the KFD client's only.
 */
static void test_waits_and_mmap_policy(void)
{
    AkmcDev *d = akmc_boot("-machine q35 -device amdkfd-mc,id=kfd,"
                           "backend=host");
    struct kfd_ioctl_create_event_args ea, eb;
    struct {
        struct kfd_ioctl_wait_events_args a;
        struct kfd_event_data ev[2];
    } w = { 0 };
    struct amdkfd_mc_cmd cmd = { 0 };
    struct amdkfd_mc_cpl cpl;
    g_autoptr(GArray) seen = g_array_new(false, false,
                                         sizeof(struct amdkfd_mc_cpl));
    uint64_t pay, win, ck_wait, ck;
    uint32_t st, st2;
    int32_t r;
    double t0;
    bool ok;
    Ctx c;

    akmc_attach(d);
    pay = guest_alloc(&d->qs->alloc, 4096);
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    g_assert_cmpuint(ctx_new(d, &c), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(event_new(&c, &ea), ==, 0);
    g_assert_cmpint(event_new(&c, &eb), ==, 0);

    w.a.events_ptr = sizeof(w.a);
    w.a.num_events = 2;
    w.a.wait_for_all = 1;
    w.a.timeout = 10000;
    w.ev[0].event_id = ea.event_id;
    w.ev[1].event_id = eb.event_id;
    qtest_memwrite(d->qts, d->payload, &w, sizeof(w));
    cmd.opcode = AMDKFD_MC_OP_IOCTL;
    cmd.ctx_id = c.id;
    cmd.arg0 = AMDKFD_IOC_WAIT_EVENTS;
    cmd.payload_addr = d->payload;
    cmd.payload_len = sizeof(w);
    t0 = now_s();
    ck_wait = akmc_submit_cmd(d, &cmd);
    g_usleep(100 * 1000);
    ck = set_submit(d, c.id, pay, ea.event_id);
    collect(d, ck, &cpl, seen, 5 * G_USEC_PER_SEC);
    g_usleep(300 * 1000);
    ck = set_submit(d, c.id, pay + 64, eb.event_id);
    collect(d, ck, &cpl, seen, 5 * G_USEC_PER_SEC);
    ok = collect(d, ck_wait, &cpl, seen, 5 * G_USEC_PER_SEC);
    qtest_memread(d->qts, d->payload, &w, sizeof(w));
    check(ok && cpl.status == AMDKFD_MC_S_OK && cpl.result == 0 &&
          w.a.wait_result == KFD_IOC_WAIT_RESULT_COMPLETE &&
          now_s() - t0 < 3, "wait-all-auto-reset", "WAIT_EVENTS for all "
          "of two auto-reset events set 300 ms apart: %s, result %d, "
          "wait_result %u after %.2f s", ok ? st_name(cpl.status) : "lost",
          ok ? cpl.result : 0, w.a.wait_result, now_s() - t0);

    /* A timed wait keeps its timeout field */
    w.a.num_events = 1;
    w.a.wait_for_all = 0;
    w.a.timeout = 350;
    w.a.wait_result = 0;
    qtest_memwrite(d->qts, d->payload, &w, sizeof(w));
    t0 = now_s();
    ck_wait = akmc_submit_cmd(d, &cmd);
    ok = collect(d, ck_wait, &cpl, seen, 5 * G_USEC_PER_SEC);
    qtest_memread(d->qts, d->payload, &w, sizeof(w));
    check(ok && cpl.result == 0 &&
          w.a.wait_result == KFD_IOC_WAIT_RESULT_TIMEOUT &&
          w.a.timeout == 350 && now_s() - t0 > 0.3 && now_s() - t0 < 2,
          "wait-timeout", "a 350 ms wait times out after %.2f s and "
          "returns timeout %u (wait_result %u)", now_s() - t0, w.a.timeout,
          w.a.wait_result);

    /* What a guest may map: not the KFD's reserved-memory kind, ... */
    st = akmc_map_window(d, c.id, 1ULL << AMDKFD_MC_KFD_MMAP_TYPE_SHIFT,
                         8192, &win, NULL, &r);
    st2 = akmc_map_window(d, c.id, 0x12345000, 4096, &win, NULL, &r);
    check(st == AMDKFD_MC_S_NOT_SUPPORTED &&
          st2 == AMDKFD_MC_S_NOT_SUPPORTED, "mmap-kinds", "OP_MAP_WINDOW "
          "of the KFD's RESERVED_MEM kind = %s, of an offset that is no "
          "object of the context = %s (both must be refused before the "
          "host KFD)", st_name(st), st_name(st2));
    /* ... nor an event page larger than the KFD's */
    st = akmc_map_window(d, c.id, ea.event_page_offset, 65536, &win, NULL,
                         &r);
    st2 = akmc_map_window(d, c.id, ea.event_page_offset, EVENT_PAGE_SIZE,
                          &win, NULL, &r);
    check(st == AMDKFD_MC_S_INVALID_ARGUMENT && st2 == AMDKFD_MC_S_OK,
          "mmap-event-page", "event page of 64 KiB = %s, of %d KiB = %s",
          st_name(st), EVENT_PAGE_SIZE / 1024, st_name(st2));
    akmc_stop(d);
}

/*
 * What the host backend does with guest memory objects, step by step on
 * this kernel, directly: a udmabuf of two ranges of a sealed memfd (as
 * guest RAM is), then IMPORT_DMABUF on a secondary context.  Without a GPU
 * the import can only fail for want of the GPU (EINVAL), which shows that
 * secondaries do not refuse it (that would be EOPNOTSUPP).
 */
static void test_guest_memory_host_steps(void)
{
    struct udmabuf_create_list *list = g_malloc0(sizeof(*list) +
                                                 2 * sizeof(list->list[0]));
    struct kfd_ioctl_import_dmabuf_args imp = {
        .va_addr = 0x100000,
        .gpu_id = 0x1234,
    };
    int me = getpid(), fds0 = count_fds(me);
    int kfd, memfd, udmabuf, dmabuf = -1, r = 0;

    kfd = open(KFD_DEV, O_RDWR | O_CLOEXEC);
    g_assert_cmpint(kfd, >=, 0);
    g_assert_cmpint(ioctl(kfd, AMDKFD_IOC_CREATE_PROCESS), ==, 0);
    memfd = memfd_create("akmc-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    g_assert_cmpint(memfd, >=, 0);
    g_assert_cmpint(ftruncate(memfd, 64 * 1024), ==, 0);
    g_assert_cmpint(fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK), ==, 0);
    udmabuf = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
    if (udmabuf >= 0) {
        list->flags = UDMABUF_FLAGS_CLOEXEC;
        list->count = 2;
        list->list[0] = (struct udmabuf_create_item) {
            .memfd = memfd, .offset = 0, .size = 4096,
        };
        list->list[1] = (struct udmabuf_create_item) {
            .memfd = memfd, .offset = 16384, .size = 4096,
        };
        dmabuf = ioctl(udmabuf, UDMABUF_CREATE_LIST, list);
        close(udmabuf);
    }
    check(dmabuf >= 0, "guest-mem-udmabuf", "a udmabuf of two ranges of a "
          "sealed memfd: %s", dmabuf >= 0 ? "created" : strerror(errno));
    if (dmabuf >= 0) {
        imp.dmabuf_fd = dmabuf;
        r = ioctl(kfd, AMDKFD_IOC_IMPORT_DMABUF, &imp) < 0 ? -errno : 0;
        check(r == -EINVAL, "guest-mem-import", "IMPORT_DMABUF of it on a "
              "secondary context without a GPU = %s (EINVAL: no such GPU; "
              "EOPNOTSUPP would mean secondaries refuse it)", err_name(r));
        close(dmabuf);
    }
    close(memfd);
    close(kfd);
    g_free(list);
    check(count_fds(me) == fds0, "guest-mem-fds", "fds back to %d (%d)",
          fds0, count_fds(me));
}

static void run_patched(void)
{
    test_contexts_events_reset();
    test_waits_and_mmap_policy();
    test_guest_memory_host_steps();
    test_hotplug_unplug();
}

/* ---- a real AMD GPU: what the GPU-less VM cannot show ---- */

static int32_t ioctl_r(AkmcDev *d, uint32_t ctx, uint32_t req, void *buf,
                       uint32_t len, uint32_t *st)
{
    int32_t result = 0;

    *st = akmc_ioctl_buf(d, ctx, req, buf, len, &result);
    return *st == AMDKFD_MC_S_OK ? result : -1000 - (int32_t)*st;
}

typedef struct GpuBuf {
    uint64_t va, handle, mmap_offset, win;
    int32_t alloc, map, window;
} GpuBuf;

/* GTT buffer at @va: allocate, map to the GPU, map into the window */
static void gpu_buf(AkmcDev *d, uint32_t ctx, uint32_t gpu, uint64_t va,
                    uint64_t size, GpuBuf *b)
{
    struct kfd_ioctl_alloc_memory_of_gpu_args a = {
        .va_addr = va, .size = size, .gpu_id = gpu,
        .flags = KFD_IOC_ALLOC_MEM_FLAGS_GTT |
                 KFD_IOC_ALLOC_MEM_FLAGS_WRITABLE |
                 KFD_IOC_ALLOC_MEM_FLAGS_EXECUTABLE |
                 KFD_IOC_ALLOC_MEM_FLAGS_NO_SUBSTITUTE |
                 KFD_IOC_ALLOC_MEM_FLAGS_PUBLIC,
    };
    struct {
        struct kfd_ioctl_map_memory_to_gpu_args a;
        uint32_t ids[2];
    } m = { 0 };
    uint32_t st;

    memset(b, 0, sizeof(*b));
    b->va = va;
    b->map = b->window = -1;
    b->alloc = ioctl_r(d, ctx, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, &a, sizeof(a),
                       &st);
    if (b->alloc) {
        return;
    }
    b->handle = a.handle;
    b->mmap_offset = a.mmap_offset;
    m.a.handle = a.handle;
    m.a.device_ids_array_ptr = sizeof(m.a);
    m.a.n_devices = 1;
    m.ids[0] = gpu;
    b->map = ioctl_r(d, ctx, AMDKFD_IOC_MAP_MEMORY_TO_GPU, &m, sizeof(m),
                     &st);
    st = akmc_map_window(d, ctx, b->mmap_offset, size, &b->win, NULL,
                         &b->window);
    if (st != AMDKFD_MC_S_OK) {
        b->window = -1000 - (int32_t)st;
    }
}

static void run_gpu(void)
{
    AkmcDev *d = akmc_boot("-machine q35 -device amdkfd-mc,id=kfd,"
                           "backend=host");
    struct amdkfd_mc_topology_node nodes[AMDKFD_MC_MAX_NODES];
    struct {
        struct kfd_ioctl_get_process_apertures_new_args a;
        struct kfd_process_device_apertures ap[AMDKFD_MC_MAX_NODES];
    } ap = { 0 };
    struct kfd_ioctl_acquire_vm_args vm = { 0 };
    struct kfd_ioctl_free_memory_of_gpu_args fr = { 0 };
    struct kfd_ioctl_create_queue_args q = { 0 };
    uint64_t va, pat = 0x1122334455667788ull, x = 0, y = 0, win = 0;
    uint32_t n = 0, st, gpu, i;
    int32_t r, ra, rb;
    int pid, fds0, fds1, took;
    GpuBuf ba, bb, ring, ptrs;
    Ctx a, b;

    pid = qtest_pid(d->qts);
    akmc_attach(d);
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    st = akmc_topology(d, nodes, AMDKFD_MC_MAX_NODES, &n);
    check(st == AMDKFD_MC_S_OK && n >= 1, "gpu-topology",
          "OP_QUERY_TOPOLOGY: %u GPU node(s)", n);
    for (i = 0; i < n; i++) {
        g_autofree char *rn = g_strdup_printf("/dev/dri/renderD%u",
                                              nodes[i].drm_render_minor);

        info("node %u: gpu_id %u, %s, gfx %u, %u CUs, VRAM %" PRIu64
             " MiB, %s %s", i, nodes[i].gpu_id, nodes[i].name,
             nodes[i].gfx_target_version, nodes[i].cu_count,
             nodes[i].vram_size >> 20, rn,
             access(rn, R_OK | W_OK) ? "NOT accessible" : "accessible");
    }
    if (st != AMDKFD_MC_S_OK || n == 0) {
        akmc_stop(d);
        return;
    }
    gpu = nodes[0].gpu_id;
    fds0 = count_fds(pid);
    g_assert_cmpuint(ctx_new(d, &a), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(ctx_new(d, &b), ==, AMDKFD_MC_S_OK);
    vm.gpu_id = gpu;
    ra = ioctl_r(d, a.id, AMDKFD_IOC_ACQUIRE_VM, &vm, sizeof(vm), &st);
    vm.gpu_id = gpu;
    rb = ioctl_r(d, b.id, AMDKFD_IOC_ACQUIRE_VM, &vm, sizeof(vm), &st);
    fds1 = count_fds(pid);
    check(ra == 0 && rb == 0 && fds1 == fds0 + 4, "gpu-acquire-vm",
          "ACQUIRE_VM of gpu %u in A = %s, in B = %s; QEMU holds a KFD fd "
          "and a render-node fd per context (%d fds, baseline %d + 4)", gpu,
          err_name(ra), err_name(rb), fds1, fds0);

    ap.a.kfd_process_device_apertures_ptr = sizeof(ap.a);
    ap.a.num_of_nodes = n;
    r = ioctl_r(d, a.id, AMDKFD_IOC_GET_PROCESS_APERTURES_NEW, &ap,
                sizeof(ap), &st);
    check(r == 0 && ap.a.num_of_nodes >= 1 && ap.ap[0].gpuvm_limit >
          ap.ap[0].gpuvm_base, "gpu-apertures", "apertures = %s: GPUVM "
          "0x%" PRIx64 "-0x%" PRIx64, err_name(r),
          (uint64_t)ap.ap[0].gpuvm_base, (uint64_t)ap.ap[0].gpuvm_limit);
    va = ROUND_UP(MAX(ap.ap[0].gpuvm_base, 1ull << 30), 1ull << 21);

    gpu_buf(d, a.id, gpu, va, 65536, &ba);
    if (ba.window == 0) {
        qpci_memwrite(d->pdev, d->window, ba.win, &pat, 8);
        qpci_memread(d->pdev, d->window, ba.win, &x, 8);
    }
    check(ba.alloc == 0 && ba.map == 0 && ba.window == 0 && x == pat,
          "gpu-gtt-window", "A: GTT buffer at 0x%" PRIx64 " alloc %s, map "
          "to GPU %s, OP_MAP_WINDOW %s, window write/read %s", va,
          err_name(ba.alloc), err_name(ba.map), err_name(ba.window),
          x == pat ? "ok" : "differs");

    /* I2, I4 before B owns anything that could share a number */
    fr.handle = ba.handle;
    r = ioctl_r(d, b.id, AMDKFD_IOC_FREE_MEMORY_OF_GPU, &fr, sizeof(fr),
                &st);
    check(r != 0, "gpu-handle-other", "FREE_MEMORY_OF_GPU of A's handle "
          "through B = %s (must fail)", err_name(r));
    st = akmc_map_window(d, b.id, ba.mmap_offset, 65536, &win, NULL, &r);
    check(st != AMDKFD_MC_S_OK, "gpu-window-other", "OP_MAP_WINDOW of A's "
          "mmap offset for B = %s/%s (must fail)", st_name(st), err_name(r));

    /* I1, I3: B has its own GPU VM, so the same VA maps again */
    gpu_buf(d, b.id, gpu, va, 65536, &bb);
    check(bb.alloc == 0 && bb.map == 0, "gpu-vm-separate", "B allocates "
          "and maps the same GPU VA 0x%" PRIx64 " (alloc %s, map %s); one "
          "shared GPU VM would refuse the overlap", va, err_name(bb.alloc),
          err_name(bb.map));
    if (bb.window == 0 && ba.window == 0) {
        uint64_t other = ~pat;

        qpci_memwrite(d->pdev, d->window, bb.win, &other, 8);
        qpci_memread(d->pdev, d->window, ba.win, &x, 8);
        qpci_memread(d->pdev, d->window, bb.win, &y, 8);
        check(x == pat && y == other, "gpu-memory-own", "A's and B's "
              "buffers at the same VA are distinct memory (A 0x%" PRIx64
              ", B 0x%" PRIx64 ")", x, y);
    }

    /* Queues and doorbells: sizes the KFD accepts on this GPU */
    gpu_buf(d, a.id, gpu, va + (1ull << 21), 4096, &ring);
    gpu_buf(d, a.id, gpu, va + (2ull << 21), 4096, &ptrs);
    q.ring_base_address = ring.va;
    q.ring_size = 4096;
    q.read_pointer_address = ptrs.va;
    q.write_pointer_address = ptrs.va + 8;
    q.gpu_id = gpu;
    q.queue_type = KFD_IOC_QUEUE_TYPE_SDMA;
    q.queue_percentage = 100;
    q.queue_priority = 7;
    r = ioctl_r(d, a.id, AMDKFD_IOC_CREATE_QUEUE, &q, sizeof(q), &st);
    check(r == 0, "gpu-queue", "SDMA queue in A = %s (queue %u, doorbell "
          "offset 0x%" PRIx64 ")", err_name(r), q.queue_id,
          (uint64_t)q.doorbell_offset);
    if (r == 0) {
        uint64_t base = q.doorbell_offset & ~(uint64_t)(8192 - 1);
        uint32_t s8, s4;
        int32_t r8 = -1, r4 = -1;

        s8 = akmc_map_window(d, a.id, base, 8192, &win, NULL, &r8);
        s4 = s8 == AMDKFD_MC_S_OK ? AMDKFD_MC_S_OK :
             akmc_map_window(d, a.id, q.doorbell_offset & ~4095ull, 4096,
                             &win, NULL, &r4);
        check(s8 == AMDKFD_MC_S_OK || s4 == AMDKFD_MC_S_OK, "gpu-doorbell",
              "OP_MAP_WINDOW of the doorbell: 8 KiB %s/%s, 4 KiB %s/%s",
              st_name(s8), err_name(r8),
              s8 == AMDKFD_MC_S_OK ? "-" : st_name(s4), err_name(r4));
    }

    /* I6, I7: destroying a context with GPU state frees it on the host */
    st = akmc_ctx_destroy(d, b.id);
    check(st == AMDKFD_MC_S_OK &&
          wait_ctx_gone(pid, le32_to_cpu(b.info.host_ctx_id), 2000, &took) &&
          poll_eq(count_fds, pid, fds0 + 2, 2000, NULL) == fds0 + 2,
          "gpu-destroy", "destroying B (a buffer mapped on the GPU) removes "
          "context_%u and its two fds", le32_to_cpu(b.info.host_ctx_id));
    qpci_memread(d->pdev, d->window, ba.win, &x, 8);
    check(x == pat, "gpu-destroy-other", "A's buffer intact after B is "
          "gone (0x%" PRIx64 ")", x);
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_RESET);
    r = poll_eq(count_fds, pid, fds0, 5000, NULL);
    check(r == fds0 && count_ctx_dirs(pid) == 0 &&
          poll_eq(count_kfd_maps, pid, 0, 2000, NULL) == 0, "gpu-reset",
          "CONTROL.RESET with a queue and GPU memory: %d fds (baseline %d), "
          "%d context_*, %d KFD mappings", r, fds0, count_ctx_dirs(pid),
          count_kfd_maps(pid));
    akmc_stop(d);
}

/* ---- stock kernel: negative control ---- */

static void run_stock(const char *qemu)
{
    AkmcDev *d = akmc_boot("-machine pc");
    int pid = qtest_pid(d->qts);
    int fds0 = count_fds(pid), fd, r;
    const char *desc = "";
    QDict *rsp;
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) gerr = NULL;
    int status = -1;
    char *argv[] = {
        (char *)qemu, (char *)"-machine", (char *)"pc", (char *)"-accel",
        (char *)"qtest", (char *)"-nodefaults", (char *)"-display",
        (char *)"none", (char *)"-device",
        (char *)"amdkfd-mc,backend=host", NULL
    };

    fd = open(KFD_DEV, O_RDWR | O_CLOEXEC);
    r = fd < 0 ? -errno : ioctl(fd, AMDKFD_IOC_CREATE_PROCESS) < 0 ? -errno
                                                                   : 0;
    if (fd >= 0) {
        close(fd);
    }
    info("this kernel: open(/dev/kfd) %s, CREATE_PROCESS = %s",
         fd < 0 ? "failed" : "ok", err_name(r));

    rsp = qtest_qmp(d->qts, "{ 'execute': 'device_add', 'arguments': "
                    "{ 'driver': 'amdkfd-mc', 'id': 'kfd', "
                    "'backend': 'host' } }");
    if (qdict_haskey(rsp, "error")) {
        desc = qdict_get_str(qdict_get_qdict(rsp, "error"), "desc");
    }
    check(qdict_haskey(rsp, "error") &&
          strstr(desc, "cannot create secondary contexts") &&
          strstr(desc, "AMDKFD_IOC_CREATE_PROCESS") &&
          strstr(desc, g_strerror(ENOTTY)), "stock-refused-qmp",
          "device_add backend=host refused: \"%s\"", desc);
    qobject_unref(rsp);
    r = poll_eq(count_fds, pid, fds0, 2000, NULL);
    check(r == fds0 && count_ctx_dirs(pid) == 0, "stock-no-leak",
          "QEMU still runs, fds back to baseline %d (%d), no context_*",
          fds0, r);
    akmc_stop(d);

    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                      &err, &status, &gerr)) {
        check(false, "stock-refused-cmdline", "cannot run %s: %s", qemu,
              gerr->message);
        return;
    }
    g_strchomp(err);
    g_strdelimit(err, "\n", '|');
    check(!(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
          strstr(err, "Linux 7.0") && strstr(err, "kernel-patches/") &&
          strstr(err, "cannot create secondary contexts"),
          "stock-refused-cmdline", "qemu -device amdkfd-mc,backend=host "
          "exits with status %d and says: %s", status, err);
}

/* ---- create+destroy cycles of real secondaries ---- */

/* Seconds for @cycles create+destroy through a device on @args */
static double device_cycles(const char *args, int cycles, int *bad,
                            int *left)
{
    AkmcDev *d = akmc_boot(args);
    uint32_t id;
    double t0, t;
    int i;

    akmc_attach(d);
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    for (i = 0; i < 10; i++) {      /* warm up */
        *bad += akmc_ctx_create(d, &id, NULL) != AMDKFD_MC_S_OK;
        *bad += akmc_ctx_destroy(d, id) != AMDKFD_MC_S_OK;
    }
    t0 = now_s();
    for (i = 0; i < cycles; i++) {
        *bad += akmc_ctx_create(d, &id, NULL) != AMDKFD_MC_S_OK;
        *bad += akmc_ctx_destroy(d, id) != AMDKFD_MC_S_OK;
    }
    t = now_s() - t0;
    *left = count_ctx_dirs(qtest_pid(d->qts));
    akmc_stop(d);
    return t;
}

/* Median of B's GET_VERSION round trips through the device, in us */
static double get_version_us(AkmcDev *d, uint32_t ctx, int samples)
{
    g_autofree double *v = g_new(double, samples);
    struct kfd_ioctl_get_version_args a;
    int32_t r;
    int i, j;

    for (i = 0; i < samples; i++) {
        double t0 = now_s();

        akmc_ioctl(d, ctx, AMDKFD_IOC_GET_VERSION, &a, sizeof(a), &r);
        v[i] = (now_s() - t0) * 1e6;
    }
    /* a small sort: samples are a few hundred */
    for (i = 1; i < samples; i++) {
        for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];

            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    }
    return v[samples / 2];
}

/*
 * head-of-line on the host backend: B's command latency while A blocks
 * in a WAIT_EVENTS on the real KFD, vs. B alone (alternating)
 */
static void run_bench_hol(void)
{
    AkmcDev *d = akmc_boot("-machine q35 -device amdkfd-mc,id=kfd,"
                           "backend=host");
    struct kfd_ioctl_create_event_args ea;
    g_autoptr(GArray) seen = g_array_new(false, false,
                                         sizeof(struct amdkfd_mc_cpl));
    struct amdkfd_mc_cpl cpl;
    double alone[5], blocked[5];
    uint64_t ck;
    Ctx a, b;
    int r;

    akmc_attach(d);
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    g_assert_cmpuint(ctx_new(d, &a), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(ctx_new(d, &b), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(event_new(&a, &ea), ==, 0);
    for (r = 0; r < ARRAY_SIZE(alone); r++) {
        alone[r] = get_version_us(d, b.id, 200);
        ck = wait_submit(d, a.id, d->payload + 8192, ea.event_id, 60000);
        g_usleep(20 * 1000);
        blocked[r] = get_version_us(d, b.id, 200);
        set_submit(d, a.id, d->payload + 12288, ea.event_id);
        check(collect(d, ck, &cpl, seen, 10 * G_USEC_PER_SEC) &&
              cpl.status == AMDKFD_MC_S_OK, "bench-hol-wait",
              "round %d: A's wait ended by its SET_EVENT", r);
        g_array_set_size(seen, 0);
    }
    akmc_stop(d);
    for (r = 1; r < ARRAY_SIZE(alone); r++) {
        alone[0] = MIN(alone[0], alone[r]);
        blocked[0] = MIN(blocked[0], blocked[r]);
    }
    printf("head-of-line-host: %.1f us with A blocked, %.1f us alone "
           "(ratio %.3f)\n", blocked[0], alone[0], blocked[0] / alone[0]);
    printf("# head-of-line-host: B's GET_VERSION through backend=host "
           "while A's WAIT_EVENTS blocks in the real KFD of the patched "
           "6.12 VM, vs. without; median of 200 round trips (qtest "
           "included), best of 5 alternating rounds; goal ratio <= 1.2\n");
}

static void run_bench(int cycles)
{
    double host_s, sim_s, dir_s, t0;
    int i, fd, bad = 0, left = 0, sbad = 0, sleft = 0;

    host_s = device_cycles("-machine q35 -device amdkfd-mc,id=kfd,"
                           "backend=host", cycles, &bad, &left);
    check(bad == 0 && left == 0, "bench-device-cycles",
          "%d create+destroy cycles through the device, %d failed, %d "
          "contexts left", cycles, bad, left);
    sim_s = device_cycles("-machine q35 -device amdkfd-mc,id=kfd,"
                          "backend=sim", cycles, &sbad, &sleft);
    bad = 0;
    t0 = now_s();
    for (i = 0; i < cycles; i++) {
        fd = open(KFD_DEV, O_RDWR | O_CLOEXEC);
        bad += fd < 0 || ioctl(fd, AMDKFD_IOC_CREATE_PROCESS) < 0;
        if (fd >= 0) {
            close(fd);
        }
    }
    dir_s = now_s() - t0;
    check(bad == 0, "bench-direct-cycles", "%d open+CREATE_PROCESS+close "
          "cycles directly on /dev/kfd", cycles);
    /* The same with what backend-host adds: sysfs scans around the ioctl */
    {
        g_autoptr(GString) l = g_string_new("");
        double t1 = now_s(), diff_s;
        int me = getpid();

        for (i = 0; i < cycles; i++) {
            fd = open(KFD_DEV, O_RDWR | O_CLOEXEC);
            sysfs_contexts(me, l);
            bad += fd < 0 || ioctl(fd, AMDKFD_IOC_CREATE_PROCESS) < 0;
            sysfs_contexts(me, l);
            ctx_pasid(me, 0);
            if (fd >= 0) {
                close(fd);
            }
        }
        diff_s = now_s() - t1;
        printf("# host-contexts: direct cycles with the backend's sysfs "
               "scans before and after CREATE_PROCESS and its pasid read: "
               "%.1f us per cycle\n", diff_s * 1e6 / cycles);
    }
    printf("host-contexts: %.0f cycles/s (ratio %.3f)\n", cycles / host_s,
           dir_s / host_s);
    printf("# host-contexts: create+destroy of a real secondary through "
           "-device amdkfd-mc,backend=host, qtest ring round trips "
           "included: %.1f us per cycle; the same device with backend=sim "
           "(ring and qtest cost alone): %.1f us per cycle; directly "
           "open+CREATE_PROCESS+close on /dev/kfd: %.1f us per cycle "
           "(%.0f/s); ratio = device/direct cycles per second; %d cycles "
           "each, patched 6.12 under TCG\n", host_s * 1e6 / cycles,
           sim_s * 1e6 / cycles, dir_s * 1e6 / cycles, cycles / dir_s,
           cycles);
}

/* ---- figures of issue 16: forwarded against direct, in this VM ---- */

#define BENCH_ENTRIES   4096

/* A secondary KFD context of this process, as a guest program's would be */
static int direct_secondary(void)
{
    int fd = open(KFD_DEV, O_RDWR | O_CLOEXEC);

    if (fd < 0 || ioctl(fd, AMDKFD_IOC_CREATE_PROCESS) < 0) {
        g_error("direct secondary: %s", strerror(errno));
    }
    return fd;
}

static double best(const double *v, int n)
{
    double b = v[0];
    int i;

    for (i = 1; i < n; i++) {
        b = MIN(b, v[i]);
    }
    return b;
}

/* ns per command of @n copies of @cmd, the ring pre-filled */
static double forwarded_ns(AkmcDev *d, const struct amdkfd_mc_cmd *cmd,
                           uint32_t n)
{
    g_autofree struct amdkfd_mc_cmd *cmds = g_new(struct amdkfd_mc_cmd,
                                                  BENCH_ENTRIES);
    uint32_t i;

    for (i = 0; i < BENCH_ENTRIES; i++) {
        cmds[i] = *cmd;
        cmds[i].cookie = i;
    }
    akmc_ring_put(d, cmds, BENCH_ENTRIES);
    return (double)akmc_ring_run(d, n, NULL) / n;
}

/*
 * While the device works on a forwarded figure, this thread runs only when
 * the VM's one CPU has nothing else to run: a guest's vCPU, which submits
 * the commands, does not run on the host CPU of the device's main loop
 * either.  Without this, every qtest reply woke this process, which took
 * the CPU from QEMU in the middle of its work (a switch of address spaces,
 * slow under TCG): 600 to 800 us of the doorbell-to-SET_EVENT step of a
 * wake, and its polling added to every batch.
 */
static void client_yields(bool yield)
{
    struct sched_param sp = { 0 };

    if (sched_setscheduler(0, yield ? SCHED_IDLE : SCHED_OTHER, &sp) < 0) {
        info("bench: sched_setscheduler: %s", strerror(errno));
    }
}

/* A device for the figures: ring, one context, one event, its page mapped */
typedef struct BenchDev {
    AkmcDev *d;
    Ctx a;
    struct kfd_ioctl_create_event_args ea;
} BenchDev;

static void bench_dev_boot(BenchDev *b, const char *args)
{
    uint64_t win, map_id;
    int32_t res;

    b->d = akmc_boot(args);
    akmc_attach(b->d);
    g_assert_cmphex(akmc_ring_setup(b->d, BENCH_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    g_assert_cmpuint(ctx_new(b->d, &b->a), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(event_new(&b->a, &b->ea), ==, 0);
    /*
     * As ROCm does: map the whole event page, or the KFD keeps a context
     * to the 256 events of old user space
     */
    g_assert_cmpuint(akmc_map_window(b->d, b->a.id,
                                     b->ea.event_page_offset,
                                     EVENT_PAGE_SIZE, &win, &map_id, &res),
                     ==, AMDKFD_MC_S_OK);
}

enum { TP_GET_VERSION, TP_SET_EVENT, TP_EVENT_PAIR, TP_FIGURES };
#define TP_ROUNDS   5

/*
 * Round @r of the three forwarded figures on @b: ns per command (per
 * pair for the event pair) into column @r of @ns; good completions added
 * to @ok
 */
static void forwarded_round(BenchDev *b, double ns[TP_FIGURES][TP_ROUNDS],
                            int r, int *ok, int fails[2])
{
    const uint32_t n = BENCH_ENTRIES - 1, pairs = BENCH_ENTRIES / 2;
    AkmcDev *d = b->d;
    struct kfd_ioctl_get_version_args ver = { 0 };
    struct kfd_ioctl_create_event_args slots[BENCH_ENTRIES / 2];
    struct kfd_ioctl_set_event_args set = { .event_id = b->ea.event_id };
    g_autofree struct amdkfd_mc_cmd *cmds = g_new(struct amdkfd_mc_cmd,
                                                  BENCH_ENTRIES);
    g_autofree struct amdkfd_mc_cpl *cpls = g_new(struct amdkfd_mc_cpl,
                                                  pairs);
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_IOCTL, .ctx_id = b->a.id,
        .arg0 = AMDKFD_IOC_GET_VERSION, .payload_addr = d->payload,
        .payload_len = sizeof(ver),
    };
    int64_t pair_ns;
    uint32_t i, k;

    client_yields(true);
    ns[TP_GET_VERSION][r] = forwarded_ns(d, &cmd, n);

    qtest_memwrite(d->qts, d->payload + 4096, &set, sizeof(set));
    cmd.arg0 = AMDKFD_IOC_SET_EVENT;
    cmd.payload_addr = d->payload + 4096;
    cmd.payload_len = sizeof(set);
    ns[TP_SET_EVENT][r] = forwarded_ns(d, &cmd, n);

    /*
     * pairs: a ring of 2048 creates, each with its own slot, then 2048
     * destroys of the ids the creates wrote back (slots written before
     * the doorbell, as a guest would, not counted)
     */
    for (i = 0; i < pairs; i++) {
        slots[i] = (struct kfd_ioctl_create_event_args) {
            .event_type = KFD_IOC_EVENT_SIGNAL, .auto_reset = 1,
        };
        cmds[i] = (struct amdkfd_mc_cmd) {
            .opcode = AMDKFD_MC_OP_IOCTL, .ctx_id = b->a.id,
            .arg0 = AMDKFD_IOC_CREATE_EVENT,
            .payload_addr = d->payload + 8192 + i * sizeof(slots[0]),
            .payload_len = sizeof(slots[0]), .cookie = i,
        };
        cmds[pairs + i] = (struct amdkfd_mc_cmd) {
            .opcode = AMDKFD_MC_OP_IOCTL, .ctx_id = b->a.id,
            .arg0 = AMDKFD_IOC_DESTROY_EVENT,
            .payload_addr = cmds[i].payload_addr +
                            offsetof(struct kfd_ioctl_create_event_args,
                                     event_id),
            .payload_len = sizeof(struct kfd_ioctl_destroy_event_args),
            .cookie = pairs + i,
        };
    }
    qtest_bufwrite(d->qts, d->payload + 8192, slots, sizeof(slots));
    akmc_ring_put(d, cmds, BENCH_ENTRIES);
    pair_ns = 0;
    for (k = 0; k < 2; k++) {
        pair_ns += akmc_ring_run(d, pairs, cpls);
        for (i = 0; i < pairs; i++) {
            bool good = cpls[i].status == AMDKFD_MC_S_OK && !cpls[i].result;

            *ok += good;
            if (!good && !fails[k]++) {
                info("bench: forwarded %s %u: %s %s",
                     k ? "DESTROY_EVENT" : "CREATE_EVENT", i,
                     st_name(cpls[i].status), err_name(cpls[i].result));
            }
        }
    }
    client_yields(false);
    ns[TP_EVENT_PAIR][r] = (double)pair_ns / pairs;
}

/* The same three on /dev/kfd directly, ns each, into column @r of @ns */
static void direct_round(int fd, uint32_t event,
                         double ns[TP_FIGURES][TP_ROUNDS], int r, int *ok,
                         int fails[3])
{
    const uint32_t n = BENCH_ENTRIES - 1, pairs = BENCH_ENTRIES / 2;
    struct kfd_ioctl_get_version_args ver = { 0 };
    struct kfd_ioctl_set_event_args set = { .event_id = event };
    double t0;
    uint32_t i;

    t0 = now_s();
    for (i = 0; i < n; i++) {
        *ok += ioctl(fd, AMDKFD_IOC_GET_VERSION, &ver) == 0;
    }
    ns[TP_GET_VERSION][r] = (now_s() - t0) * 1e9 / n;

    t0 = now_s();
    for (i = 0; i < n; i++) {
        if (ioctl(fd, AMDKFD_IOC_SET_EVENT, &set) == 0) {
            (*ok)++;
        } else if (!fails[0]++) {
            info("bench: direct SET_EVENT: %s", strerror(errno));
        }
    }
    ns[TP_SET_EVENT][r] = (now_s() - t0) * 1e9 / n;

    t0 = now_s();
    for (i = 0; i < pairs; i++) {
        struct kfd_ioctl_create_event_args c = {
            .event_type = KFD_IOC_EVENT_SIGNAL, .auto_reset = 1,
        };
        struct kfd_ioctl_destroy_event_args de = { 0 };

        if (ioctl(fd, AMDKFD_IOC_CREATE_EVENT, &c) == 0) {
            (*ok)++;
        } else if (!fails[1]++) {
            info("bench: direct CREATE_EVENT %u: %s", i, strerror(errno));
        }
        de.event_id = c.event_id;
        if (ioctl(fd, AMDKFD_IOC_DESTROY_EVENT, &de) == 0) {
            (*ok)++;
        } else if (!fails[2]++) {
            info("bench: direct DESTROY_EVENT %u: %s", i, strerror(errno));
        }
    }
    ns[TP_EVENT_PAIR][r] = (now_s() - t0) * 1e9 / pairs;
}

/*
 * command-throughput-host: the same ioctls forwarded through
 * backend=host (batched, qtest only at batch edges) and made directly on
 * /dev/kfd by this process, alternating, best of 5 rounds.  Then the
 * forwarded side once more with backend=sim in this VM: the device's own
 * cost under the same emulation, which is what separates the two.
 */
static void run_bench_throughput(void)
{
    const uint32_t n = BENCH_ENTRIES - 1, pairs = BENCH_ENTRIES / 2;
    const char *names[TP_FIGURES] = {
        "GET_VERSION", "SET_EVENT", "CREATE_EVENT+DESTROY_EVENT",
    };
    const char *ids[TP_FIGURES] = { "get-version", "set-event",
                                    "event-pair" };
    double fwd[TP_FIGURES][TP_ROUNDS], dir[TP_FIGURES][TP_ROUNDS];
    double sim[TP_FIGURES][TP_ROUNDS];
    struct kfd_ioctl_create_event_args dea = {
        .event_type = KFD_IOC_EVENT_SIGNAL, .auto_reset = 1,
    };
    int r, k, fd = direct_secondary(), ok = 0, sim_ok = 0;
    int fails[5] = { 0 }, sim_fails[2] = { 0 };
    BenchDev b;

    g_assert_cmpint(ioctl(fd, AMDKFD_IOC_CREATE_EVENT, &dea), ==, 0);
    bench_dev_boot(&b, "-machine q35 -device amdkfd-mc,id=kfd,backend=host");
    for (r = 0; r < TP_ROUNDS; r++) {
        forwarded_round(&b, fwd, r, &ok, fails);
        direct_round(fd, dea.event_id, dir, r, &ok, fails + 2);
    }
    akmc_stop(b.d);
    close(fd);
    check(ok == TP_ROUNDS * (2 * n + 4 * pairs), "bench-throughput-ioctls",
          "%d of %u forwarded and direct ioctls succeeded", ok,
          TP_ROUNDS * (2 * n + 4 * pairs));

    bench_dev_boot(&b, "-machine q35 -device amdkfd-mc,id=kfd,backend=sim");
    for (r = 0; r < TP_ROUNDS; r++) {
        forwarded_round(&b, sim, r, &sim_ok, sim_fails);
    }
    akmc_stop(b.d);
    check(sim_ok == TP_ROUNDS * 2 * pairs, "bench-throughput-sim",
          "%d of %u event commands on backend=sim succeeded", sim_ok,
          TP_ROUNDS * 2 * pairs);

    for (k = 0; k < TP_FIGURES; k++) {
        double f = best(fwd[k], TP_ROUNDS), dr = best(dir[k], TP_ROUNDS);
        double sm = best(sim[k], TP_ROUNDS);

        printf("command-throughput-host-%s: %.0f /s (ratio %.3f)\n", ids[k],
               1e9 / f, dr / f);
        printf("# command-throughput-host-%s: %s through backend=host, "
               "%u per doorbell: %.2f us each; directly on /dev/kfd in "
               "this VM: %.2f us; best of %d alternating rounds, patched "
               "6.12 under TCG; goal ratio >= 0.8%s\n", ids[k], names[k],
               k == TP_EVENT_PAIR ? pairs : n, f / 1e3, dr / 1e3, TP_ROUNDS,
               dr / f < 0.8 ? " below goal" : "");
        printf("# command-throughput-host-%s: the gap, forwarded minus "
               "direct, is %.2f us; the same commands through backend=sim "
               "in this VM (the device's own work under this emulation, "
               "with the sim's in-process call instead of the host "
               "kernel's) take %.2f us\n", ids[k], (f - dr) / 1e3,
               sm / 1e3);
    }
}

typedef struct DirectWait {
    int fd;
    uint32_t event;
    double woke;
} DirectWait;

static void *direct_waiter(void *opaque)
{
    DirectWait *w = opaque;
    struct kfd_event_data ev = { .event_id = w->event };
    struct kfd_ioctl_wait_events_args a = {
        .events_ptr = (uintptr_t)&ev,
        .num_events = 1,
        .timeout = 10000,
    };

    ioctl(w->fd, AMDKFD_IOC_WAIT_EVENTS, &a);
    w->woke = now_s();
    return NULL;
}

/*
 * The time of the first trace line from @from on with @what in it (not
 * followed by a digit: "tail 5" is not "tail 50"), or -1
 */
static double trace_time(char **lines, int from, const char *what, int *at)
{
    for (; lines[from]; from++) {
        const char *ts = strchr(lines[from], '@');
        const char *hit = strstr(lines[from], what);
        double t;

        if (ts && hit && !g_ascii_isdigit(hit[strlen(what)]) &&
            sscanf(ts + 1, "%lf:", &t) == 1) {
            if (at) {
                *at = from;
            }
            return t;
        }
    }
    return -1;
}

static void sort_doubles(double *v, int n)
{
    int i, j;

    for (i = 1; i < n; i++) {
        for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];

            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    }
}

static double median(double *v, int n)
{
    sort_doubles(v, n);
    return n ? v[n / 2] : -1;
}

enum { WAKE_SAMPLES = 60 };

/* Where a forwarded wake spends its time, from the device's trace */
typedef struct WakeSteps {
    int n;                              /* samples timed */
    double total[WAKE_SAMPLES];         /* doorbell to the wait's record */
    double pickup[WAKE_SAMPLES];        /* doorbell to the ring's BH */
    double woke[WAKE_SAMPLES];          /* to the waiter back from its call */
    double post[WAKE_SAMPLES];          /* waiter back to the wait's record */
    double seen_us;                     /* median, as the client saw it */
} WakeSteps;

/*
 * @WAKE_SAMPLES forwarded wakes on a device booted with @dev_args; with
 * @fd >= 0, each followed by a direct one on @fd's event @event, its
 * latency into @dir.  Returns the good wakes.
 */
static int wake_samples(const char *dev_args, int fd, uint32_t event,
                        WakeSteps *st, double *dir)
{
    g_autofree char *trace = g_strdup_printf("/tmp/akmc-wake-%d.log",
                                             getpid());
    g_autofree char *args = g_strdup_printf(
        "%s -msg timestamp=on -trace amdkfd_mc_doorbell -trace "
        "amdkfd_mc_ring_process -trace amdkfd_mc_cmd -trace "
        "amdkfd_mc_ioctl_ran -D %s", dev_args, trace);
    double seen_us[WAKE_SAMPLES];
    uint32_t tails[WAKE_SAMPLES];
    uint64_t cookies[WAKE_SAMPLES];
    struct kfd_ioctl_set_event_args set;
    g_autoptr(GArray) seen = g_array_new(false, false,
                                         sizeof(struct amdkfd_mc_cpl));
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    struct amdkfd_mc_cmd cmd = { 0 };
    int i, ok = 0, at = 0;
    BenchDev b;
    AkmcDev *d;

    bench_dev_boot(&b, args);
    d = b.d;
    set = (struct kfd_ioctl_set_event_args) { .event_id = b.ea.event_id };
    qtest_memwrite(d->qts, d->payload + 4096, &set, sizeof(set));
    cmd.opcode = AMDKFD_MC_OP_IOCTL;
    cmd.ctx_id = b.a.id;
    cmd.arg0 = AMDKFD_IOC_SET_EVENT;
    cmd.payload_addr = d->payload + 4096;
    cmd.payload_len = sizeof(set);

    for (i = 0; i < WAKE_SAMPLES; i++) {
        struct amdkfd_mc_cpl cpl;
        double t0;

        /* forwarded: the wait blocks in the KFD, then one doorbell */
        cookies[i] = wait_submit(d, b.a.id, d->payload + 8192,
                                 b.ea.event_id, 10000);
        g_usleep(5000);
        cmd.cookie = d->next_cookie++;
        akmc_ring_put(d, &cmd, 1);
        client_yields(true);
        t0 = now_s();
        d->sq_tail = (d->sq_tail + 1) % d->entries;
        tails[i] = d->sq_tail;
        akmc_writel(d, AMDKFD_MC_REG_SQ_TAIL, d->sq_tail);
        /* no polling meanwhile: qtest would keep QEMU's main loop busy */
        g_usleep(50 * 1000);
        ok += collect(d, cookies[i], &cpl, seen, 5 * G_USEC_PER_SEC) &&
              cpl.status == AMDKFD_MC_S_OK;
        seen_us[i] = (now_s() - t0) * 1e6;
        client_yields(false);
        g_array_set_size(seen, 0);

        if (fd >= 0) {
            DirectWait w = { .fd = fd, .event = event };
            QemuThread th;

            qemu_thread_create(&th, "waiter", direct_waiter, &w,
                               QEMU_THREAD_JOINABLE);
            g_usleep(5000);
            set.event_id = event;
            t0 = now_s();
            ok += ioctl(fd, AMDKFD_IOC_SET_EVENT, &set) == 0;
            qemu_thread_join(&th);
            dir[i] = (w.woke - t0) * 1e6;
        }
    }
    akmc_stop(d);

    /*
     * Each sample, in this order: the doorbell "sq tail T", the ring's
     * bottom half that takes it up (and runs SET_EVENT), the waiter's
     * return from the backend, the wait's record
     */
    st->n = 0;
    if (g_file_get_contents(trace, &text, NULL, NULL)) {
        lines = g_strsplit(text, "\n", -1);
        for (i = 0; i < WAKE_SAMPLES; i++) {
            g_autofree char *db = g_strdup_printf("amdkfd_mc_doorbell sq tail "
                                                  "%u", tails[i]);
            g_autofree char *wc = g_strdup_printf("cookie 0x%" PRIx64
                                                  " status", cookies[i]);
            double t_db = trace_time(lines, at, db, &at);
            double t_bh, t_woke, t_cpl;

            if (t_db < 0) {
                break;
            }
            t_bh = trace_time(lines, at, "amdkfd_mc_ring_process", NULL);
            t_woke = trace_time(lines, at, "WAIT_EVENTS returned", NULL);
            t_cpl = trace_time(lines, at, wc, NULL);
            if (t_bh >= t_db && t_woke >= t_bh && t_cpl >= t_woke) {
                st->total[st->n] = (t_cpl - t_db) * 1e6;
                st->pickup[st->n] = (t_bh - t_db) * 1e6;
                st->woke[st->n] = (t_woke - t_bh) * 1e6;
                st->post[st->n] = (t_cpl - t_woke) * 1e6;
                st->n++;
            }
        }
    }
    unlink(trace);
    st->seen_us = median(seen_us, WAKE_SAMPLES);
    return ok;
}

/*
 * event-wake-host: a WAIT_EVENTS woken by a SET_EVENT, from the signalling
 * command's doorbell to the wait's completion record, as the device's own
 * trace timestamps them (qtest round trips in this VM take most of a
 * millisecond, more than the wake itself); against a thread of this
 * process woken on /dev/kfd by another thread's SET_EVENT.  The trace
 * also splits the forwarded wake into its steps, and the same wake on
 * backend=sim shows the device's part without the host kernel.
 */
static void run_bench_wake(void)
{
    double dir[WAKE_SAMPLES], fwd;
    struct kfd_ioctl_create_event_args dea = {
        .event_type = KFD_IOC_EVENT_SIGNAL, .auto_reset = 1,
    };
    g_autofree WakeSteps *host = g_new0(WakeSteps, 1);
    g_autofree WakeSteps *sim = g_new0(WakeSteps, 1);
    int fd = direct_secondary(), ok, sim_ok;
    double d_med;

    g_assert_cmpint(ioctl(fd, AMDKFD_IOC_CREATE_EVENT, &dea), ==, 0);
    ok = wake_samples("-machine q35 -device amdkfd-mc,id=kfd,backend=host",
                      fd, dea.event_id, host, dir);
    close(fd);
    check(ok == 2 * WAKE_SAMPLES && host->n == WAKE_SAMPLES, "bench-wake",
          "%d of %d waits woken, %d of %d timed by the device's trace", ok,
          2 * WAKE_SAMPLES, host->n, WAKE_SAMPLES);
    sim_ok = wake_samples("-machine q35 -device amdkfd-mc,id=kfd,backend=sim",
                          -1, 0, sim, NULL);
    check(sim_ok == WAKE_SAMPLES && sim->n == WAKE_SAMPLES, "bench-wake-sim",
          "%d of %d waits woken on backend=sim, %d timed", sim_ok,
          WAKE_SAMPLES, sim->n);
    if (!host->n) {
        printf("event-wake-host: unavailable (no trace timestamps)\n");
        return;
    }
    fwd = median(host->total, host->n);
    d_med = median(dir, WAKE_SAMPLES);
    printf("event-wake-host: %.0f us forwarded, %.0f us direct (ratio "
           "%.2f)\n", fwd, d_med, fwd / d_med);
    printf("# event-wake-host: WAIT_EVENTS woken by SET_EVENT through "
           "backend=host, from the SET_EVENT's doorbell to the wait's "
           "completion (the device's trace timestamps), vs. a thread of this "
           "process woken on /dev/kfd by another's SET_EVENT; medians of "
           "%d; the client sleeps 50 ms before it looks (%.0f us until it "
           "saw it); patched 6.12 under TCG; goal ratio <= 2%s\n",
           WAKE_SAMPLES, host->seen_us, fwd / d_med > 2 ? " below goal" : "");
    printf("# event-wake-host: steps (medians): doorbell to the ring's "
           "bottom half %.0f us; from there (SET_EVENT) to the waiting "
           "worker back from the host kernel %.0f us; to the wait's "
           "completion record on the main loop %.0f us\n",
           median(host->pickup, host->n), median(host->woke, host->n),
           median(host->post, host->n));
    if (sim->n) {
        printf("# event-wake-host: the same wake on backend=sim in this VM: "
               "%.0f us (steps %.0f, %.0f, %.0f us)\n",
               median(sim->total, sim->n), median(sim->pickup, sim->n),
               median(sim->woke, sim->n), median(sim->post, sim->n));
    }
}

/* us per create+destroy of one context, @cycles of them */
static double cycle_us(AkmcDev *d, int cycles)
{
    double t0 = now_s();
    uint32_t id;
    int i;

    for (i = 0; i < cycles; i++) {
        g_assert_cmpuint(akmc_ctx_create(d, &id, NULL), ==, AMDKFD_MC_S_OK);
        g_assert_cmpuint(akmc_ctx_destroy(d, id), ==, AMDKFD_MC_S_OK);
    }
    return (now_s() - t0) * 1e6 / cycles;
}

/* context-create-scaling-host: create+destroy with 1 and 1000 live */
static void run_bench_scaling(void)
{
    enum { LIVE = 1000, CYCLES = 100 };
    struct rlimit rl;
    AkmcDev *d;
    g_autofree uint32_t *ids = g_new(uint32_t, LIVE);
    double alone[2], loaded[2], t_fill = 0;
    int r, i;

    /* QEMU holds a KFD file per context */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
        rl.rlim_cur = MIN(4096, rl.rlim_max);
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    d = akmc_boot("-machine q35 -device amdkfd-mc,id=kfd,backend=host,"
                  "max-contexts=1100,max-host-fds=2200");
    akmc_attach(d);
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    cycle_us(d, 10);
    for (r = 0; r < 2; r++) {
        double t0;

        alone[r] = cycle_us(d, CYCLES);
        t0 = now_s();
        for (i = 0; i < LIVE; i++) {
            g_assert_cmpuint(akmc_ctx_create(d, &ids[i], NULL), ==,
                             AMDKFD_MC_S_OK);
        }
        t_fill = (now_s() - t0) * 1e6 / LIVE;
        loaded[r] = cycle_us(d, CYCLES);
        for (i = 0; i < LIVE; i++) {
            g_assert_cmpuint(akmc_ctx_destroy(d, ids[i]), ==,
                             AMDKFD_MC_S_OK);
        }
    }
    akmc_stop(d);
    printf("context-scaling-host: %.0f us per create+destroy with %d live, "
           "%.0f us alone (ratio %.2f)\n", best(loaded, 2), LIVE,
           best(alone, 2), best(loaded, 2) / best(alone, 2));
    printf("# context-scaling-host: OP_CREATE_CONTEXT + OP_DESTROY_CONTEXT "
           "of real secondaries through backend=host, %d cycles, best of 2 "
           "alternating rounds; making the %d live ones took %.0f us each; "
           "patched 6.12 under TCG; goal ratio <= 1.5%s\n", CYCLES, LIVE,
           t_fill, best(loaded, 2) / best(alone, 2) > 1.5 ?
           " below goal" : "");
}

int main(int argc, char **argv)
{
    int i;

    g_test_init(&argc, &argv, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!getenv("QTEST_QEMU_BINARY")) {
        fprintf(stderr, "akmc-host-qtest: QTEST_QEMU_BINARY is not set\n");
        return 2;
    }
    for (i = 1; i < MAX(argc, 2); i++) {
        const char *mode = argc > 1 ? argv[i] : "patched";

        if (!strcmp(mode, "patched")) {
            run_patched();
        } else if (!strcmp(mode, "gpu")) {
            run_gpu();
        } else if (!strcmp(mode, "stock")) {
            run_stock(getenv("QTEST_QEMU_BINARY"));
        } else if (!strcmp(mode, "bench")) {
            int n = 200;

            if (i + 1 < argc && g_ascii_isdigit(argv[i + 1][0])) {
                n = atoi(argv[++i]);
            }
            run_bench(MAX(n, 1));
            run_bench_hol();
            run_bench_throughput();
            run_bench_wake();
            run_bench_scaling();
        } else {
            fprintf(stderr, "usage: akmc-host-qtest [patched|gpu|stock|"
                    "bench [N]]...\n");
            return 2;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
