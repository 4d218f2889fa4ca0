/*
 * QTest of the amdkfd-mc device with the sim backend
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "hw/pci/pci_ids.h"
#include "hw/pci/pci_regs.h"
#include "amdkfd-mc-harness.h"
#include "amdkfd-mc-tests.h"

static void test_probe(void)
{
    AkmcDev *d = akmc_start(",window-size=64M");
    uint32_t bar2;

    g_assert_cmphex(qpci_config_readw(d->pdev, PCI_CLASS_DEVICE), ==,
                    PCI_CLASS_PROCESSOR_CO);
    g_assert_cmphex(qpci_config_readb(d->pdev, PCI_REVISION_ID), ==,
                    AMDKFD_MC_PCI_REVISION);
    g_assert_cmphex(akmc_readl(d, AMDKFD_MC_REG_MAGIC), ==, AMDKFD_MC_MAGIC);
    g_assert_cmphex(akmc_readl(d, AMDKFD_MC_REG_VERSION), ==,
                    AMDKFD_MC_ABI_MAJOR << 16 | AMDKFD_MC_ABI_MINOR);
    g_assert_cmphex(akmc_readl(d, AMDKFD_MC_REG_FEATURES), ==,
                    AMDKFD_MC_FEATURE_MSIX | AMDKFD_MC_FEATURE_IOCTL |
                    AMDKFD_MC_FEATURE_WINDOW | AMDKFD_MC_FEATURE_TOPOLOGY |
                    AMDKFD_MC_FEATURE_ASYNC | AMDKFD_MC_FEATURE_GUEST_MEMORY |
                    AMDKFD_MC_FEATURE_DRM_INFO);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_MAX_CONTEXTS), ==, 256);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, 0);

    /* The window is a 64-bit prefetchable BAR of the configured size */
    g_assert_cmpuint(d->window_size, ==, 64 * MiB);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_WINDOW_SIZE_LO), ==,
                     64 * MiB);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_WINDOW_SIZE_HI), ==, 0);
    bar2 = qpci_config_readl(d->pdev, PCI_BASE_ADDRESS_2);
    g_assert_cmphex(bar2 & PCI_BASE_ADDRESS_MEM_TYPE_MASK, ==,
                    PCI_BASE_ADDRESS_MEM_TYPE_64);
    g_assert_true(bar2 & PCI_BASE_ADDRESS_MEM_PREFETCH);

    g_assert_cmphex(qpci_find_capability(d->pdev, PCI_CAP_ID_MSIX, 0), !=, 0);
    akmc_stop(d);
}

static void test_device_info(void)
{
    AkmcDev *d = akmc_start_ready(",max-contexts=16");
    struct amdkfd_mc_device_info info;

    g_assert_cmpuint(akmc_device_info(d, &info), ==, AMDKFD_MC_S_OK);
    g_assert_cmphex(le32_to_cpu(info.abi_version), ==,
                    AMDKFD_MC_ABI_MAJOR << 16 | AMDKFD_MC_ABI_MINOR);
    g_assert_cmpuint(le32_to_cpu(info.max_contexts), ==, 16);
    g_assert_cmpuint(le32_to_cpu(info.live_contexts), ==, 0);
    g_assert_cmpuint(le32_to_cpu(info.backend), ==, AMDKFD_MC_BACKEND_SIM);
    g_assert_cmpuint(le32_to_cpu(info.kfd_major), ==, 1);
    g_assert_cmpuint(le32_to_cpu(info.kfd_minor), ==, 19);
    g_assert_cmpuint(le32_to_cpu(info.num_nodes), ==, 1);
    g_assert_cmpuint(le64_to_cpu(info.window_size), ==, 256 * MiB);
    akmc_stop(d);
}

#define N_CTX 8

/* I1 in its simplest form: every guest context is its own host context */
static void test_contexts_distinct(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_context_info info[N_CTX];
    uint32_t id[N_CTX];
    int i, j;

    for (i = 0; i < N_CTX; i++) {
        g_assert_cmpuint(akmc_ctx_create(d, &id[i], &info[i]), ==,
                         AMDKFD_MC_S_OK);
        g_assert_cmphex(le32_to_cpu(info[i].ctx_id), ==, id[i]);
        g_assert_cmphex(le32_to_cpu(info[i].flags), ==,
                        AMDKFD_MC_CTX_SECONDARY);
        g_assert_cmphex(le32_to_cpu(info[i].host_ctx_id), <,
                        AMDKFD_MC_KFD_PRIMARY_ID);
        g_assert_cmphex(le32_to_cpu(info[i].pasid), !=, 0);
    }
    for (i = 0; i < N_CTX; i++) {
        for (j = i + 1; j < N_CTX; j++) {
            g_assert_cmphex(id[i], !=, id[j]);
            g_assert_cmphex(info[i].host_ctx_id, !=, info[j].host_ctx_id);
            g_assert_cmphex(info[i].pasid, !=, info[j].pasid);
        }
    }
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, N_CTX);
    for (i = 0; i < N_CTX; i++) {
        g_assert_cmpuint(akmc_ctx_destroy(d, id[i]), ==, AMDKFD_MC_S_OK);
    }
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, 0);
    akmc_stop(d);
}

/*
 * The control for the test above: in legacy-shared mode every guest context
 * is the one primary context, so the distinctness checks would fail.
 */
static void test_contexts_legacy_shared(void)
{
    AkmcDev *d = akmc_start_ready(",legacy-shared=on");
    struct amdkfd_mc_context_info a, b;
    uint32_t ida, idb;

    g_assert_cmpuint(akmc_ctx_create(d, &ida, &a), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_create(d, &idb, &b), ==, AMDKFD_MC_S_OK);
    g_assert_cmphex(ida, !=, idb);
    g_assert_cmphex(le32_to_cpu(a.flags), ==, AMDKFD_MC_CTX_SHARED);
    g_assert_cmphex(le32_to_cpu(a.host_ctx_id), ==, AMDKFD_MC_KFD_PRIMARY_ID);
    g_assert_cmphex(a.host_ctx_id, ==, b.host_ctx_id);
    g_assert_cmphex(a.pasid, ==, b.pasid);
    akmc_stop(d);
}

static void test_contexts_recreate(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_context_info a, b;
    uint32_t ida, idb;

    g_assert_cmpuint(akmc_ctx_create(d, &ida, &a), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_destroy(d, ida), ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(akmc_ctx_create(d, &idb, &b), ==, AMDKFD_MC_S_OK);

    /* Ids are never reused: the old id must not name the new one */
    g_assert_cmphex(ida, !=, idb);
    g_assert_cmpuint(akmc_ctx_destroy(d, ida), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    /* The backend returned the freed context id and reused it */
    g_assert_cmphex(a.host_ctx_id, ==, b.host_ctx_id);
    g_assert_cmpuint(akmc_ctx_destroy(d, idb), ==, AMDKFD_MC_S_OK);
    akmc_stop(d);
}

/*
 * Sizes as the KFD takes them: libhsakmt 5.2.3's 88-byte CREATE_QUEUE is
 * zero-extended and copied back at 88 bytes; a longer argument only with
 * zeros past the uapi structure
 */
static void test_ioctl_sizes(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    const uint32_t old_create_queue = _IOC(_IOC_READ | _IOC_WRITE,
                                           AMDKFD_IOCTL_BASE, 0x02, 88);
    struct kfd_ioctl_create_queue_args q;
    uint8_t buf[128];
    int32_t result;
    AkmcProc p;
    AkmcBuf ring, ptrs;

    g_assert_cmphex(old_create_queue, ==, 0xc0584b02);
    akmc_proc_open(d, &p);
    akmc_buf_new(&p, 0x1000000, 4096, &ring);
    akmc_buf_new(&p, 0x1010000, 4096, &ptrs);
    q = (struct kfd_ioctl_create_queue_args) {
        .ring_base_address = ring.va,
        .read_pointer_address = ptrs.va,
        .write_pointer_address = ptrs.va + 8,
        .ring_size = 4096,
        .gpu_id = p.gpu_id,
        .queue_type = KFD_IOC_QUEUE_TYPE_SDMA,
        .queue_percentage = 100,
        .queue_priority = 7,
    };
    memset(buf, 0x5a, sizeof(buf));
    memcpy(buf, &q, 88);
    qtest_memwrite(d->qts, d->payload, buf, sizeof(buf));
    g_assert_cmpuint(akmc_ioctl_buf(d, p.ctx, old_create_queue, buf, 88,
                                    &result), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(result, ==, 0);
    memcpy(&q, buf, 88);
    g_assert_cmphex(q.doorbell_offset >> 62, ==, 3);
    /* nothing past the caller's 88 bytes was written */
    qtest_memread(d->qts, d->payload + 88, buf, 8);
    g_assert_cmphex(buf[0], ==, 0x5a);
    g_assert_cmphex(buf[7], ==, 0x5a);

    /* longer than the uapi's: only zeros past it */
    memset(buf, 0, sizeof(buf));
    g_assert_cmpuint(akmc_ioctl_buf(d, p.ctx,
                                    _IOC(_IOC_READ, AMDKFD_IOCTL_BASE, 0x01,
                                         16), buf, 16, &result), ==,
                     AMDKFD_MC_S_OK);
    g_assert_cmpuint(((struct kfd_ioctl_get_version_args *)buf)->major_version,
                     ==, 1);
    buf[12] = 1;
    g_assert_cmpuint(akmc_ioctl_buf(d, p.ctx,
                                    _IOC(_IOC_READ, AMDKFD_IOCTL_BASE, 0x01,
                                         16), buf, 16, &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    /* the size bits bound the argument, not the payload */
    g_assert_cmpuint(akmc_ioctl_buf(d, p.ctx,
                                    _IOC(_IOC_READ, AMDKFD_IOCTL_BASE, 0x01,
                                         1024), buf, sizeof(buf), &result),
                     ==, AMDKFD_MC_S_INVALID_ARGUMENT);
    /* KFD 1.22's metadata ring is not this interface's */
    q.queue_id = 0;
    q.pad = 4096;
    g_assert_cmpuint(akmc_ioctl(d, p.ctx, AMDKFD_IOC_CREATE_QUEUE, &q,
                                sizeof(q), &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    akmc_stop(d);
}

/* HIP's hipGetDeviceCount asks for the tile configuration */
static void test_ioctl_tile_config(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct {
        struct kfd_ioctl_get_tile_config_args a;
        uint32_t tile[40];
        uint32_t macro[20];
    } t;
    int32_t result;
    AkmcProc p;

    akmc_proc_open(d, &p);
    memset(&t, 0xff, sizeof(t));
    t.a = (struct kfd_ioctl_get_tile_config_args) {
        .tile_config_ptr = offsetof(typeof(t), tile),
        .macro_tile_config_ptr = offsetof(typeof(t), macro),
        .num_tile_configs = 40,
        .num_macro_tile_configs = 20,
        .gpu_id = p.gpu_id,
    };
    g_assert_cmpuint(akmc_ioctl_buf(d, p.ctx, AMDKFD_IOC_GET_TILE_CONFIG, &t,
                                    sizeof(t), &result), ==, AMDKFD_MC_S_OK);
    g_assert_cmpint(result, ==, 0);
    /* GFX9: 32 and 16 entries, all zero; the offsets come back */
    g_assert_cmpuint(t.a.num_tile_configs, ==, 32);
    g_assert_cmpuint(t.a.num_macro_tile_configs, ==, 16);
    g_assert_cmphex(t.a.gb_addr_config, ==, 0x22014042);
    g_assert_cmpuint(t.tile[31], ==, 0);
    g_assert_cmphex(t.tile[32], ==, 0xffffffff);
    g_assert_cmpuint(t.macro[15], ==, 0);
    g_assert_cmphex(t.a.tile_config_ptr, ==, offsetof(typeof(t), tile));
    /* arrays out of the payload or over the bound */
    t.a.tile_config_ptr = offsetof(typeof(t), macro);
    t.a.num_tile_configs = 21;
    g_assert_cmpuint(akmc_ioctl_buf(d, p.ctx, AMDKFD_IOC_GET_TILE_CONFIG, &t,
                                    sizeof(t), &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    t.a.num_tile_configs = 65;
    t.a.tile_config_ptr = 0;
    g_assert_cmpuint(akmc_ioctl_buf(d, p.ctx, AMDKFD_IOC_GET_TILE_CONFIG, &t,
                                    sizeof(t), &result), ==,
                     AMDKFD_MC_S_INVALID_ARGUMENT);
    akmc_stop(d);
}

static void test_ioctl_get_version(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    uint32_t id[3];
    int i;

    for (i = 0; i < ARRAY_SIZE(id); i++) {
        struct kfd_ioctl_get_version_args v = { 0 };
        int32_t result = -1;

        g_assert_cmpuint(akmc_ctx_create(d, &id[i], NULL), ==,
                         AMDKFD_MC_S_OK);
        g_assert_cmpuint(akmc_ioctl(d, id[i], AMDKFD_IOC_GET_VERSION, &v,
                                    sizeof(v), &result), ==, AMDKFD_MC_S_OK);
        g_assert_cmpint(result, ==, 0);
        g_assert_cmpuint(v.major_version, ==, 1);
        g_assert_cmpuint(v.minor_version, ==, 19);
    }
    akmc_stop(d);
}

/*
 * The topology carries the caches and io links ROCr needs (it asserts on
 * a GPU without caches and infers platform atomics from the link): the
 * sim's are Vega 20's; a payload with room for the nodes only gets the
 * nodes and the counts
 */
static void test_topology_caches_links(void)
{
    AkmcDev *d = akmc_start_ready(",sim-nodes=2");
    struct amdkfd_mc_topology hdr;
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_QUERY_TOPOLOGY,
        .payload_addr = d->payload,
        .payload_len = sizeof(hdr) + 2 * sizeof(struct amdkfd_mc_topology_node),
    };
    struct amdkfd_mc_cpl cpl;
    g_autofree uint8_t *buf = NULL;
    struct amdkfd_mc_topology_cache *c;
    struct amdkfd_mc_topology_link *l;
    uint32_t nc, nl, i, l1 = 0, l2 = 0, len;

    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==, AMDKFD_MC_S_OK);
    qtest_memread(d->qts, d->payload, &hdr, sizeof(hdr));
    nc = le32_to_cpu(hdr.num_caches);
    nl = le32_to_cpu(hdr.num_links);
    /* per node: 60 TCP, 20 + 20 SQC, 4 L2 groups; one PCIe link each */
    g_assert_cmpuint(nc, ==, 2 * (60 + 20 + 20 + 4));
    g_assert_cmpuint(nl, ==, 2);

    len = cmd.payload_len + nc * sizeof(*c) + nl * sizeof(*l);
    cmd.payload_len = len;
    g_assert_cmpuint(akmc_exec(d, &cmd, &cpl), ==, AMDKFD_MC_S_OK);
    buf = g_malloc(len);
    qtest_memread(d->qts, d->payload, buf, len);
    c = (void *)(buf + sizeof(hdr) +
                 2 * sizeof(struct amdkfd_mc_topology_node));
    l = (void *)(c + nc);
    for (i = 0; i < nc; i++) {
        g_assert_cmpuint(le32_to_cpu(c[i].node), <, 2);
        g_assert_cmpuint(le32_to_cpu(c[i].line_size), ==, 64);
        if (le32_to_cpu(c[i].level) == 2) {
            g_assert_cmpuint(le32_to_cpu(c[i].size_kib), ==, 8192);
            l2++;
        } else {
            g_assert_cmpuint(le32_to_cpu(c[i].level), ==, 1);
            l1++;
        }
        g_assert_cmpuint(le32_to_cpu(c[i].sibling_bits), ==, 60);
    }
    g_assert_cmpuint(l2, ==, 8);
    g_assert_cmpuint(l1, ==, 200);
    /* the first TCP is CU 0's alone */
    g_assert_cmphex(c[0].sibling_map[0], ==, 1);
    for (i = 0; i < nl; i++) {
        g_assert_cmpuint(le32_to_cpu(l[i].node_from), ==, i);
        g_assert_cmphex(le32_to_cpu(l[i].node_to), ==, AMDKFD_MC_TOPO_CPU);
        g_assert_cmpuint(le32_to_cpu(l[i].type), ==, 2);
        /* no NO_ATOMICS flags: platform atomics */
        g_assert_cmphex(le32_to_cpu(l[i].flags) & 0xc, ==, 0);
    }
    akmc_stop(d);
}

static uint32_t drm_info(AkmcDev *d, uint64_t node, uint64_t query,
                         uint32_t len, struct amdkfd_mc_cpl *cpl)
{
    struct amdkfd_mc_cmd cmd = {
        .opcode = AMDKFD_MC_OP_QUERY_DRM_INFO,
        .payload_addr = d->payload,
        .payload_len = len,
        .arg1 = node,
        .arg2 = query,
    };

    return akmc_exec(d, &cmd, cpl);
}

/*
 * What the guest's render node answers libdrm_amdgpu with (the device
 * info gives rocminfo its marketing name): on sim, an MI50's
 */
static void test_drm_info(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    struct amdkfd_mc_cpl cpl;
    uint32_t w[8];
    uint64_t vram[3];

    g_assert_cmpuint(drm_info(d, 0, AMDKFD_MC_DRM_INFO_DEV_INFO, 32, &cpl),
                     ==, AMDKFD_MC_S_OK);
    /* the whole answer's size, a prefix of it written */
    g_assert_cmpuint(cpl.value, >, 32);
    qtest_memread(d->qts, d->payload, w, sizeof(w));
    g_assert_cmphex(le32_to_cpu(w[0]), ==, 0x66a1);      /* device_id */
    g_assert_cmpuint(le32_to_cpu(w[4]), ==, 141);       /* AMDGPU_FAMILY_AI */
    g_assert_cmpuint(le32_to_cpu(w[5]), ==, 4);         /* shader engines */
    g_assert_cmpuint(drm_info(d, 0, AMDKFD_MC_DRM_INFO_VRAM_GTT, 24, &cpl),
                     ==, AMDKFD_MC_S_OK);
    g_assert_cmpuint(cpl.value, ==, 24);
    qtest_memread(d->qts, d->payload, vram, sizeof(vram));
    g_assert_cmpuint(le64_to_cpu(vram[0]), ==, 512 * MiB);
    g_assert_cmpuint(drm_info(d, 0, AMDKFD_MC_DRM_INFO_MEMORY, 128, &cpl),
                     ==, AMDKFD_MC_S_OK);
    /* other queries, other nodes */
    g_assert_cmpuint(drm_info(d, 0, 0x0d, 64, &cpl), ==,
                     AMDKFD_MC_S_NOT_SUPPORTED);
    g_assert_cmpuint(drm_info(d, 1, AMDKFD_MC_DRM_INFO_DEV_INFO, 64, &cpl),
                     ==, AMDKFD_MC_S_INVALID_ARGUMENT);
    g_assert_cmpuint(drm_info(d, UINT64_MAX, AMDKFD_MC_DRM_INFO_DEV_INFO, 64,
                              &cpl), ==, AMDKFD_MC_S_INVALID_ARGUMENT);
    akmc_stop(d);
}

static void test_msix(void)
{
    AkmcDev *d = akmc_start(NULL);
    struct amdkfd_mc_device_info info;

    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    g_assert_false(qpci_msix_pending(d->pdev, AMDKFD_MC_MSIX_VEC_CQ));
    g_assert_cmpuint(akmc_device_info(d, &info), ==, AMDKFD_MC_S_OK);
    /* The vector is masked, so the completion left it pending */
    g_assert_true(qpci_msix_pending(d->pdev, AMDKFD_MC_MSIX_VEC_CQ));
    g_assert_cmphex(akmc_readl(d, AMDKFD_MC_REG_IRQ_STATUS), ==,
                    AMDKFD_MC_IRQ_CQ);
    akmc_writel(d, AMDKFD_MC_REG_IRQ_STATUS, AMDKFD_MC_IRQ_CQ);
    g_assert_cmphex(akmc_readl(d, AMDKFD_MC_REG_IRQ_STATUS), ==, 0);
    akmc_stop(d);
}

/* The ring wraps and the phase bit flips, many times over */
static void test_ring_wrap(void)
{
    AkmcDev *d = akmc_start(NULL);
    int i;

    g_assert_cmphex(akmc_ring_setup(d, 4), ==, AMDKFD_MC_STATUS_READY);
    for (i = 0; i < 37; i++) {
        akmc_assert_alive(d);
    }
    akmc_stop(d);
}

static void test_reset_control(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    uint32_t id[4];

    akmc_create_some(d, id, ARRAY_SIZE(id));
    akmc_writel(d, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_RESET);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, 0);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_RING_ENTRIES), ==, 0);

    /* After a reset the old ids name nothing */
    g_assert_cmphex(akmc_ring_setup(d, AKMC_DEFAULT_ENTRIES), ==,
                    AMDKFD_MC_STATUS_READY);
    g_assert_cmpuint(akmc_ctx_destroy(d, id[0]), ==,
                     AMDKFD_MC_S_INVALID_CONTEXT);
    akmc_stop(d);
}

static void test_reset_system(void)
{
    AkmcDev *d = akmc_start_ready(NULL);
    uint32_t id[4];

    akmc_create_some(d, id, ARRAY_SIZE(id));
    qtest_system_reset(d->qts);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_LIVE_CONTEXTS), ==, 0);
    g_assert_cmpuint(akmc_readl(d, AMDKFD_MC_REG_STATUS), ==, 0);
    akmc_stop(d);
}

static void test_migration_blocked(void)
{
    AkmcDev *d = akmc_start(NULL);
    QDict *rsp;
    const char *desc;

    rsp = qtest_qmp(d->qts, "{ 'execute': 'migrate',"
                    "  'arguments': { 'uri': 'exec:cat > /dev/null' } }");
    g_assert_true(qdict_haskey(rsp, "error"));
    desc = qdict_get_str(qdict_get_qdict(rsp, "error"), "desc");
    g_assert_nonnull(strstr(desc, "cannot be migrated"));
    qobject_unref(rsp);
    akmc_stop(d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/amdkfd-mc/probe", test_probe);
    qtest_add_func("/amdkfd-mc/device-info", test_device_info);
    qtest_add_func("/amdkfd-mc/contexts/distinct", test_contexts_distinct);
    qtest_add_func("/amdkfd-mc/contexts/legacy-shared",
                   test_contexts_legacy_shared);
    qtest_add_func("/amdkfd-mc/contexts/recreate", test_contexts_recreate);
    qtest_add_func("/amdkfd-mc/ioctl/get-version", test_ioctl_get_version);
    qtest_add_func("/amdkfd-mc/ioctl/sizes", test_ioctl_sizes);
    qtest_add_func("/amdkfd-mc/ioctl/tile-config", test_ioctl_tile_config);
    qtest_add_func("/amdkfd-mc/topology/caches-links",
                   test_topology_caches_links);
    qtest_add_func("/amdkfd-mc/topology/drm-info", test_drm_info);
    qtest_add_func("/amdkfd-mc/ring/msix", test_msix);
    qtest_add_func("/amdkfd-mc/ring/wrap", test_ring_wrap);
    qtest_add_func("/amdkfd-mc/reset/control", test_reset_control);
    qtest_add_func("/amdkfd-mc/reset/system", test_reset_system);
    qtest_add_func("/amdkfd-mc/migration-blocked", test_migration_blocked);
    amdkfd_mc_add_isolation_tests();
    amdkfd_mc_add_bad_input_tests();
    amdkfd_mc_add_lifecycle_tests();
    amdkfd_mc_add_hardening_tests();
    amdkfd_mc_add_limits_tests();
    amdkfd_mc_add_guest_memory_tests();
    amdkfd_mc_add_formats_tests();
    amdkfd_mc_add_workers_tests();
    return g_test_run();
}
