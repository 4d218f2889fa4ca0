/*
 * QTest of amdkfd-mc: bad input
 *
 * Every case feeds the device something a hostile guest could, checks the
 * documented status and that the device, and the other contexts, go on.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "amdkfd-mc-harness.h"
#include "amdkfd-mc-tests.h"


static void test_bad_opcode(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_cmd cmd = { .opcode = 0x7777 };
    struct amdkfd_mc_cpl cpl;

    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_OPCODE);
    cmd = (struct amdkfd_mc_cmd) { .opcode = 0 };
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_OPCODE);
    akmc_assert_alive(d);
    akmc_stop(d);
}

static void test_bad_context_unknown(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct kfd_ioctl_get_version_args v = { 0 };
    int32_t result;
    uint32_t id;

    g_assert_cmpuint(akmc_ctx_create(d, &id, NULL), ==, AMDKFD_MC_S_OK);
    /* Never created: right slot with a wrong generation, and an empty slot */
    g_assert_cmpuint(akmc_ctx_destroy(d, id + 0x10000), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    g_assert_cmpuint(akmc_ioctl(d, id + 1, AMDKFD_IOC_GET_VERSION, &v,
                                sizeof(v), &result), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    /* Slot 0 and slots past max-contexts */
    g_assert_cmpuint(akmc_ctx_destroy(d, 0), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    g_assert_cmpuint(akmc_ctx_destroy(d, 0x1ffff), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    g_assert_cmpuint(akmc_ctx_destroy(d, 0xffffffff), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    /* The real context is unharmed */
    g_assert_cmpuint(akmc_ioctl(d, id, AMDKFD_IOC_GET_VERSION, &v, sizeof(v),
                                &result), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(result, ==, 0);
    akmc_stop(d);
}

static void test_bad_context_destroyed(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct kfd_ioctl_get_version_args v = { 0 };
    int32_t result;
    uint32_t id, other;

    g_assert_cmpuint(akmc_ctx_create(d, &id, NULL), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_create(d, &other, NULL), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_destroy(d, id), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_destroy(d, id), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    g_assert_cmpuint(akmc_ioctl(d, id, AMDKFD_IOC_GET_VERSION, &v, sizeof(v),
                                &result), ==, AMDKFD_MC_S_INVALID_CONTEXT);
    g_assert_cmpuint(akmc_ioctl(d, other, AMDKFD_IOC_GET_VERSION, &v,
                                sizeof(v), &result), ==, AMDKFD_MC_S_OK);
    akmc_stop(d);
}

static void test_bad_payload_outside_ram(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_DEVICE_INFO,
        .payload_addr = 0x7ff0000000000ULL,
        .payload_len = sizeof(struct amdkfd_mc_device_info),
    };
    struct amdkfd_mc_cpl cpl;

    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==, AMDKFD_MC_S_DMA_ERROR);
    /* A create whose reply cannot be written leaves no context behind */
    cmd.opcode = AMDKFD_MC_OP_CREATE_CONTEXT;
    cmd.payload_len = sizeof(struct amdkfd_mc_context_info);
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==, AMDKFD_MC_S_DMA_ERROR);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, 0);
    /* Wrapping past the end of the address space */
    cmd.opcode = AMDKFD_MC_OP_DEVICE_INFO;
    cmd.payload_addr = UINT64_MAX - 8;
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==, AMDKFD_MC_S_DMA_ERROR);
    akmc_assert_alive(d);
    akmc_stop(d);
}

/* A payload that points at the device's own registers is not RAM */
static void test_bad_payload_mmio(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_DEVICE_INFO,
        .payload_addr = (uintptr_t)d->regs.addr,
        .payload_len = sizeof(struct amdkfd_mc_device_info),
    };
    struct amdkfd_mc_cpl cpl;

    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==, AMDKFD_MC_S_DMA_ERROR);
    akmc_assert_alive(d);
    akmc_stop(d);
}

static void test_bad_kick_before_setup(void)
{
    AkmcDev *d = akmc_start(NULL);

    akmc_writel(d, AMDKFD_MC_REG_SQ_TAIL, 1);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_ERROR), ==,
                     AMDKFD_MC_S_NOT_READY);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_SQ_HEAD), ==, 0);
    akmc_writel(d, AMDKFD_MC_REG_ERROR, 0);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_ERROR), ==, AMDKFD_MC_S_OK);
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    akmc_assert_alive(d);
    akmc_stop(d);
}

static void test_bad_ring_geometry(void)
{
    AkmcDev *d = akmc_start(NULL);
    uint64_t ram = guest_alloc(&d->qs->alloc, 2 * AMDKFD_MC_RING_ALIGN);

    /* Misaligned base */
    akmc_writel(d, AMDKFD_MC_REG_SQ_BASE_LO, ram + 64);
    akmc_writel(d, AMDKFD_MC_REG_CQ_BASE_LO, ram + AMDKFD_MC_RING_ALIGN);
    akmc_writel(d, AMDKFD_MC_REG_RING_ENTRIES, 16);
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_ERROR), ==,
                     AMDKFD_MC_S_INVALID_RING);

    /* Not a power of two, too large, overlapping rings */
    akmc_writel(d, AMDKFD_MC_REG_SQ_BASE_LO, ram);
    akmc_writel(d, AMDKFD_MC_REG_RING_ENTRIES, 24);
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);
    akmc_writel(d, AMDKFD_MC_REG_RING_ENTRIES, 8192);
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);
    akmc_writel(d, AMDKFD_MC_REG_RING_ENTRIES, 128);
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);

    /* Rings outside RAM */
    akmc_writel(d, AMDKFD_MC_REG_ERROR, 0);
    akmc_writel(d, AMDKFD_MC_REG_RING_ENTRIES, 16);
    akmc_writel(d, AMDKFD_MC_REG_SQ_BASE_HI, 0x7ff00);
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_ERROR), ==,
                     AMDKFD_MC_S_DMA_ERROR);

    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    akmc_assert_alive(d);
    akmc_stop(d);
}

static void test_bad_doorbell(void)
{
    AkmcDev *d = akmc_start_ready(NULL);

    akmc_writel(d, AMDKFD_MC_REG_SQ_TAIL, AKMC_DEFAULT_ENTRIES + 5);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_ERROR), ==,
                     AMDKFD_MC_S_INVALID_RING);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_SQ_HEAD), ==, 0);
    /* Geometry cannot change under a live ring */
    akmc_writel(d, AMDKFD_MC_REG_ERROR, 0);
    akmc_writel(d, AMDKFD_MC_REG_RING_ENTRIES, 2);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_ERROR), ==,
                     AMDKFD_MC_S_INVALID_RING);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_RING_ENTRIES), ==,
                     AKMC_DEFAULT_ENTRIES);
    akmc_assert_alive(d);
    akmc_stop(d);
}

static void test_bad_reserved_fields(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_DEVICE_INFO,
        .payload_addr = d->payload,
        .payload_len = sizeof(struct amdkfd_mc_device_info),
        .flags = 1,
    };
    struct amdkfd_mc_cpl cpl;

    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    cmd.flags = 0;
    cmd.reserved[1] = 1;
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    /* Device-level commands name no context */
    cmd.reserved[1] = 0;
    cmd.ctx_id = 1;
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    akmc_assert_alive(d);
    akmc_stop(d);
}

static void test_bad_lengths(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_DEVICE_INFO,
        .payload_addr = d->payload,
        .payload_len = AMDKFD_MC_MAX_PAYLOAD + 1,
    };
    struct kfd_ioctl_get_version_args v = { 0 };
    struct amdkfd_mc_cpl cpl;
    uint32_t id;

    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    /* Too short for the reply */
    cmd.payload_len = 8;
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    /* An ioctl payload must be exactly the request's size */
    g_assert_cmpuint(akmc_ctx_create(d, &id, NULL), ==, AMDKFD_MC_S_OK);
    cmd = (struct amdkfd_mc_cmd) {
        .opcode = AMDKFD_MC_OP_IOCTL,
        .ctx_id = id,
        .arg0 = AMDKFD_IOC_GET_VERSION,
        .payload_addr = d->payload,
        .payload_len = sizeof(v) + 4,
    };
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    akmc_assert_alive(d);
    akmc_stop(d);
}

static void test_bad_too_many_contexts(void)
{
    AkmcDev *d = akmc_start_ready(",max-contexts=4");
    uint32_t id[4], extra;

    akmc_create_some(d, id, ARRAY_SIZE(id));
    g_assert_cmpuint(akmc_ctx_create(d, &extra, NULL), ==,
                     AMDKFD_MC_S_NO_RESOURCES);
    g_assert_cmpuint(extra, ==, 0);
    g_assert_cmpuint(akmc_ctx_destroy(d, id[2]), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_create(d, &extra, NULL), ==, AMDKFD_MC_S_OK);
    akmc_assert_alive(d);
    akmc_stop(d);
}

static void test_bad_ioctl_refused(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    static const uint32_t refused[] = {
        AMDKFD_IOC_CREATE_PROCESS,
        AMDKFD_IOC_SVM,
        AMDKFD_IOC_DBG_TRAP,
        AMDKFD_IOC_CRIU_OP,
        AMDKFD_IOC_SMI_EVENTS,
        AMDKFD_IOC_IMPORT_DMABUF,
        AMDKFD_IOC_EXPORT_DMABUF,
        /* Unknown numbers, and a known one with the wrong direction */
        _IOWR(AMDKFD_IOCTL_BASE, 0x7f, uint64_t),
        _IOW(AMDKFD_IOCTL_BASE, 0x01, struct kfd_ioctl_get_version_args),
        /* KFD 1.23's PROFILER, which the device does not implement */
        _IOWR(AMDKFD_IOCTL_BASE, 0x28, uint64_t),
    };
    uint8_t buf[4096] = { 0 };
    int32_t result;
    uint32_t id;
    int i;

    g_assert_cmpuint(akmc_ctx_create(d, &id, NULL), ==, AMDKFD_MC_S_OK);
    for (i = 0; i < ARRAY_SIZE(refused); i++) {
        uint32_t size = MIN(_IOC_SIZE(refused[i]), sizeof(buf));

        g_assert_cmpuint(akmc_ioctl(d, id, refused[i], buf, size, &result),
                         ==, AMDKFD_MC_S_NOT_SUPPORTED);
    }
    akmc_assert_alive(d);
    akmc_stop(d);
}

static void test_bad_window_exhausted(void)
{
    AkmcDev *d = akmc_start_ready(",window-size=1M");
    struct kfd_ioctl_alloc_memory_of_gpu_args big = {
        .va_addr = 0x1000000,
        .size = 2 * 1024 * 1024,
        .flags = KFD_IOC_ALLOC_MEM_FLAGS_GTT,
    };
    AkmcProc a, b;
    AkmcBuf fill, other;
    uint64_t win;
    int32_t result;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    big.gpu_id = a.gpu_id;
    g_assert_cmpuint(akmc_ioctl(d, a.ctx, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU,
                                &big, sizeof(big), &result), ==,
                     AMDKFD_MC_S_OK);
    g_assert_cmpint(result, ==, 0);
    /* Larger than the whole window */
    g_assert_cmpuint(akmc_map_window(d, a.ctx, big.mmap_offset, big.size,
                                     &win, NULL, &result), ==,
                     AMDKFD_MC_S_NO_RESOURCES);
    /* Fill the window's memory part (7/8 of it on sim), then a page more */
    akmc_buf_new(&a, 0x4000000, 7 * 128 * 1024, &fill);
    g_assert_cmpuint(akmc_map_window(d, a.ctx, big.mmap_offset, 4096, &win,
                                     NULL, &result), ==,
                     AMDKFD_MC_S_NO_RESOURCES);
    /* Freeing the object keeps its window range: only unmapping frees it */
    g_assert_cmpint(akmc_buf_free(&a, &fill), ==, 0);
    akmc_buf_new_unmapped(&b, 0x8000000, 4096, &other);
    g_assert_cmpuint(akmc_map_window(d, b.ctx, other.mmap_offset, 4096, &win,
                                     NULL, &result), ==,
                     AMDKFD_MC_S_NO_RESOURCES);
    g_assert_cmpuint(akmc_unmap_window(d, a.ctx, fill.map_id), ==,
                     AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_map_window(d, b.ctx, other.mmap_offset, 4096,
                                     &other.win, &other.map_id, &result), ==,
                     AMDKFD_MC_S_OK);
    akmc_buf_write(&b, &other, 0, "ok", 3);
    akmc_assert_alive(d);
    akmc_stop(d);
}

static void test_bad_window_args(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_cmd cmd = { 0 };
    struct amdkfd_mc_cpl cpl;
    AkmcProc a;
    AkmcBuf b;
    uint64_t win;
    int32_t result;

    akmc_proc_open(d, &a);
    akmc_buf_new(&a, 0x1000000, 8192, &b);
    g_assert_cmpuint(akmc_map_window(d, a.ctx, b.mmap_offset, 100, &win,
                                     NULL, &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    g_assert_cmpuint(akmc_map_window(d, a.ctx, b.mmap_offset, 0, &win,
                                     NULL, &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    g_assert_cmpuint(akmc_map_window(d, a.ctx, b.mmap_offset + 8, 4096, &win,
                                     NULL, &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    /* Past the end of the object, and an offset that names nothing */
    g_assert_cmpuint(akmc_map_window(d, a.ctx, b.mmap_offset, 3 * 4096,
                                     &win, NULL, &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    g_assert_cmpuint(akmc_map_window(d, a.ctx, 0x7000000000000000ULL, 4096,
                                     &win, NULL, &result), ==,
                     AMDKFD_MC_S_NOT_SUPPORTED);
    /* Unmapping takes a map id, never a window offset */
    g_assert_cmpuint(akmc_unmap_window(d, a.ctx, b.win), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    g_assert_cmpuint(akmc_unmap_window(d, a.ctx, b.map_id + 1000), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    g_assert_cmpuint(akmc_unmap_window(d, a.ctx, UINT64_MAX), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    cmd.opcode = AMDKFD_MC_OP_MAP_WINDOW;
    cmd.ctx_id = a.ctx;
    cmd.arg1 = b.mmap_offset;
    cmd.arg2 = 4096;
    cmd.payload_addr = d->payload;
    cmd.payload_len = 8;
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    /* The good mapping still works */
    akmc_buf_write(&a, &b, 0, "ok", 3);
    g_assert_cmpuint(akmc_unmap_window(d, a.ctx, b.map_id), ==,
                     AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_unmap_window(d, a.ctx, b.map_id), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    akmc_assert_alive(d);
    akmc_stop(d);
}

static void test_bad_count_overflow(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct {
        struct kfd_ioctl_map_memory_to_gpu_args a;
        uint32_t ids[2];
    } m = { 0 };
    struct {
        struct kfd_ioctl_get_process_apertures_new_args a;
        struct kfd_process_device_apertures ap[1];
    } ap = { 0 };
    struct {
        struct kfd_ioctl_wait_events_args a;
        struct kfd_event_data ev[1];
    } w = { 0 };
    AkmcProc p;
    AkmcBuf b;
    int32_t result;

    akmc_proc_open(d, &p);
    akmc_buf_new(&p, 0x1000000, 4096, &b);
    m.a.handle = b.handle;
    m.a.device_ids_array_ptr = sizeof(m.a);
    m.a.n_devices = UINT32_MAX;
    g_assert_cmpuint(akmc_ioctl_buf(d, p.ctx, AMDKFD_IOC_MAP_MEMORY_TO_GPU,
                                    &m, sizeof(m), &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    m.a.n_devices = 3;  /* more than the payload holds */
    g_assert_cmpuint(akmc_ioctl_buf(d, p.ctx, AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU,
                                    &m, sizeof(m), &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    ap.a.kfd_process_device_apertures_ptr = sizeof(ap.a);
    ap.a.num_of_nodes = 0x7fffffff;
    g_assert_cmpuint(akmc_ioctl_buf(d, p.ctx,
                                    AMDKFD_IOC_GET_PROCESS_APERTURES_NEW,
                                    &ap, sizeof(ap), &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    w.a.events_ptr = sizeof(w.a);
    w.a.num_events = UINT32_MAX;
    g_assert_cmpuint(akmc_ioctl_buf(d, p.ctx, AMDKFD_IOC_WAIT_EVENTS, &w,
                                    sizeof(w), &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    w.a.num_events = 0;
    g_assert_cmpuint(akmc_ioctl_buf(d, p.ctx, AMDKFD_IOC_WAIT_EVENTS, &w,
                                    sizeof(w), &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    akmc_buf_write(&p, &b, 0, "ok", 3);
    akmc_assert_alive(d);
    akmc_stop(d);
}

/* Embedded pointers must stay inside the payload, after the argument */
static void test_bad_array_offsets(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    static const uint64_t bad[] = {
        0, 8, 20, 28, 32, 1ULL << 40, UINT64_MAX,
    };
    struct {
        struct kfd_ioctl_map_memory_to_gpu_args a;
        uint32_t ids[2];
    } m = { 0 };
    AkmcProc p;
    AkmcBuf b;
    int32_t result;
    int i;

    QEMU_BUILD_BUG_ON(sizeof(m.a) != 24);
    akmc_proc_open(d, &p);
    akmc_buf_new(&p, 0x1000000, 4096, &b);
    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        m.a.handle = b.handle;
        m.a.device_ids_array_ptr = bad[i];
        m.a.n_devices = 1;
        m.ids[0] = p.gpu_id;
        g_assert_cmpuint(akmc_ioctl_buf(d, p.ctx,
                                        AMDKFD_IOC_MAP_MEMORY_TO_GPU, &m,
                                        sizeof(m), &result), ==,
                         AMDKFD_MC_S_INVALID_ARGUMENT);
    }
    /* A payload shorter than the argument itself */
    g_assert_cmpuint(akmc_ioctl_buf(d, p.ctx, AMDKFD_IOC_MAP_MEMORY_TO_GPU,
                                    &m, 16, &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    akmc_assert_alive(d);
    akmc_stop(d);
}

static void test_bad_userptr(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct kfd_ioctl_alloc_memory_of_gpu_args a = {
        .va_addr = 0x1000000,
        .size = 4096,
        .mmap_offset = 0x7fff00001000ULL,   /* a "user address" */
        .flags = KFD_IOC_ALLOC_MEM_FLAGS_USERPTR,
    };
    AkmcProc p;
    int32_t result = 12345;

    akmc_proc_open(d, &p);
    a.gpu_id = p.gpu_id;
    g_assert_cmpuint(akmc_ioctl(d, p.ctx, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, &a,
                                sizeof(a), &result), ==,
                     AMDKFD_MC_S_NOT_SUPPORTED);
    /* Refused at the device: the backend never saw it */
    g_assert_cmpint(result, ==, 0);
    g_assert_cmphex(a.handle, ==, 0);
    akmc_assert_alive(d);
    akmc_stop(d);
}

static void test_bad_ioctl_payload_address(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_IOCTL,
        .arg0 = AMDKFD_IOC_GET_VERSION,
        .payload_addr = 0x7ff0000000000ULL,
        .payload_len = sizeof(struct kfd_ioctl_get_version_args),
    };
    struct amdkfd_mc_cpl cpl;
    uint32_t id;

    g_assert_cmpuint(akmc_ctx_create(d, &id, NULL), ==, AMDKFD_MC_S_OK);
    cmd.ctx_id = id;
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==, AMDKFD_MC_S_DMA_ERROR);
    cmd.payload_addr = (uintptr_t)d->regs.addr;
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==, AMDKFD_MC_S_DMA_ERROR);
    akmc_assert_alive(d);
    akmc_stop(d);
}

/* A context destroyed while a command of it waits in a worker thread */
static void test_bad_destroy_while_waiting(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_cmd cmd;
    struct amdkfd_mc_cpl cpl;
    struct kfd_ioctl_get_version_args v;
    AkmcProc a, b;
    uint64_t cookie;
    uint32_t ev;
    int32_t result;
    gint64 t0;

    akmc_proc_open(d, &a);
    akmc_proc_open(d, &b);
    g_assert_cmpint(akmc_event_create(&a, KFD_IOC_EVENT_SIGNAL, &ev), ==, 0);
    cookie = akmc_wait_async(d, a.ctx, ev, 30000, 8192);

    /* The destroy completes first; the wait ends promptly, not in 30 s */
    t0 = g_get_monotonic_time();
    cmd = (struct amdkfd_mc_cmd) {
        .opcode = AMDKFD_MC_OP_DESTROY_CONTEXT,
        .ctx_id = a.ctx,
    };
    akmc_submit_cmd(d, &cmd);
    g_assert_true(akmc_next_cpl(d, &cpl, 5 * G_USEC_PER_SEC));
    g_assert_cmpuint(cpl.status, ==, AMDKFD_MC_S_OK);
    g_assert_true(akmc_next_cpl(d, &cpl, 5 * G_USEC_PER_SEC));
    g_assert_cmphex(cpl.cookie, ==, cookie);
    g_assert_cmpuint(cpl.status, ==, AMDKFD_MC_S_INVALID_CONTEXT);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * G_USEC_PER_SEC);

    g_assert_cmpuint(akmc_ioctl(d, a.ctx, AMDKFD_IOC_GET_VERSION, &v,
                                sizeof(v), &result), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    g_assert_cmpuint(akmc_ioctl(d, b.ctx, AMDKFD_IOC_GET_VERSION, &v,
                                sizeof(v), &result), ==, AMDKFD_MC_S_OK);
    /* B's secondary and the primary remain */
    g_assert_true(akmc_wait_backend_contexts(d, 2));
    akmc_stop(d);
}

/* A guest that does not consume completions stalls only itself */
static void test_bad_cq_backpressure(void)
{
    AkmcDev *d = akmc_start(NULL);
    struct amdkfd_mc_cmd cmd;
    struct amdkfd_mc_cpl cpl;
    int i;

    g_assert_cmphex(akmc_ring_setup(d, 8), ==, AMDKFD_MC_STATUS_READY);
    for (i = 0; i < 7; i++) {
        cmd = (struct amdkfd_mc_cmd) { .opcode = 0x7777 };
        akmc_submit_cmd(d, &cmd);
    }
    /* The CQ holds 7 unconsumed records; 3 more wait in the SQ */
    for (i = 0; i < 3; i++) {
        cmd = (struct amdkfd_mc_cmd) { .opcode = 0x7777 };
        akmc_submit_cmd(d, &cmd);
    }
    g_usleep(50 * 1000);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_SQ_HEAD), ==, 7);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_CQ_TAIL), ==, 7);
    /* Consuming completions lets the device go on */
    for (i = 0; i < 10; i++) {
        g_assert_true(akmc_next_cpl(d, &cpl, 5 * G_USEC_PER_SEC));
        g_assert_cmpuint(cpl.status, ==, AMDKFD_MC_S_INVALID_OPCODE);
    }
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_SQ_HEAD), ==, 2);
    akmc_assert_alive(d);
    akmc_stop(d);
}

void amdkfd_mc_add_bad_input_tests(void)
{
    qtest_add_func("/amdkfd-mc/bad-input/opcode", test_bad_opcode);
    qtest_add_func("/amdkfd-mc/bad-input/context-unknown",
                   test_bad_context_unknown);
    qtest_add_func("/amdkfd-mc/bad-input/context-destroyed",
                   test_bad_context_destroyed);
    qtest_add_func("/amdkfd-mc/bad-input/payload-outside-ram",
                   test_bad_payload_outside_ram);
    qtest_add_func("/amdkfd-mc/bad-input/payload-mmio",
                   test_bad_payload_mmio);
    qtest_add_func("/amdkfd-mc/bad-input/kick-before-setup",
                   test_bad_kick_before_setup);
    qtest_add_func("/amdkfd-mc/bad-input/ring-geometry",
                   test_bad_ring_geometry);
    qtest_add_func("/amdkfd-mc/bad-input/doorbell", test_bad_doorbell);
    qtest_add_func("/amdkfd-mc/bad-input/reserved-fields",
                   test_bad_reserved_fields);
    qtest_add_func("/amdkfd-mc/bad-input/lengths", test_bad_lengths);
    qtest_add_func("/amdkfd-mc/bad-input/too-many-contexts",
                   test_bad_too_many_contexts);
    qtest_add_func("/amdkfd-mc/bad-input/ioctl-refused",
                   test_bad_ioctl_refused);
    qtest_add_func("/amdkfd-mc/bad-input/window-exhausted",
                   test_bad_window_exhausted);
    qtest_add_func("/amdkfd-mc/bad-input/window-args", test_bad_window_args);
    qtest_add_func("/amdkfd-mc/bad-input/count-overflow",
                   test_bad_count_overflow);
    qtest_add_func("/amdkfd-mc/bad-input/array-offsets",
                   test_bad_array_offsets);
    qtest_add_func("/amdkfd-mc/bad-input/userptr", test_bad_userptr);
    qtest_add_func("/amdkfd-mc/bad-input/ioctl-payload-address",
                   test_bad_ioctl_payload_address);
    qtest_add_func("/amdkfd-mc/bad-input/destroy-while-waiting",
                   test_bad_destroy_while_waiting);
    qtest_add_func("/amdkfd-mc/bad-input/cq-backpressure",
                   test_bad_cq_backpressure);
}
