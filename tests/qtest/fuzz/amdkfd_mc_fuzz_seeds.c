/*
 * amdkfd-mc fuzz targets: the seed corpora
 *
 * Written by the amdkfd-mc-cmd target when AMDKFD_MC_FUZZ_SEEDS names a
 * directory (tests/fuzz/run.sh seeds), from the KFD uapi's own request
 * numbers and structures and the sim GPU's id, so that the seeds follow
 * the headers they are built against:
 *
 *  - cmd/: inputs of amdkfd-mc-cmd (amdkfd_mc_fuzz.h) that make contexts,
 *    memory objects, mappings, queues and events and submit every opcode
 *    and every allowlisted (and refused) ioctl with a well-formed payload;
 *  - generic/: inputs of the generic-fuzz-amdkfd-mc* configurations, in
 *    generic-fuzz's own format (operations separated by "FUZZ"), that
 *    enable the rings and submit each opcode and each allowlisted ioctl.
 *    Guest memory reaches the device only as generic-fuzz's DMA patterns,
 *    which fill what the device reads: first the command, then its
 *    payload.  Context ids are never reused, not even across the resets
 *    between inputs, so a seed cannot know its context's id: it makes one
 *    and submits its ioctl once for each id up to AKF_G_MAX_ID.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "hw/misc/amdkfd-mc-abi.h"
#include "hw/misc/amdkfd-mc-kfd.h"
#include "amdkfd_mc_fuzz.h"

static const char *seed_dir;
static uint32_t seed_gpu;

static void seed_save(const char *sub, const char *name, GByteArray *b)
{
    g_autofree char *dir = g_build_filename(seed_dir, sub, NULL);
    g_autofree char *path = g_strdup_printf("%s/%s", dir, name);
    g_autoptr(GError) err = NULL;

    g_mkdir_with_parents(dir, 0755);
    if (!g_file_set_contents(path, (const char *)b->data, b->len, &err)) {
        fprintf(stderr, "amdkfd-mc seeds: %s\n", err->message);
        exit(1);
    }
    g_byte_array_unref(b);
}

/* ---- amdkfd-mc-cmd ---- */

typedef struct SeedRec {
    uint8_t op, ctx, mode, flags, fix, fix_arg;
    uint16_t fix_off, addr_off;
    uint32_t payload_len, arg0;
    uint64_t arg1, arg2;
} SeedRec;

static void seed_rec(GByteArray *b, const SeedRec *r, const void *data,
                     uint16_t len)
{
    uint8_t h[AKF_REC_SIZE];

    h[0] = r->op;
    h[1] = r->ctx;
    h[2] = r->mode;
    /*
     * A seed runs as a guest program does, each command done before the
     * next: a fixup then finds what the command before it made, and a
     * DESTROY_CONTEXT does not abort the ioctls still in flight (which
     * left most of the allowlist unreached; tests/fuzz/run.sh reach)
     */
    h[3] = r->flags | AKF_F_SYNC;
    stw_le_p(h + 4, len);
    stw_le_p(h + 6, r->fix_off);
    h[8] = r->fix;
    h[9] = r->fix_arg;
    stw_le_p(h + 10, r->addr_off);
    stl_le_p(h + 12, r->payload_len);
    stl_le_p(h + 16, r->arg0);
    stq_le_p(h + 20, r->arg1);
    stq_le_p(h + 28, r->arg2);
    g_byte_array_append(b, h, sizeof(h));
    if (len) {
        g_byte_array_append(b, data, len);
    }
}

/* An ioctl of the first context made, its payload exactly the argument */
static void seed_ioctl(GByteArray *b, uint32_t request, const void *arg,
                       uint16_t len, uint8_t fix, uint8_t fix_arg,
                       uint16_t fix_off)
{
    seed_rec(b, &(SeedRec) {
        .op = AMDKFD_MC_OP_IOCTL, .ctx = 1, .flags = AKF_F_LEN_DATA,
        .arg0 = request, .fix = fix, .fix_arg = fix_arg, .fix_off = fix_off,
    }, arg, len);
}

static void seed_create(GByteArray *b)
{
    uint8_t info[sizeof(struct amdkfd_mc_context_info)] = { 0 };

    seed_rec(b, &(SeedRec) {
        .op = AMDKFD_MC_OP_CREATE_CONTEXT, .flags = AKF_F_LEN_DATA,
    }, info, sizeof(info));
}

/* A context with its GPU's VM, as a guest program's open of /dev/kfd */
static GByteArray *seed_proc(void)
{
    GByteArray *b = g_byte_array_new();
    struct kfd_ioctl_acquire_vm_args vm = {
        .drm_fd = cpu_to_le32(3), .gpu_id = cpu_to_le32(seed_gpu),
    };

    seed_create(b);
    seed_ioctl(b, AMDKFD_IOC_ACQUIRE_VM, &vm, sizeof(vm), AKF_FIX_NONE, 0, 0);
    return b;
}

static void seed_destroy(GByteArray *b)
{
    seed_rec(b, &(SeedRec) { .op = AMDKFD_MC_OP_DESTROY_CONTEXT, .ctx = 1 },
             NULL, 0);
}

/* GTT memory at @va, mapped to the GPU: the @n'th object of the input */
static void seed_buf(GByteArray *b, uint64_t va, uint64_t size, uint32_t flags,
                     unsigned n)
{
    struct kfd_ioctl_alloc_memory_of_gpu_args a = {
        .va_addr = cpu_to_le64(va),
        .size = cpu_to_le64(size),
        .gpu_id = cpu_to_le32(seed_gpu),
        .flags = cpu_to_le32(flags),
    };
    struct {
        struct kfd_ioctl_map_memory_to_gpu_args a;
        uint32_t ids[2];
    } m = {
        .a.device_ids_array_ptr = cpu_to_le64(sizeof(m.a)),
        .a.n_devices = cpu_to_le32(1),
        .ids[0] = cpu_to_le32(seed_gpu),
    };

    seed_ioctl(b, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, &a, sizeof(a),
               AKF_FIX_NONE, 0, 0);
    seed_ioctl(b, AMDKFD_IOC_MAP_MEMORY_TO_GPU, &m, sizeof(m),
               AKF_FIX_HANDLE, n, 0);
}

#define SEED_GTT (KFD_IOC_ALLOC_MEM_FLAGS_GTT | \
                  KFD_IOC_ALLOC_MEM_FLAGS_WRITABLE)

static void seed_map_window(GByteArray *b, uint8_t fix, uint8_t fix_arg,
                            uint64_t offset, uint64_t size)
{
    uint8_t reply[sizeof(struct amdkfd_mc_window_map)] = { 0 };

    seed_rec(b, &(SeedRec) {
        .op = AMDKFD_MC_OP_MAP_WINDOW, .ctx = 1, .flags = AKF_F_LEN_DATA,
        .fix = fix, .fix_arg = fix_arg, .arg1 = offset, .arg2 = size,
    }, reply, sizeof(reply));
}

static void seed_cmd_device(void)
{
    uint8_t buf[AMDKFD_MC_DRM_INFO_MAX] = { 0 };
    static const uint32_t queries[] = {
        AMDKFD_MC_DRM_INFO_VRAM_GTT, AMDKFD_MC_DRM_INFO_DEV_INFO,
        AMDKFD_MC_DRM_INFO_MEMORY, 0x15,
    };
    GByteArray *b;
    unsigned i;

    b = g_byte_array_new();
    seed_rec(b, &(SeedRec) { .op = AMDKFD_MC_OP_DEVICE_INFO,
                             .flags = AKF_F_LEN_DATA },
             buf, sizeof(struct amdkfd_mc_device_info));
    seed_save("cmd", "device-info", b);

    b = g_byte_array_new();
    seed_rec(b, &(SeedRec) { .op = AMDKFD_MC_OP_QUERY_TOPOLOGY,
                             .flags = AKF_F_LEN_DATA },
             buf, sizeof(struct amdkfd_mc_topology));
    seed_rec(b, &(SeedRec) { .op = AMDKFD_MC_OP_QUERY_TOPOLOGY,
                             .payload_len = 4096 }, NULL, 0);
    seed_save("cmd", "topology", b);

    b = g_byte_array_new();
    for (i = 0; i < ARRAY_SIZE(queries); i++) {
        seed_rec(b, &(SeedRec) { .op = AMDKFD_MC_OP_QUERY_DRM_INFO,
                                 .payload_len = 256, .arg2 = queries[i] },
                 NULL, 0);
    }
    seed_rec(b, &(SeedRec) { .op = AMDKFD_MC_OP_QUERY_DRM_INFO,
                             .payload_len = 16, .arg1 = 1,
                             .arg2 = AMDKFD_MC_DRM_INFO_DEV_INFO }, NULL, 0);
    seed_save("cmd", "drm-info", b);

    b = g_byte_array_new();
    seed_create(b);
    seed_rec(b, &(SeedRec) { .op = AMDKFD_MC_OP_CREATE_CONTEXT }, NULL, 0);
    seed_rec(b, &(SeedRec) { .op = AMDKFD_MC_OP_DESTROY_CONTEXT, .ctx = 2 },
             NULL, 0);
    seed_destroy(b);
    seed_destroy(b);
    seed_save("cmd", "contexts", b);

    /* the fields every command checks first, and unknown opcodes */
    b = g_byte_array_new();
    seed_rec(b, &(SeedRec) { .op = AMDKFD_MC_OP_DEVICE_INFO,
                             .flags = AKF_F_BAD_FLAGS, .payload_len = 64 },
             NULL, 0);
    seed_rec(b, &(SeedRec) { .op = AMDKFD_MC_OP_DEVICE_INFO,
                             .flags = AKF_F_BAD_RESERVED, .fix_arg = 1,
                             .payload_len = 64 }, NULL, 0);
    seed_rec(b, &(SeedRec) { .op = AMDKFD_MC_OP_DEVICE_INFO,
                             .payload_len = AMDKFD_MC_MAX_PAYLOAD + 1 },
             NULL, 0);
    seed_rec(b, &(SeedRec) { .op = AMDKFD_MC_OP_DEVICE_INFO, .ctx = 0x90,
                             .payload_len = 64 }, NULL, 0);
    seed_rec(b, &(SeedRec) { .op = 0 }, NULL, 0);
    seed_rec(b, &(SeedRec) { .op = 0x0a }, NULL, 0);
    seed_rec(b, &(SeedRec) { .op = AMDKFD_MC_OP_IOCTL, .ctx = 0x90,
                             .arg0 = AMDKFD_IOC_GET_VERSION,
                             .payload_len = 8 }, NULL, 0);
    seed_save("cmd", "bad-fields", b);

    /* payloads that are no guest RAM */
    b = g_byte_array_new();
    for (i = AKF_AT_REGS; i < AKF_AT_MODES; i++) {
        seed_rec(b, &(SeedRec) { .op = AMDKFD_MC_OP_DEVICE_INFO, .mode = i,
                                 .addr_off = 0x10, .fix_off = 1,
                                 .payload_len = 64 }, NULL, 0);
    }
    seed_create(b);
    for (i = AKF_AT_REGS; i < AKF_AT_MODES; i++) {
        seed_rec(b, &(SeedRec) { .op = AMDKFD_MC_OP_IOCTL, .ctx = 1,
                                 .mode = i, .addr_off = 0x10, .fix_off = 1,
                                 .arg0 = AMDKFD_IOC_GET_VERSION,
                                 .payload_len = 8 }, NULL, 0);
    }
    seed_save("cmd", "bad-addresses", b);
}

static void seed_cmd_plain(const char *name, uint32_t request,
                           const void *arg, uint16_t len)
{
    GByteArray *b = seed_proc();

    seed_ioctl(b, request, arg, len, AKF_FIX_NONE, 0, 0);
    seed_destroy(b);
    seed_save("cmd", name, b);
}

static void seed_cmd_ioctls(void)
{
    GByteArray *b;
    unsigned i;

    {
        struct kfd_ioctl_get_version_args v = { 0 };
        uint8_t longer[16] = { 0 };

        b = seed_proc();
        seed_ioctl(b, AMDKFD_IOC_GET_VERSION, &v, sizeof(v), 0, 0, 0);
        seed_ioctl(b, _IOC(_IOC_READ, AMDKFD_IOCTL_BASE, 0x01, 16), longer,
                   sizeof(longer), 0, 0, 0);
        seed_save("cmd", "get-version", b);
    }
    {
        struct {
            struct kfd_ioctl_get_process_apertures_new_args a;
            struct kfd_process_device_apertures ap[2];
        } ap = {
            .a.kfd_process_device_apertures_ptr = cpu_to_le64(sizeof(ap.a)),
            .a.num_of_nodes = cpu_to_le32(2),
        };
        struct kfd_ioctl_get_process_apertures_new_args count = { 0 };

        b = seed_proc();
        seed_ioctl(b, AMDKFD_IOC_GET_PROCESS_APERTURES_NEW, &count,
                   sizeof(count), 0, 0, 0);
        seed_ioctl(b, AMDKFD_IOC_GET_PROCESS_APERTURES_NEW, &ap, sizeof(ap),
                   0, 0, 0);
        seed_save("cmd", "apertures", b);
    }
    {
        struct kfd_ioctl_runtime_enable_args r = {
            .r_debug = cpu_to_le64(0x7f0000001000ULL),
            .mode_mask = cpu_to_le32(1),
        };

        seed_cmd_plain("runtime-enable", AMDKFD_IOC_RUNTIME_ENABLE, &r,
                       sizeof(r));
    }
    {
        struct kfd_ioctl_get_available_memory_args m = {
            .gpu_id = cpu_to_le32(seed_gpu),
        };

        seed_cmd_plain("available-memory", AMDKFD_IOC_AVAILABLE_MEMORY, &m,
                       sizeof(m));
    }
    {
        struct kfd_ioctl_set_memory_policy_args m = {
            .gpu_id = cpu_to_le32(seed_gpu),
            .default_policy = cpu_to_le32(KFD_IOC_CACHE_POLICY_COHERENT),
            .alternate_policy = cpu_to_le32(KFD_IOC_CACHE_POLICY_NONCOHERENT),
        };

        seed_cmd_plain("memory-policy", AMDKFD_IOC_SET_MEMORY_POLICY, &m,
                       sizeof(m));
    }
    {
        struct kfd_ioctl_get_clock_counters_args c = {
            .gpu_id = cpu_to_le32(seed_gpu),
        };

        seed_cmd_plain("clock-counters", AMDKFD_IOC_GET_CLOCK_COUNTERS, &c,
                       sizeof(c));
    }
    {
        struct kfd_ioctl_set_scratch_backing_va_args sc = {
            .va_addr = cpu_to_le64(0x20000000),
            .gpu_id = cpu_to_le32(seed_gpu),
        };

        seed_cmd_plain("scratch-backing-va", AMDKFD_IOC_SET_SCRATCH_BACKING_VA,
                       &sc, sizeof(sc));
    }
    {
        struct kfd_ioctl_set_trap_handler_args t = {
            .tba_addr = cpu_to_le64(0x30000000),
            .tma_addr = cpu_to_le64(0x30001000),
            .gpu_id = cpu_to_le32(seed_gpu),
        };

        seed_cmd_plain("trap-handler", AMDKFD_IOC_SET_TRAP_HANDLER, &t,
                       sizeof(t));
    }
    {
        struct kfd_ioctl_set_xnack_mode_args x = { .xnack_enabled = -1 };

        seed_cmd_plain("xnack-mode", AMDKFD_IOC_SET_XNACK_MODE, &x,
                       sizeof(x));
    }
    {
        struct {
            struct kfd_ioctl_get_tile_config_args a;
            uint32_t tile[40];
            uint32_t macro[20];
        } t = {
            .a.tile_config_ptr = cpu_to_le64(sizeof(t.a)),
            .a.macro_tile_config_ptr = cpu_to_le64(sizeof(t.a) +
                                                   sizeof(t.tile)),
            .a.num_tile_configs = cpu_to_le32(40),
            .a.num_macro_tile_configs = cpu_to_le32(20),
            .a.gpu_id = cpu_to_le32(seed_gpu),
        };

        seed_cmd_plain("tile-config", AMDKFD_IOC_GET_TILE_CONFIG, &t,
                       sizeof(t));
    }

    /* memory: allocate, map to the GPU and the window, unmap, free */
    b = seed_proc();
    seed_buf(b, 0x1000000, 0x10000, SEED_GTT, 0);
    seed_buf(b, 0x2000000, 0x4000, KFD_IOC_ALLOC_MEM_FLAGS_VRAM |
             KFD_IOC_ALLOC_MEM_FLAGS_WRITABLE, 1);
    seed_map_window(b, AKF_FIX_MMAP_OFFSET, 0, 0, 0x10000);
    seed_map_window(b, AKF_FIX_MMAP_OFFSET, 1, 0, 0x4000);
    seed_rec(b, &(SeedRec) { .op = AMDKFD_MC_OP_UNMAP_WINDOW, .ctx = 1,
                             .fix = AKF_FIX_MAP_ID }, NULL, 0);
    {
        struct {
            struct kfd_ioctl_unmap_memory_from_gpu_args a;
            uint32_t ids[2];
        } u = {
            .a.device_ids_array_ptr = cpu_to_le64(sizeof(u.a)),
            .a.n_devices = cpu_to_le32(1),
            .ids[0] = cpu_to_le32(seed_gpu),
        };
        struct kfd_ioctl_free_memory_of_gpu_args f = { 0 };

        seed_ioctl(b, AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU, &u, sizeof(u),
                   AKF_FIX_HANDLE, 0, 0);
        seed_ioctl(b, AMDKFD_IOC_FREE_MEMORY_OF_GPU, &f, sizeof(f),
                   AKF_FIX_HANDLE, 0, 0);
        seed_ioctl(b, AMDKFD_IOC_FREE_MEMORY_OF_GPU, &f, sizeof(f),
                   AKF_FIX_HANDLE, 0, 0);
    }
    seed_destroy(b);
    seed_save("cmd", "memory", b);

    /* USERPTR is refused; doorbell and MMIO remap objects */
    b = seed_proc();
    seed_buf(b, 0x3000000, 0x1000, KFD_IOC_ALLOC_MEM_FLAGS_USERPTR, 0);
    seed_buf(b, 0x3000000, 0x2000, KFD_IOC_ALLOC_MEM_FLAGS_DOORBELL, 0);
    seed_buf(b, 0x3010000, 0x1000, KFD_IOC_ALLOC_MEM_FLAGS_MMIO_REMAP, 1);
    seed_map_window(b, AKF_FIX_MMAP_OFFSET, 0, 0, 0x2000);
    seed_map_window(b, AKF_FIX_NONE, 0,
                    (uint64_t)seed_gpu << AMDKFD_MC_KFD_MMAP_GPU_ID_SHIFT,
                    0x1000);
    seed_save("cmd", "memory-kinds", b);

    /* queues: SDMA and AQL, their doorbells through the window */
    for (i = 0; i < 2; i++) {
        struct kfd_ioctl_create_queue_args q = {
            .ring_base_address = cpu_to_le64(0x1000000),
            .write_pointer_address = cpu_to_le64(0x1010008),
            .read_pointer_address = cpu_to_le64(0x1010000),
            .ring_size = cpu_to_le32(0x1000),
            .gpu_id = cpu_to_le32(seed_gpu),
            .queue_type = cpu_to_le32(i ? KFD_IOC_QUEUE_TYPE_COMPUTE_AQL :
                                      KFD_IOC_QUEUE_TYPE_SDMA),
            .queue_percentage = cpu_to_le32(100),
            .queue_priority = cpu_to_le32(7),
        };
        struct kfd_ioctl_update_queue_args u = {
            .ring_base_address = cpu_to_le64(0x1000000),
            .ring_size = cpu_to_le32(0x800),
            .queue_percentage = cpu_to_le32(50),
            .queue_priority = cpu_to_le32(3),
        };
        struct kfd_ioctl_destroy_queue_args d = { 0 };

        b = seed_proc();
        seed_buf(b, 0x1000000, 0x1000, SEED_GTT, 0);
        seed_buf(b, 0x1010000, 0x1000, SEED_GTT, 1);
        seed_ioctl(b, AMDKFD_IOC_CREATE_QUEUE, &q, sizeof(q), 0, 0, 0);
        seed_map_window(b, AKF_FIX_DOORBELL, 0, 0, 0x1000);
        seed_ioctl(b, AMDKFD_IOC_UPDATE_QUEUE, &u, sizeof(u), 0, 0, 0);
        seed_ioctl(b, AMDKFD_IOC_DESTROY_QUEUE, &d, sizeof(d), 0, 0, 0);
        /* libhsakmt 5.2.3's CREATE_QUEUE is 88 bytes */
        seed_ioctl(b, _IOC(_IOC_READ | _IOC_WRITE, AMDKFD_IOCTL_BASE, 0x02,
                           88), &q, 88, 0, 0, 0);
        seed_destroy(b);
        seed_save("cmd", i ? "queue-aql" : "queue-sdma", b);
    }

    /* events: make, signal, reset, wait, destroy; the event page */
    {
/* where the id of entry @i of the wait's event array lies in the payload */
#define SEED_EV_ID(i) (sizeof(struct kfd_ioctl_wait_events_args) + \
                       (i) * sizeof(struct kfd_event_data) + \
                       offsetof(struct kfd_event_data, event_id))
        struct kfd_ioctl_create_event_args e = {
            .event_type = cpu_to_le32(KFD_IOC_EVENT_SIGNAL),
            .auto_reset = cpu_to_le32(1),
        };
        struct kfd_ioctl_set_event_args s = { 0 };
        struct {
            struct kfd_ioctl_wait_events_args a;
            struct kfd_event_data ev[2];
        } w = {
            .a.events_ptr = cpu_to_le64(sizeof(w.a)),
            .a.num_events = cpu_to_le32(1),
            .a.wait_for_all = cpu_to_le32(0),
            .a.timeout = cpu_to_le32(0),
        };

        b = seed_proc();
        seed_ioctl(b, AMDKFD_IOC_CREATE_EVENT, &e, sizeof(e), 0, 0, 0);
        seed_ioctl(b, AMDKFD_IOC_CREATE_EVENT, &e, sizeof(e), 0, 0, 0);
        seed_ioctl(b, AMDKFD_IOC_SET_EVENT, &s, sizeof(s), AKF_FIX_EVENT, 0,
                   0);
        seed_ioctl(b, AMDKFD_IOC_RESET_EVENT, &s, sizeof(s), AKF_FIX_EVENT, 1,
                   0);
        seed_ioctl(b, AMDKFD_IOC_SET_EVENT, &s, sizeof(s), AKF_FIX_EVENT, 1,
                   0);
        seed_ioctl(b, AMDKFD_IOC_WAIT_EVENTS, &w, sizeof(w), AKF_FIX_EVENT, 1,
                   SEED_EV_ID(0));
        /* the second entry, on the event that is not signalled: times out */
        w.a.events_ptr = cpu_to_le64(sizeof(w.a) + sizeof(w.ev[0]));
        w.a.timeout = cpu_to_le32(1);
        w.a.wait_for_all = cpu_to_le32(1);
        seed_ioctl(b, AMDKFD_IOC_WAIT_EVENTS, &w, sizeof(w), AKF_FIX_EVENT, 0,
                   SEED_EV_ID(1));
        w.a.events_ptr = cpu_to_le64(sizeof(w.a));
        seed_ioctl(b, AMDKFD_IOC_DESTROY_EVENT, &s, sizeof(s), AKF_FIX_EVENT,
                   0, 0);
        seed_destroy(b);
        seed_save("cmd", "events", b);

        b = seed_proc();
        seed_buf(b, 0x5000000, 0x8000, SEED_GTT, 0);
        seed_ioctl(b, AMDKFD_IOC_CREATE_EVENT, &e, sizeof(e), AKF_FIX_HANDLE,
                   0, offsetof(struct kfd_ioctl_create_event_args,
                               event_page_offset));
        seed_map_window(b, AKF_FIX_NONE, 0,
                        2ULL << AMDKFD_MC_KFD_MMAP_TYPE_SHIFT, 0x8000);
        w.a.timeout = cpu_to_le32(100000);
        seed_ioctl(b, AMDKFD_IOC_WAIT_EVENTS, &w, sizeof(w), AKF_FIX_EVENT, 0,
                   SEED_EV_ID(0));
        seed_save("cmd", "event-page", b);
    }

    /* guest RAM as memory objects */
    {
        struct {
            struct amdkfd_mc_guest_memory g;
            struct amdkfd_mc_guest_range r[2];
        } g = {
            .g.va_addr = cpu_to_le64(0x6000000),
            .g.size = cpu_to_le64(0x3000),
            .g.gpu_id = cpu_to_le32(seed_gpu),
            .g.kfd_flags = cpu_to_le32(KFD_IOC_ALLOC_MEM_FLAGS_USERPTR |
                                       KFD_IOC_ALLOC_MEM_FLAGS_WRITABLE),
            .g.num_ranges = cpu_to_le32(2),
            .r[0].gpa = cpu_to_le64(AKF_GUEST_PAGES_GPA),
            .r[0].len = cpu_to_le64(0x1000),
            .r[1].gpa = cpu_to_le64(AKF_GUEST_PAGES_GPA + 0x10000),
            .r[1].len = cpu_to_le64(0x2000),
        };
        struct {
            struct kfd_ioctl_map_memory_to_gpu_args a;
            uint32_t ids[2];
        } m = {
            .a.device_ids_array_ptr = cpu_to_le64(sizeof(m.a)),
            .a.n_devices = cpu_to_le32(1),
            .ids[0] = cpu_to_le32(seed_gpu),
        };
        struct kfd_ioctl_free_memory_of_gpu_args f = { 0 };

        b = seed_proc();
        seed_rec(b, &(SeedRec) {
            .op = AMDKFD_MC_OP_ALLOC_GUEST_MEMORY, .ctx = 1,
            .flags = AKF_F_LEN_DATA,
        }, &g, sizeof(g));
        seed_ioctl(b, AMDKFD_IOC_MAP_MEMORY_TO_GPU, &m, sizeof(m),
                   AKF_FIX_HANDLE, 0, 0);
        /* a second context may not have the same pages */
        seed_create(b);
        seed_rec(b, &(SeedRec) {
            .op = AMDKFD_MC_OP_ALLOC_GUEST_MEMORY, .ctx = 2,
            .flags = AKF_F_LEN_DATA,
        }, &g, sizeof(g));
        seed_ioctl(b, AMDKFD_IOC_FREE_MEMORY_OF_GPU, &f, sizeof(f),
                   AKF_FIX_HANDLE, 0, 0);
        seed_destroy(b);
        seed_save("cmd", "guest-memory", b);
    }

    /* refused whatever the backend, and numbers nobody knows */
    {
        static const uint32_t refused[] = {
            AMDKFD_IOC_CREATE_PROCESS, AMDKFD_IOC_SVM, AMDKFD_IOC_DBG_TRAP,
            AMDKFD_IOC_CRIU_OP, AMDKFD_IOC_SMI_EVENTS,
            AMDKFD_IOC_IMPORT_DMABUF, AMDKFD_IOC_EXPORT_DMABUF,
            AMDKFD_IOC_GET_DMABUF_INFO, _IOWR(AMDKFD_IOCTL_BASE, 0x28, 16),
            _IOWR('D', 0x01, 8),
        };
        uint8_t zero[256] = { 0 };

        b = seed_proc();
        for (i = 0; i < ARRAY_SIZE(refused); i++) {
            seed_ioctl(b, refused[i], zero, MIN(_IOC_SIZE(refused[i]), 256),
                       0, 0, 0);
        }
        seed_save("cmd", "refused", b);
    }
}

/* ---- generic-fuzz ---- */

#define AKF_G_SQ        0x01000000u
#define AKF_G_CQ        0x01100000u
#define AKF_G_ENTRIES   128
/* ids a seed tries for its context; the corpus makes fewer contexts */
#define AKF_G_MAX_ID    64

/* generic-fuzz's operations (generic_fuzz.c) */
enum { G_READ = 2, G_WRITE = 3, G_ADD_DMA_PATTERN = 7,
       G_CLEAR_DMA_PATTERNS = 8 };

static void g_op(GByteArray *b, const uint8_t *op, size_t len)
{
    if (b->len) {
        g_byte_array_append(b, (const uint8_t *)"FUZZ", 4);
    }
    g_byte_array_append(b, op, len);
}

/* A 32-bit access to the register BAR, the first of the device's regions */
static void g_reg(GByteArray *b, bool write, uint32_t reg, uint32_t val)
{
    uint8_t op[17] = { write ? G_WRITE : G_READ, 2 /* Long */, 0 };

    stl_le_p(op + 5, reg);
    stq_le_p(op + 9, val);
    g_op(b, op, write ? 17 : 9);
}

static void g_pattern(GByteArray *b, const void *data, size_t len)
{
    g_autofree uint8_t *op = g_malloc(len + 3);

    op[0] = G_ADD_DMA_PATTERN;
    op[1] = op[2] = 0;
    memcpy(op + 3, data, len);
    if (memmem(op, len + 3, "FUZZ", 4)) {
        fprintf(stderr, "amdkfd-mc seeds: a pattern holds the separator\n");
        exit(1);
    }
    g_op(b, op, len + 3);
}

static void g_clear(GByteArray *b)
{
    uint8_t op = G_CLEAR_DMA_PATTERNS;

    g_op(b, &op, 1);
}

static GByteArray *g_rings(uint32_t *tail)
{
    GByteArray *b = g_byte_array_new();

    g_reg(b, true, AMDKFD_MC_REG_SQ_BASE_LO, AKF_G_SQ);
    g_reg(b, true, AMDKFD_MC_REG_SQ_BASE_HI, 0);
    g_reg(b, true, AMDKFD_MC_REG_CQ_BASE_LO, AKF_G_CQ);
    g_reg(b, true, AMDKFD_MC_REG_CQ_BASE_HI, 0);
    g_reg(b, true, AMDKFD_MC_REG_RING_ENTRIES, AKF_G_ENTRIES);
    g_reg(b, true, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    *tail = 0;
    return b;
}

/* One command: its descriptor and payload as DMA patterns, the doorbell */
static void g_cmd(GByteArray *b, uint32_t *tail, uint16_t opcode,
                  uint32_t ctx, uint32_t arg0, uint64_t arg1, uint64_t arg2,
                  const void *payload, uint32_t len, uint32_t payload_len)
{
    struct amdkfd_mc_cmd c = {
        .opcode = cpu_to_le16(opcode),
        .ctx_id = cpu_to_le32(ctx),
        .cookie = cpu_to_le64(*tail + 1),
        .payload_addr = cpu_to_le64(AKF_G_CQ + 0x10000 + *tail * 0x1000),
        .payload_len = cpu_to_le32(payload_len),
        .arg0 = cpu_to_le32(arg0),
        .arg1 = cpu_to_le64(arg1),
        .arg2 = cpu_to_le64(arg2),
    };

    g_clear(b);
    g_pattern(b, &c, sizeof(c));
    if (len) {
        g_pattern(b, payload, len);
    }
    *tail = (*tail + 1) % AKF_G_ENTRIES;
    g_reg(b, true, AMDKFD_MC_REG_SQ_TAIL, *tail);
}

/* Time for the worker that makes a context */
static void g_settle(GByteArray *b)
{
    int i;

    for (i = 0; i < 32; i++) {
        g_reg(b, false, AMDKFD_MC_REG_LIVE_CONTEXTS, 0);
    }
}

/* @opcode of a context: made first, then the command once for each id */
static void g_ctx_seed(const char *name, uint16_t opcode, uint32_t arg0,
                       uint64_t arg1, uint64_t arg2, const void *payload,
                       uint32_t len)
{
    uint32_t tail, id;
    GByteArray *b = g_rings(&tail);

    g_cmd(b, &tail, AMDKFD_MC_OP_CREATE_CONTEXT, 0, 0, 0, 0, NULL, 0, 0);
    g_settle(b);
    for (id = 1; id <= AKF_G_MAX_ID; id++) {
        g_cmd(b, &tail, opcode, id, arg0, arg1, arg2, payload, len, len);
    }
    seed_save("generic", name, b);
}

static void g_ioctl_seed(const char *name, uint32_t request,
                         const void *arg, uint32_t len)
{
    g_autofree char *n = g_strdup_printf("ioctl-%s", name);

    g_ctx_seed(n, AMDKFD_MC_OP_IOCTL, request, 0, 0, arg, len);
}

static void seed_generic(void)
{
    uint8_t buf[AMDKFD_MC_DRM_INFO_MAX] = { 0 };
    uint32_t tail;
    GByteArray *b;

    /* the rings' registers and their errors */
    b = g_byte_array_new();
    g_reg(b, true, AMDKFD_MC_REG_SQ_TAIL, 1);
    g_reg(b, true, AMDKFD_MC_REG_CQ_HEAD, 1);
    g_reg(b, true, AMDKFD_MC_REG_ERROR, 0);
    g_reg(b, true, AMDKFD_MC_REG_RING_ENTRIES, 3);
    g_reg(b, true, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_reg(b, true, AMDKFD_MC_REG_SQ_BASE_LO, AKF_G_SQ + 64);
    g_reg(b, true, AMDKFD_MC_REG_RING_ENTRIES, AKF_G_ENTRIES);
    g_reg(b, true, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_reg(b, true, AMDKFD_MC_REG_SQ_BASE_LO, AKF_G_CQ);
    g_reg(b, true, AMDKFD_MC_REG_CQ_BASE_LO, AKF_G_CQ);
    g_reg(b, true, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_reg(b, true, AMDKFD_MC_REG_SQ_BASE_LO, 0xe0000000);
    g_reg(b, true, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_reg(b, true, AMDKFD_MC_REG_SQ_BASE_LO, AKF_G_SQ);
    g_reg(b, true, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_reg(b, true, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_reg(b, false, AMDKFD_MC_REG_STATUS, 0);
    g_reg(b, true, AMDKFD_MC_REG_RING_ENTRIES, 8);
    g_reg(b, true, AMDKFD_MC_REG_SQ_TAIL, AKF_G_ENTRIES);
    g_reg(b, true, AMDKFD_MC_REG_CQ_HEAD, AKF_G_ENTRIES + 1);
    g_reg(b, true, AMDKFD_MC_REG_IRQ_STATUS, AMDKFD_MC_IRQ_CQ);
    g_reg(b, true, AMDKFD_MC_REG_CONTROL, 0);
    g_reg(b, true, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
    g_reg(b, true, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_RESET);
    g_reg(b, false, AMDKFD_MC_REG_ERROR, 0);
    seed_save("generic", "rings", b);

    b = g_rings(&tail);
    g_cmd(b, &tail, AMDKFD_MC_OP_DEVICE_INFO, 0, 0, 0, 0, NULL, 0, 64);
    g_cmd(b, &tail, AMDKFD_MC_OP_QUERY_TOPOLOGY, 0, 0, 0, 0, NULL, 0, 16);
    g_cmd(b, &tail, AMDKFD_MC_OP_QUERY_TOPOLOGY, 0, 0, 0, 0, NULL, 0, 4096);
    g_cmd(b, &tail, AMDKFD_MC_OP_QUERY_DRM_INFO, 0, 0, 0,
          AMDKFD_MC_DRM_INFO_VRAM_GTT, NULL, 0, 256);
    g_cmd(b, &tail, AMDKFD_MC_OP_QUERY_DRM_INFO, 0, 0, 0,
          AMDKFD_MC_DRM_INFO_DEV_INFO, NULL, 0, 256);
    g_cmd(b, &tail, AMDKFD_MC_OP_QUERY_DRM_INFO, 0, 0, 0,
          AMDKFD_MC_DRM_INFO_MEMORY, NULL, 0, 256);
    g_cmd(b, &tail, AMDKFD_MC_OP_QUERY_DRM_INFO, 0, 0, 1,
          AMDKFD_MC_DRM_INFO_MEMORY, NULL, 0, 256);
    g_cmd(b, &tail, 0x0a, 0, 0, 0, 0, NULL, 0, 0);
    g_cmd(b, &tail, AMDKFD_MC_OP_CREATE_CONTEXT, 0, 0, 0, 0, NULL, 0, 16);
    g_cmd(b, &tail, AMDKFD_MC_OP_CREATE_CONTEXT, 0, 0, 0, 0, NULL, 0, 8);
    g_cmd(b, &tail, AMDKFD_MC_OP_DEVICE_INFO, 0, 0, 0, 0, NULL, 0,
          AMDKFD_MC_MAX_PAYLOAD + 1);
    seed_save("generic", "device-commands", b);
    (void)buf;

    g_ctx_seed("destroy-context", AMDKFD_MC_OP_DESTROY_CONTEXT, 0, 0, 0,
               NULL, 0);
    {
        uint8_t reply[32] = { 0 };

        g_ctx_seed("map-window-event-page", AMDKFD_MC_OP_MAP_WINDOW, 0,
                   2ULL << AMDKFD_MC_KFD_MMAP_TYPE_SHIFT, 0x8000, reply,
                   sizeof(reply));
        g_ctx_seed("map-window-mmio", AMDKFD_MC_OP_MAP_WINDOW, 0,
                   (uint64_t)seed_gpu << AMDKFD_MC_KFD_MMAP_GPU_ID_SHIFT,
                   0x1000, reply, sizeof(reply));
        g_ctx_seed("unmap-window", AMDKFD_MC_OP_UNMAP_WINDOW, 0, 1, 0, NULL,
                   0);
    }
    {
        struct {
            struct amdkfd_mc_guest_memory g;
            struct amdkfd_mc_guest_range r[1];
        } g = {
            .g.va_addr = cpu_to_le64(0x6000000),
            .g.size = cpu_to_le64(0x1000),
            .g.gpu_id = cpu_to_le32(seed_gpu),
            .g.num_ranges = cpu_to_le32(1),
            .r[0].gpa = cpu_to_le64(0x2000000),
            .r[0].len = cpu_to_le64(0x1000),
        };

        g_ctx_seed("alloc-guest-memory", AMDKFD_MC_OP_ALLOC_GUEST_MEMORY, 0,
                   0, 0, &g, sizeof(g));
    }

    /* each allowlisted ioctl with a well-formed argument */
    {
        struct kfd_ioctl_get_version_args v = { 0 };
        struct {
            struct kfd_ioctl_get_process_apertures_new_args a;
            struct kfd_process_device_apertures ap[1];
        } ap = {
            .a.kfd_process_device_apertures_ptr = cpu_to_le64(sizeof(ap.a)),
            .a.num_of_nodes = cpu_to_le32(1),
        };
        struct kfd_ioctl_acquire_vm_args vm = {
            .gpu_id = cpu_to_le32(seed_gpu),
        };
        struct kfd_ioctl_runtime_enable_args r = {
            .mode_mask = cpu_to_le32(1),
        };
        struct kfd_ioctl_alloc_memory_of_gpu_args a = {
            .va_addr = cpu_to_le64(0x1000000),
            .size = cpu_to_le64(0x1000),
            .gpu_id = cpu_to_le32(seed_gpu),
            .flags = cpu_to_le32(SEED_GTT),
        };
        struct kfd_ioctl_free_memory_of_gpu_args f = {
            .handle = cpu_to_le64((uint64_t)seed_gpu << 32 | 1),
        };
        struct {
            struct kfd_ioctl_map_memory_to_gpu_args a;
            uint32_t ids[2];
        } m = {
            .a.handle = cpu_to_le64((uint64_t)seed_gpu << 32 | 1),
            .a.device_ids_array_ptr = cpu_to_le64(sizeof(m.a)),
            .a.n_devices = cpu_to_le32(1),
            .ids[0] = cpu_to_le32(seed_gpu),
        };
        struct kfd_ioctl_get_available_memory_args am = {
            .gpu_id = cpu_to_le32(seed_gpu),
        };
        struct kfd_ioctl_create_queue_args q = {
            .ring_base_address = cpu_to_le64(0x1000000),
            .write_pointer_address = cpu_to_le64(0x1000808),
            .read_pointer_address = cpu_to_le64(0x1000800),
            .ring_size = cpu_to_le32(0x800),
            .gpu_id = cpu_to_le32(seed_gpu),
            .queue_type = cpu_to_le32(KFD_IOC_QUEUE_TYPE_SDMA),
            .queue_percentage = cpu_to_le32(100),
            .queue_priority = cpu_to_le32(7),
        };
        struct kfd_ioctl_update_queue_args uq = {
            .ring_base_address = cpu_to_le64(0x1000000),
            .ring_size = cpu_to_le32(0x800),
            .queue_percentage = cpu_to_le32(100),
        };
        struct kfd_ioctl_destroy_queue_args dq = { 0 };
        struct kfd_ioctl_create_event_args ce = {
            .event_type = cpu_to_le32(KFD_IOC_EVENT_SIGNAL),
            .auto_reset = cpu_to_le32(1),
        };
        struct kfd_ioctl_set_event_args se = { 0 };
        struct {
            struct kfd_ioctl_wait_events_args a;
            struct kfd_event_data ev[1];
        } w = {
            .a.events_ptr = cpu_to_le64(sizeof(w.a)),
            .a.num_events = cpu_to_le32(1),
        };
        struct kfd_ioctl_set_memory_policy_args mp = {
            .gpu_id = cpu_to_le32(seed_gpu),
        };
        struct kfd_ioctl_get_clock_counters_args cc = {
            .gpu_id = cpu_to_le32(seed_gpu),
        };
        struct kfd_ioctl_set_scratch_backing_va_args sc = {
            .va_addr = cpu_to_le64(0x20000000),
            .gpu_id = cpu_to_le32(seed_gpu),
        };
        struct kfd_ioctl_set_trap_handler_args th = {
            .tba_addr = cpu_to_le64(0x30000000),
            .gpu_id = cpu_to_le32(seed_gpu),
        };
        struct kfd_ioctl_set_xnack_mode_args x = { .xnack_enabled = 0 };
        struct {
            struct kfd_ioctl_get_tile_config_args a;
            uint32_t tile[8];
            uint32_t macro[8];
        } tc = {
            .a.tile_config_ptr = cpu_to_le64(sizeof(tc.a)),
            .a.macro_tile_config_ptr = cpu_to_le64(sizeof(tc.a) + 32),
            .a.num_tile_configs = cpu_to_le32(8),
            .a.num_macro_tile_configs = cpu_to_le32(8),
            .a.gpu_id = cpu_to_le32(seed_gpu),
        };
        uint8_t zero[64] = { 0 };

        g_ioctl_seed("get-version", AMDKFD_IOC_GET_VERSION, &v, sizeof(v));
        g_ioctl_seed("apertures", AMDKFD_IOC_GET_PROCESS_APERTURES_NEW, &ap,
                     sizeof(ap));
        g_ioctl_seed("acquire-vm", AMDKFD_IOC_ACQUIRE_VM, &vm, sizeof(vm));
        g_ioctl_seed("runtime-enable", AMDKFD_IOC_RUNTIME_ENABLE, &r,
                     sizeof(r));
        g_ioctl_seed("alloc-memory", AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, &a,
                     sizeof(a));
        g_ioctl_seed("free-memory", AMDKFD_IOC_FREE_MEMORY_OF_GPU, &f,
                     sizeof(f));
        g_ioctl_seed("map-memory", AMDKFD_IOC_MAP_MEMORY_TO_GPU, &m,
                     sizeof(m));
        g_ioctl_seed("unmap-memory", AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU, &m,
                     sizeof(m));
        g_ioctl_seed("available-memory", AMDKFD_IOC_AVAILABLE_MEMORY, &am,
                     sizeof(am));
        g_ioctl_seed("create-queue", AMDKFD_IOC_CREATE_QUEUE, &q, sizeof(q));
        g_ioctl_seed("update-queue", AMDKFD_IOC_UPDATE_QUEUE, &uq,
                     sizeof(uq));
        g_ioctl_seed("destroy-queue", AMDKFD_IOC_DESTROY_QUEUE, &dq,
                     sizeof(dq));
        g_ioctl_seed("create-event", AMDKFD_IOC_CREATE_EVENT, &ce,
                     sizeof(ce));
        g_ioctl_seed("destroy-event", AMDKFD_IOC_DESTROY_EVENT, &se,
                     sizeof(se));
        g_ioctl_seed("set-event", AMDKFD_IOC_SET_EVENT, &se, sizeof(se));
        g_ioctl_seed("reset-event", AMDKFD_IOC_RESET_EVENT, &se, sizeof(se));
        g_ioctl_seed("wait-events", AMDKFD_IOC_WAIT_EVENTS, &w, sizeof(w));
        g_ioctl_seed("memory-policy", AMDKFD_IOC_SET_MEMORY_POLICY, &mp,
                     sizeof(mp));
        g_ioctl_seed("clock-counters", AMDKFD_IOC_GET_CLOCK_COUNTERS, &cc,
                     sizeof(cc));
        g_ioctl_seed("scratch-backing-va", AMDKFD_IOC_SET_SCRATCH_BACKING_VA,
                     &sc, sizeof(sc));
        g_ioctl_seed("trap-handler", AMDKFD_IOC_SET_TRAP_HANDLER, &th,
                     sizeof(th));
        g_ioctl_seed("xnack-mode", AMDKFD_IOC_SET_XNACK_MODE, &x, sizeof(x));
        g_ioctl_seed("tile-config", AMDKFD_IOC_GET_TILE_CONFIG, &tc,
                     sizeof(tc));
        g_ioctl_seed("refused-create-process", AMDKFD_IOC_CREATE_PROCESS,
                     NULL, 0);
        g_ioctl_seed("refused-import-dmabuf", AMDKFD_IOC_IMPORT_DMABUF,
                     zero, _IOC_SIZE(AMDKFD_IOC_IMPORT_DMABUF));
    }
}

void amdkfd_mc_fuzz_write_seeds(const char *dir, uint32_t gpu_id)
{
    seed_dir = dir;
    seed_gpu = gpu_id;
    seed_cmd_device();
    seed_cmd_ioctls();
    seed_generic();
}
