// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * amdkfd-mc guest driver: the KFD topology in sysfs
 *
 * /sys/class/kfd/kfd/topology/ as the KFD lays it out: generation_id,
 * system_properties and nodes/N/ with gpu_id, name, properties,
 * mem_banks/0/properties, caches/ and io_links/.  Node 0 is the CPU, as
 * on real hardware; nodes 1.. are the GPUs of OP_QUERY_TOPOLOGY.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 */

#include <linux/cpumask.h>
#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "akmc.h"

#define AKMC_TOPO_MAX_KOBJS	(2 + (AMDKFD_MC_MAX_NODES + 1) * 6)
#define AKMC_TOPO_MAX_FILES	(2 + (AMDKFD_MC_MAX_NODES + 1) * 4)
#define AKMC_TOPO_TEXT		2048

/* HSA heap types of mem_banks/N/properties */
#define AKMC_HEAP_SYSTEM	0
#define AKMC_HEAP_FB_PUBLIC	1

struct akmc_topo_file {
	struct kobj_attribute attr;
	char *text;
};

struct akmc_topo {
	struct kobject *kobjs[AKMC_TOPO_MAX_KOBJS];
	int n_kobjs;
	struct akmc_topo_file files[AKMC_TOPO_MAX_FILES];
	int n_files;
};

static ssize_t akmc_topo_show(struct kobject *kobj, struct kobj_attribute *a,
			      char *buf)
{
	struct akmc_topo_file *f = container_of(a, struct akmc_topo_file, attr);

	return sysfs_emit(buf, "%s\n", f->text);
}

static struct kobject *akmc_topo_dir(struct akmc_topo *t, const char *name,
				     struct kobject *parent)
{
	struct kobject *k;

	if (t->n_kobjs >= AKMC_TOPO_MAX_KOBJS)
		return NULL;
	k = kobject_create_and_add(name, parent);
	if (k)
		t->kobjs[t->n_kobjs++] = k;
	return k;
}

/* Takes ownership of @text (kmalloc'ed) */
static int akmc_topo_file(struct akmc_topo *t, struct kobject *dir,
			  const char *name, char *text)
{
	struct akmc_topo_file *f;
	int ret;

	if (!text)
		return -ENOMEM;
	if (t->n_files >= AKMC_TOPO_MAX_FILES) {
		kfree(text);
		return -ENOSPC;
	}
	/* Stored without the final newline that show() adds */
	strim(text);
	f = &t->files[t->n_files];
	sysfs_attr_init(&f->attr.attr);
	f->attr.attr.name = name;
	f->attr.attr.mode = 0444;
	f->attr.show = akmc_topo_show;
	f->text = text;
	ret = sysfs_create_file(dir, &f->attr.attr);
	if (ret) {
		kfree(text);
		f->text = NULL;
		return ret;
	}
	t->n_files++;
	return 0;
}

/* The node properties, in the KFD's order and names */
static char *akmc_node_props(const struct amdkfd_mc_topology_node *n)
{
	char *p = kzalloc(AKMC_TOPO_TEXT, GFP_KERNEL);
	u32 cu, simd, simd_per_cu;
	int l = 0;

	if (!p)
		return NULL;
	if (n) {
		cu = le32_to_cpu(n->cu_count);
		simd = le32_to_cpu(n->simd_count);
		simd_per_cu = le32_to_cpu(n->simd_per_cu);
	}
#define P(name, val) \
	(l += scnprintf(p + l, AKMC_TOPO_TEXT - l, "%s %llu\n", name, \
			(unsigned long long)(val)))
	P("cpu_cores_count", n ? 0 : num_online_cpus());
	P("simd_count", n ? simd : 0);
	P("mem_banks_count", 1);
	P("caches_count", 0);
	P("io_links_count", 0);
	P("p2p_links_count", 0);
	P("cpu_core_id_base", 0);
	P("simd_id_base", n ? 0x80000000 : 0);
	P("max_waves_per_simd", n ? le32_to_cpu(n->max_waves_per_simd) : 0);
	P("lds_size_in_kb", n ? le32_to_cpu(n->lds_size_kib) : 0);
	P("gds_size_in_kb", 0);
	P("num_gws", 0);
	P("wave_front_size", n ? 64 : 0);
	P("array_count", n ? 1 : 0);
	P("simd_arrays_per_engine", n ? 1 : 0);
	P("cu_per_simd_array", n ? cu : 0);
	P("simd_per_cu", n ? simd_per_cu : 0);
	P("max_slots_scratch_cu", n ? 32 : 0);
	P("gfx_target_version", n ? le32_to_cpu(n->gfx_target_version) : 0);
	P("vendor_id", n ? le32_to_cpu(n->vendor_id) : 0);
	P("device_id", n ? le32_to_cpu(n->device_id) : 0);
	P("location_id", n ? le32_to_cpu(n->location_id) : 0);
	P("domain", 0);
	P("drm_render_minor", n ? le32_to_cpu(n->drm_render_minor) : 0);
	P("hive_id", 0);
	P("num_sdma_engines", n ? le32_to_cpu(n->num_sdma_engines) : 0);
	P("num_sdma_xgmi_engines", 0);
	P("num_sdma_queues_per_engine", n ? 8 : 0);
	P("num_cp_queues", n ? 24 : 0);
	P("max_engine_clk_fcompute", n ? 1000 : 0);
	P("local_mem_size", 0);
	P("fw_version", 0);
	P("capability", 0);
	P("debug_prop", 0);
	P("sdma_fw_version", 0);
	P("unique_id", n ? le32_to_cpu(n->gpu_id) : 0);
	P("num_xcc", n ? 1 : 0);
	P("max_engine_clk_ccompute", 1000);
#undef P
	return p;
}

static char *akmc_bank_props(u32 heap, u64 size)
{
	return kasprintf(GFP_KERNEL,
			 "heap_type %u\nsize_in_bytes %llu\nflags 0\nwidth %u\nmem_clk_max %u\n",
			 heap, size, heap == AKMC_HEAP_SYSTEM ? 64 : 2048,
			 heap == AKMC_HEAP_SYSTEM ? 1600 : 1000);
}

static int akmc_topo_node(struct akmc_topo *t, struct kobject *nodes,
			  int idx, const struct amdkfd_mc_topology_node *n)
{
	struct kobject *k, *banks, *b0;
	char name[16];
	int ret;

	snprintf(name, sizeof(name), "%d", idx);
	k = akmc_topo_dir(t, name, nodes);
	if (!k)
		return -ENOMEM;
	ret = akmc_topo_file(t, k, "gpu_id",
			     kasprintf(GFP_KERNEL, "%u\n",
				       n ? le32_to_cpu(n->gpu_id) : 0));
	if (!ret)
		ret = akmc_topo_file(t, k, "name",
				     kasprintf(GFP_KERNEL, "%s\n",
					       n ? n->name : ""));
	if (!ret)
		ret = akmc_topo_file(t, k, "properties", akmc_node_props(n));
	if (ret)
		return ret;
	banks = akmc_topo_dir(t, "mem_banks", k);
	b0 = banks ? akmc_topo_dir(t, "0", banks) : NULL;
	if (!b0 || !akmc_topo_dir(t, "caches", k) ||
	    !akmc_topo_dir(t, "io_links", k) ||
	    !akmc_topo_dir(t, "p2p_links", k))
		return -ENOMEM;
	if (n)
		return akmc_topo_file(t, b0, "properties",
				      akmc_bank_props(AKMC_HEAP_FB_PUBLIC,
						      le64_to_cpu(n->vram_size)));
	return akmc_topo_file(t, b0, "properties",
			      akmc_bank_props(AKMC_HEAP_SYSTEM,
					      (u64)totalram_pages() << PAGE_SHIFT));
}

int akmc_topology_create(struct akmc_dev *dev)
{
	struct kobject *top, *nodes;
	struct akmc_topo *t;
	u32 i;
	int ret;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	dev->topo = t;
	top = akmc_topo_dir(t, "topology", &dev->kfd_dev->kobj);
	if (!top)
		goto nomem;
	ret = akmc_topo_file(t, top, "generation_id",
			     kasprintf(GFP_KERNEL, "1\n"));
	if (!ret)
		ret = akmc_topo_file(t, top, "system_properties",
				     kasprintf(GFP_KERNEL,
					       "platform_oem 0\nplatform_id 0\nplatform_rev 0\n"));
	if (ret)
		goto err;
	nodes = akmc_topo_dir(t, "nodes", top);
	if (!nodes)
		goto nomem;
	ret = akmc_topo_node(t, nodes, 0, NULL);
	for (i = 0; !ret && i < dev->num_nodes; i++)
		ret = akmc_topo_node(t, nodes, i + 1, &dev->nodes[i]);
	if (ret)
		goto err;
	return 0;

nomem:
	ret = -ENOMEM;
err:
	akmc_topology_destroy(dev);
	return ret;
}

void akmc_topology_destroy(struct akmc_dev *dev)
{
	struct akmc_topo *t = dev->topo;
	int i;

	if (!t)
		return;
	/* Children were created after their parents: remove them first */
	for (i = t->n_kobjs - 1; i >= 0; i--)
		kobject_put(t->kobjs[i]);
	for (i = 0; i < t->n_files; i++)
		kfree(t->files[i].text);
	kfree(t);
	dev->topo = NULL;
}
