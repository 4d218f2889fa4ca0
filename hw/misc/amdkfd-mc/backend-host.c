/*
 * amdkfd-mc: the host backend, forwarding to the host's /dev/kfd
 *
 * Every guest context is its own open file of the host KFD, turned into a
 * secondary KFD context with AMDKFD_IOC_CREATE_PROCESS (Linux 7.0, or 6.12
 * with this project's kernel-patches/), so it has its own GPU VM, PASID,
 * handles and events on the host.  A kernel without that ioctl is refused
 * at realize: forwarding every guest program into QEMU's one KFD process
 * would let them reach each other's memory.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qemu/cutils.h"
#include "qemu/queue.h"
#include "qemu/thread.h"
#include "qemu/lockable.h"
#include "qapi/error.h"
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/udmabuf.h>
#include <drm/amdgpu_drm.h>
#include "backend.h"

#define HOST_TOPOLOGY   "/sys/class/kfd/kfd/topology/nodes"
#define HOST_MAX_NODES  AMDKFD_MC_MAX_NODES
/* KFD_SCHED_POLICY_NO_HWS: the KFD reads queue pointers with get_user() */
#define HOST_SCHED_NO_HWS 2

/* The answers of the GPU's render node the guest's stand-in repeats */
#define HOST_DRM_QUERIES 3

typedef struct HostNode {
    struct amdkfd_mc_topology_node info;
    int host_node;              /* its number in the host's topology */
    uint8_t drm[HOST_DRM_QUERIES][AMDKFD_MC_DRM_INFO_MAX];
    int drm_len[HOST_DRM_QUERIES];      /* or -errno */
} HostNode;

static const uint32_t host_drm_queries[HOST_DRM_QUERIES] = {
    AMDKFD_MC_DRM_INFO_VRAM_GTT,
    AMDKFD_MC_DRM_INFO_DEV_INFO,
    AMDKFD_MC_DRM_INFO_MEMORY,
};

/* ... and the sizes of their answers in the uapi QEMU is built with */
static const int host_drm_sizes[HOST_DRM_QUERIES] = {
    sizeof(struct drm_amdgpu_info_vram_gtt),
    sizeof(struct drm_amdgpu_info_device),
    sizeof(struct drm_amdgpu_memory_info),
};

struct AmdkfdMcBackend {
    char *path;
    int primary_fd;             /* the process's primary context, held open */
    uint32_t major, minor;
    HostNode nodes[HOST_MAX_NODES];
    uint32_t num_nodes;
    uint32_t live_files;        /* atomic: files open and close in workers */
};

/*
 * The ids of this process's secondary KFD contexts that the host backends
 * know of (every device of this QEMU shares the process's primary): the
 * open ones, and the closed ones whose sysfs directory may still be there
 * (the KFD frees an id after the close, from a work queue).  A new
 * context's id is then the lowest one known to be free, as the KFD's ida
 * hands them out, checked with one stat(); only when closed ones linger
 * is the directory listed.  Creation is one at a time, under the lock.
 */
static struct {
    QemuMutex lock;
    GHashTable *live;           /* keys: id + 1 */
    GHashTable *dying;
} host_ids;

static void __attribute__((__constructor__)) host_ids_init(void)
{
    qemu_mutex_init(&host_ids.lock);
    host_ids.live = g_hash_table_new(NULL, NULL);
    host_ids.dying = g_hash_table_new(NULL, NULL);
}

#define HOST_ID_KEY(id) GUINT_TO_POINTER((id) + 1)

/* A WAIT_EVENTS in the host kernel, so that it can be ended */
typedef struct HostWait {
    const struct kfd_event_data *events;
    uint32_t num_events;
    QLIST_ENTRY(HostWait) next;
} HostWait;

struct AmdkfdMcBackendFile {
    AmdkfdMcBackend *be;
    int fd;
    uint32_t ctx_id;            /* the secondary's id, from sysfs */
    uint32_t pasid;
    /* per exported GPU, for ACQUIRE_VM; set by a worker, read by mmap */
    int render_fd[HOST_MAX_NODES];
    QemuMutex wait_lock;
    QLIST_HEAD(, HostWait) waits;
    bool shut_down;             /* under wait_lock */
};

static int host_errno(int ret)
{
    return ret < 0 ? -errno : ret;
}

static bool host_read_u64(const char *dir, const char *file, const char *key,
                          uint64_t *val)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    size_t klen = strlen(key);
    int i;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return false;
    }
    lines = g_strsplit(text, "\n", -1);
    for (i = 0; lines[i]; i++) {
        if (!key[0]) {
            return qemu_strtou64(lines[i], NULL, 10, val) == 0;
        }
        if (!strncmp(lines[i], key, klen) && lines[i][klen] == ' ') {
            return qemu_strtou64(lines[i] + klen + 1, NULL, 10, val) == 0;
        }
    }
    return false;
}

static uint32_t host_prop(const char *dir, const char *key)
{
    uint64_t v = 0;

    host_read_u64(dir, "properties", key, &v);
    return v;
}

/* The GPU nodes of the host's KFD topology, in node order */
static void host_read_topology(AmdkfdMcBackend *be)
{
    int n;

    for (n = 0; be->num_nodes < HOST_MAX_NODES; n++) {
        g_autofree char *dir = g_strdup_printf(HOST_TOPOLOGY "/%d", n);
        g_autofree char *bank = g_build_filename(dir, "mem_banks", "0",
                                                 NULL);
        g_autofree char *name_path = g_build_filename(dir, "name", NULL);
        g_autofree char *name = NULL;
        struct amdkfd_mc_topology_node *nd;
        uint64_t gpu_id = 0;

        if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
            break;
        }
        if (!host_read_u64(dir, "gpu_id", "", &gpu_id) || gpu_id == 0) {
            continue;           /* a CPU node */
        }
        be->nodes[be->num_nodes].host_node = n;
        nd = &be->nodes[be->num_nodes++].info;
        nd->gpu_id = gpu_id;
        nd->vendor_id = host_prop(dir, "vendor_id");
        nd->device_id = host_prop(dir, "device_id");
        nd->location_id = host_prop(dir, "location_id");
        nd->drm_render_minor = host_prop(dir, "drm_render_minor");
        nd->gfx_target_version = host_prop(dir, "gfx_target_version");
        nd->simd_count = host_prop(dir, "simd_count");
        nd->cu_count = host_prop(dir, "simd_count") /
                       MAX(host_prop(dir, "simd_per_cu"), 1);
        nd->simd_per_cu = host_prop(dir, "simd_per_cu");
        nd->max_waves_per_simd = host_prop(dir, "max_waves_per_simd");
        nd->lds_size_kib = host_prop(dir, "lds_size_in_kb");
        nd->num_sdma_engines = host_prop(dir, "num_sdma_engines");
        host_read_u64(bank, "properties", "size_in_bytes", &nd->vram_size);
        if (g_file_get_contents(name_path, &name, NULL, NULL)) {
            g_strstrip(name);
            pstrcpy(nd->name, sizeof(nd->name), name);
        }
    }
}

/*
 * Ask each exported GPU's render node once, at realize.  The GPU addresses
 * of the kernel's own buffers in DEV_INFO are no business of the guest.
 */
static void host_read_drm_info(AmdkfdMcBackend *be)
{
    uint32_t i, q;

    for (i = 0; i < be->num_nodes; i++) {
        HostNode *n = &be->nodes[i];
        g_autofree char *path = g_strdup_printf("/dev/dri/renderD%u",
                                                n->info.drm_render_minor);
        int fd = qemu_open_old(path, O_RDWR | O_CLOEXEC);

        for (q = 0; q < HOST_DRM_QUERIES; q++) {
            struct drm_amdgpu_info req = {
                .return_pointer = (uintptr_t)n->drm[q],
                .return_size = sizeof(n->drm[q]),
                .query = host_drm_queries[q],
            };

            /* the kernel fills as much of its structure as fits */
            n->drm_len[q] = fd < 0 ? -ENODEV :
                            host_errno(ioctl(fd, DRM_IOCTL_AMDGPU_INFO, &req));
            if (n->drm_len[q] == 0) {
                n->drm_len[q] = host_drm_sizes[q];
            }
        }
        if (n->drm_len[1] > 0) {
            struct drm_amdgpu_info_device *d = (void *)n->drm[1];

            d->prim_buf_gpu_addr = 0;
            d->pos_buf_gpu_addr = 0;
            d->cntl_sb_buf_gpu_addr = 0;
            d->param_buf_gpu_addr = 0;
        }
        if (fd >= 0) {
            close(fd);
        }
    }
}

static char *host_ctx_dir(uint32_t id)
{
    return g_strdup_printf("/sys/class/kfd/kfd/proc/%d/context_%u", getpid(),
                           id);
}

static bool host_ctx_dir_exists(uint32_t id)
{
    g_autofree char *dir = host_ctx_dir(id);

    return g_file_test(dir, G_FILE_TEST_IS_DIR);
}

/* The context_<id> directories of this process's KFD contexts */
static GHashTable *host_sysfs_contexts(void)
{
    g_autofree char *dir = g_strdup_printf("/sys/class/kfd/kfd/proc/%d",
                                           getpid());
    GHashTable *ids = g_hash_table_new(NULL, NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    uint64_t id;

    while (d && (name = g_dir_read_name(d))) {
        if (g_str_has_prefix(name, "context_") &&
            !qemu_strtou64(name + 8, NULL, 10, &id) &&
            id < AMDKFD_MC_KFD_PRIMARY_ID) {
            g_hash_table_add(ids, HOST_ID_KEY(id));
        }
    }
    if (d) {
        g_dir_close(d);
    }
    return ids;
}

static bool host_id_known(gpointer key)
{
    return g_hash_table_contains(host_ids.live, key) ||
           g_hash_table_contains(host_ids.dying, key);
}

/* Contexts in sysfs that nobody knows of (the realize probe's) are dying */
static void host_ids_note_unknown(void)
{
    QEMU_LOCK_GUARD(&host_ids.lock);
    g_autoptr(GHashTable) ids = host_sysfs_contexts();
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init(&it, ids);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (!host_id_known(key)) {
            g_hash_table_add(host_ids.dying, key);
        }
    }
}

/* Under host_ids.lock: forget closed contexts the KFD has let go of */
static void host_ids_prune(void)
{
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init(&it, host_ids.dying);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (!host_ctx_dir_exists(GPOINTER_TO_UINT(key) - 1)) {
            g_hash_table_iter_remove(&it);
        }
    }
}

/* Under host_ids.lock, after CREATE_PROCESS: the new context's id */
static uint32_t host_ids_find_new(void)
{
    g_autoptr(GHashTable) ids = NULL;
    GHashTableIter it;
    gpointer key, found = NULL;
    uint32_t id;

    for (id = 0; id < AMDKFD_MC_KFD_PRIMARY_ID; id++) {
        if (!host_id_known(HOST_ID_KEY(id))) {
            break;
        }
    }
    if (!g_hash_table_size(host_ids.dying) && host_ctx_dir_exists(id)) {
        return id;
    }
    /* the one directory nobody knows of */
    ids = host_sysfs_contexts();
    g_hash_table_iter_init(&it, ids);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (!host_id_known(key)) {
            if (found) {
                return AMDKFD_MC_HOST_CTX_UNKNOWN;
            }
            found = key;
        }
    }
    return found ? GPOINTER_TO_UINT(found) - 1 : AMDKFD_MC_HOST_CTX_UNKNOWN;
}

/* 0, 1 or 2 (no hardware scheduler); -1 if the host does not say */
static int host_sched_policy(void)
{
    uint64_t v;

    if (!host_read_u64("/sys/module/amdgpu/parameters", "sched_policy", "",
                       &v)) {
        return -1;
    }
    return v;
}

static AmdkfdMcBackend *host_create(const AmdkfdMcBackendConfig *cfg,
                                    Error **errp)
{
    g_autofree AmdkfdMcBackend *be = g_new0(AmdkfdMcBackend, 1);
    struct kfd_ioctl_get_version_args v = { 0 };
    int probe;

    be->path = g_strdup(cfg->kfd_path ? cfg->kfd_path : "/dev/kfd");
    be->primary_fd = qemu_open(be->path, O_RDWR | O_CLOEXEC, errp);
    if (be->primary_fd < 0) {
        error_prepend(errp, "amdkfd-mc: ");
        goto fail;
    }
    if (ioctl(be->primary_fd, AMDKFD_IOC_GET_VERSION, &v) < 0) {
        error_setg_errno(errp, errno, "amdkfd-mc: %s is not a KFD",
                         be->path);
        goto fail_close;
    }
    be->major = v.major_version;
    be->minor = v.minor_version;

    /* Prove now that secondary contexts work, with a throw-away one */
    probe = qemu_open(be->path, O_RDWR | O_CLOEXEC, errp);
    if (probe < 0) {
        error_prepend(errp, "amdkfd-mc: ");
        goto fail_close;
    }
    if (ioctl(probe, AMDKFD_IOC_CREATE_PROCESS) < 0) {
        error_setg_errno(errp, errno, "amdkfd-mc: the host KFD at %s "
                         "(ioctl version %u.%u) cannot create secondary "
                         "contexts (AMDKFD_IOC_CREATE_PROCESS)", be->path,
                         be->major, be->minor);
        error_append_hint(errp, "amdkfd-mc needs Linux 7.0 or newer, or "
                          "Linux 6.12 with amdkfd-mc's kernel-patches/; it "
                          "never falls back to one context shared by all "
                          "guest programs.\n");
        close(probe);
        goto fail_close;
    }
    close(probe);
    host_ids_note_unknown();
    if (host_sched_policy() == HOST_SCHED_NO_HWS) {
        error_setg(errp, "amdkfd-mc: the host's amdgpu runs without the "
                   "hardware scheduler (sched_policy=2)");
        error_append_hint(errp, "Without it the KFD reads a queue's write "
                          "pointer from QEMU's memory at an address the "
                          "guest chose; load amdgpu with sched_policy 0 or "
                          "1.\n");
        goto fail_close;
    }
    host_read_topology(be);
    host_read_drm_info(be);
    return g_steal_pointer(&be);

fail_close:
    close(be->primary_fd);
fail:
    g_free(be->path);
    return NULL;
}

static void host_destroy(AmdkfdMcBackend *be)
{
    if (!be) {
        return;
    }
    /* Secondaries are closed before the primary, as the kernel expects */
    assert(qatomic_read(&be->live_files) == 0);
    close(be->primary_fd);
    g_free(be->path);
    g_free(be);
}

static uint32_t host_num_nodes(AmdkfdMcBackend *be)
{
    return be->num_nodes;
}

static void host_version(AmdkfdMcBackend *be, uint32_t *major,
                         uint32_t *minor)
{
    *major = be->major;
    *minor = be->minor;
}

static bool host_node_info(AmdkfdMcBackend *be, uint32_t index,
                           struct amdkfd_mc_topology_node *node)
{
    if (index >= be->num_nodes) {
        return false;
    }
    *node = be->nodes[index].info;
    return true;
}

/* The export index of host topology node @host_node, or -1 */
static int host_export_index(AmdkfdMcBackend *be, uint64_t host_node)
{
    uint32_t i;

    for (i = 0; i < be->num_nodes; i++) {
        if (be->nodes[i].host_node == host_node) {
            return i;
        }
    }
    return -1;
}

static bool host_is_cpu_node(uint64_t host_node)
{
    g_autofree char *dir = g_strdup_printf(HOST_TOPOLOGY "/%" PRIu64,
                                           host_node);
    uint64_t gpu_id = 0;

    return g_file_test(dir, G_FILE_TEST_IS_DIR) &&
           host_read_u64(dir, "gpu_id", "", &gpu_id) && gpu_id == 0;
}

/* "sibling_map 1,0,1,..." of a cache's properties, as bits */
static void host_sibling_map(const char *props_dir,
                             struct amdkfd_mc_topology_cache *c)
{
    g_autofree char *path = g_build_filename(props_dir, "properties", NULL);
    g_autofree char *text = NULL;
    const char *p;
    uint32_t bit = 0;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return;
    }
    p = strstr(text, "sibling_map ");
    if (!p) {
        return;
    }
    for (p += strlen("sibling_map "); *p == '0' || *p == '1' || *p == ',';
         p++) {
        if (*p == ',') {
            continue;
        }
        if (bit < sizeof(c->sibling_map) * 8 && *p == '1') {
            c->sibling_map[bit / 8] |= 1 << (bit % 8);
        }
        bit++;
    }
    c->sibling_bits = MIN(bit, sizeof(c->sibling_map) * 8);
}

static uint32_t host_caches(AmdkfdMcBackend *be,
                            struct amdkfd_mc_topology_cache *c, uint32_t max)
{
    uint32_t i, n = 0;
    int k;

    for (i = 0; i < be->num_nodes; i++) {
        for (k = 0; n < max; k++) {
            g_autofree char *dir =
                g_strdup_printf(HOST_TOPOLOGY "/%d/caches/%d",
                                be->nodes[i].host_node, k);
            struct amdkfd_mc_topology_cache *e = &c[n];

            if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
                break;
            }
            memset(e, 0, sizeof(*e));
            e->node = i;
            e->processor_id_low = host_prop(dir, "processor_id_low");
            e->level = host_prop(dir, "level");
            e->size_kib = host_prop(dir, "size");
            e->line_size = host_prop(dir, "cache_line_size");
            e->lines_per_tag = host_prop(dir, "cache_lines_per_tag");
            e->associativity = host_prop(dir, "association");
            e->latency = host_prop(dir, "latency");
            e->type = host_prop(dir, "type");
            host_sibling_map(dir, e);
            n++;
        }
    }
    return n;
}

/* io links of exported nodes, to the CPU or to another exported node */
static uint32_t host_links(AmdkfdMcBackend *be,
                           struct amdkfd_mc_topology_link *l, uint32_t max)
{
    uint32_t i, n = 0;
    int k;

    for (i = 0; i < be->num_nodes; i++) {
        for (k = 0; n < max; k++) {
            g_autofree char *dir =
                g_strdup_printf(HOST_TOPOLOGY "/%d/io_links/%d",
                                be->nodes[i].host_node, k);
            struct amdkfd_mc_topology_link *e = &l[n];
            uint64_t to;
            int idx;

            if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
                break;
            }
            to = host_prop(dir, "node_to");
            idx = host_export_index(be, to);
            if (idx < 0 && !host_is_cpu_node(to)) {
                continue;       /* a GPU the guest does not see */
            }
            memset(e, 0, sizeof(*e));
            e->node_from = i;
            e->node_to = idx < 0 ? AMDKFD_MC_TOPO_CPU : idx;
            e->type = host_prop(dir, "type");
            e->version_major = host_prop(dir, "version_major");
            e->version_minor = host_prop(dir, "version_minor");
            e->weight = host_prop(dir, "weight");
            e->min_latency = host_prop(dir, "min_latency");
            e->max_latency = host_prop(dir, "max_latency");
            e->min_bandwidth = host_prop(dir, "min_bandwidth");
            e->max_bandwidth = host_prop(dir, "max_bandwidth");
            e->recommended_transfer_size =
                host_prop(dir, "recommended_transfer_size");
            e->flags = host_prop(dir, "flags");
            n++;
        }
    }
    return n;
}

static int host_drm_info(AmdkfdMcBackend *be, uint32_t index, uint32_t query,
                         void *buf, uint32_t len)
{
    uint32_t q;

    if (index >= be->num_nodes) {
        return -EINVAL;
    }
    for (q = 0; q < HOST_DRM_QUERIES; q++) {
        if (host_drm_queries[q] == query) {
            int n = be->nodes[index].drm_len[q];

            if (n > 0) {
                memcpy(buf, be->nodes[index].drm[q], MIN((uint32_t)n, len));
            }
            return n;
        }
    }
    return -EINVAL;
}

static uint32_t host_live_contexts(AmdkfdMcBackend *be)
{
    uint32_t n = qatomic_read(&be->live_files);

    /* Every file is a secondary; the primary exists while any does */
    return n ? n + 1 : 0;
}

static AmdkfdMcBackendFile *host_open(AmdkfdMcBackend *be, int *err)
{
    AmdkfdMcBackendFile *f;
    int fd, i;

    /* Never inherited: a secondary holds no reference on the mm of QEMU */
    fd = qemu_open_old(be->path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        *err = -errno;
        return NULL;
    }
    *err = 0;
    f = g_new0(AmdkfdMcBackendFile, 1);
    f->be = be;
    f->fd = fd;
    f->ctx_id = AMDKFD_MC_KFD_PRIMARY_ID;
    for (i = 0; i < HOST_MAX_NODES; i++) {
        f->render_fd[i] = -1;
    }
    qemu_mutex_init(&f->wait_lock);
    QLIST_INIT(&f->waits);
    qatomic_inc(&be->live_files);
    return f;
}

static void host_close(AmdkfdMcBackendFile *f)
{
    int i;

    if (f->ctx_id < AMDKFD_MC_KFD_PRIMARY_ID) {
        QEMU_LOCK_GUARD(&host_ids.lock);

        g_hash_table_remove(host_ids.live, HOST_ID_KEY(f->ctx_id));
        g_hash_table_add(host_ids.dying, HOST_ID_KEY(f->ctx_id));
    }

    for (i = 0; i < HOST_MAX_NODES; i++) {
        if (f->render_fd[i] >= 0) {
            close(f->render_fd[i]);
        }
    }
    close(f->fd);
    assert(QLIST_EMPTY(&f->waits));
    qemu_mutex_destroy(&f->wait_lock);
    qatomic_dec(&f->be->live_files);
    g_free(f);
}

static int host_node_index(AmdkfdMcBackend *be, uint32_t gpu_id)
{
    uint32_t i;

    for (i = 0; i < be->num_nodes; i++) {
        if (be->nodes[i].info.gpu_id == gpu_id) {
            return i;
        }
    }
    return -1;
}

/* Each context acquires its GPU VM through a render-node file of its own */
static int host_acquire_vm(AmdkfdMcBackendFile *f,
                           struct kfd_ioctl_acquire_vm_args *a)
{
    int n = host_node_index(f->be, a->gpu_id);
    g_autofree char *path = NULL;
    int fd, ret;

    if (n < 0) {
        return -EINVAL;
    }
    fd = qatomic_read(&f->render_fd[n]);
    if (fd >= 0) {
        a->drm_fd = fd;
        return host_errno(ioctl(f->fd, AMDKFD_IOC_ACQUIRE_VM, a));
    }
    path = g_strdup_printf("/dev/dri/renderD%u",
                           f->be->nodes[n].info.drm_render_minor);
    fd = qemu_open_old(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    a->drm_fd = fd;
    ret = host_errno(ioctl(f->fd, AMDKFD_IOC_ACQUIRE_VM, a));
    if (ret < 0) {
        /* the device counts a render fd only for an acquired VM */
        close(fd);
        return ret;
    }
    qatomic_set(&f->render_fd[n], fd);
    return 0;
}

/*
 * CREATE_PROCESS returns nothing; the new context is the context_<id>
 * that appears in sysfs.  Its id and PASID are only reported (QOM, the
 * context info), isolation does not rest on them.
 */
static int host_create_process(AmdkfdMcBackendFile *f)
{
    QEMU_LOCK_GUARD(&host_ids.lock);
    int ret;

    host_ids_prune();
    ret = host_errno(ioctl(f->fd, AMDKFD_IOC_CREATE_PROCESS));
    if (ret < 0) {
        return ret;
    }
    /* unknown unless sysfs shows it (e.g. sysfs not mounted) */
    f->ctx_id = host_ids_find_new();
    if (f->ctx_id != AMDKFD_MC_HOST_CTX_UNKNOWN) {
        g_autofree char *dir = host_ctx_dir(f->ctx_id);
        uint64_t pasid = 0;

        g_hash_table_add(host_ids.live, HOST_ID_KEY(f->ctx_id));
        host_read_u64(dir, "pasid", "", &pasid);
        f->pasid = pasid;
    }
    return 0;
}

/*
 * A wait is one ioctl, as long as the guest asked for (cutting it into
 * slices would lose auto-reset signals that fire between two slices).
 * It is ended from outside by destroying the events it waits on, which
 * the KFD answers by failing the wait at once; the file is about to be
 * closed then, so its events do not matter any more.
 */
static int host_wait_events(AmdkfdMcBackendFile *f,
                            struct kfd_ioctl_wait_events_args *a)
{
    HostWait w = {
        .events = (const void *)(uintptr_t)a->events_ptr,
        .num_events = a->num_events,
    };
    int ret;

    qemu_mutex_lock(&f->wait_lock);
    if (f->shut_down) {
        qemu_mutex_unlock(&f->wait_lock);
        return -EINTR;
    }
    QLIST_INSERT_HEAD(&f->waits, &w, next);
    qemu_mutex_unlock(&f->wait_lock);

    ret = host_errno(ioctl(f->fd, AMDKFD_IOC_WAIT_EVENTS, a));

    qemu_mutex_lock(&f->wait_lock);
    QLIST_REMOVE(&w, next);
    if (f->shut_down) {
        ret = -EINTR;
    }
    qemu_mutex_unlock(&f->wait_lock);
    return ret;
}

static int host_ioctl(AmdkfdMcBackendFile *f, unsigned long request,
                      void *arg)
{
    switch (request) {
    case AMDKFD_IOC_ACQUIRE_VM:
        return host_acquire_vm(f, arg);
    case AMDKFD_IOC_WAIT_EVENTS:
        return host_wait_events(f, arg);
    case AMDKFD_IOC_CREATE_PROCESS:
        return host_create_process(f);
    default:
        return host_errno(ioctl(f->fd, request, arg));
    }
}

static void host_ctx_info(AmdkfdMcBackendFile *f, AmdkfdMcBackendCtxInfo *i)
{
    i->host_ctx_id = f->ctx_id;
    i->pasid = f->pasid;
    /* Every context the device keeps has been through CREATE_PROCESS */
    i->secondary = f->ctx_id != AMDKFD_MC_KFD_PRIMARY_ID;
}

static int host_mmap(AmdkfdMcBackendFile *f, uint64_t offset, uint64_t length,
                     uint32_t gpu_id, void *at, AmdkfdMcBackendMap *map)
{
    int fd = f->fd;
    void *ptr;

    /* Memory objects (no KFD type or GPU bits) map through the render node */
    if ((offset >> AMDKFD_MC_KFD_MMAP_GPU_ID_SHIFT) == 0) {
        int n = host_node_index(f->be, gpu_id);

        fd = n < 0 ? -1 : qatomic_read(&f->render_fd[n]);
        if (fd < 0) {
            return -EINVAL;
        }
    }
    /*
     * A failed mmap(MAP_FIXED) may leave the target unmapped, and a vCPU
     * hitting a hole would kill QEMU: try the mapping elsewhere first, so
     * that only a host out of memory can fail the real one.
     */
    ptr = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset);
    if (ptr == MAP_FAILED) {
        return -errno;
    }
    munmap(ptr, length);
    ptr = mmap(at, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
               offset);
    if (ptr != at) {
        int err = -errno;

        ptr = mmap(at, length, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
                   -1, 0);
        return ptr == at ? err : -ENOTRECOVERABLE;
    }
    /* the window's zero pages replace it on unmap: nothing else to drop */
    map->ptr = at;
    map->size = length;
    map->release = NULL;
    map->opaque = NULL;
    return 0;
}

/*
 * Guest RAM as a dma-buf of its own pages (udmabuf, over the memfd behind
 * guest RAM), imported into the context's GPU VM: the host KFD accepts
 * foreign dma-bufs (they become GTT objects) on secondaries too.  The
 * import holds the dma-buf; its fd is closed at once.
 */
static int host_import_guest(AmdkfdMcBackendFile *f,
                             const AmdkfdMcGuestPages *p, uint32_t n,
                             uint64_t va, uint64_t size, uint32_t gpu_id,
                             uint64_t *handle)
{
    g_autofree struct udmabuf_create_list *list = NULL;
    struct kfd_ioctl_import_dmabuf_args imp = {
        .va_addr = va,
        .gpu_id = gpu_id,
    };
    int udmabuf, dmabuf, ret;
    uint32_t i;

    udmabuf = qemu_open_old("/dev/udmabuf", O_RDWR | O_CLOEXEC);
    if (udmabuf < 0) {
        return -errno;
    }
    list = g_malloc0(sizeof(*list) + n * sizeof(list->list[0]));
    list->flags = UDMABUF_FLAGS_CLOEXEC;
    list->count = n;
    for (i = 0; i < n; i++) {
        list->list[i].memfd = p[i].fd;
        list->list[i].offset = p[i].offset;
        list->list[i].size = p[i].len;
    }
    dmabuf = ioctl(udmabuf, UDMABUF_CREATE_LIST, list);
    ret = dmabuf < 0 ? -errno : 0;
    close(udmabuf);
    if (ret) {
        return ret;
    }
    imp.dmabuf_fd = dmabuf;
    ret = host_errno(ioctl(f->fd, AMDKFD_IOC_IMPORT_DMABUF, &imp));
    close(dmabuf);
    if (ret == 0) {
        *handle = imp.handle;
    }
    return ret;
}

/*
 * udmabuf bounds one buffer: list_limit ranges and size_limit_mb MiB (1024
 * and 64 by default); the guest driver splits larger objects
 */
static bool host_guest_limits(AmdkfdMcBackend *be, uint32_t *max_ranges,
                              uint64_t *max_bytes)
{
    const char *params = "/sys/module/udmabuf/parameters";
    uint64_t list = 0, size_mb = 0;
    int fd = qemu_open_old("/dev/udmabuf", O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        return false;
    }
    close(fd);
    if (!host_read_u64(params, "list_limit", "", &list) || !list) {
        list = 1024;
    }
    if (!host_read_u64(params, "size_limit_mb", "", &size_mb) || !size_mb) {
        size_mb = 64;
    }
    *max_ranges = MIN(list, UINT32_MAX);
    *max_bytes = size_mb * 1024 * 1024;
    return true;
}

static int host_doorbell_write(AmdkfdMcBackendFile *f, uint64_t offset,
                               uint64_t byte_offset, uint64_t value)
{
    /* Host doorbells are mapped as memory; nothing is ever trapped */
    return -EINVAL;
}

static void host_cancel_waits(AmdkfdMcBackendFile *f)
{
    HostWait *w;
    uint32_t i;

    qemu_mutex_lock(&f->wait_lock);
    f->shut_down = true;
    QLIST_FOREACH(w, &f->waits, next) {
        for (i = 0; i < w->num_events; i++) {
            struct kfd_ioctl_destroy_event_args d = {
                .event_id = w->events[i].event_id,
            };

            /* may fail for ids destroyed already: that is fine */
            ioctl(f->fd, AMDKFD_IOC_DESTROY_EVENT, &d);
        }
    }
    qemu_mutex_unlock(&f->wait_lock);
}

const AmdkfdMcBackendOps amdkfd_mc_backend_host = {
    .name = "host",
    .kind = AMDKFD_MC_BACKEND_HOST,
    .fds_per_context = 1,
    .fds_per_vm = 1,
    .create = host_create,
    .destroy = host_destroy,
    .num_nodes = host_num_nodes,
    .version = host_version,
    .open = host_open,
    .close = host_close,
    .ioctl = host_ioctl,
    .ctx_info = host_ctx_info,
    .mmap = host_mmap,
    .import_guest = host_import_guest,
    .guest_limits = host_guest_limits,
    .doorbell_write = host_doorbell_write,
    .cancel_waits = host_cancel_waits,
    .node_info = host_node_info,
    .caches = host_caches,
    .links = host_links,
    .drm_info = host_drm_info,
    .live_contexts = host_live_contexts,
};
