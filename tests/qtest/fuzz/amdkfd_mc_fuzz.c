/*
 * amdkfd-mc fuzz target: the command decoder and the KFD ioctl marshaling
 *
 * In process, on one machine set up once: each input (amdkfd_mc_fuzz.h)
 * becomes commands in the submission ring and payloads in guest RAM; the
 * doorbell is rung and the main loop runs until every completion is there
 * (bounded).  Then the invariants of the guest ABI are checked, and any
 * violation aborts, which libFuzzer reports as a crash:
 *
 *  - every completion is of a command of this input, once, with a status
 *    the spec defines and a result that is 0 or a negative errno;
 *  - guest RAM outside the payloads keeps its canary bytes, and a command
 *    that failed before it ran left its payload as it was;
 *  - no byte the device wrote into a payload is a pointer into this
 *    process's mappings or one of its file descriptors, unless the guest
 *    had written that very value there;
 *  - the device's QOM counters agree with what the completions said was
 *    made and destroyed;
 *  - after a device reset at the end of the input, nothing is left: no
 *    context, mapping, object, guest memory, wait, command or host fd.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/resource.h>
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "qemu/bswap.h"
#include "qapi/error.h"
#include "qom/object.h"
#include "hw/core/boards.h"
#include "hw/pci/pci_device.h"
#include "system/memory.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/pci-pc.h"
#include "hw/misc/amdkfd-mc-abi.h"
#include "hw/misc/amdkfd-mc-kfd.h"
#include "fuzz.h"
#include "amdkfd_mc_fuzz.h"

#define AKF_MAX_RECS        64
#define AKF_MAX_KNOWN       64
#define AKF_CANARY          0xa5
#define AKF_GUARD           256     /* canary bytes between two slots */
/* how long completions may take: waits are given little, others long */
#define AKF_WAIT_US         (20 * 1000)
#define AKF_HANG_US         (20 * G_USEC_PER_SEC)
/* this process's file descriptors are pushed up to here (see pre_vm_init) */
#define AKF_FD_FLOOR        1500
#define AKF_WINDOW_SIZE     (16 * 1024 * 1024)
/* this process's mappings are read again after so many inputs at most */
#define AKF_MAPS_EVERY      64

typedef struct AkfRec {
    uint8_t op, ctx, mode, flags;
    uint16_t data_len, fix_off;
    uint8_t fix, fix_arg;
    uint16_t addr_off;
    uint32_t payload_len, arg0;
    uint64_t arg1, arg2;
    const uint8_t *data;
} AkfRec;

/* One command of this input and what came of it */
typedef struct AkfCmd {
    AkfRec rec;
    struct amdkfd_mc_cmd cmd;
    uint64_t slot;              /* scratch offset of its payload, if a slot */
    uint64_t span;              /* bytes of the slot that are its own */
    bool in_slot;               /* the payload lies inside the scratch */
    bool submitted, done;
    struct amdkfd_mc_cpl cpl;
} AkfCmd;

typedef struct AkfObj {
    uint32_t ctx;
    uint64_t handle, mmap_offset, size;
    bool guest;
} AkfObj;

typedef struct AkfMap {
    uint32_t ctx;
    uint64_t id, size;
} AkfMap;

typedef struct AkfId {
    uint32_t ctx;
    uint64_t value;
} AkfId;

typedef struct AkfRange {
    uint64_t lo, hi;
} AkfRange;

static struct {
    QTestState *qts;
    Object *dev;
    uint8_t *ram;               /* guest RAM at guest-physical address 0 */
    uint64_t regs;              /* the BARs' guest-physical addresses */
    uint64_t window;
    uint32_t gpu_id;
    uint64_t inputs;
    bool trace;                 /* AMDKFD_MC_FUZZ_TRACE: print commands */

    /* the input being run */
    AkfCmd cmds[AKF_MAX_RECS];
    unsigned nr_cmds;
    uint8_t *before;            /* the scratch as the guest wrote it */
    uint64_t scratch_used;
    uint32_t sq_tail, cq_head;
    bool phase;
    unsigned outstanding;

    /* what the completions said exists */
    uint32_t ctxs[AKF_MAX_KNOWN];
    unsigned nr_ctxs;
    uint32_t made_ctxs[AKF_MAX_KNOWN];  /* for the ctx selector */
    unsigned nr_made;
    AkfObj objs[AKF_MAX_KNOWN];
    unsigned nr_objs;
    AkfMap maps[AKF_MAX_KNOWN];
    unsigned nr_maps;
    AkfId doorbells[AKF_MAX_KNOWN];
    unsigned nr_doorbells;
    AkfId events[AKF_MAX_KNOWN];
    unsigned nr_events;
    bool model_lost;            /* more than the model tracks */

    /* this process's mappings, for the host pointer check */
    AkfRange *maps_ranges;
    unsigned nr_ranges;
    uint64_t maps_read_at;      /* the input that read them last */
} akf;

static void G_NORETURN akf_fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static void akf_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "amdkfd-mc-cmd: invariant violated: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

static uint32_t akf_readl(uint32_t reg)
{
    return qtest_readl(akf.qts, akf.regs + reg);
}

static void akf_writel(uint32_t reg, uint32_t val)
{
    qtest_writel(akf.qts, akf.regs + reg, val);
}

static uint64_t akf_counter(const char *name)
{
    return object_property_get_uint(akf.dev, name, &error_abort);
}

/* ---- this process's own mappings and descriptors ---- */

static void akf_read_maps(void)
{
    g_autofree char *text = NULL;
    char *l, *next;
    GArray *a = g_array_new(false, false, sizeof(AkfRange));

    if (!g_file_get_contents("/proc/self/maps", &text, NULL, NULL)) {
        abort();
    }
    /*
     * Line by line in place: under ASan the file has thousands of lines,
     * and g_strsplit() through ASan's strstr() costs quadratic time (it
     * was a third of all the time the target took)
     */
    for (l = text; *l; l = next) {
        AkfRange r;
        char perms[8];

        next = strchr(l, '\n');
        if (next) {
            *next++ = '\0';
        } else {
            next = l + strlen(l);
        }
        if (sscanf(l, "%" SCNx64 "-%" SCNx64 " %7s", &r.lo, &r.hi,
                   perms) != 3) {
            continue;
        }
        /*
         * Reservations without access and the sanitizers' shadow (tens
         * of TiB) hold nothing a pointer could be meant to reach; below
         * 4 GiB there is only ASan's low shadow (QEMU is a PIE, its heap,
         * stacks and libraries lie high), and the ABI's 32-bit ids and
         * counts (an event id of 0x80000000) would look like pointers
         */
        if (perms[0] != 'r' || r.hi - r.lo > (1ULL << 40) ||
            r.hi <= (1ULL << 32)) {
            continue;
        }
        g_array_append_val(a, r);
    }
    g_free(akf.maps_ranges);
    akf.maps_read_at = akf.inputs;
    akf.nr_ranges = a->len;
    akf.maps_ranges = (AkfRange *)g_array_free(a, false);
}

static bool akf_is_host_pointer(uint64_t v)
{
    unsigned i;

    for (i = 0; i < akf.nr_ranges; i++) {
        if (v >= akf.maps_ranges[i].lo && v < akf.maps_ranges[i].hi) {
            return true;
        }
    }
    return false;
}

static bool akf_is_host_fd(uint32_t v)
{
    return v >= AKF_FD_FLOOR && v < AKF_FD_FLOOR + 4096 &&
           fcntl(v, F_GETFD) != -1;
}

/*
 * Every descriptor QEMU opens gets a number of AKF_FD_FLOOR or more, so a
 * descriptor in a payload cannot hide among small counts and ids
 */
static void akf_pre_vm_init(void)
{
    struct rlimit rl;
    int fd;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
        rl.rlim_cur < AKF_FD_FLOOR + 4096) {
        rl.rlim_cur = MIN(rl.rlim_max, (rlim_t)AKF_FD_FLOOR + 4096);
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    do {
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    } while (fd >= 0 && fd < AKF_FD_FLOOR - 1);
}

/* ---- the input ---- */

static size_t akf_parse(const uint8_t *data, size_t size)
{
    size_t off = 0;

    akf.nr_cmds = 0;
    while (size - off >= AKF_REC_SIZE && akf.nr_cmds < AKF_MAX_RECS) {
        const uint8_t *p = data + off;
        AkfCmd *c = &akf.cmds[akf.nr_cmds++];
        AkfRec *r = &c->rec;

        memset(c, 0, sizeof(*c));
        r->op = p[0];
        r->ctx = p[1];
        r->mode = p[2] % AKF_AT_MODES;
        r->flags = p[3];
        r->data_len = lduw_le_p(p + 4);
        r->fix_off = lduw_le_p(p + 6);
        r->fix = p[8] % AKF_FIXES;
        r->fix_arg = p[9];
        r->addr_off = lduw_le_p(p + 10);
        r->payload_len = ldl_le_p(p + 12);
        r->arg0 = ldl_le_p(p + 16);
        r->arg1 = ldq_le_p(p + 20);
        r->arg2 = ldq_le_p(p + 28);
        off += AKF_REC_SIZE;
        r->data_len = MIN(r->data_len, size - off);
        r->data = data + off;
        off += r->data_len;
        if (r->flags & AKF_F_LEN_DATA) {
            r->payload_len = r->data_len;
        }
    }
    return akf.nr_cmds;
}

/*
 * Lay the payload slots out in the scratch, canaries around them, and
 * write what the guest writes
 */
static void akf_layout(void)
{
    uint64_t off = AKF_GUARD;
    unsigned i;

    for (i = 0; i < akf.nr_cmds; i++) {
        AkfCmd *c = &akf.cmds[i];
        uint64_t span = MAX((uint64_t)c->rec.data_len,
                            MIN(c->rec.payload_len,
                                AMDKFD_MC_MAX_PAYLOAD + 4096));

        c->slot = off;
        c->span = span;
        off = QEMU_ALIGN_UP(off + span + (c->rec.addr_off & 0xfff), 8) +
              AKF_GUARD;
    }
    akf.scratch_used = MIN(off, (uint64_t)AKF_SCRATCH_SIZE);
    memset(akf.ram + AKF_SCRATCH_GPA, AKF_CANARY, akf.scratch_used);
    for (i = 0; i < akf.nr_cmds; i++) {
        AkfCmd *c = &akf.cmds[i];
        uint64_t at = c->slot + (c->rec.addr_off & 0xfff);

        /*
         * The bytes go where the payload starts, and only as far as it
         * goes; a payload elsewhere has no bytes in guest RAM
         */
        if (c->rec.mode == AKF_AT_SLOT &&
            at + MIN(c->rec.data_len, c->rec.payload_len) <=
            akf.scratch_used) {
            memcpy(akf.ram + AKF_SCRATCH_GPA + at, c->rec.data,
                   MIN(c->rec.data_len, c->rec.payload_len));
        }
    }
    memcpy(akf.before, akf.ram + AKF_SCRATCH_GPA, akf.scratch_used);
}

static uint64_t akf_payload_addr(AkfCmd *c)
{
    const AkfRec *r = &c->rec;

    switch (r->mode) {
    case AKF_AT_SLOT:
        return AKF_SCRATCH_GPA + c->slot + (r->addr_off & 0xfff);
    case AKF_AT_REGS:
        return akf.regs + (r->addr_off & 0xfff);
    case AKF_AT_WINDOW:
        return akf.window + ((uint64_t)r->addr_off << 8) % AKF_WINDOW_SIZE;
    case AKF_AT_RAM_END:
        return AKF_RAM_SIZE - (r->addr_off & 0xfff);
    default:
        return (uint64_t)r->fix_off << 48 | (uint64_t)r->addr_off << 12;
    }
}

/* The model of what exists: ids the device handed out to this input */
static bool akf_ctx_known(uint32_t id)
{
    unsigned i;

    for (i = 0; i < akf.nr_ctxs; i++) {
        if (akf.ctxs[i] == id) {
            return true;
        }
    }
    return false;
}

static uint32_t akf_ctx_of(const AkfRec *r)
{
    if (r->ctx == 0) {
        return 0;
    }
    if (r->ctx < 0x80 && akf.nr_made) {
        return akf.made_ctxs[(r->ctx - 1) % akf.nr_made];
    }
    return r->ctx;
}

/* The @n'th of the known ids of @ctx, or 0 */
static uint64_t akf_pick(const AkfId *ids, unsigned nr, uint32_t ctx,
                         unsigned n)
{
    unsigned i, count = 0;

    for (i = 0; i < nr; i++) {
        count += ids[i].ctx == ctx;
    }
    if (!count) {
        return 0;
    }
    n %= count;
    for (i = 0; i < nr; i++) {
        if (ids[i].ctx == ctx && n-- == 0) {
            return ids[i].value;
        }
    }
    return 0;
}

static AkfObj *akf_pick_obj(uint32_t ctx, unsigned n)
{
    unsigned i, count = 0;

    for (i = 0; i < akf.nr_objs; i++) {
        count += akf.objs[i].ctx == ctx;
    }
    if (!count) {
        return NULL;
    }
    n %= count;
    for (i = 0; i < akf.nr_objs; i++) {
        if (akf.objs[i].ctx == ctx && n-- == 0) {
            return &akf.objs[i];
        }
    }
    return NULL;
}

/*
 * The scratch offset of a fixup's @width bytes, or 0 if they are not all
 * inside the payload: the guest writes nothing outside it, and the canary
 * check holds the device to that too
 */
static uint64_t akf_fix_at(AkfCmd *c, unsigned width)
{
    uint64_t off = c->slot + (c->rec.addr_off & 0xfff) + c->rec.fix_off;

    if (c->rec.mode != AKF_AT_SLOT ||
        (uint64_t)c->rec.fix_off + width > c->rec.payload_len ||
        off + width > akf.scratch_used) {
        return 0;
    }
    return off;
}

static void akf_put(AkfCmd *c, unsigned width, uint64_t v)
{
    uint64_t off = akf_fix_at(c, width);

    if (!off) {
        return;
    }
    if (width == 4) {
        stl_le_p(akf.ram + AKF_SCRATCH_GPA + off, v);
    } else {
        stq_le_p(akf.ram + AKF_SCRATCH_GPA + off, v);
    }
    /* the guest wrote it */
    memcpy(akf.before + off, akf.ram + AKF_SCRATCH_GPA + off, width);
}

static void akf_fixup(AkfCmd *c)
{
    uint32_t ctx = c->cmd.ctx_id;
    AkfObj *o;

    switch (c->rec.fix) {
    case AKF_FIX_GPU_ID:
        akf_put(c, 4, akf.gpu_id);
        break;
    case AKF_FIX_MAP_ID: {
        unsigned i, n = 0;
        AkfId ids[AKF_MAX_KNOWN];

        for (i = 0; i < akf.nr_maps; i++) {
            ids[n++] = (AkfId) { akf.maps[i].ctx, akf.maps[i].id };
        }
        c->cmd.arg1 = akf_pick(ids, n, ctx, c->rec.fix_arg);
        break;
    }
    case AKF_FIX_MMAP_OFFSET:
        o = akf_pick_obj(ctx, c->rec.fix_arg);
        c->cmd.arg1 = o ? o->mmap_offset : 0;
        break;
    case AKF_FIX_HANDLE:
        o = akf_pick_obj(ctx, c->rec.fix_arg);
        akf_put(c, 8, o ? o->handle : 0);
        break;
    case AKF_FIX_DOORBELL:
        c->cmd.arg1 = akf_pick(akf.doorbells, akf.nr_doorbells, ctx,
                               c->rec.fix_arg) & ~(uint64_t)0xfff;
        break;
    case AKF_FIX_GPA: {
        uint64_t off = akf_fix_at(c, 8);

        if (off) {
            uint8_t *p = akf.ram + AKF_SCRATCH_GPA + off;

            stq_le_p(p, AKF_GUEST_PAGES_GPA +
                     ldq_le_p(p) % AKF_GUEST_PAGES);
            memcpy(akf.before + off, p, 8);
        }
        break;
    }
    case AKF_FIX_EVENT:
        akf_put(c, 4, akf_pick(akf.events, akf.nr_events, ctx,
                               c->rec.fix_arg));
        break;
    }
}

/* For turning an input into a qtest: the command as submitted */
static void akf_trace_cmd(AkfCmd *c)
{
    const struct amdkfd_mc_cmd *cmd = &c->cmd;
    uint32_t i, n;

    fprintf(stderr, "akf: cmd %u: opcode 0x%x flags 0x%x ctx 0x%x "
            "payload 0x%" PRIx64 "+0x%x arg0 0x%x arg1 0x%" PRIx64
            " arg2 0x%" PRIx64 " reserved 0x%" PRIx64 ",0x%" PRIx64 "\n",
            (unsigned)(c - akf.cmds), cmd->opcode, cmd->flags, cmd->ctx_id,
            cmd->payload_addr, cmd->payload_len, cmd->arg0, cmd->arg1,
            cmd->arg2, cmd->reserved[0], cmd->reserved[1]);
    if (c->rec.mode != AKF_AT_SLOT) {
        return;
    }
    n = MIN(cmd->payload_len, akf.scratch_used -
            MIN(akf.scratch_used, cmd->payload_addr - AKF_SCRATCH_GPA));
    for (i = 0; i < n; i++) {
        fprintf(stderr, "%s%02x", i % 32 ? "" : "akf:   ",
                akf.ram[cmd->payload_addr + i]);
        if (i % 32 == 31 || i == n - 1) {
            fprintf(stderr, "\n");
        }
    }
}

static void akf_submit(AkfCmd *c)
{
    const AkfRec *r = &c->rec;
    struct amdkfd_mc_cmd *cmd = &c->cmd, le;
    uint64_t cookie = (akf.inputs << 16) | ((c - akf.cmds) + 1);

    memset(cmd, 0, sizeof(*cmd));
    cmd->opcode = r->op;
    cmd->ctx_id = akf_ctx_of(r);
    cmd->cookie = cookie;
    cmd->payload_addr = akf_payload_addr(c);
    cmd->payload_len = r->payload_len;
    cmd->arg0 = r->arg0;
    cmd->arg1 = r->arg1;
    cmd->arg2 = r->arg2;
    if (r->flags & AKF_F_BAD_FLAGS) {
        cmd->flags = 1u << (r->fix_arg % 16);
    }
    if (r->flags & AKF_F_BAD_RESERVED) {
        cmd->reserved[r->fix_arg % 2] = 1;
    }
    akf_fixup(c);
    c->in_slot = r->mode == AKF_AT_SLOT &&
                 c->slot + (r->addr_off & 0xfff) + r->payload_len <=
                 akf.scratch_used;

    le = *cmd;
    le.opcode = cpu_to_le16(cmd->opcode);
    le.flags = cpu_to_le16(cmd->flags);
    le.ctx_id = cpu_to_le32(cmd->ctx_id);
    le.cookie = cpu_to_le64(cmd->cookie);
    le.payload_addr = cpu_to_le64(cmd->payload_addr);
    le.payload_len = cpu_to_le32(cmd->payload_len);
    le.arg0 = cpu_to_le32(cmd->arg0);
    le.arg1 = cpu_to_le64(cmd->arg1);
    le.arg2 = cpu_to_le64(cmd->arg2);
    le.reserved[0] = cpu_to_le64(cmd->reserved[0]);
    le.reserved[1] = cpu_to_le64(cmd->reserved[1]);
    if (akf.trace) {
        akf_trace_cmd(c);
    }
    memcpy(akf.ram + AKF_SQ_GPA + akf.sq_tail * sizeof(le), &le, sizeof(le));
    akf.sq_tail = (akf.sq_tail + 1) % AKF_ENTRIES;
    c->submitted = true;
    akf.outstanding++;
}

/* ---- completions and what they tell ---- */

static void akf_forget_ctx(uint32_t ctx)
{
    unsigned i, j;

    for (i = j = 0; i < akf.nr_ctxs; i++) {
        if (akf.ctxs[i] != ctx) {
            akf.ctxs[j++] = akf.ctxs[i];
        }
    }
    akf.nr_ctxs = j;
    for (i = j = 0; i < akf.nr_objs; i++) {
        if (akf.objs[i].ctx != ctx) {
            akf.objs[j++] = akf.objs[i];
        }
    }
    akf.nr_objs = j;
    for (i = j = 0; i < akf.nr_maps; i++) {
        if (akf.maps[i].ctx != ctx) {
            akf.maps[j++] = akf.maps[i];
        }
    }
    akf.nr_maps = j;
}

static const uint8_t *akf_reply(AkfCmd *c, uint32_t len)
{
    uint64_t off = c->slot + (c->rec.addr_off & 0xfff);

    if (c->rec.mode != AKF_AT_SLOT || !c->in_slot || c->rec.payload_len < len) {
        return NULL;
    }
    return akf.ram + AKF_SCRATCH_GPA + off;
}

static void akf_add_obj(uint32_t ctx, uint64_t handle, uint64_t mmap_offset,
                        uint64_t size, bool guest)
{
    unsigned i;

    for (i = 0; i < akf.nr_objs; i++) {
        if (akf.objs[i].ctx == ctx && akf.objs[i].handle == handle) {
            /* the device keeps one record of a handle */
            akf.objs[i] = (AkfObj) { ctx, handle, mmap_offset, size, guest };
            return;
        }
    }
    if (akf.nr_objs == AKF_MAX_KNOWN) {
        akf.model_lost = true;
        return;
    }
    akf.objs[akf.nr_objs++] = (AkfObj) { ctx, handle, mmap_offset, size,
                                         guest };
}

static void akf_learn_ioctl(AkfCmd *c)
{
    uint32_t ctx = c->cmd.ctx_id, nr = _IOC_NR(c->cmd.arg0);
    const uint8_t *p;
    unsigned i;

    if (c->cpl.status != AMDKFD_MC_S_OK || c->cpl.result != 0) {
        return;
    }
    if (nr == _IOC_NR(AMDKFD_IOC_ALLOC_MEMORY_OF_GPU)) {
        struct kfd_ioctl_alloc_memory_of_gpu_args a;

        p = akf_reply(c, sizeof(a));
        if (!p) {
            akf.model_lost = true;
            return;
        }
        memcpy(&a, p, sizeof(a));
        akf_add_obj(ctx, le64_to_cpu(a.handle), le64_to_cpu(a.mmap_offset),
                    le64_to_cpu(a.size), false);
    } else if (nr == _IOC_NR(AMDKFD_IOC_FREE_MEMORY_OF_GPU)) {
        struct kfd_ioctl_free_memory_of_gpu_args a;

        /* write-only: the payload is as the guest wrote it */
        p = akf_reply(c, sizeof(a));
        if (!p) {
            akf.model_lost = true;
            return;
        }
        memcpy(&a, p, sizeof(a));
        for (i = 0; i < akf.nr_objs; i++) {
            if (akf.objs[i].ctx == ctx &&
                akf.objs[i].handle == le64_to_cpu(a.handle)) {
                akf.objs[i] = akf.objs[--akf.nr_objs];
                break;
            }
        }
    } else if (nr == _IOC_NR(AMDKFD_IOC_CREATE_QUEUE)) {
        struct kfd_ioctl_create_queue_args a;

        p = akf_reply(c, offsetof(typeof(a), doorbell_offset) + 8);
        if (p && akf.nr_doorbells < AKF_MAX_KNOWN) {
            memcpy(&a, p, offsetof(typeof(a), doorbell_offset) + 8);
            akf.doorbells[akf.nr_doorbells++] =
                (AkfId) { ctx, le64_to_cpu(a.doorbell_offset) };
        }
    } else if (nr == _IOC_NR(AMDKFD_IOC_CREATE_EVENT)) {
        struct kfd_ioctl_create_event_args a;

        p = akf_reply(c, sizeof(a));
        if (p && akf.nr_events < AKF_MAX_KNOWN) {
            memcpy(&a, p, sizeof(a));
            akf.events[akf.nr_events++] =
                (AkfId) { ctx, le32_to_cpu(a.event_id) };
        }
    }
}

static void akf_learn(AkfCmd *c)
{
    uint32_t ctx = c->cmd.ctx_id;
    unsigned i;

    if (c->cpl.status != AMDKFD_MC_S_OK) {
        return;
    }
    switch (c->cmd.opcode) {
    case AMDKFD_MC_OP_CREATE_CONTEXT:
        if (akf.nr_ctxs == AKF_MAX_KNOWN || akf.nr_made == AKF_MAX_KNOWN) {
            akf.model_lost = true;
            break;
        }
        akf.ctxs[akf.nr_ctxs++] = c->cpl.value;
        akf.made_ctxs[akf.nr_made++] = c->cpl.value;
        break;
    case AMDKFD_MC_OP_DESTROY_CONTEXT:
        akf_forget_ctx(ctx);
        break;
    case AMDKFD_MC_OP_IOCTL:
        akf_learn_ioctl(c);
        break;
    case AMDKFD_MC_OP_MAP_WINDOW:
        if (akf.nr_maps == AKF_MAX_KNOWN) {
            akf.model_lost = true;
            break;
        }
        akf.maps[akf.nr_maps++] = (AkfMap) { ctx, c->cpl.value,
                                             c->cmd.arg2 };
        break;
    case AMDKFD_MC_OP_UNMAP_WINDOW:
        for (i = 0; i < akf.nr_maps; i++) {
            if (akf.maps[i].ctx == ctx && akf.maps[i].id == c->cmd.arg1) {
                akf.maps[i] = akf.maps[--akf.nr_maps];
                break;
            }
        }
        break;
    case AMDKFD_MC_OP_ALLOC_GUEST_MEMORY:
        if (c->cpl.result == 0) {
            const uint8_t *p = akf_reply(c,
                                         sizeof(struct amdkfd_mc_guest_memory));
            if (!p) {
                akf.model_lost = true;
                break;
            }
            akf_add_obj(ctx, c->cpl.value, 0,
                        QEMU_ALIGN_UP(ldq_le_p(p + 8), 4096), true);
        }
        break;
    }
}

/* The ABI's promises about one completion */
static void akf_check_cpl(AkfCmd *c)
{
    const struct amdkfd_mc_cpl *cpl = &c->cpl;

    if (cpl->status > AMDKFD_MC_S_BACKEND_ERROR) {
        akf_fail("command %u (opcode 0x%x) completed with status 0x%x, "
                 "which no completion may carry", (unsigned)(c - akf.cmds),
                 c->cmd.opcode, cpl->status);
    }
    if (cpl->result > 0 || cpl->result < -4095) {
        akf_fail("command %u (opcode 0x%x) completed with result %d, "
                 "neither 0 nor an errno", (unsigned)(c - akf.cmds),
                 c->cmd.opcode, cpl->result);
    }
    if (c->cmd.opcode == AMDKFD_MC_OP_CREATE_CONTEXT &&
        cpl->status == AMDKFD_MC_S_OK &&
        (cpl->value == 0 || cpl->value > UINT32_MAX ||
         akf_ctx_known(cpl->value))) {
        akf_fail("CREATE_CONTEXT returned id 0x%" PRIx64 ", not a new one",
                 cpl->value);
    }
}

/* Read the completions the device posted; true if there was any */
static bool akf_reap(void)
{
    bool any = false;

    for (;;) {
        uint8_t *p = akf.ram + AKF_CQ_GPA + akf.cq_head * 32;
        uint32_t flags = ldl_le_p(p + 28);
        uint64_t cookie;
        unsigned idx;
        AkfCmd *c;

        /* the phase first, then the record it announces (the device's order) */
        smp_rmb();
        if (!(flags & AMDKFD_MC_CPL_PHASE) != !akf.phase) {
            break;
        }
        cookie = ldq_le_p(p);
        idx = (cookie & 0xffff) - 1;
        if (cookie >> 16 != (akf.inputs & 0xffffffffffff) ||
            idx >= akf.nr_cmds || !akf.cmds[idx].submitted ||
            akf.cmds[idx].done) {
            akf_fail("completion with cookie 0x%" PRIx64 " of no command "
                     "this input has running", cookie);
        }
        c = &akf.cmds[idx];
        c->done = true;
        c->cpl.cookie = cookie;
        c->cpl.status = ldl_le_p(p + 8);
        c->cpl.result = (int32_t)ldl_le_p(p + 12);
        c->cpl.value = ldq_le_p(p + 16);
        c->cpl.sq_head = ldl_le_p(p + 24);
        if (akf.trace) {
            fprintf(stderr, "akf: cpl %u: status 0x%x result %d value 0x%"
                    PRIx64 "\n", idx, c->cpl.status, c->cpl.result,
                    c->cpl.value);
        }
        akf_check_cpl(c);
        akf_learn(c);
        akf.outstanding--;
        akf.cq_head = (akf.cq_head + 1) % AKF_ENTRIES;
        if (akf.cq_head == 0) {
            akf.phase = !akf.phase;
        }
        any = true;
    }
    if (any) {
        akf_writel(AMDKFD_MC_REG_CQ_HEAD, akf.cq_head);
    }
    return any;
}

static void akf_tick(void *opaque)
{
}

/*
 * Run the main loop once, blocking until the device's workers hand back a
 * result (their bottom halves wake it) or 1 ms passed: polling with short
 * sleeps spent more time in nanosleep than the device spent on the input
 */
static void akf_main_loop_step(void)
{
    static QEMUTimer *tick;

    if (!tick) {
        tick = timer_new_us(QEMU_CLOCK_REALTIME, akf_tick, NULL);
    }
    timer_mod(tick, qemu_clock_get_us(QEMU_CLOCK_REALTIME) + 1000);
    main_loop_wait(false);
}

static bool akf_only_waits_left(void)
{
    unsigned i;

    for (i = 0; i < akf.nr_cmds; i++) {
        AkfCmd *c = &akf.cmds[i];

        if (c->submitted && !c->done &&
            !(c->cmd.opcode == AMDKFD_MC_OP_IOCTL &&
              _IOC_NR(c->cmd.arg0) == _IOC_NR(AMDKFD_IOC_WAIT_EVENTS))) {
            return false;
        }
    }
    return true;
}

/* Run the main loop until every command completed; false if waits remain */
static bool akf_wait_all(void)
{
    int64_t start = g_get_monotonic_time();

    while (akf.outstanding) {
        int64_t now;

        akf_main_loop_step();
        if (akf_reap()) {
            continue;
        }
        if (akf_readl(AMDKFD_MC_REG_STATUS) & AMDKFD_MC_STATUS_HALTED) {
            akf_fail("the rings halted (ERROR 0x%x) although both are RAM",
                     akf_readl(AMDKFD_MC_REG_ERROR));
        }
        now = g_get_monotonic_time();
        if (now - start > AKF_WAIT_US && akf_only_waits_left()) {
            return false;
        }
        if (now - start > AKF_HANG_US) {
            akf_fail("%u commands did not complete in %d s", akf.outstanding,
                     (int)(AKF_HANG_US / G_USEC_PER_SEC));
        }
    }
    return true;
}

static bool akf_creating(void)
{
    unsigned i;

    for (i = 0; i < akf.nr_cmds; i++) {
        if (akf.cmds[i].submitted && !akf.cmds[i].done &&
            akf.cmds[i].cmd.opcode == AMDKFD_MC_OP_CREATE_CONTEXT) {
            return true;
        }
    }
    return false;
}

static void akf_ring(void)
{
    akf_writel(AMDKFD_MC_REG_SQ_TAIL, akf.sq_tail);
}

/* ---- checks after the input ---- */

/* A command that failed before it ran wrote nothing into its payload */
static bool akf_untouched_status(uint32_t status)
{
    switch (status) {
    case AMDKFD_MC_S_INVALID_OPCODE:
    case AMDKFD_MC_S_INVALID_CONTEXT:
    case AMDKFD_MC_S_DMA_ERROR:
    case AMDKFD_MC_S_INVALID_ARGUMENT:
    case AMDKFD_MC_S_NO_RESOURCES:
    case AMDKFD_MC_S_NOT_SUPPORTED:
        return true;
    }
    return false;
}

/*
 * Scratch bytes [from, to) lie outside every payload: they must still be
 * canaries.  Compared a block at a time: the scratch is up to 4 MiB, and a
 * byte loop under ASan would cost more than the rest of the input.
 */
static void akf_check_canary(uint64_t from, uint64_t to)
{
    static uint8_t canary[4096];
    const uint8_t *now = akf.ram + AKF_SCRATCH_GPA;
    uint64_t at, i;

    if (!canary[0]) {
        memset(canary, AKF_CANARY, sizeof(canary));
    }
    for (at = from; at < to; at += sizeof(canary)) {
        uint64_t n = MIN(to - at, sizeof(canary));

        if (!memcmp(now + at, canary, n)) {
            continue;
        }
        for (i = at; now[i] == AKF_CANARY; i++) {
            /* the first byte that differs */
        }
        akf_fail("guest RAM at 0x%" PRIx64 ", outside every payload, "
                 "was written (0x%02x)", (uint64_t)(AKF_SCRATCH_GPA + i),
                 now[i]);
    }
}

static void akf_check_payloads(void)
{
    const uint8_t *now = akf.ram + AKF_SCRATCH_GPA;
    bool maps_fresh = false;
    uint64_t outside = 0;   /* bytes below it outside payloads: checked */
    unsigned n;

    for (n = 0; n < akf.nr_cmds; n++) {
        AkfCmd *c = &akf.cmds[n];
        uint64_t off = c->slot + (c->rec.addr_off & 0xfff), end, own, j;

        if (!c->submitted || c->rec.mode != AKF_AT_SLOT) {
            continue;
        }
        /* payloads start in slot order, so they start in address order */
        end = MIN(off + c->rec.payload_len, akf.scratch_used);
        if (off < end) {
            akf_check_canary(outside, MIN(off, akf.scratch_used));
            outside = MAX(outside, end);
        }
        if (!c->done || !c->in_slot || !c->rec.payload_len) {
            continue;
        }
        /*
         * A payload longer than the device takes (AMDKFD_MC_MAX_PAYLOAD)
         * runs into the slots after it: only its own slot is its alone
         */
        own = MIN(end, off + c->span);
        if (akf_untouched_status(c->cpl.status) &&
            memcmp(now + off, akf.before + off, own - off)) {
            akf_fail("command %u (opcode 0x%x, request 0x%x) failed with "
                     "status 0x%x but changed its payload", n,
                     c->cmd.opcode, c->cmd.arg0, c->cpl.status);
        }
        /* what the device wrote: no host pointer, no host fd */
        for (j = off; j + 8 <= own; j += 8) {
            uint64_t v = ldq_le_p(now + j);

            if (v == ldq_le_p(akf.before + j)) {
                continue;
            }
            /*
             * It may lie in a mapping made since the last look.  Looking
             * costs more than the rest of an input, and values in this
             * range (GPU addresses, handles) are common, so the maps are
             * read again at most every AKF_MAPS_EVERY inputs: a leak
             * recurs with its input and is caught at the next look
             */
            if (!akf_is_host_pointer(v) && !maps_fresh &&
                akf.inputs - akf.maps_read_at >= AKF_MAPS_EVERY &&
                v >= (1ULL << 32) && v < (1ULL << 47)) {
                akf_read_maps();
                maps_fresh = true;
            }
            if (akf_is_host_pointer(v)) {
                akf_fail("command %u (opcode 0x%x, request 0x%x) wrote "
                         "0x%" PRIx64 ", an address of this process, at "
                         "payload offset %" PRIu64, n, c->cmd.opcode,
                         c->cmd.arg0, v, j - off);
            }
        }
        for (j = off; c->cmd.opcode == AMDKFD_MC_OP_IOCTL && j + 4 <= own;
             j += 4) {
            uint32_t v = ldl_le_p(now + j);

            if (v != ldl_le_p(akf.before + j) && akf_is_host_fd(v)) {
                akf_fail("command %u (request 0x%x) wrote %u, a file "
                         "descriptor of this process, at payload offset %"
                         PRIu64, n, c->cmd.arg0, v, j - off);
            }
        }
    }
    akf_check_canary(outside, akf.scratch_used);
}

static void akf_check_counters(void)
{
    uint64_t objects = 0, guest = 0, mapped = 0;
    unsigned i;

    for (i = 0; i < akf.nr_objs; i++) {
        objects++;
        guest += akf.objs[i].guest ? akf.objs[i].size : 0;
    }
    for (i = 0; i < akf.nr_maps; i++) {
        mapped += akf.maps[i].size;
    }
#define AKF_EXPECT(name, want) do { \
        uint64_t got_ = akf_counter(name); \
        if (got_ != (want)) { \
            akf_fail("QOM %s is %" PRIu64 ", the completions say %" \
                     PRIu64, name, got_, (uint64_t)(want)); \
        } \
    } while (0)
    AKF_EXPECT("live-contexts", akf.nr_ctxs);
    if (akf_readl(AMDKFD_MC_REG_LIVE_CONTEXTS) != akf.nr_ctxs) {
        akf_fail("LIVE_CONTEXTS is %u, the completions say %u",
                 akf_readl(AMDKFD_MC_REG_LIVE_CONTEXTS), akf.nr_ctxs);
    }
    AKF_EXPECT("live-mappings", akf.nr_maps);
    AKF_EXPECT("mapped-bytes", mapped);
    AKF_EXPECT("live-objects", objects);
    AKF_EXPECT("guest-memory-bytes", guest);
}

/* After a reset: nothing of the input is left, once the workers are done */
static void akf_reset_and_check(void)
{
    static const char *const zero[] = {
        "live-contexts", "live-mappings", "mapped-bytes", "live-objects",
        "inflight-waits", "host-fds", "guest-memory-bytes", "async-commands",
        "async-bytes", "backend-contexts", "leaked-window-pages",
    };
    int64_t start = g_get_monotonic_time();
    unsigned i;

    akf_writel(AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_RESET);
    for (;;) {
        for (i = 0; i < ARRAY_SIZE(zero); i++) {
            if (akf_counter(zero[i])) {
                break;
            }
        }
        if (i == ARRAY_SIZE(zero)) {
            break;
        }
        if (g_get_monotonic_time() - start > AKF_HANG_US) {
            akf_fail("QOM %s is still %" PRIu64 " %d s after a reset",
                     zero[i], akf_counter(zero[i]),
                     (int)(AKF_HANG_US / G_USEC_PER_SEC));
        }
        akf_main_loop_step();
    }
    if (akf_readl(AMDKFD_MC_REG_STATUS) || akf_readl(AMDKFD_MC_REG_ERROR) ||
        akf_readl(AMDKFD_MC_REG_LIVE_CONTEXTS)) {
        akf_fail("registers not cleared by the reset");
    }
}

static void akf_rings_on(void)
{
    memset(akf.ram + AKF_CQ_GPA, 0, AKF_ENTRIES * 32);
    akf.sq_tail = akf.cq_head = 0;
    akf.phase = true;
    akf_writel(AMDKFD_MC_REG_SQ_BASE_LO, (uint32_t)AKF_SQ_GPA);
    akf_writel(AMDKFD_MC_REG_SQ_BASE_HI, AKF_SQ_GPA >> 32);
    akf_writel(AMDKFD_MC_REG_CQ_BASE_LO, (uint32_t)AKF_CQ_GPA);
    akf_writel(AMDKFD_MC_REG_CQ_BASE_HI, AKF_CQ_GPA >> 32);
    akf_writel(AMDKFD_MC_REG_RING_ENTRIES, AKF_ENTRIES);
    akf_writel(AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    if (akf_readl(AMDKFD_MC_REG_STATUS) != AMDKFD_MC_STATUS_READY) {
        akf_fail("rings in RAM not enabled (ERROR 0x%x)",
                 akf_readl(AMDKFD_MC_REG_ERROR));
    }
}

static void akf_fuzz(QTestState *s, const unsigned char *data, size_t size)
{
    bool complete;
    unsigned i;

    akf.inputs++;
    akf.nr_ctxs = akf.nr_made = akf.nr_objs = akf.nr_maps = 0;
    akf.nr_doorbells = akf.nr_events = 0;
    akf.model_lost = false;
    akf.outstanding = 0;
    if (!akf_parse(data, size)) {
        return;
    }
    akf_layout();
    akf_rings_on();

    for (i = 0; i < akf.nr_cmds; i++) {
        AkfCmd *c = &akf.cmds[i];

        /* a command naming a context made here needs its id first */
        if (c->rec.ctx && c->rec.ctx < 0x80 && akf_creating()) {
            akf_ring();
            akf_wait_all();
        }
        akf_submit(c);
        if (c->rec.flags & AKF_F_SYNC) {
            akf_ring();
            akf_wait_all();
        }
    }
    akf_ring();
    complete = akf_wait_all();

    akf_check_payloads();
    if (complete && !akf.model_lost) {
        akf_check_counters();
    }
    akf_reset_and_check();
}

/* ---- setup ---- */

/*
 * The first word is the program's name: fuzz.c hands the words to main.
 * AMDKFD_MC_FUZZ_REACH=FILE logs the device's own trace of every command's
 * status and every ioctl's name and result to FILE, which tells what the
 * inputs reached (tests/fuzz/run.sh reach)
 */
static GString *akf_cmdline(FuzzTarget *t)
{
    GString *cmd = g_string_new(TARGET_NAME " -machine q35,accel=qtest "
                                "-nodefaults -display none "
                                "-m 512M -object memory-backend-memfd,"
                                "id=ram,size=512M,share=on "
                                "-machine memory-backend=ram "
                                "-device amdkfd-mc,id=kfd,backend=sim,"
                                "window-size=16M,max-contexts=16,max-waits=16,"
                                "ctx-max-waits=4,worker-threads=2");
    const char *reach = getenv("AMDKFD_MC_FUZZ_REACH");

    if (reach && *reach && !strchr(reach, ' ')) {
        g_string_append_printf(cmd, " -trace amdkfd_mc_cmd "
                               "-trace amdkfd_mc_ioctl "
                               "-trace amdkfd_mc_ioctl_refused -D %s", reach);
    }
    return cmd;
}

static void akf_save_dev(QPCIDevice *dev, int devfn, void *data)
{
    QPCIDevice **pdev = data;

    *pdev = dev;
}

/* The GPU's id, from OP_QUERY_TOPOLOGY, through the rings */
static uint32_t akf_query_gpu_id(void)
{
    static const uint8_t rec[AKF_REC_SIZE] = {
        [0] = AMDKFD_MC_OP_QUERY_TOPOLOGY, [12] = 128,
    };
    const uint8_t *p;

    akf_parse(rec, sizeof(rec));
    akf_layout();
    akf_rings_on();
    akf_submit(&akf.cmds[0]);
    akf_ring();
    akf_wait_all();
    p = akf_reply(&akf.cmds[0], 20);
    if (akf.cmds[0].cpl.status != AMDKFD_MC_S_OK || !p) {
        fprintf(stderr, "amdkfd-mc-cmd: no topology\n");
        abort();
    }
    return ldl_le_p(p + sizeof(struct amdkfd_mc_topology));
}

static void akf_pre_fuzz(QTestState *s)
{
    MachineState *ms = MACHINE(qdev_get_machine());
    QPCIBus *bus;
    QPCIDevice *pdev = NULL;
    QPCIBar bar;
    const char *seeds = getenv("AMDKFD_MC_FUZZ_SEEDS");

    akf.qts = s;
    akf.trace = getenv("AMDKFD_MC_FUZZ_TRACE");
    akf.dev = object_resolve_path("/machine/peripheral/kfd", NULL);
    g_assert(akf.dev);
    akf.ram = memory_region_get_ram_ptr(ms->ram);
    akf.before = g_malloc(AKF_SCRATCH_SIZE);

    bus = qpci_new_pc(s, NULL);
    qpci_device_foreach(bus, AMDKFD_MC_PCI_VENDOR_ID, AMDKFD_MC_PCI_DEVICE_ID,
                        akf_save_dev, &pdev);
    g_assert(pdev);
    qpci_device_enable(pdev);
    /* the largest BAR first, so that all fit below 4 GiB */
    bar = qpci_iomap(pdev, AMDKFD_MC_BAR_WINDOW, NULL);
    akf.window = bar.addr;
    bar = qpci_iomap(pdev, AMDKFD_MC_BAR_REGS, NULL);
    akf.regs = bar.addr;
    qpci_iomap(pdev, AMDKFD_MC_BAR_MSIX, NULL);
    g_free(pdev);
    qpci_free_pc(bus);

    akf.inputs = 1;
    akf.gpu_id = akf_query_gpu_id();
    akf_reset_and_check();
    akf_read_maps();
    if (seeds) {
        amdkfd_mc_fuzz_write_seeds(seeds, akf.gpu_id);
        /* not exit(): libFuzzer's handler would call that a crash */
        fflush(NULL);
        _exit(0);
    }
}

static void register_amdkfd_mc_fuzz_targets(void)
{
    fuzz_add_target(&(FuzzTarget) {
        .name = "amdkfd-mc-cmd",
        .description = "amdkfd-mc: command decoder and ioctl marshaling, "
                       "with the ABI's invariants checked after each input",
        .get_init_cmdline = akf_cmdline,
        .pre_vm_init = akf_pre_vm_init,
        .pre_fuzz = akf_pre_fuzz,
        .fuzz = akf_fuzz,
    });
}

fuzz_target_init(register_amdkfd_mc_fuzz_targets);
