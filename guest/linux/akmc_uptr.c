// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * amdkfd-mc guest driver: USERPTR memory, a program's own pages for the GPU
 *
 * libhsakmt allocates paged system memory, and registers user memory, as
 * ALLOC_MEMORY_OF_GPU with KFD_IOC_ALLOC_MEM_FLAGS_USERPTR (mmap_offset is
 * the user address).  The host refuses USERPTR on a secondary context, so
 * the device offers OP_ALLOC_GUEST_MEMORY instead: a memory object of the
 * context made of guest-physical ranges.  Here the program's pages are
 * pinned long-term, DMA-mapped (bus addresses are then right with or
 * without an IOMMU), coalesced into ranges and sent; an allocation larger
 * than one device object may be (OP_DEVICE_INFO's guest_obj_max_ranges
 * and guest_obj_max_bytes) becomes several objects at consecutive GPU
 * addresses, which the program sees as one KFD handle (the first
 * object's): FREE, MAP and UNMAP of that handle go to every object, and
 * the other objects' handles are refused.
 *
 * When pages are unpinned: only once the device can no longer reach them:
 * when the FREE of every object of the allocation has completed, when
 * the context's OP_DESTROY_CONTEXT has completed (the device completes it
 * after the host context is closed), or, at device removal, after the
 * contexts holding pinned pages were destroyed that way.  When what
 * became of a command is unknown (a fatal signal or a timeout abandoned
 * it, the device was reset while it ran), the pages stay pinned until the
 * context's destruction has completed, and if the device never confirms
 * it, for good (counted in debugfs "live" as leaked).
 *
 * Unlike the KFD's USERPTR, which follows the program's address space
 * with an MMU notifier, an object is the pages pinned when it was made:
 * they stay pinned, and the GPU keeps using them, even if the program
 * unmaps or remaps the range, until the object is freed.  Only private
 * writable mappings can be registered (pages that no other program can
 * map); see README.md for the errors and the bounds.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 */

#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/scatterlist.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/kfd_ioctl.h>

#include "akmc.h"

/* Device handles are xarray indexes */
static_assert(sizeof(unsigned long) >= sizeof(u64));

/* Pages pinned under one hold of mmap_lock */
#define AKMC_PIN_BATCH		512UL
/* GPUs one MAP/UNMAP names at most (as akmc_ioctl.c) */
#define AKMC_UPTR_MAX_DEVICES	64

atomic_long_t akmc_pinned_pages;
atomic_long_t akmc_leaked_pages;

enum akmc_uptr_state {
	AKMC_UPTR_ALLOCATING,	/* its device objects are being made */
	AKMC_UPTR_LIVE,		/* the program's handle works */
	AKMC_UPTR_STUCK,	/* a command's outcome is unknown */
	AKMC_UPTR_RELEASED,	/* unpinned (or given up), off the file */
};

/* One USERPTR allocation of a program: its pinned pages and objects */
struct akmc_uptr {
	struct list_head node;		/* kf->uptrs, under uptr_lock */
	struct kref kref;		/* the list's and each ioctl's */
	struct mutex op_lock;		/* one MAP, UNMAP or FREE at a time */
	enum akmc_uptr_state state;	/* under uptr_lock */
	unsigned long npages;
	struct page **pages;
	struct sg_table sgt;
	/*
	 * Device objects: handles[0 .. nlive) exist (made in order, freed
	 * last to first, so the first, the program's handle, goes last).
	 * Under uptr_lock.
	 */
	u32 nlive;
	u32 nchunks;
	u64 handles[] __counted_by(nchunks);
};

/* The ranges of the device objects of one allocation */
struct akmc_plan {
	u32 max_ranges;
	u64 max_bytes;
	u32 nchunks;
	u32 nranges;
	u32 cur_n;
	u64 cur_bytes;
	u32 *first;			/* nchunks + 1 entries, when filling */
	struct amdkfd_mc_guest_range *r; /* nranges entries, when filling */
};

static bool akmc_is_req(unsigned int cmd, unsigned int uapi)
{
	return _IOC_TYPE(cmd) == _IOC_TYPE(uapi) &&
	       _IOC_NR(cmd) == _IOC_NR(uapi) && _IOC_DIR(cmd) == _IOC_DIR(uapi);
}

bool akmc_uptr_handles(unsigned int cmd)
{
	return akmc_is_req(cmd, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU) ||
	       akmc_is_req(cmd, AMDKFD_IOC_FREE_MEMORY_OF_GPU) ||
	       akmc_is_req(cmd, AMDKFD_IOC_MAP_MEMORY_TO_GPU) ||
	       akmc_is_req(cmd, AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU);
}

void akmc_uptr_file_init(struct akmc_file *kf)
{
	mutex_init(&kf->uptr_lock);
	INIT_LIST_HEAD(&kf->uptrs);
	xa_init(&kf->uptr_xa);
}

bool akmc_uptr_any(struct akmc_file *kf)
{
	bool any;

	mutex_lock(&kf->uptr_lock);
	any = !list_empty(&kf->uptrs);
	mutex_unlock(&kf->uptr_lock);
	return any;
}

/* ---- pinning and its accounting ---- */

/* A limit in pages: @mb MiB, or @num/@den of the guest's RAM when 0 */
static unsigned long akmc_pin_limit(unsigned int mb, unsigned long num,
				    unsigned long den)
{
	if (mb)
		return (unsigned long)mb << (20 - PAGE_SHIFT);
	return totalram_pages() / den * num;
}

static int akmc_pin_reserve(struct akmc_proc *proc, unsigned long n)
{
	unsigned long all = akmc_pin_limit(READ_ONCE(akmc_max_pinned_mb), 3, 4);
	unsigned long one =
		akmc_pin_limit(READ_ONCE(akmc_max_pinned_mb_per_process), 1, 2);

	if (n > one || n > all)
		return -ENOMEM;
	if (atomic_long_add_return(n, &proc->pinned) > one)
		goto undo_proc;
	if (atomic_long_add_return(n, &akmc_pinned_pages) > all)
		goto undo_all;
	return 0;

undo_all:
	atomic_long_sub(n, &akmc_pinned_pages);
undo_proc:
	atomic_long_sub(n, &proc->pinned);
	return -ENOMEM;
}

static void akmc_pin_unreserve(struct akmc_proc *proc, unsigned long n)
{
	atomic_long_sub(n, &akmc_pinned_pages);
	atomic_long_sub(n, &proc->pinned);
}

/*
 * Only the caller's own pages: private, writable, ordinary memory.  A
 * shared mapping's pages may be mapped by another program too, so it is
 * refused (-EPERM, as amdgpu refuses non-anonymous memory for its
 * anonymous-only userptrs); a read-only one is -EPERM as well (the KFD's
 * USERPTR always asks for write access, and HMM answers -EPERM);
 * unmapped addresses and device mappings are -EFAULT.  mmap_lock held.
 */
static int akmc_uptr_check_vmas(struct mm_struct *mm, unsigned long start,
				unsigned long end)
{
	struct vm_area_struct *vma;
	unsigned long addr = start;

	while (addr < end) {
		vma = vma_lookup(mm, addr);
		if (!vma || (vma->vm_flags & (VM_IO | VM_PFNMAP)))
			return -EFAULT;
		if (vma->vm_flags & VM_MAYSHARE)
			return -EPERM;
		if (!(vma->vm_flags & VM_WRITE))
			return -EPERM;
		addr = vma->vm_end;
	}
	return 0;
}

/*
 * Pins @n pages at @start of the calling process for long-term device
 * access.  The mappings are checked under the same hold of mmap_lock that
 * pins their pages, so what is pinned is what was checked; the write
 * access breaks copy-on-write sharing, so every page is the caller's
 * alone.  A fatal signal ends it between batches.
 */
static int akmc_uptr_pin(unsigned long start, unsigned long n,
			 struct page **pages)
{
	struct mm_struct *mm = current->mm;
	unsigned long done = 0;
	long got;
	int ret = 0;

	while (done < n) {
		unsigned long addr = start + (done << PAGE_SHIFT);
		unsigned long batch = min(n - done, AKMC_PIN_BATCH);

		if (fatal_signal_pending(current) ||
		    mmap_read_lock_killable(mm)) {
			ret = -EINTR;
			break;
		}
		got = akmc_uptr_check_vmas(mm, addr,
					   addr + (batch << PAGE_SHIFT));
		if (!got)
			got = akmc_pin_user_pages(addr, batch,
						  FOLL_WRITE | FOLL_LONGTERM,
						  pages + done);
		mmap_read_unlock(mm);
		if (got <= 0) {
			ret = got ? got : -EFAULT;
			break;
		}
		done += got;
		cond_resched();
	}
	if (ret)
		unpin_user_pages(pages, done);
	return ret;
}

/* Unpins @g's pages and drops their accounting; the device is done */
static void akmc_uptr_unpin(struct akmc_file *kf, struct akmc_uptr *g)
{
	dma_unmap_sgtable(&kf->dev->pdev->dev, &g->sgt, DMA_BIDIRECTIONAL, 0);
	sg_free_table(&g->sgt);
	/* The GPU may have written any of them */
	unpin_user_pages_dirty_lock(g->pages, g->npages, true);
	atomic64_sub(g->npages, &kf->mm->pinned_vm);
	akmc_pin_unreserve(kf->proc, g->npages);
	kvfree(g->pages);
	g->pages = NULL;
}

static void akmc_uptr_free(struct kref *kref)
{
	struct akmc_uptr *g = container_of(kref, struct akmc_uptr, kref);

	WARN_ON_ONCE(g->pages);
	kfree(g);
	atomic_dec(&akmc_live[AKMC_LIVE_UPTRS]);
}

static void akmc_uptr_put(struct akmc_uptr *g)
{
	kref_put(&g->kref, akmc_uptr_free);
}

/*
 * Takes @g off its file (uptr_lock held): unpinned when @gone (no device
 * object of it exists any more), else given up for lost, pinned and
 * mapped for good, since the device may still use the pages.
 */
static void akmc_uptr_drop_locked(struct akmc_file *kf, struct akmc_uptr *g,
				  bool gone)
{
	u32 i;

	lockdep_assert_held(&kf->uptr_lock);
	for (i = 0; i < g->nlive; i++)
		xa_erase(&kf->uptr_xa, g->handles[i]);
	g->nlive = 0;
	list_del(&g->node);
	g->state = AKMC_UPTR_RELEASED;
	if (gone) {
		akmc_uptr_unpin(kf, g);
	} else {
		atomic_long_add(g->npages, &akmc_leaked_pages);
		dev_err_ratelimited(&kf->dev->pdev->dev,
				    "ctx %#x: %lu USERPTR pages stay pinned: the device never confirmed that it stopped using them\n",
				    kf->ctx_id, g->npages);
		/* The pins and the DMA mapping stay; only the record goes */
		sg_free_table(&g->sgt);
		kvfree(g->pages);
		g->pages = NULL;
	}
	akmc_uptr_put(g);
}

static void akmc_uptr_end_all(struct akmc_file *kf, bool gone)
{
	struct akmc_uptr *g, *tmp;

	mutex_lock(&kf->uptr_lock);
	kf->uptr_dead = true;
	list_for_each_entry_safe(g, tmp, &kf->uptrs, node)
		akmc_uptr_drop_locked(kf, g, gone);
	mutex_unlock(&kf->uptr_lock);
}

/* The context's OP_DESTROY_CONTEXT completed: no object of it is left */
void akmc_uptr_context_gone(struct akmc_file *kf)
{
	akmc_uptr_end_all(kf, true);
}

/* The context ended without the device saying that its DMA stopped */
void akmc_uptr_context_lost(struct akmc_file *kf)
{
	akmc_uptr_end_all(kf, false);
}

/* Device removal: no page is pinned and mapped for the device after this */
void akmc_uptr_close(struct akmc_dev *dev)
{
	down_write(&dev->uptr_rwsem);
	dev->uptr_gone = true;
	up_write(&dev->uptr_rwsem);
}

/* ---- the device objects of an allocation ---- */

static void akmc_plan_close(struct akmc_plan *p)
{
	p->nchunks++;
	if (p->first)
		p->first[p->nchunks] = p->nranges;
	p->cur_n = 0;
	p->cur_bytes = 0;
}

/* Appends [@addr, @addr + @len) to the chunks, opening new ones as needed */
static void akmc_plan_emit(struct akmc_plan *p, u64 addr, u64 len)
{
	while (len) {
		u64 take;

		if (p->cur_n == p->max_ranges || p->cur_bytes == p->max_bytes)
			akmc_plan_close(p);
		take = min(len, p->max_bytes - p->cur_bytes);
		if (p->r) {
			p->r[p->nranges].gpa = cpu_to_le64(addr);
			p->r[p->nranges].len = cpu_to_le64(take);
		}
		p->nranges++;
		p->cur_n++;
		p->cur_bytes += take;
		addr += take;
		len -= take;
	}
}

/*
 * Walks the DMA segments of @sgt (@twice for AQL queue memory, which the
 * KFD maps twice in a row), coalescing contiguous ones, and cuts them into
 * chunks of at most max_ranges ranges and max_bytes bytes.  Counts only
 * unless p->first and p->r are set.
 */
static void akmc_plan_walk(struct akmc_plan *p, struct sg_table *sgt,
			   bool twice)
{
	struct scatterlist *sg;
	u64 addr = 0, len = 0;
	int pass, i;

	p->nchunks = 0;
	p->nranges = 0;
	p->cur_n = 0;
	p->cur_bytes = 0;
	if (p->first)
		p->first[0] = 0;
	for (pass = 0; pass < (twice ? 2 : 1); pass++) {
		for_each_sgtable_dma_sg(sgt, sg, i) {
			u64 a = sg_dma_address(sg), l = sg_dma_len(sg);

			if (len && addr + len == a) {
				len += l;
				continue;
			}
			if (len)
				akmc_plan_emit(p, addr, len);
			addr = a;
			len = l;
		}
	}
	if (len)
		akmc_plan_emit(p, addr, len);
	akmc_plan_close(p);
}

/* Every segment must be page aligned and reach the very pages (no bounce) */
static int akmc_uptr_check_dma(struct device *d, struct sg_table *sgt)
{
	struct scatterlist *sg;
	int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (!PAGE_ALIGNED(sg_dma_address(sg)) ||
		    !PAGE_ALIGNED(sg_dma_len(sg)))
			return -EIO;
		if (dma_need_sync(d, sg_dma_address(sg))) {
			dev_warn_ratelimited(d, "USERPTR memory needs DMA without bounce buffers\n");
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* Frees @g's objects last to first; true when none is left */
static bool akmc_uptr_free_objects(struct akmc_file *kf, struct akmc_uptr *g,
				   int *err)
{
	struct kfd_ioctl_free_memory_of_gpu_args a;
	enum akmc_outcome how;
	int ret;

	*err = 0;
	for (;;) {
		mutex_lock(&kf->uptr_lock);
		if (g->state == AKMC_UPTR_RELEASED || !g->nlive) {
			mutex_unlock(&kf->uptr_lock);
			return true;
		}
		a.handle = g->handles[g->nlive - 1];
		mutex_unlock(&kf->uptr_lock);

		ret = akmc_kfd_call(kf, AMDKFD_IOC_FREE_MEMORY_OF_GPU, &a,
				    sizeof(a), NULL, 0, &how);
		mutex_lock(&kf->uptr_lock);
		if (how == AKMC_RAN && !ret) {
			if (g->state != AKMC_UPTR_RELEASED) {
				xa_erase(&kf->uptr_xa, a.handle);
				g->nlive--;
			}
			mutex_unlock(&kf->uptr_lock);
			continue;
		}
		if (how == AKMC_UNKNOWN && g->state != AKMC_UPTR_RELEASED)
			g->state = AKMC_UPTR_STUCK;
		mutex_unlock(&kf->uptr_lock);
		*err = ret;
		return false;
	}
}

/*
 * Ends a FREE (or a failed allocation) of @g: with no device object left
 * the pages are unpinned; a FREE that failed leaves the handle working.
 */
static void akmc_uptr_settle(struct akmc_file *kf, struct akmc_uptr *g,
			     bool none_left, enum akmc_uptr_state otherwise)
{
	mutex_lock(&kf->uptr_lock);
	if (g->state != AKMC_UPTR_RELEASED) {
		if (none_left)
			akmc_uptr_drop_locked(kf, g, true);
		else if (g->state != AKMC_UPTR_STUCK)
			g->state = otherwise;
	}
	mutex_unlock(&kf->uptr_lock);
}

/* Sends the OP_ALLOC_GUEST_MEMORY of chunk @c; its handle in *handle */
static int akmc_uptr_alloc_chunk(struct akmc_file *kf, const struct akmc_plan *p,
				 u32 c, u64 va, u32 gpu_id, u32 flags,
				 u64 *handle, enum akmc_outcome *how)
{
	u32 n = p->first[c + 1] - p->first[c];
	struct amdkfd_mc_cmd cmd = {
		.opcode = AMDKFD_MC_OP_ALLOC_GUEST_MEMORY, .ctx_id = kf->ctx_id,
	};
	struct amdkfd_mc_guest_memory *hdr;
	const struct amdkfd_mc_cpl *cpl;
	struct akmc_req *req;
	u64 bytes = 0;
	u32 i;
	int ret;

	*how = AKMC_REFUSED;
	req = akmc_req_new(kf->dev, sizeof(*hdr) + n * sizeof(p->r[0]));
	if (!req)
		return -ENOMEM;
	hdr = akmc_req_payload(req);
	memcpy(hdr + 1, &p->r[p->first[c]], n * sizeof(p->r[0]));
	for (i = p->first[c]; i < p->first[c + 1]; i++)
		bytes += le64_to_cpu(p->r[i].len);
	hdr->va_addr = cpu_to_le64(va);
	hdr->size = cpu_to_le64(bytes);
	hdr->gpu_id = cpu_to_le32(gpu_id);
	hdr->kfd_flags = cpu_to_le32(flags);
	hdr->num_ranges = cpu_to_le32(n);

	ret = akmc_req_run(req, kf->proc, &cmd, AKMC_RUN_KILLABLE);
	*how = akmc_req_outcome(req, ret);
	if (ret)
		goto out;
	cpl = akmc_req_cpl(req);
	if (cpl->status == AMDKFD_MC_S_OK && !cpl->result) {
		*handle = cpl->value;
		if (!*handle || le64_to_cpu(hdr->handle) != *handle) {
			/* an object may exist, but which? */
			*how = AKMC_UNKNOWN;
			ret = -EIO;
		}
		goto out;
	}
	if (cpl->status == AMDKFD_MC_S_OK) {
		/* the backend failed: the device made nothing */
		*how = AKMC_REFUSED;
		ret = cpl->result < 0 && cpl->result >= -MAX_ERRNO ?
		      cpl->result : -EIO;
		goto out;
	}
	switch (cpl->status) {
	case AMDKFD_MC_S_NO_RESOURCES:
		ret = -ENOMEM;		/* a memory limit, as the KFD's */
		break;
	case AMDKFD_MC_S_NOT_SUPPORTED:
		ret = -EOPNOTSUPP;	/* guest RAM the host cannot share */
		break;
	default:
		ret = akmc_status_errno(cpl);
		break;
	}
out:
	akmc_req_put(req);
	return ret;
}

/* Sends every chunk of @plan; the pages of @g go with the last object */
static int akmc_uptr_alloc_chunks(struct akmc_file *kf, struct akmc_uptr *g,
				  const struct akmc_plan *plan,
				  struct kfd_ioctl_alloc_memory_of_gpu_args *a)
{
	enum akmc_outcome how;
	u64 off = 0;
	int ret = 0, err;
	u32 c, i;

	for (c = 0; c < plan->nchunks; c++) {
		u64 handle = 0;

		ret = akmc_uptr_alloc_chunk(kf, plan, c, a->va_addr + off,
					    a->gpu_id, a->flags, &handle, &how);
		if (ret && how == AKMC_UNKNOWN) {
			/* its pages stay until the context is gone */
			akmc_uptr_settle(kf, g, false, AKMC_UPTR_STUCK);
			return ret;
		}
		if (ret)
			break;
		mutex_lock(&kf->uptr_lock);
		if (g->state == AKMC_UPTR_RELEASED) {
			/* the context was destroyed meanwhile */
			mutex_unlock(&kf->uptr_lock);
			return -ENODEV;
		}
		err = xa_insert(&kf->uptr_xa, handle, g, GFP_KERNEL);
		if (err) {
			/* a handle that is already ours: trust nothing */
			g->state = AKMC_UPTR_STUCK;
			mutex_unlock(&kf->uptr_lock);
			return -EIO;
		}
		g->handles[c] = handle;
		g->nlive = c + 1;
		mutex_unlock(&kf->uptr_lock);
		for (i = plan->first[c]; i < plan->first[c + 1]; i++)
			off += le64_to_cpu(plan->r[i].len);
	}
	if (ret) {
		/* undo the objects made so far, then unpin */
		akmc_uptr_settle(kf, g, akmc_uptr_free_objects(kf, g, &err),
				 AKMC_UPTR_STUCK);
		return ret;
	}
	mutex_lock(&kf->uptr_lock);
	if (g->state == AKMC_UPTR_RELEASED) {
		ret = -ENODEV;
	} else {
		g->state = AKMC_UPTR_LIVE;
		a->handle = g->handles[0];
		/* not mappable: the program reaches its pages directly */
		a->mmap_offset = 0;
	}
	mutex_unlock(&kf->uptr_lock);
	return ret;
}

static int akmc_uptr_alloc(struct akmc_file *kf,
			   struct kfd_ioctl_alloc_memory_of_gpu_args *a)
{
	struct akmc_dev *dev = kf->dev;
	struct device *d = &dev->pdev->dev;
	bool aql = a->flags & KFD_IOC_ALLOC_MEM_FLAGS_AQL_QUEUE_MEM;
	u32 max_ranges = le32_to_cpu(dev->info.guest_obj_max_ranges);
	u64 max_bytes = le64_to_cpu(dev->info.guest_obj_max_bytes);
	unsigned long uaddr = untagged_addr(a->mmap_offset);
	struct akmc_plan plan = {};
	struct akmc_uptr *g;
	struct sg_table sgt;
	unsigned long n, len;
	struct page **pages;
	u64 bytes, gpu_len;
	bool registered = false;
	int ret;

	/* What the KFD answers where it cannot do USERPTR (a secondary) */
	if (!(le32_to_cpu(dev->info.features) &
	      AMDKFD_MC_FEATURE_GUEST_MEMORY) ||
	    !READ_ONCE(akmc_userptr) || !max_ranges || max_bytes < PAGE_SIZE)
		return -EOPNOTSUPP;
	/* As the KFD: a size and a user address are needed */
	bytes = aql ? a->size >> 1 : a->size;
	if (!bytes || !uaddr)
		return -EINVAL;
	/* libhsakmt passes page-aligned addresses; an object is whole pages */
	if (!PAGE_ALIGNED(uaddr) || bytes > ULONG_MAX - PAGE_SIZE)
		return -EINVAL;
	len = PAGE_ALIGN(bytes);
	gpu_len = aql ? 2 * (u64)len : len;
	if (uaddr + len < uaddr || a->va_addr + gpu_len < a->va_addr)
		return -EINVAL;
	if (!access_ok((void __user *)uaddr, len))
		return -EFAULT;
	n = len >> PAGE_SHIFT;
	plan.max_ranges = min_t(u32, max_ranges,
				(AMDKFD_MC_MAX_PAYLOAD -
				 sizeof(struct amdkfd_mc_guest_memory)) /
				sizeof(struct amdkfd_mc_guest_range));
	plan.max_bytes = round_down(max_bytes, PAGE_SIZE);

	ret = akmc_pin_reserve(kf->proc, n);
	if (ret)
		return ret;
	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	if (!pages) {
		ret = -ENOMEM;
		goto err_unreserve;
	}
	ret = akmc_uptr_pin(uaddr, n, pages);
	if (ret)
		goto err_pages;
	atomic64_add(n, &kf->mm->pinned_vm);
	ret = sg_alloc_table_from_pages_segment(&sgt, pages, n, 0, len,
						UINT_MAX & PAGE_MASK,
						GFP_KERNEL);
	if (ret)
		goto err_unpin;

	/*
	 * No page is mapped for a device that is going away, and one that is
	 * mapped is either on the file's list (removal finds it) or unmapped
	 * again before the lock is released.
	 */
	down_read(&dev->uptr_rwsem);
	if (dev->uptr_gone) {
		ret = -ENODEV;
		goto err_sgt;
	}
	ret = dma_map_sgtable(d, &sgt, DMA_BIDIRECTIONAL, 0);
	if (ret)
		goto err_sgt;
	ret = akmc_uptr_check_dma(d, &sgt);
	if (ret)
		goto err_dma;
	akmc_plan_walk(&plan, &sgt, aql);
	plan.first = kvmalloc_array(plan.nchunks + 1, sizeof(*plan.first),
				    GFP_KERNEL);
	plan.r = kvmalloc_array(plan.nranges, sizeof(*plan.r), GFP_KERNEL);
	g = kzalloc(struct_size(g, handles, plan.nchunks), GFP_KERNEL);
	if (!plan.first || !plan.r || !g) {
		kfree(g);
		ret = -ENOMEM;
		goto err_dma;
	}
	akmc_plan_walk(&plan, &sgt, aql);
	g->nchunks = plan.nchunks;
	g->npages = n;
	g->pages = pages;
	g->sgt = sgt;
	g->state = AKMC_UPTR_ALLOCATING;
	kref_init(&g->kref);
	mutex_init(&g->op_lock);
	atomic_inc(&akmc_live[AKMC_LIVE_UPTRS]);

	mutex_lock(&kf->uptr_lock);
	if (!kf->uptr_dead) {
		/* the list's reference; ours is the initial one */
		kref_get(&g->kref);
		list_add_tail(&g->node, &kf->uptrs);
		registered = true;
	}
	mutex_unlock(&kf->uptr_lock);
	if (!registered) {
		g->pages = NULL;
		akmc_uptr_put(g);
		ret = -ENODEV;
		goto err_dma;
	}
	up_read(&dev->uptr_rwsem);

	/*
	 * From here on the pages belong to the file's record: whoever ends
	 * it (this, a FREE, the context's destruction) unpins them.
	 */
	ret = akmc_uptr_alloc_chunks(kf, g, &plan, a);
	akmc_uptr_put(g);
	kvfree(plan.first);
	kvfree(plan.r);
	return ret;

err_dma:
	dma_unmap_sgtable(d, &sgt, DMA_BIDIRECTIONAL, 0);
err_sgt:
	up_read(&dev->uptr_rwsem);
	sg_free_table(&sgt);
err_unpin:
	atomic64_sub(n, &kf->mm->pinned_vm);
	unpin_user_pages(pages, n);
err_pages:
	kvfree(pages);
err_unreserve:
	akmc_pin_unreserve(kf->proc, n);
	kvfree(plan.first);
	kvfree(plan.r);
	return ret;
}

/* debugfs uptrs: one line per allocation of @kf (files_lock held) */
void akmc_uptr_show(struct seq_file *s, struct akmc_file *kf)
{
	static const char * const state[] = {
		"allocating", "live", "stuck", "released",
	};
	struct akmc_uptr *g;

	mutex_lock(&kf->uptr_lock);
	list_for_each_entry(g, &kf->uptrs, node)
		seq_printf(s, "pid=%d objects=%u handles=%llx,%llx ctx=%#x pages=%lu state=%s\n",
			   kf->tgid, g->nlive, g->nlive ? g->handles[0] : 0,
			   g->nlive > 1 ? g->handles[1] : 0, kf->ctx_id,
			   g->npages, state[g->state]);
	mutex_unlock(&kf->uptr_lock);
}

/* ---- FREE, MAP and UNMAP of a USERPTR handle ---- */

/*
 * The record that @handle names, referenced: NULL if the handle is not a
 * USERPTR object's, -EINVAL if it is not the program's handle of a live
 * allocation (another of its objects, or one being made or freed).
 */
static struct akmc_uptr *akmc_uptr_find(struct akmc_file *kf, u64 handle)
{
	struct akmc_uptr *g;

	mutex_lock(&kf->uptr_lock);
	g = xa_load(&kf->uptr_xa, handle);
	if (g) {
		if (g->state == AKMC_UPTR_LIVE && g->handles[0] == handle)
			kref_get(&g->kref);
		else
			g = ERR_PTR(-EINVAL);
	}
	mutex_unlock(&kf->uptr_lock);
	return g;
}

/* op_lock held: whether the handle still works */
static bool akmc_uptr_live(struct akmc_file *kf, struct akmc_uptr *g)
{
	bool live;

	mutex_lock(&kf->uptr_lock);
	live = g->state == AKMC_UPTR_LIVE;
	mutex_unlock(&kf->uptr_lock);
	return live;
}

static int akmc_uptr_free_handle(struct akmc_file *kf, struct akmc_uptr *g)
{
	bool none_left;
	int ret;

	if (mutex_lock_killable(&g->op_lock))
		return -EINTR;
	if (!akmc_uptr_live(kf, g)) {
		ret = -EINVAL;
		goto out;
	}
	none_left = akmc_uptr_free_objects(kf, g, &ret);
	akmc_uptr_settle(kf, g, none_left, AKMC_UPTR_LIVE);
out:
	mutex_unlock(&g->op_lock);
	return ret;
}

/* MAP or UNMAP every object of @g; n_success is the least of theirs */
static int akmc_uptr_map_handle(struct akmc_file *kf, struct akmc_uptr *g,
				unsigned int cmd,
				struct kfd_ioctl_map_memory_to_gpu_args *a)
{
	struct kfd_ioctl_map_memory_to_gpu_args one;
	u32 ids[AKMC_UPTR_MAX_DEVICES];
	u32 n_success = a->n_devices;
	enum akmc_outcome how;
	int ret = 0;
	u32 i;

	/* The KFD's checks, before anything is sent */
	if (!a->n_devices || a->n_success > a->n_devices)
		return -EINVAL;
	if (a->n_devices > AKMC_UPTR_MAX_DEVICES)
		return -EINVAL;
	if (copy_from_user(ids, u64_to_user_ptr(a->device_ids_array_ptr),
			   a->n_devices * sizeof(ids[0])))
		return -EFAULT;
	if (mutex_lock_killable(&g->op_lock))
		return -EINTR;
	for (i = 0; ; i++) {
		mutex_lock(&kf->uptr_lock);
		if (g->state != AKMC_UPTR_LIVE || i >= g->nlive) {
			if (g->state != AKMC_UPTR_LIVE)
				ret = -EINVAL;
			mutex_unlock(&kf->uptr_lock);
			break;
		}
		one = *a;
		one.handle = g->handles[i];
		mutex_unlock(&kf->uptr_lock);
		ret = akmc_kfd_call(kf, cmd, &one, sizeof(one), ids,
				    a->n_devices * sizeof(ids[0]), &how);
		n_success = min(n_success, one.n_success);
		if (ret)
			break;
	}
	a->n_success = n_success;
	mutex_unlock(&g->op_lock);
	return ret;
}

/*
 * ALLOC_MEMORY_OF_GPU with USERPTR, and FREE, MAP and UNMAP of a USERPTR
 * handle, from the argument akmc_ioctl() copied in (@karg, @size bytes:
 * read once, so what is decided here is what is forwarded otherwise);
 * *@handled is false for every other request, which akmc_ioctl() then
 * forwards as usual.
 */
long akmc_uptr_ioctl(struct akmc_file *kf, unsigned int cmd, const void *karg,
		     u32 size, void __user *uarg, bool *handled)
{
	union {
		struct kfd_ioctl_alloc_memory_of_gpu_args alloc;
		struct kfd_ioctl_free_memory_of_gpu_args free;
		struct kfd_ioctl_map_memory_to_gpu_args map;
	} a = {};
	struct akmc_uptr *g = NULL;
	u32 usize;
	long ret;

	*handled = false;
	if (akmc_is_req(cmd, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU))
		usize = sizeof(a.alloc);
	else if (akmc_is_req(cmd, AMDKFD_IOC_FREE_MEMORY_OF_GPU))
		usize = sizeof(a.free);
	else
		usize = sizeof(a.map);
	/* As the device takes it: a shorter argument is zero-extended */
	memcpy(&a, karg, min(size, usize));

	if (akmc_is_req(cmd, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU)) {
		if (!(a.alloc.flags & KFD_IOC_ALLOC_MEM_FLAGS_USERPTR))
			return 0;
	} else {
		/* the handle is the first field of all three */
		g = akmc_uptr_find(kf, a.free.handle);
		if (!g)
			return 0;
	}
	*handled = true;
	/* Another object of an allocation is no handle of the program's */
	if (IS_ERR(g))
		return akmc_is_req(cmd, AMDKFD_IOC_MAP_MEMORY_TO_GPU) ?
		       -ENOMEM : PTR_ERR(g);
	/* and a longer one must be zero past the uapi structure */
	if (size > usize && memchr_inv((const u8 *)karg + usize, 0,
				       size - usize)) {
		ret = -EINVAL;
		goto out;
	}

	if (akmc_is_req(cmd, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU))
		ret = akmc_uptr_alloc(kf, &a.alloc);
	else if (akmc_is_req(cmd, AMDKFD_IOC_FREE_MEMORY_OF_GPU))
		ret = akmc_uptr_free_handle(kf, g);
	else if (akmc_is_req(cmd, AMDKFD_IOC_MAP_MEMORY_TO_GPU))
		ret = akmc_uptr_map_handle(kf, g, AMDKFD_IOC_MAP_MEMORY_TO_GPU,
					   &a.map);
	else
		ret = akmc_uptr_map_handle(kf, g,
					   AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU,
					   &a.map);
	/* Copied back whatever the result, as the kernel does */
	if ((_IOC_DIR(cmd) & _IOC_READ) &&
	    copy_to_user(uarg, &a, min(size, usize)))
		ret = -EFAULT;
out:
	if (g)
		akmc_uptr_put(g);
	return ret;
}
