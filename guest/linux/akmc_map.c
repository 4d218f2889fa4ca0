// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * amdkfd-mc guest driver: window mappings and their revocation
 *
 * mmap() of /dev/kfd (or of a render node, for the calling process's
 * newest /dev/kfd context) asks the device to place the host memory
 * behind a KFD mmap offset of the context into the window BAR
 * (OP_MAP_WINDOW), which answers with the window range and a map id that
 * is never reused.  The range belongs to the context until the driver
 * releases it with OP_UNMAP_WINDOW of that id, and the driver does so
 * only once no CPU page table entry can reach the range any more: when
 * the last VMA of the mapping is closed (its entries are gone by then).
 * A device context is destroyed only after its last mapping went (see
 * akmc.h); device removal resets the device, then revokes every mapping.
 *
 * Revocation: page table entries are made only by the fault handler,
 * under maps_lock, and only while the mapping is not revoked; revoking
 * marks the mapping and zaps its entries under the same lock.  Since a
 * VMA faults only once it is linked to its file, zapping by file range
 * always finds every entry, and no entry can appear after revocation.
 * A revoked mapping raises SIGBUS.  Zapping by file range may also hit
 * other mappings of the same file at the same offsets; those refault
 * their own pages.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 */

#include <linux/io.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "akmc.h"

/* The KFD's mmap offset encoding: bits 63:62 are the type */
#define AKMC_MMAP_TYPE(off)	((off) >> 62)
#define AKMC_MMAP_TYPE_DOORBELL	3
#define AKMC_MMAP_TYPE_MMIO	0

/* Page table entries the fault handler makes at once */
#define AKMC_FAULT_PAGES	512

/* One device mapping; on kf->maps under kf->maps_lock */
struct akmc_map {
	struct list_head node;
	struct akmc_file *kf;		/* referenced */
	struct address_space *mapping;	/* of the VMAs' file, for zapping */
	pgoff_t pgoff;
	unsigned long pages;
	u64 win;			/* window offset */
	u64 map_id;
	/* VMAs sharing it: mremap() copies a VMA before closing the old one */
	refcount_t vmas;
	bool revoked;			/* under maps_lock */
	bool render;			/* holds one of kf->ctx_users */
	bool wc;			/* write-combining memtype reserved */
};

/*
 * Revoke every mapping of @kf (maps_lock held): no access reaches their
 * window ranges any more, so the device may reuse the ranges once the
 * context is destroyed or the device reset.
 */
void akmc_revoke_all_locked(struct akmc_file *kf)
{
	struct akmc_map *m;

	lockdep_assert_held(&kf->maps_lock);
	list_for_each_entry(m, &kf->maps, node) {
		m->revoked = true;
		unmap_mapping_pages(m->mapping, m->pgoff, m->pages, true);
	}
}

static vm_fault_t akmc_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct akmc_map *m = vma->vm_private_data;
	struct akmc_file *kf = m->kf;
	unsigned long addr, end, first;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	vm_fault_t r;

	mutex_lock(&kf->maps_lock);
	if (m->revoked || !kf->ctx_alive || vma->vm_mm != kf->mm ||
	    vma->vm_pgoff != m->pgoff || vma_pages(vma) != m->pages)
		goto out;
	/* The faulting page, and the following ones of a chunk */
	addr = vmf->address & PAGE_MASK;
	end = min(vma->vm_end, addr + AKMC_FAULT_PAGES * PAGE_SIZE);
	first = ((kf->dev->win_base + m->win) >> PAGE_SHIFT) +
		((addr - vma->vm_start) >> PAGE_SHIFT);
	ret = vmf_insert_pfn_prot(vma, addr, first, vma->vm_page_prot);
	if (ret & VM_FAULT_ERROR)
		goto out;
	for (addr += PAGE_SIZE, first++; addr < end;
	     addr += PAGE_SIZE, first++) {
		r = vmf_insert_pfn_prot(vma, addr, first, vma->vm_page_prot);
		if (r & VM_FAULT_ERROR)
			break;
	}
out:
	mutex_unlock(&kf->maps_lock);
	return ret;
}

static void akmc_vm_open(struct vm_area_struct *vma)
{
	struct akmc_map *m = vma->vm_private_data;

	refcount_inc(&m->vmas);
}

static void akmc_vm_close(struct vm_area_struct *vma)
{
	struct akmc_map *m = vma->vm_private_data;
	struct akmc_file *kf = m->kf;
	struct akmc_dev *dev = kf->dev;
	bool unmap;
	int ret;

	if (!refcount_dec_and_test(&m->vmas))
		return;
	/*
	 * The last VMA of the mapping: the core has removed its page table
	 * entries already, so nothing reaches the range any more.
	 */
	mutex_lock(&kf->maps_lock);
	list_del(&m->node);
	kf->nmaps--;
	/* Revoked ranges went with the context (or the reset) */
	unmap = kf->ctx_alive && !m->revoked;
	mutex_unlock(&kf->maps_lock);
	if (m->wc)
		arch_io_free_memtype_wc(dev->win_base + m->win,
					m->pages << PAGE_SHIFT);
	if (unmap) {
		ret = akmc_cmd(dev, NULL, AMDKFD_MC_OP_UNMAP_WINDOW, kf->ctx_id,
			       m->map_id, 0, NULL, 0, NULL, AKMC_RUN_TEARDOWN);
		if (ret && ret != -ENODEV)
			dev_warn_ratelimited(&dev->pdev->dev,
					     "ctx %#x: unmap of map %llu failed: %d\n",
					     kf->ctx_id, m->map_id, ret);
	}
	if (m->render)
		akmc_ctx_put(kf);
	akmc_file_put(kf);
	kfree(m);
	atomic_dec(&akmc_live[AKMC_LIVE_MAPS]);
}

static int akmc_vm_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	/* A window mapping is one device mapping: it cannot be split */
	return -EINVAL;
}

static const struct vm_operations_struct akmc_vm_ops = {
	.fault = akmc_vm_fault,
	.open = akmc_vm_open,
	.close = akmc_vm_close,
	.may_split = akmc_vm_may_split,
};

static int akmc_map_errno(const struct amdkfd_mc_cpl *cpl, int ret)
{
	switch (cpl->status) {
	case AMDKFD_MC_S_NO_RESOURCES:
		return -ENOMEM;		/* a limit of the window or context */
	case AMDKFD_MC_S_NOT_SUPPORTED:
	case AMDKFD_MC_S_INVALID_ARGUMENT:
		return -EINVAL;		/* not an offset this context may map */
	default:
		return ret;
	}
}

/* Sends OP_MAP_WINDOW; fills @m's window offset and map id */
static int akmc_map_window(struct akmc_file *kf, struct akmc_map *m, u64 off,
			   u64 len)
{
	struct akmc_dev *dev = kf->dev;
	struct amdkfd_mc_cmd cmd = {
		.opcode = AMDKFD_MC_OP_MAP_WINDOW, .ctx_id = kf->ctx_id,
		.arg1 = off, .arg2 = len,
	};
	const struct amdkfd_mc_cpl *cpl;
	struct amdkfd_mc_window_map *wm;
	struct akmc_req *req;
	u64 win, id, size;
	int ret;

	req = akmc_req_new(dev, sizeof(*wm));
	if (!req)
		return -ENOMEM;
	/* Abandoned by a fatal signal, the device's mapping is undone */
	ret = akmc_req_run(req, kf->proc, &cmd, AKMC_RUN_KILLABLE);
	if (ret)
		goto out;
	cpl = akmc_req_cpl(req);
	ret = akmc_status_errno(cpl);
	if (ret) {
		ret = akmc_map_errno(cpl, ret);
		goto out;
	}
	wm = akmc_req_payload(req);
	win = le64_to_cpu(wm->win_offset);
	id = le64_to_cpu(wm->map_id);
	size = le64_to_cpu(wm->size);
	if (!id || id != cpl->value || size != len || win % PAGE_SIZE ||
	    win >= dev->win_size || len > dev->win_size - win) {
		dev_err_ratelimited(&dev->pdev->dev,
				    "ctx %#x: bad window mapping %#llx+%#llx id %llu\n",
				    kf->ctx_id, win, size, id);
		if (cpl->value)
			akmc_cmd(dev, NULL, AMDKFD_MC_OP_UNMAP_WINDOW,
				 kf->ctx_id, cpl->value, 0, NULL, 0, NULL,
				 AKMC_RUN_TEARDOWN);
		ret = -EIO;
		goto out;
	}
	m->win = win;
	m->map_id = id;
out:
	akmc_req_put(req);
	return ret;
}

/*
 * mmap() of a KFD mmap offset of @kf's context into @vma; @render when
 * through a render node (the mapping then keeps the context alive).
 * Called with the caller's mmap_lock held for writing.
 */
int akmc_map_create(struct akmc_file *kf, struct vm_area_struct *vma,
		    bool render)
{
	struct akmc_dev *dev = kf->dev;
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	u64 len = vma->vm_end - vma->vm_start;
	u64 type = AKMC_MMAP_TYPE(off);
	struct akmc_map *m;
	bool dead;
	int ret;

	/* As the KFD does: a child cannot use its parent's context */
	if (!akmc_same_process(kf))
		return -EBADF;
	/*
	 * Window pages are shared device memory, never copied on write.  A
	 * private mapping is taken only without any access, as amdgpu
	 * takes it: libhsakmt maps memory the CPU must not touch that way
	 * (PROT_NONE, MAP_PRIVATE) to hold its address.  Without
	 * VM_MAYWRITE it can never become writable, so it is no
	 * copy-on-write mapping either.
	 */
	if (!(vma->vm_flags & VM_SHARED)) {
		if (vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC))
			return -EINVAL;
		akmc_vm_flags_clear(vma, VM_MAYWRITE);
	}
	if (!len || len > dev->win_size)
		return -ENOMEM;
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;

	/*
	 * Held from the map command until the mapping is on the list, so
	 * that removal, which revokes under this lock, either comes first
	 * (ctx_alive is clear) or finds the mapping.
	 */
	mutex_lock(&kf->maps_lock);
	if (!kf->ctx_alive) {
		ret = -ENODEV;
		goto err_unlock;
	}
	if (render)
		kf->ctx_users++;
	ret = akmc_map_window(kf, m, off, len);
	if (ret)
		goto err_users;
	spin_lock_irq(&dev->lock);
	dead = dev->dead;
	spin_unlock_irq(&dev->lock);
	if (dead || !kf->ctx_alive) {
		/* The reset released the range with everything else */
		ret = -ENODEV;
		goto err_users;
	}

	m->kf = kf;
	m->mapping = vma->vm_file->f_mapping;
	m->pgoff = vma->vm_pgoff;
	m->pages = vma_pages(vma);
	m->render = render;
	refcount_set(&m->vmas, 1);
	/* Doorbells and MMIO: uncached; memory: write-combining */
	if (type == AKMC_MMAP_TYPE_DOORBELL || type == AKMC_MMAP_TYPE_MMIO) {
		vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	} else {
		m->wc = !arch_io_reserve_memtype_wc(dev->win_base + m->win,
						    len);
		vma->vm_page_prot = pgprot_writecombine(vma->vm_page_prot);
	}
	akmc_vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND |
			  VM_DONTDUMP | VM_DONTCOPY);
	vma->vm_private_data = m;
	vma->vm_ops = &akmc_vm_ops;
	kref_get(&kf->kref);
	list_add_tail(&m->node, &kf->maps);
	kf->nmaps++;
	atomic_inc(&akmc_live[AKMC_LIVE_MAPS]);
	mutex_unlock(&kf->maps_lock);
	return 0;

err_users:
	if (render)
		kf->ctx_users--;	/* the file still holds one */
err_unlock:
	mutex_unlock(&kf->maps_lock);
	dev_dbg(&dev->pdev->dev, "ctx %#x mmap %#llx+%#llx: %d\n", kf->ctx_id,
		off, len, ret);
	kfree(m);
	return ret;
}
