// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * amdkfd-mc guest driver: the KFD topology in sysfs
 *
 * /sys/class/kfd/kfd/topology/ as the KFD lays it out: generation_id,
 * system_properties and nodes/N/ with gpu_id, name, properties,
 * mem_banks/0/properties, caches/M/properties and io_links/M/properties
 * (in the formats of the KFD's kfd_topology.c).  Node 0 is the CPU, as on
 * real hardware; nodes 1.. are the GPUs of OP_QUERY_TOPOLOGY, with its
 * cache and io-link records.  The CPU node has no caches (as with the
 * KFD's virtual CRAT) and, like the KFD, the reverse of every
 * bidirectional GPU-to-CPU link.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 */

#include <linux/cpumask.h>
#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "akmc.h"

#define AKMC_TOPO_TEXT		2048

/* The KFD's (CRAT) io-link flag for a link the CPU also has */
#define AKMC_IOLINK_BI_DIRECTIONAL	BIT(31)

/*
 * A cache record carries the CRAT's cache flags; the KFD prints the HSA
 * cache type it derives from them (kfd_topology.c), which is what ROCr
 * filters on: it keeps only GPU caches that have the HSACU bit.
 */
#define AKMC_CRAT_CACHE_DATA	BIT(1)
#define AKMC_CRAT_CACHE_INST	BIT(2)
#define AKMC_CRAT_CACHE_CPU	BIT(3)
#define AKMC_CRAT_CACHE_SIMD	BIT(4)
#define AKMC_HSA_CACHE_DATA	BIT(0)
#define AKMC_HSA_CACHE_INST	BIT(1)
#define AKMC_HSA_CACHE_CPU	BIT(2)
#define AKMC_HSA_CACHE_HSACU	BIT(3)

/* HSA heap types of mem_banks/N/properties */
#define AKMC_HEAP_SYSTEM	0
#define AKMC_HEAP_FB_PUBLIC	1

struct akmc_topo_file {
	struct kobj_attribute attr;
	char *text;
};

struct akmc_topo {
	struct kobject **kobjs;
	int n_kobjs, max_kobjs;
	struct akmc_topo_file *files;
	int n_files, max_files;
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

	if (t->n_kobjs >= t->max_kobjs)
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
	if (t->n_files >= t->max_files) {
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
static char *akmc_node_props(const struct amdkfd_mc_topology_node *n,
			     u32 caches, u32 links, u32 render_minor)
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
	P("caches_count", caches);
	P("io_links_count", links);
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
	P("drm_render_minor", render_minor);
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

static u32 akmc_cache_type(u32 crat)
{
	return (crat & AKMC_CRAT_CACHE_DATA ? AKMC_HSA_CACHE_DATA : 0) |
	       (crat & AKMC_CRAT_CACHE_INST ? AKMC_HSA_CACHE_INST : 0) |
	       (crat & AKMC_CRAT_CACHE_CPU ? AKMC_HSA_CACHE_CPU : 0) |
	       (crat & AKMC_CRAT_CACHE_SIMD ? AKMC_HSA_CACHE_HSACU : 0);
}

/* caches/N/properties, as the KFD's kfd_cache_show() prints them */
static char *akmc_cache_props(const struct amdkfd_mc_topology_cache *c)
{
	u32 bits = round_up(le32_to_cpu(c->sibling_bits), 8), i;
	char *p = kzalloc(AKMC_TOPO_TEXT, GFP_KERNEL);
	int l;

	if (!p)
		return NULL;
	l = scnprintf(p, AKMC_TOPO_TEXT,
		      "processor_id_low %u\nlevel %u\nsize %u\ncache_line_size %u\ncache_lines_per_tag %u\nassociation %u\nlatency %u\ntype %u\nsibling_map ",
		      le32_to_cpu(c->processor_id_low), le32_to_cpu(c->level),
		      le32_to_cpu(c->size_kib), le32_to_cpu(c->line_size),
		      le32_to_cpu(c->lines_per_tag),
		      le32_to_cpu(c->associativity), le32_to_cpu(c->latency),
		      akmc_cache_type(le32_to_cpu(c->type)));
	for (i = 0; i < bits; i++)
		l += scnprintf(p + l, AKMC_TOPO_TEXT - l, "%d,",
			       (c->sibling_map[i / 8] >> (i % 8)) & 1);
	/* the last "," (or the space after an empty map) ends the line */
	p[l - 1] = '\n';
	return p;
}

/* io_links/N/properties, as the KFD's iolink_show() prints them */
static char *akmc_link_props(const struct amdkfd_mc_topology_link *k,
			     u32 from, u32 to)
{
	return kasprintf(GFP_KERNEL,
			 "type %u\nversion_major %u\nversion_minor %u\nnode_from %u\nnode_to %u\nweight %u\nmin_latency %u\nmax_latency %u\nmin_bandwidth %u\nmax_bandwidth %u\nrecommended_transfer_size %u\nrecommended_sdma_engine_id_mask %u\nflags %u\n",
			 le32_to_cpu(k->type), le32_to_cpu(k->version_major),
			 le32_to_cpu(k->version_minor), from, to,
			 le32_to_cpu(k->weight), le32_to_cpu(k->min_latency),
			 le32_to_cpu(k->max_latency),
			 le32_to_cpu(k->min_bandwidth),
			 le32_to_cpu(k->max_bandwidth),
			 le32_to_cpu(k->recommended_transfer_size), 0,
			 le32_to_cpu(k->flags));
}

/* A sysfs node number: the CPU is node 0, GPU record i is node i + 1 */
static u32 akmc_sysfs_node(u32 idx)
{
	return idx == AMDKFD_MC_TOPO_CPU ? 0 : idx + 1;
}

/* Whether link @k appears in the sysfs node @node (0: the CPU) */
static bool akmc_link_of(const struct amdkfd_mc_topology_link *k, u32 node)
{
	if (node)
		return akmc_sysfs_node(le32_to_cpu(k->node_from)) == node;
	/* the CPU's own: the reverse of bidirectional links to it */
	return le32_to_cpu(k->node_to) == AMDKFD_MC_TOPO_CPU &&
	       (le32_to_cpu(k->flags) & AKMC_IOLINK_BI_DIRECTIONAL);
}

/* One numbered directory with a properties file, under @parent */
static int akmc_topo_entry(struct akmc_topo *t, struct kobject *parent,
			   u32 index, char *text)
{
	struct kobject *k;
	char name[16];

	snprintf(name, sizeof(name), "%u", index);
	k = akmc_topo_dir(t, name, parent);
	if (!k) {
		kfree(text);
		return -ENOMEM;
	}
	return akmc_topo_file(t, k, "properties", text);
}

/* Node @node of sysfs; @n is its GPU record, NULL for the CPU */
static int akmc_topo_node(struct akmc_topo *t, struct akmc_dev *dev,
			  struct kobject *nodes, u32 node,
			  const struct amdkfd_mc_topology_node *n)
{
	struct kobject *k, *banks, *b0, *caches, *links;
	u32 i, nc = 0, nl = 0;
	char name[16];
	int ret;

	for (i = 0; n && i < dev->num_caches; i++)
		nc += akmc_sysfs_node(le32_to_cpu(dev->caches[i].node)) == node;
	for (i = 0; i < dev->num_links; i++)
		nl += akmc_link_of(&dev->links[i], node);
	snprintf(name, sizeof(name), "%u", node);
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
		ret = akmc_topo_file(t, k, "properties",
				     akmc_node_props(n, nc, nl,
						     n ? dev->render_minor[node - 1] :
						     0));
	if (ret)
		return ret;
	banks = akmc_topo_dir(t, "mem_banks", k);
	b0 = banks ? akmc_topo_dir(t, "0", banks) : NULL;
	caches = akmc_topo_dir(t, "caches", k);
	links = akmc_topo_dir(t, "io_links", k);
	if (!b0 || !caches || !links || !akmc_topo_dir(t, "p2p_links", k))
		return -ENOMEM;
	if (n)
		ret = akmc_topo_file(t, b0, "properties",
				     akmc_bank_props(AKMC_HEAP_FB_PUBLIC,
						     le64_to_cpu(n->vram_size)));
	else
		ret = akmc_topo_file(t, b0, "properties",
				     akmc_bank_props(AKMC_HEAP_SYSTEM,
						     (u64)totalram_pages() << PAGE_SHIFT));
	nc = 0;
	for (i = 0; !ret && n && i < dev->num_caches; i++)
		if (akmc_sysfs_node(le32_to_cpu(dev->caches[i].node)) == node)
			ret = akmc_topo_entry(t, caches, nc++,
					      akmc_cache_props(&dev->caches[i]));
	nl = 0;
	for (i = 0; !ret && i < dev->num_links; i++) {
		const struct amdkfd_mc_topology_link *l = &dev->links[i];
		u32 from = akmc_sysfs_node(le32_to_cpu(l->node_from));
		u32 to = akmc_sysfs_node(le32_to_cpu(l->node_to));

		if (!akmc_link_of(l, node))
			continue;
		ret = akmc_topo_entry(t, links, nl++,
				      node ? akmc_link_props(l, from, to) :
				      akmc_link_props(l, to, from));
	}
	return ret;
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
	/* per node 7 directories and 4 files; an entry is one of each */
	t->max_kobjs = 2 + (dev->num_nodes + 1) * 7 + dev->num_caches +
		       2 * dev->num_links;
	t->max_files = 2 + (dev->num_nodes + 1) * 4 + dev->num_caches +
		       2 * dev->num_links;
	t->kobjs = kcalloc(t->max_kobjs, sizeof(*t->kobjs), GFP_KERNEL);
	t->files = kcalloc(t->max_files, sizeof(*t->files), GFP_KERNEL);
	if (!t->kobjs || !t->files)
		goto nomem;
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
	ret = akmc_topo_node(t, dev, nodes, 0, NULL);
	for (i = 0; !ret && i < dev->num_nodes; i++)
		ret = akmc_topo_node(t, dev, nodes, i + 1, &dev->nodes[i]);
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
	kfree(t->kobjs);
	kfree(t->files);
	kfree(t);
	dev->topo = NULL;
}
