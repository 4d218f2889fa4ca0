/*
 * QTest harness for amdkfd-mc
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qnum.h"
#include "amdkfd-mc-harness.h"

/* How long a completion may take before the test calls it lost */
#define AKMC_TIMEOUT_US (10 * G_USEC_PER_SEC)

static void akmc_save_dev(QPCIDevice *dev, int devfn, void *data)
{
    QPCIDevice **pdev = data;

    g_assert_null(*pdev);
    *pdev = dev;
}

AkmcDev *akmc_boot(const char *args)
{
    AkmcDev *d = g_new0(AkmcDev, 1);

    d->qs = qtest_pc_boot("%s", args);
    d->qts = d->qs->qts;
    d->next_cookie = 0x1000;
    return d;
}

void akmc_attach(AkmcDev *d)
{
    d->pdev = NULL;
    qpci_device_foreach(d->qs->pcibus, AMDKFD_MC_PCI_VENDOR_ID,
                        AMDKFD_MC_PCI_DEVICE_ID, akmc_save_dev, &d->pdev);
    g_assert_nonnull(d->pdev);
    qpci_device_enable(d->pdev);
    /* The largest, most aligned BAR first, so that all fit below 4 GiB */
    d->window = qpci_iomap(d->pdev, AMDKFD_MC_BAR_WINDOW, &d->window_size);
    d->regs = qpci_iomap(d->pdev, AMDKFD_MC_BAR_REGS, NULL);
    qpci_msix_enable(d->pdev);
    if (!d->payload) {
        d->payload = guest_alloc(&d->qs->alloc, AMDKFD_MC_MAX_PAYLOAD);
        d->reply = guest_alloc(&d->qs->alloc, 64);
    }
}

void akmc_detach(AkmcDev *d)
{
    g_free(d->pdev);
    d->pdev = NULL;
}

AkmcDev *akmc_start(const char *opts)
{
    g_autofree char *args = g_strdup_printf("-machine q35 -device amdkfd-mc,"
                                            "id=kfd,backend=sim%s",
                                            opts ? opts : "");
    AkmcDev *d = akmc_boot(args);

    akmc_attach(d);
    return d;
}

void akmc_stop(AkmcDev *d)
{
    g_free(d->pdev);
    qtest_shutdown(d->qs);
    g_free(d);
}

uint32_t akmc_readl(AkmcDev *d, uint32_t reg)
{
    return qpci_io_readl(d->pdev, d->regs, reg);
}

void akmc_writel(AkmcDev *d, uint32_t reg, uint32_t val)
{
    qpci_io_writel(d->pdev, d->regs, reg, val);
}

uint32_t akmc_ring_setup(AkmcDev *d, uint32_t entries)
{
    size_t sq_len = entries * sizeof(struct amdkfd_mc_cmd);
    size_t cq_len = entries * sizeof(struct amdkfd_mc_cpl);

    d->entries = entries;
    d->sq = guest_alloc(&d->qs->alloc, sq_len);
    d->cq = guest_alloc(&d->qs->alloc, cq_len);
    g_assert_cmpuint(d->sq % AMDKFD_MC_RING_ALIGN, ==, 0);
    g_assert_cmpuint(d->cq % AMDKFD_MC_RING_ALIGN, ==, 0);
    qtest_memset(d->qts, d->cq, 0, cq_len);
    d->sq_tail = 0;
    d->cq_head = 0;
    d->phase = true;

    akmc_writel(d, AMDKFD_MC_REG_SQ_BASE_LO, (uint32_t)d->sq);
    akmc_writel(d, AMDKFD_MC_REG_SQ_BASE_HI, d->sq >> 32);
    akmc_writel(d, AMDKFD_MC_REG_CQ_BASE_LO, (uint32_t)d->cq);
    akmc_writel(d, AMDKFD_MC_REG_CQ_BASE_HI, d->cq >> 32);
    akmc_writel(d, AMDKFD_MC_REG_RING_ENTRIES, entries);
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    return akmc_readl(d, AMDKFD_MC_REG_STATUS);
}

static void akmc_cmd_to_le(struct amdkfd_mc_cmd *le,
                           const struct amdkfd_mc_cmd *cmd)
{
    int i;

    *le = *cmd;
    le->opcode = cpu_to_le16(cmd->opcode);
    le->flags = cpu_to_le16(cmd->flags);
    le->ctx_id = cpu_to_le32(cmd->ctx_id);
    le->cookie = cpu_to_le64(cmd->cookie);
    le->payload_addr = cpu_to_le64(cmd->payload_addr);
    le->payload_len = cpu_to_le32(cmd->payload_len);
    le->arg0 = cpu_to_le32(cmd->arg0);
    le->arg1 = cpu_to_le64(cmd->arg1);
    le->arg2 = cpu_to_le64(cmd->arg2);
    for (i = 0; i < ARRAY_SIZE(le->reserved); i++) {
        le->reserved[i] = cpu_to_le64(cmd->reserved[i]);
    }
}

static void akmc_submit(AkmcDev *d, const struct amdkfd_mc_cmd *cmd)
{
    struct amdkfd_mc_cmd le;

    akmc_cmd_to_le(&le, cmd);
    qtest_memwrite(d->qts, d->sq + d->sq_tail * sizeof(le), &le, sizeof(le));
    d->sq_tail = (d->sq_tail + 1) % d->entries;
    akmc_writel(d, AMDKFD_MC_REG_SQ_TAIL, d->sq_tail);
}

void akmc_submit_batch(AkmcDev *d, struct amdkfd_mc_cmd *cmds, uint32_t n)
{
    g_autofree struct amdkfd_mc_cmd *le = g_new(struct amdkfd_mc_cmd, n);
    uint32_t i, first;

    g_assert_cmpuint(n, <, d->entries);
    for (i = 0; i < n; i++) {
        cmds[i].cookie = d->next_cookie++;
        akmc_cmd_to_le(&le[i], &cmds[i]);
    }
    /* at most two writes: up to the end of the ring and from its start */
    first = MIN(n, d->entries - d->sq_tail);
    qtest_memwrite(d->qts, d->sq + d->sq_tail * sizeof(*le), le,
                   first * sizeof(*le));
    if (first < n) {
        qtest_memwrite(d->qts, d->sq, le + first, (n - first) * sizeof(*le));
    }
    d->sq_tail = (d->sq_tail + n) % d->entries;
    akmc_writel(d, AMDKFD_MC_REG_SQ_TAIL, d->sq_tail);
}

static bool akmc_cpl_take(AkmcDev *d, const struct amdkfd_mc_cpl *raw,
                          struct amdkfd_mc_cpl *cpl)
{
    if (!!(le32_to_cpu(raw->flags) & AMDKFD_MC_CPL_PHASE) != d->phase) {
        return false;
    }
    cpl->cookie = le64_to_cpu(raw->cookie);
    cpl->status = le32_to_cpu(raw->status);
    cpl->result = le32_to_cpu(raw->result);
    cpl->value = le64_to_cpu(raw->value);
    cpl->sq_head = le32_to_cpu(raw->sq_head);
    cpl->flags = le32_to_cpu(raw->flags);
    d->cq_head = (d->cq_head + 1) % d->entries;
    if (d->cq_head == 0) {
        d->phase = !d->phase;
    }
    return true;
}

bool akmc_next_cpls(AkmcDev *d, struct amdkfd_mc_cpl *cpls, uint32_t n,
                    int64_t timeout_us)
{
    gint64 deadline = g_get_monotonic_time() + timeout_us;
    g_autofree struct amdkfd_mc_cpl *raw = g_new(struct amdkfd_mc_cpl,
                                                 d->entries);
    uint32_t got = 0, polls = 0;

    while (got < n) {
        /* read up to the end of the ring, take what is new */
        uint32_t chunk = MIN(n - got, d->entries - d->cq_head);
        uint32_t i, taken = 0;

        qtest_memread(d->qts, d->cq + d->cq_head * sizeof(*raw), raw,
                      chunk * sizeof(*raw));
        for (i = 0; i < chunk && akmc_cpl_take(d, &raw[i], &cpls[got]); i++) {
            got++;
            taken++;
        }
        if (taken) {
            akmc_writel(d, AMDKFD_MC_REG_CQ_HEAD, d->cq_head);
            continue;
        }
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        /* a worker usually answers within a few round trips */
        if (++polls > 16) {
            g_usleep(100);
        }
    }
    return true;
}

bool akmc_next_cpl(AkmcDev *d, struct amdkfd_mc_cpl *cpl, int64_t timeout_us)
{
    return akmc_next_cpls(d, cpl, 1, timeout_us);
}

uint64_t akmc_submit_cmd(AkmcDev *d, struct amdkfd_mc_cmd *cmd)
{
    cmd->cookie = d->next_cookie++;
    akmc_submit(d, cmd);
    return cmd->cookie;
}

uint32_t akmc_exec(AkmcDev *d, struct amdkfd_mc_cmd *cmd,
                   struct amdkfd_mc_cpl *cpl)
{
    akmc_submit_cmd(d, cmd);
    g_assert_true(akmc_next_cpl(d, cpl, AKMC_TIMEOUT_US));
    g_assert_cmphex(cpl->cookie, ==, cmd->cookie);
    return cpl->status;
}

uint32_t akmc_device_info(AkmcDev *d, struct amdkfd_mc_device_info *info)
{
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_DEVICE_INFO,
        .payload_addr = d->payload,
        .payload_len = sizeof(*info),
    };
    struct amdkfd_mc_cpl cpl;
    uint32_t status = akmc_exec(d, &cmd, &cpl);

    qtest_memread(d->qts, d->payload, info, sizeof(*info));
    return status;
}

uint32_t akmc_ctx_create(AkmcDev *d, uint32_t *id,
                         struct amdkfd_mc_context_info *info)
{
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_CREATE_CONTEXT,
        .payload_addr = d->payload,
        .payload_len = info ? sizeof(*info) : 0,
    };
    struct amdkfd_mc_cpl cpl;
    uint32_t status = akmc_exec(d, &cmd, &cpl);

    *id = cpl.value;
    if (info) {
        qtest_memread(d->qts, d->payload, info, sizeof(*info));
    }
    return status;
}

uint32_t akmc_ctx_destroy(AkmcDev *d, uint32_t id)
{
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_DESTROY_CONTEXT,
        .ctx_id = id,
    };
    struct amdkfd_mc_cpl cpl;

    return akmc_exec(d, &cmd, &cpl);
}

uint32_t akmc_ioctl(AkmcDev *d, uint32_t ctx, uint32_t request, void *arg,
                    uint32_t size, int32_t *result)
{
    return akmc_ioctl_buf(d, ctx, request, arg, size, result);
}

uint32_t akmc_ioctl_buf(AkmcDev *d, uint32_t ctx, uint32_t request,
                        void *arg, uint32_t size, int32_t *result)
{
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_IOCTL,
        .ctx_id = ctx,
        .arg0 = request,
        .payload_addr = d->payload,
        .payload_len = size,
    };
    struct amdkfd_mc_cpl cpl;
    uint32_t status;

    g_assert_cmpuint(size, <=, AMDKFD_MC_MAX_PAYLOAD);
    qtest_memwrite(d->qts, d->payload, arg, size);
    status = akmc_exec(d, &cmd, &cpl);
    qtest_memread(d->qts, d->payload, arg, size);
    *result = cpl.result;
    return status;
}

uint32_t akmc_map_window(AkmcDev *d, uint32_t ctx, uint64_t mmap_offset,
                         uint64_t size, uint64_t *win_offset,
                         uint64_t *map_id, int32_t *result)
{
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_MAP_WINDOW,
        .ctx_id = ctx,
        .arg1 = mmap_offset,
        .arg2 = size,
        .payload_addr = d->reply,
        .payload_len = sizeof(struct amdkfd_mc_window_map),
    };
    struct amdkfd_mc_window_map reply = { 0 };
    struct amdkfd_mc_cpl cpl;
    uint32_t status;

    qtest_memwrite(d->qts, d->reply, &reply, sizeof(reply));
    status = akmc_exec(d, &cmd, &cpl);
    qtest_memread(d->qts, d->reply, &reply, sizeof(reply));
    *win_offset = le64_to_cpu(reply.win_offset);
    if (map_id) {
        *map_id = le64_to_cpu(reply.map_id);
    }
    if (status == AMDKFD_MC_S_OK) {
        g_assert_cmphex(cpl.value, ==, le64_to_cpu(reply.map_id));
        g_assert_cmpuint(le64_to_cpu(reply.size), ==, size);
    }
    if (result) {
        *result = cpl.result;
    }
    return status;
}

uint32_t akmc_unmap_window(AkmcDev *d, uint32_t ctx, uint64_t map_id)
{
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_UNMAP_WINDOW,
        .ctx_id = ctx,
        .arg1 = map_id,
    };
    struct amdkfd_mc_cpl cpl;

    return akmc_exec(d, &cmd, &cpl);
}

uint32_t akmc_topology(AkmcDev *d, struct amdkfd_mc_topology_node *nodes,
                       uint32_t max, uint32_t *n)
{
    struct amdkfd_mc_topology hdr;
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_QUERY_TOPOLOGY,
        .payload_addr = d->payload,
        .payload_len = sizeof(hdr) + max * sizeof(*nodes),
    };
    struct amdkfd_mc_cpl cpl;
    uint32_t status = akmc_exec(d, &cmd, &cpl);

    qtest_memread(d->qts, d->payload, &hdr, sizeof(hdr));
    *n = le32_to_cpu(hdr.num_nodes);
    if (status == AMDKFD_MC_S_OK) {
        g_assert_cmpuint(*n, <=, max);
        qtest_memread(d->qts, d->payload + sizeof(hdr), nodes,
                      *n * sizeof(*nodes));
    }
    return status;
}

/* ---- a guest program's view ---- */

/* Forward a request that must succeed */
static void akmc_ioctl_ok(AkmcDev *d, uint32_t ctx, uint32_t request,
                          void *buf, uint32_t len)
{
    int32_t result = -1;

    g_assert_cmpuint(akmc_ioctl_buf(d, ctx, request, buf, len, &result), ==,
                     AMDKFD_MC_S_OK);
    g_assert_cmpint(result, ==, 0);
}

static uint64_t akmc_map_window_ok(AkmcDev *d, uint32_t ctx,
                                   uint64_t mmap_offset, uint64_t size,
                                   uint64_t *map_id)
{
    uint64_t win = 0;
    int32_t result = -1;

    g_assert_cmpuint(akmc_map_window(d, ctx, mmap_offset, size, &win,
                                     map_id, &result), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(result, ==, 0);
    return win;
}

void akmc_proc_open(AkmcDev *d, AkmcProc *p)
{
    struct amdkfd_mc_topology_node node;
    struct kfd_ioctl_acquire_vm_args vm = { .drm_fd = 42 };
    uint32_t n;

    p->d = d;
    g_assert_cmpuint(akmc_topology(d, &node, 1, &n), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(n, >=, 1);
    p->gpu_id = le32_to_cpu(node.gpu_id);
    g_assert_cmpuint(akmc_ctx_create(d, &p->ctx, NULL), ==, AMDKFD_MC_S_OK);
    vm.gpu_id = p->gpu_id;
    akmc_ioctl_ok(d, p->ctx, AMDKFD_IOC_ACQUIRE_VM, &vm, sizeof(vm));
}

void akmc_buf_new_unmapped(AkmcProc *p, uint64_t va, uint64_t size,
                           AkmcBuf *b)
{
    struct kfd_ioctl_alloc_memory_of_gpu_args a = {
        .va_addr = va,
        .size = size,
        .gpu_id = p->gpu_id,
        .flags = KFD_IOC_ALLOC_MEM_FLAGS_GTT |
                 KFD_IOC_ALLOC_MEM_FLAGS_WRITABLE,
    };
    struct {
        struct kfd_ioctl_map_memory_to_gpu_args a;
        uint32_t ids[2];
    } m = { 0 };

    akmc_ioctl_ok(p->d, p->ctx, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, &a,
                  sizeof(a));
    b->va = va;
    b->size = size;
    b->handle = a.handle;
    b->mmap_offset = a.mmap_offset;
    m.a.handle = a.handle;
    m.a.device_ids_array_ptr = sizeof(m.a);
    m.a.n_devices = 1;
    m.ids[0] = p->gpu_id;
    akmc_ioctl_ok(p->d, p->ctx, AMDKFD_IOC_MAP_MEMORY_TO_GPU, &m,
                  sizeof(m));
    g_assert_cmpuint(m.a.n_success, ==, 1);
    /* The guest's offset comes back, never a host pointer */
    g_assert_cmphex(m.a.device_ids_array_ptr, ==, sizeof(m.a));
    b->win = UINT64_MAX;
    b->map_id = 0;
}

void akmc_buf_new(AkmcProc *p, uint64_t va, uint64_t size, AkmcBuf *b)
{
    akmc_buf_new_unmapped(p, va, size, b);
    b->win = akmc_map_window_ok(p->d, p->ctx, b->mmap_offset, size,
                                &b->map_id);
}

uint32_t akmc_guest_alloc(AkmcProc *p, uint64_t va, uint64_t size,
                          const struct amdkfd_mc_guest_range *ranges,
                          uint32_t n, uint64_t *handle, int32_t *result)
{
    struct amdkfd_mc_guest_memory hdr = {
        .va_addr = cpu_to_le64(va),
        .size = cpu_to_le64(size),
        .gpu_id = cpu_to_le32(p->gpu_id),
        .kfd_flags = cpu_to_le32(KFD_IOC_ALLOC_MEM_FLAGS_USERPTR |
                                 KFD_IOC_ALLOC_MEM_FLAGS_WRITABLE),
        .num_ranges = cpu_to_le32(n),
    };
    uint32_t len = sizeof(hdr) + n * sizeof(*ranges);
    g_autofree struct amdkfd_mc_guest_range *le = g_new(typeof(*le), n);
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_ALLOC_GUEST_MEMORY,
        .ctx_id = p->ctx,
        .payload_addr = p->d->payload,
        .payload_len = len,
    };
    struct amdkfd_mc_cpl cpl;
    uint32_t i, status;

    g_assert_cmpuint(len, <=, AMDKFD_MC_MAX_PAYLOAD);
    for (i = 0; i < n; i++) {
        le[i].gpa = cpu_to_le64(ranges[i].gpa);
        le[i].len = cpu_to_le64(ranges[i].len);
    }
    qtest_memwrite(p->d->qts, p->d->payload, &hdr, sizeof(hdr));
    qtest_memwrite(p->d->qts, p->d->payload + sizeof(hdr), le,
                   n * sizeof(*le));
    status = akmc_exec(p->d, &cmd, &cpl);
    qtest_memread(p->d->qts, p->d->payload, &hdr, sizeof(hdr));
    *handle = le64_to_cpu(hdr.handle);
    *result = cpl.result;
    if (status == AMDKFD_MC_S_OK && !cpl.result) {
        g_assert_cmphex(cpl.value, ==, *handle);
    }
    return status;
}

int32_t akmc_handle_map_gpu(AkmcProc *p, uint64_t handle)
{
    struct {
        struct kfd_ioctl_map_memory_to_gpu_args a;
        uint32_t ids[2];
    } m = { 0 };
    int32_t result = -1;

    m.a.handle = handle;
    m.a.device_ids_array_ptr = sizeof(m.a);
    m.a.n_devices = 1;
    m.ids[0] = p->gpu_id;
    g_assert_cmpuint(akmc_ioctl_buf(p->d, p->ctx, AMDKFD_IOC_MAP_MEMORY_TO_GPU,
                                    &m, sizeof(m), &result), ==,
                     AMDKFD_MC_S_OK);
    return result;
}

int32_t akmc_handle_free(AkmcProc *p, uint64_t handle)
{
    struct kfd_ioctl_free_memory_of_gpu_args a = { .handle = handle };
    struct {
        struct kfd_ioctl_unmap_memory_from_gpu_args a;
        uint32_t ids[2];
    } m = { 0 };
    int32_t result;

    /* A buffer still mapped to the GPU cannot be freed (EBUSY) */
    m.a.handle = handle;
    m.a.device_ids_array_ptr = sizeof(m.a);
    m.a.n_devices = 1;
    m.ids[0] = p->gpu_id;
    g_assert_cmpuint(akmc_ioctl_buf(p->d, p->ctx,
                                    AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU, &m,
                                    sizeof(m), &result), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ioctl(p->d, p->ctx, AMDKFD_IOC_FREE_MEMORY_OF_GPU,
                                &a, sizeof(a), &result), ==, AMDKFD_MC_S_OK);
    return result;
}

int32_t akmc_buf_free(AkmcProc *p, AkmcBuf *b)
{
    return akmc_handle_free(p, b->handle);
}

void akmc_buf_write(AkmcProc *p, AkmcBuf *b, uint64_t off, const void *data,
                    size_t len)
{
    qpci_memwrite(p->d->pdev, p->d->window, b->win + off, data, len);
}

void akmc_buf_read(AkmcProc *p, AkmcBuf *b, uint64_t off, void *data,
                   size_t len)
{
    qpci_memread(p->d->pdev, p->d->window, b->win + off, data, len);
}

void akmc_queue_new(AkmcProc *p, uint64_t va, AkmcQueue *q)
{
    akmc_queue_new_sized(p, va, 4096, q);
}

void akmc_queue_new_sized(AkmcProc *p, uint64_t va, uint32_t ring_size,
                          AkmcQueue *q)
{
    struct kfd_ioctl_create_queue_args a = {
        .ring_base_address = va,
        .write_pointer_address = va + 0x10000 + 8,
        .read_pointer_address = va + 0x10000,
        .ring_size = ring_size,
        .gpu_id = p->gpu_id,
        .queue_type = KFD_IOC_QUEUE_TYPE_SDMA,
        .queue_percentage = 100,
        .queue_priority = 7,
    };
    uint64_t page = AMDKFD_MC_WINDOW_PAGE;

    memset(q, 0, sizeof(*q));
    g_assert_cmpuint(ring_size, <=, 0x10000);
    akmc_buf_new(p, va, ring_size, &q->ring);
    akmc_buf_new(p, va + 0x10000, 4096, &q->ptrs);
    akmc_ioctl_ok(p->d, p->ctx, AMDKFD_IOC_CREATE_QUEUE, &a, sizeof(a));
    q->id = a.queue_id;
    q->doorbell = a.doorbell_offset;
    q->doorbell_win = akmc_map_window_ok(p->d, p->ctx,
                                         q->doorbell & ~(page - 1), page,
                                         &q->doorbell_map_id);
}

void akmc_queue_emit(AkmcProc *p, AkmcQueue *q, const uint32_t *dw,
                     unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        uint32_t v = cpu_to_le32(dw[i]);

        akmc_buf_write(p, &q->ring, q->wptr % q->ring.size, &v, sizeof(v));
        q->wptr += 4;
    }
}

void akmc_queue_copy(AkmcProc *p, AkmcQueue *q, uint64_t src, uint64_t dst,
                     uint64_t len)
{
    /* as ROCr does, in packets of at most 4 MiB */
    while (len) {
        uint32_t n = MIN(len, SIM_SDMA_COPY_MAX_BYTES);
        uint32_t pkt[] = {
            SIM_SDMA_HDR(SIM_SDMA_OP_COPY, SIM_SDMA_SUBOP_COPY_LINEAR),
            n - 1, 0, (uint32_t)src, src >> 32, (uint32_t)dst, dst >> 32,
        };

        akmc_queue_emit(p, q, pkt, ARRAY_SIZE(pkt));
        src += n;
        dst += n;
        len -= n;
    }
}

void akmc_queue_fence(AkmcProc *p, AkmcQueue *q, uint64_t va, uint32_t val)
{
    uint32_t pkt[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_FENCE, 0), (uint32_t)va, va >> 32, val,
    };

    akmc_queue_emit(p, q, pkt, ARRAY_SIZE(pkt));
}

void akmc_queue_trap(AkmcProc *p, AkmcQueue *q, uint32_t int_context)
{
    uint32_t pkt[] = { SIM_SDMA_HDR(SIM_SDMA_OP_TRAP, 0), int_context };

    akmc_queue_emit(p, q, pkt, ARRAY_SIZE(pkt));
}

void akmc_queue_hdp_flush(AkmcProc *p, AkmcQueue *q)
{
    /* ROCr 5.2.3's HDP flush packet */
    uint32_t pkt[] = { 0x8, 0, 0x80000000, 0, 0, 0 };

    akmc_queue_emit(p, q, pkt, ARRAY_SIZE(pkt));
}

void akmc_queue_poll_eq(AkmcProc *p, AkmcQueue *q, uint64_t va, uint32_t ref)
{
    uint32_t pkt[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_POLL_REGMEM, 0) | SIM_SDMA_POLL_MEM |
        SIM_SDMA_POLL_FUNC(SIM_SDMA_FUNC_EQ),
        (uint32_t)va, va >> 32, ref, 0xffffffff,
        SIM_SDMA_POLL_RETRY_FOREVER | 4,
    };

    akmc_queue_emit(p, q, pkt, ARRAY_SIZE(pkt));
}

void akmc_queue_atomic_add64(AkmcProc *p, AkmcQueue *q, uint64_t va,
                             int64_t add)
{
    uint32_t pkt[] = {
        SIM_SDMA_HDR(SIM_SDMA_OP_ATOMIC, 0) |
        SIM_SDMA_ATOMIC_OP(SIM_SDMA_ATOMIC_ADD64),
        (uint32_t)va, va >> 32, (uint32_t)add, (uint64_t)add >> 32, 0, 0, 0,
    };

    akmc_queue_emit(p, q, pkt, ARRAY_SIZE(pkt));
}

void akmc_queue_ring(AkmcProc *p, AkmcQueue *q)
{
    uint64_t off = q->doorbell_win + (q->doorbell % AMDKFD_MC_WINDOW_PAGE);

    qpci_io_writeq(p->d->pdev, p->d->window, off, q->wptr);
}

/*
 * The sim's engine runs in the context's worker queue, where requests
 * that may sleep run in order after it: an AVAILABLE_MEMORY of no GPU (a
 * no-op that fails) completes only once the engine is done.
 */
static void akmc_engine_settle(AkmcProc *p)
{
    struct kfd_ioctl_get_available_memory_args m = { .gpu_id = 0 };
    int32_t result;

    g_assert_cmpuint(akmc_ioctl(p->d, p->ctx, AMDKFD_IOC_AVAILABLE_MEMORY, &m,
                                sizeof(m), &result), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(result, !=, 0);
}

void akmc_queue_kick(AkmcProc *p, AkmcQueue *q)
{
    akmc_queue_ring(p, q);
    akmc_engine_settle(p);
}

void akmc_aql_new(AkmcProc *p, uint64_t va, AkmcAqlQueue *q)
{
    struct kfd_ioctl_create_queue_args a = {
        .ring_base_address = va,
        .read_pointer_address = va + 0x10000 + SIM_AMD_QUEUE_READ_ID,
        .write_pointer_address = va + 0x10000 + SIM_AMD_QUEUE_WRITE_ID,
        .ring_size = AKMC_AQL_SLOTS * SIM_AQL_PACKET_SIZE,
        .gpu_id = p->gpu_id,
        .queue_type = KFD_IOC_QUEUE_TYPE_COMPUTE_AQL,
        .queue_percentage = 100,
        .queue_priority = 7,
    };
    uint64_t page = AMDKFD_MC_WINDOW_PAGE;
    uint16_t invalid = cpu_to_le16(SIM_AQL_TYPE_INVALID);
    uint32_t i;

    memset(q, 0, sizeof(*q));
    akmc_buf_new(p, va, a.ring_size, &q->ring);
    akmc_buf_new(p, va + 0x10000, 4096, &q->amdq);
    /* as ROCr: every header INVALID before the queue exists */
    for (i = 0; i < AKMC_AQL_SLOTS; i++) {
        akmc_buf_write(p, &q->ring, i * SIM_AQL_PACKET_SIZE, &invalid, 2);
    }
    akmc_ioctl_ok(p->d, p->ctx, AMDKFD_IOC_CREATE_QUEUE, &a, sizeof(a));
    q->id = a.queue_id;
    q->doorbell = a.doorbell_offset;
    q->doorbell_win = akmc_map_window_ok(p->d, p->ctx,
                                         q->doorbell & ~(page - 1), page,
                                         &q->doorbell_map_id);
}

void akmc_aql_packet(AkmcProc *p, AkmcAqlQueue *q, uint16_t header,
                     const uint64_t *deps, uint64_t completion)
{
    uint64_t slot = (q->widx++ % AKMC_AQL_SLOTS) * SIM_AQL_PACKET_SIZE;
    uint8_t pkt[SIM_AQL_PACKET_SIZE] = { 0 };
    uint16_t h = cpu_to_le16(header);
    uint64_t v;
    unsigned i;

    for (i = 0; deps && i < SIM_AQL_DEP_SIGNALS; i++) {
        v = cpu_to_le64(deps[i]);
        memcpy(pkt + SIM_AQL_DEP_SIGNAL_OFFSET + i * 8, &v, 8);
    }
    v = cpu_to_le64(completion);
    memcpy(pkt + SIM_AQL_COMPLETION_OFFSET, &v, 8);
    /* the body first, the header last */
    akmc_buf_write(p, &q->ring, slot + 2, pkt + 2, sizeof(pkt) - 2);
    akmc_buf_write(p, &q->ring, slot, &h, 2);
}

void akmc_aql_ring(AkmcProc *p, AkmcAqlQueue *q)
{
    uint64_t off = q->doorbell_win + (q->doorbell % AMDKFD_MC_WINDOW_PAGE);

    /* the doorbell carries the last packet's index */
    qpci_io_writeq(p->d->pdev, p->d->window, off, q->widx - 1);
}

void akmc_aql_kick(AkmcProc *p, AkmcAqlQueue *q)
{
    akmc_aql_ring(p, q);
    akmc_engine_settle(p);
}

uint64_t akmc_aql_rptr(AkmcProc *p, AkmcAqlQueue *q)
{
    uint64_t v;

    akmc_buf_read(p, &q->amdq, SIM_AMD_QUEUE_READ_ID, &v, sizeof(v));
    return le64_to_cpu(v);
}

uint16_t akmc_aql_header(AkmcProc *p, AkmcAqlQueue *q, uint64_t idx)
{
    uint16_t h;

    akmc_buf_read(p, &q->ring, (idx % AKMC_AQL_SLOTS) * SIM_AQL_PACKET_SIZE,
                  &h, 2);
    return le16_to_cpu(h);
}

void akmc_signal_init(AkmcProc *p, AkmcBuf *b, uint64_t off, int64_t value,
                      uint64_t mailbox, uint32_t event_id)
{
    uint64_t sig[SIM_SIGNAL_SIZE / 8] = { cpu_to_le64(1) };

    sig[SIM_SIGNAL_VALUE / 8] = cpu_to_le64(value);
    sig[SIM_SIGNAL_MAILBOX / 8] = cpu_to_le64(mailbox);
    sig[SIM_SIGNAL_EVENT_ID / 8] = cpu_to_le64(event_id);
    akmc_buf_write(p, b, off, sig, sizeof(sig));
}

int64_t akmc_signal_value(AkmcProc *p, AkmcBuf *b, uint64_t off)
{
    uint64_t v;

    akmc_buf_read(p, b, off + SIM_SIGNAL_VALUE, &v, sizeof(v));
    return le64_to_cpu(v);
}

uint64_t akmc_queue_rptr(AkmcProc *p, AkmcQueue *q)
{
    uint64_t v;

    akmc_buf_read(p, &q->ptrs, 0, &v, sizeof(v));
    return le64_to_cpu(v);
}

int32_t akmc_event_create(AkmcProc *p, uint32_t type, uint32_t *id)
{
    struct kfd_ioctl_create_event_args a = {
        .event_type = type,
        .auto_reset = 1,
    };
    int32_t result;

    g_assert_cmpuint(akmc_ioctl(p->d, p->ctx, AMDKFD_IOC_CREATE_EVENT, &a,
                                sizeof(a), &result), ==, AMDKFD_MC_S_OK);
    *id = a.event_id;
    return result;
}

int32_t akmc_event_create_on_page(AkmcProc *p, uint64_t va, AkmcBuf *page,
                                  uint32_t *id)
{
    struct kfd_ioctl_create_event_args a = {
        .event_type = KFD_IOC_EVENT_SIGNAL,
        .auto_reset = 1,
    };
    int32_t result;

    akmc_buf_new(p, va, SIM_KFD_EVENT_PAGE_SIZE, page);
    a.event_page_offset = page->handle;
    g_assert_cmpuint(akmc_ioctl(p->d, p->ctx, AMDKFD_IOC_CREATE_EVENT, &a,
                                sizeof(a), &result), ==, AMDKFD_MC_S_OK);
    *id = a.event_id;
    return result;
}

int32_t akmc_event_op(AkmcProc *p, uint32_t request, uint32_t id)
{
    /* SET, RESET and DESTROY share the layout */
    struct kfd_ioctl_set_event_args a = { .event_id = id };
    int32_t result;

    g_assert_cmpuint(_IOC_SIZE(request), ==, sizeof(a));
    g_assert_cmpuint(akmc_ioctl(p->d, p->ctx, request, &a, sizeof(a),
                                &result), ==, AMDKFD_MC_S_OK);
    return result;
}

uint64_t akmc_wait_async(AkmcDev *d, uint32_t ctx, uint32_t id,
                         uint32_t timeout_ms, uint32_t payload_offset)
{
    AkmcWait w = { 0 };
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_IOCTL,
        .ctx_id = ctx,
        .arg0 = AMDKFD_IOC_WAIT_EVENTS,
        .payload_addr = d->payload + payload_offset,
        .payload_len = sizeof(w),
    };

    g_assert_cmpuint(payload_offset + sizeof(w), <=, AMDKFD_MC_MAX_PAYLOAD);
    w.a.events_ptr = offsetof(AkmcWait, ev);
    w.a.num_events = 1;
    w.a.timeout = timeout_ms;
    w.ev.event_id = id;
    qtest_memwrite(d->qts, cmd.payload_addr, &w, sizeof(w));
    return akmc_submit_cmd(d, &cmd);
}

void akmc_wait_result(AkmcDev *d, uint32_t payload_offset, AkmcWait *w)
{
    qtest_memread(d->qts, d->payload + payload_offset, w, sizeof(*w));
}

int32_t akmc_event_wait(AkmcProc *p, uint32_t id, uint32_t timeout_ms,
                        uint32_t *wait_result, struct kfd_event_data *ev)
{
    AkmcWait w = { 0 };
    int32_t result;

    w.a.events_ptr = offsetof(AkmcWait, ev);
    w.a.num_events = 1;
    w.a.timeout = timeout_ms;
    w.ev.event_id = id;
    g_assert_cmpuint(akmc_ioctl_buf(p->d, p->ctx, AMDKFD_IOC_WAIT_EVENTS, &w,
                                    sizeof(w), &result), ==, AMDKFD_MC_S_OK);
    g_assert_cmphex(w.a.events_ptr, ==, sizeof(w.a));
    *wait_result = w.a.wait_result;
    if (ev) {
        *ev = w.ev;
    }
    return result;
}

uint64_t akmc_qom_path_get_uint(AkmcDev *d, const char *path,
                                const char *prop)
{
    QDict *rsp;
    uint64_t v;

    rsp = qtest_qmp(d->qts, "{ 'execute': 'qom-get', 'arguments': "
                    "{ 'path': %s, 'property': %s } }", path, prop);
    g_assert_true(qdict_haskey(rsp, "return"));
    v = qnum_get_uint(qobject_to(QNum, qdict_get(rsp, "return")));
    qobject_unref(rsp);
    return v;
}

uint64_t akmc_qom_get_uint(AkmcDev *d, const char *prop)
{
    return akmc_qom_path_get_uint(d, "/machine/peripheral/kfd", prop);
}

bool akmc_wait_backend_contexts(AkmcDev *d, uint64_t n)
{
    gint64 deadline = g_get_monotonic_time() + AKMC_TIMEOUT_US;

    while (akmc_qom_get_uint(d, "backend-contexts") != n) {
        if (g_get_monotonic_time() > deadline) {
            return false;
        }
        g_usleep(1000);
    }
    return true;
}

int akmc_count_fds(QTestState *qts)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", qtest_pid(qts));
    GDir *d = g_dir_open(dir, 0, NULL);
    int n = 0;

    g_assert_nonnull(d);
    while (g_dir_read_name(d)) {
        n++;
    }
    g_dir_close(d);
    return n;
}

int akmc_count_sim_maps(QTestState *qts)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/maps", qtest_pid(qts));
    g_autofree char *text = NULL;
    int n = 0;
    char *p;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    for (p = text; (p = strstr(p, SIM_KFD_MEMFD_NAME)); p++) {
        n++;
    }
    return n;
}

bool akmc_sim_maps_back_to(QTestState *qts, int baseline)
{
    int i;

    for (i = 0; i < 500; i++) {
        if (akmc_count_sim_maps(qts) <= baseline) {
            return true;
        }
        g_usleep(10 * 1000);
    }
    return false;
}

AkmcDev *akmc_start_ready(const char *opts)
{
    AkmcDev *d = akmc_start(opts);

    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    return d;
}

/* The device must still answer after whatever a test did to it */
void akmc_assert_alive(AkmcDev *d)
{
    struct amdkfd_mc_device_info info;

    g_assert_cmphex(akmc_readl(d, AMDKFD_MC_REG_MAGIC), ==, AMDKFD_MC_MAGIC);
    g_assert_cmpuint(akmc_device_info(d, &info), ==, AMDKFD_MC_S_OK);
}

void akmc_create_some(AkmcDev *d, uint32_t *id, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        g_assert_cmpuint(akmc_ctx_create(d, &id[i], NULL), ==,
                         AMDKFD_MC_S_OK);
    }
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, n);
}

uint64_t akmc_qemu_rss(AkmcDev *d)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/statm",
                                            qtest_pid(d->qts));
    g_autofree char *text = NULL;
    unsigned long size, rss;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_cmpint(sscanf(text, "%lu %lu", &size, &rss), ==, 2);
    return (uint64_t)rss * qemu_real_host_page_size();
}

bool akmc_qemu_has_asan(AkmcDev *d)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/maps",
                                            qtest_pid(d->qts));
    g_autofree char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    /*
     * gcc links the runtime as libasan.so, clang statically; both map
     * x86_64's high shadow memory, which ends at 0x10007fff8000
     */
    return strstr(text, "libasan") != NULL ||
           strstr(text, "-10007fff8000 ") != NULL;
}

void akmc_queue_busy(AkmcProc *p, uint64_t va, AkmcQueue *q)
{
    const uint32_t ring = 1 * MiB, chunk = SIM_SDMA_COPY_MAX_BYTES;
    struct kfd_ioctl_create_queue_args a = {
        .ring_base_address = va,
        .write_pointer_address = va + ring + 8,
        .read_pointer_address = va + ring,
        .ring_size = ring,
        .gpu_id = p->gpu_id,
        .queue_type = KFD_IOC_QUEUE_TYPE_SDMA,
        .queue_percentage = 100,
        .queue_priority = 7,
    };
    g_autofree uint32_t *dw = g_malloc0(ring);
    uint64_t page = AMDKFD_MC_WINDOW_PAGE;
    AkmcBuf src, dst;
    uint32_t i, n;

    memset(q, 0, sizeof(*q));
    akmc_buf_new(p, va, ring, &q->ring);
    akmc_buf_new(p, va + ring, 4096, &q->ptrs);
    akmc_buf_new_unmapped(p, va + 0x1000000, chunk, &src);
    akmc_buf_new_unmapped(p, va + 0x2000000, chunk, &dst);
    akmc_ioctl_ok(p->d, p->ctx, AMDKFD_IOC_CREATE_QUEUE, &a, sizeof(a));
    q->id = a.queue_id;
    q->doorbell = a.doorbell_offset;
    q->doorbell_win = akmc_map_window_ok(p->d, p->ctx,
                                         q->doorbell & ~(page - 1), page,
                                         &q->doorbell_map_id);
    /* COPY_LINEAR packets of 7 dwords, written at once; one slot empty */
    n = ring / 28 - 1;
    for (i = 0; i < n; i++) {
        uint32_t *pkt = &dw[i * 7];

        pkt[0] = cpu_to_le32(SIM_SDMA_HDR(SIM_SDMA_OP_COPY,
                                          SIM_SDMA_SUBOP_COPY_LINEAR));
        pkt[1] = cpu_to_le32(chunk - 1);
        pkt[3] = cpu_to_le32((uint32_t)src.va);
        pkt[4] = cpu_to_le32(src.va >> 32);
        pkt[5] = cpu_to_le32((uint32_t)dst.va);
        pkt[6] = cpu_to_le32(dst.va >> 32);
    }
    akmc_buf_write(p, &q->ring, 0, dw, n * 28);
    q->wptr = n * 28;
}

/* ---- a pre-filled ring, for benchmarks: qtest only at batch edges ---- */

void akmc_ring_put(AkmcDev *d, const struct amdkfd_mc_cmd *cmds, uint32_t n)
{
    g_autofree struct amdkfd_mc_cmd *le = g_new(struct amdkfd_mc_cmd, n);
    uint32_t i, first;

    for (i = 0; i < n; i++) {
        akmc_cmd_to_le(&le[i], &cmds[i]);
    }
    first = MIN(n, d->entries - d->sq_tail);
    qtest_bufwrite(d->qts, d->sq + d->sq_tail * sizeof(*le), le,
                   first * sizeof(*le));
    if (first < n) {
        qtest_bufwrite(d->qts, d->sq, le + first, (n - first) * sizeof(*le));
    }
}

bool akmc_cpl_ready(AkmcDev *d, uint32_t i)
{
    uint32_t pos = (d->cq_head + i) % d->entries;
    bool phase = (d->cq_head + i < d->entries) ? d->phase : !d->phase;
    struct amdkfd_mc_cpl c;

    qtest_memread(d->qts, d->cq + pos * sizeof(c) +
                  offsetof(struct amdkfd_mc_cpl, flags), &c.flags,
                  sizeof(c.flags));
    return !!(le32_to_cpu(c.flags) & AMDKFD_MC_CPL_PHASE) == phase;
}

int64_t akmc_ring_run(AkmcDev *d, uint32_t n, struct amdkfd_mc_cpl *cpls)
{
    int64_t t0, t1, deadline;
    uint32_t i, first;

    g_assert(n >= 1 && n <= d->entries - 1);
    d->sq_tail = (d->sq_tail + n) % d->entries;
    t0 = g_get_monotonic_time();
    deadline = t0 + 30 * G_USEC_PER_SEC;
    akmc_writel(d, AMDKFD_MC_REG_SQ_TAIL, d->sq_tail);
    while (!akmc_cpl_ready(d, n - 1)) {
        if (g_get_monotonic_time() > deadline) {
            g_error("no completion within 30 s (ERROR=0x%x STATUS=0x%x)",
                    akmc_readl(d, AMDKFD_MC_REG_ERROR),
                    akmc_readl(d, AMDKFD_MC_REG_STATUS));
        }
    }
    t1 = g_get_monotonic_time();
    if (cpls) {
        first = MIN(n, d->entries - d->cq_head);
        qtest_bufread(d->qts, d->cq + d->cq_head * sizeof(*cpls), cpls,
                      first * sizeof(*cpls));
        if (first < n) {
            qtest_bufread(d->qts, d->cq, cpls + first,
                          (n - first) * sizeof(*cpls));
        }
        for (i = 0; i < n; i++) {
            cpls[i].cookie = le64_to_cpu(cpls[i].cookie);
            cpls[i].status = le32_to_cpu(cpls[i].status);
            cpls[i].result = le32_to_cpu(cpls[i].result);
            cpls[i].value = le64_to_cpu(cpls[i].value);
        }
    }
    if (d->cq_head + n >= d->entries) {
        d->phase = !d->phase;
    }
    d->cq_head = (d->cq_head + n) % d->entries;
    akmc_writel(d, AMDKFD_MC_REG_CQ_HEAD, d->cq_head);
    return (t1 - t0) * 1000;
}
