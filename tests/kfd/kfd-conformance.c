// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kfd-conformance: checks a host /dev/kfd against the multiple-context ABI
 * (AMDKFD_IOC_CREATE_PROCESS, KFD 1.19) as far as it is observable without
 * a GPU. See docs: ARCHITECTURE.md section 2.
 *
 * Output: one line per check, "PASS <id> ..." or "FAIL <id> ...", "INFO"
 * lines for measurements, and a final "N passed, N failed". Exit status 0
 * only when every check passed.
 *
 * On a kernel without the feature (CREATE_PROCESS answers ENOTTY) the
 * isolation checks fall back to two plain opens of /dev/kfd by the same
 * program, which then share one KFD process: those checks must FAIL there
 * (negative control).
 *
 * Justified differences between kernels that the checks allow:
 *  - KFD minor version: >= 19 (patched 6.12 reports 19, 7.2 reports 23).
 *  - pasid file: on 6.12 the PASID belongs to the KFD process, so every
 *    context shows its own non-zero PASID; on 7.x it belongs to the
 *    process-device (taken from the GPU VM) and reads 0 without a GPU.
 *    The check requires distinct non-zero values only when the primary's
 *    pasid is non-zero.
 *  - sysfs removal on close: 7.x removes context_<id>/ from its release
 *    work, which can trail close() by a few milliseconds after many
 *    closes; the backport removes it before close() returns. The checks
 *    allow up to 2 s and print the time taken.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/kfd_ioctl.h>

#ifndef AMDKFD_IOC_CREATE_PROCESS
/* Linux 7.0 uapi (KFD 1.19); not in distribution headers yet. */
#define AMDKFD_IOC_CREATE_PROCESS AMDKFD_IO(0x27)
#endif

#define KFD_DEV "/dev/kfd"
#define PROC_DIR "/sys/class/kfd/kfd/proc"
#define MANY_CONTEXTS 128
#define TIMING_CYCLES 200
#define EVENT_PAGE_SIZE (4096 * 8)	/* KFD_SIGNAL_EVENT_LIMIT slots */

static int passed, failed;
static int have_contexts;	/* CREATE_PROCESS works */

static void result(int ok, const char *id, const char *fmt, ...)
{
	va_list ap;

	printf("%s %s ", ok ? "PASS" : "FAIL", id);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

static void info(const char *fmt, ...)
{
	va_list ap;

	printf("INFO ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static const char *err_name(int e)
{
	static char buf[32];

	switch (e) {
	case 0: return "0";
	case -EINVAL: return "EINVAL";
	case -ENOTTY: return "ENOTTY";
	case -EBADF: return "EBADF";
	case -EOPNOTSUPP: return "EOPNOTSUPP";
	case -EPERM: return "EPERM";
	case -ENODEV: return "ENODEV";
	case -ENOSPC: return "ENOSPC";
	case -EFAULT: return "EFAULT";
	case -ESRCH: return "ESRCH";
	case -ENOMEM: return "ENOMEM";
	case -EACCES: return "EACCES";
	}
	snprintf(buf, sizeof(buf), "errno %d", -e);
	return buf;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int open_kfd(void)
{
	return open(KFD_DEV, O_RDWR | O_CLOEXEC);
}

static int create_context(int fd)
{
	return xioctl(fd, AMDKFD_IOC_CREATE_PROCESS, NULL);
}

/* A new fd turned into a secondary context, or -errno. */
static int open_context(void)
{
	int fd = open_kfd(), r;

	if (fd < 0)
		return -errno;
	r = create_context(fd);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

/*
 * Two fds that should be isolated from each other. With contexts: two
 * secondaries. Without (negative control): two plain opens.
 */
static int open_pair(int fds[2])
{
	int i;

	for (i = 0; i < 2; i++) {
		fds[i] = have_contexts ? open_context() : open_kfd();
		if (fds[i] < 0) {
			if (i)
				close(fds[0]);
			return -1;
		}
	}
	return 0;
}

/* Sorted list of context ids in proc/<pid>/, count returned. */
static int list_contexts(pid_t pid, int *ids, int max)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0, i, j;

	snprintf(path, sizeof(path), PROC_DIR "/%d", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		unsigned int id;

		if (sscanf(de->d_name, "context_%u", &id) == 1 && n < max)
			ids[n++] = id;
	}
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
			int t = ids[j];

			ids[j] = ids[j - 1];
			ids[j - 1] = t;
		}
	return n;
}

static int has_context(pid_t pid, int id)
{
	char path[80];
	struct stat st;

	snprintf(path, sizeof(path), PROC_DIR "/%d/context_%d", pid, id);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Wait until context @id (or, for -1, every context) of this process has
 * left sysfs. Linux 7.x removes the directory from its release work, so it
 * can trail the close() a little; 6.12 with the backport removes it before
 * close() returns. Returns the milliseconds waited, or -1 after 2 s.
 */
static int wait_gone(int id)
{
	int ids[MANY_CONTEXTS * 2], ms;

	for (ms = 0; ms <= 2000; ms += 5) {
		if (id >= 0 ? !has_context(getpid(), id) :
		    !list_contexts(getpid(), ids, MANY_CONTEXTS * 2))
			return ms;
		usleep(5000);
	}
	return -1;
}

/* The context id that appears in sysfs when a new context fd is made. */
static int new_context(int *fd_out)
{
	int before[MANY_CONTEXTS * 2], after[MANY_CONTEXTS * 2];
	int nb, na, i, j, fd;

	nb = list_contexts(getpid(), before, MANY_CONTEXTS * 2);
	fd = open_context();
	*fd_out = fd;
	if (fd < 0)
		return -1;
	na = list_contexts(getpid(), after, MANY_CONTEXTS * 2);
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++)
			if (after[i] == before[j])
				break;
		if (j == nb)
			return after[i];
	}
	return -1;
}

static long read_pasid(const char *dir)
{
	char path[160], buf[32];
	long v = -1;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/pasid", dir);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = 0;
		v = strtol(buf, NULL, 0);
	}
	return v;
}

static int create_event(int fd, struct kfd_ioctl_create_event_args *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->event_type = KFD_IOC_EVENT_SIGNAL;
	ev->auto_reset = 0;
	return xioctl(fd, AMDKFD_IOC_CREATE_EVENT, ev);
}

static int event_op(int fd, unsigned long req, uint32_t id)
{
	struct kfd_ioctl_set_event_args a = { .event_id = id };

	/* set, reset and destroy args share this layout */
	return xioctl(fd, req, &a);
}

static int wait_event(int fd, uint32_t id, uint32_t timeout_ms,
		      uint32_t *wait_result)
{
	struct kfd_event_data ed;
	struct kfd_ioctl_wait_events_args w;
	int r;

	memset(&ed, 0, sizeof(ed));
	memset(&w, 0, sizeof(w));
	ed.event_id = id;
	w.events_ptr = (uintptr_t)&ed;
	w.num_events = 1;
	w.wait_for_all = 1;
	w.timeout = timeout_ms;
	r = xioctl(fd, AMDKFD_IOC_WAIT_EVENTS, &w);
	if (wait_result)
		*wait_result = w.wait_result;
	return r;
}

/* Contexts of this process still in sysfs, as an INFO line. */
static int report_left(const char *after)
{
	int ids[MANY_CONTEXTS * 2], n, i;
	char buf[256];
	size_t len = 0;

	n = list_contexts(getpid(), ids, MANY_CONTEXTS * 2);
	buf[0] = 0;
	for (i = 0; i < n && len < sizeof(buf) - 16; i++)
		len += snprintf(buf + len, sizeof(buf) - len, " %d", ids[i]);
	if (n)
		info("after %s: %d context dirs left:%s", after, n, buf);
	return n;
}

/* ---------------------------------------------------------------- checks */

static void check_version(void)
{
	struct kfd_ioctl_get_version_args v = { 0 };
	int fd = open_kfd(), r;

	result(fd >= 0, "open", "open(%s) = %s", KFD_DEV,
	       fd >= 0 ? "ok" : strerror(errno));
	if (fd < 0)
		return;
	r = xioctl(fd, AMDKFD_IOC_GET_VERSION, &v);
	info("version %u.%u", v.major_version, v.minor_version);
	result(r == 0 && v.major_version == 1 && v.minor_version >= 19,
	       "version", "GET_VERSION = %s, %u.%u (need 1.19+)",
	       err_name(r), v.major_version, v.minor_version);
	close(fd);
}

static void check_create(void)
{
	int fd = open_kfd(), r, r2, fd2, r3;

	if (fd < 0)
		return;
	r = create_context(fd);
	have_contexts = r == 0;
	result(r == 0, "create", "CREATE_PROCESS on a fresh fd = %s",
	       err_name(r));
	if (r == 0) {
		r2 = create_context(fd);
		result(r2 == -EINVAL, "create-twice",
		       "second CREATE_PROCESS on the same fd = %s (want EINVAL)",
		       err_name(r2));
	} else {
		result(0, "create-twice", "skipped: no contexts (%s)",
		       err_name(r));
	}
	/* Lookups by mm return the primary: a new open is not a secondary */
	fd2 = open_kfd();
	r3 = fd2 >= 0 ? create_context(fd2) : -errno;
	result(r == 0 && r3 == 0, "reopen-primary",
	       "a new open after creating contexts refers to the primary (CREATE_PROCESS = %s)",
	       err_name(r3));
	if (fd2 >= 0)
		close(fd2);
	close(fd);
}

static void check_sysfs(void)
{
	char pdir[64], cdir[96], path[512];
	struct dirent *de;
	long pp, pc1, pc2;
	int fd, fd2, id, id2, missing = 0, checked = 0, ms;
	DIR *d;

	snprintf(pdir, sizeof(pdir), PROC_DIR "/%d", getpid());
	id = new_context(&fd);
	result(fd >= 0 && id >= 0, "sysfs-appears",
	       "proc/<pid>/context_<id> appears on create (id %d)", id);
	if (fd < 0 || id < 0) {
		if (fd >= 0)
			close(fd);
		result(0, "sysfs-files", "no context directory");
		result(0, "sysfs-disappears", "no context directory");
		result(0, "pasid", "no context directory");
		return;
	}
	snprintf(cdir, sizeof(cdir), "%s/context_%d", pdir, id);
	d = opendir(pdir);
	while (d && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.' || !strncmp(de->d_name, "context_", 8))
			continue;
		checked++;
		snprintf(path, sizeof(path), "%s/%s", cdir, de->d_name);
		if (stat(path, &st)) {
			missing++;
			info("context_%d lacks %s", id, de->d_name);
		}
	}
	if (d)
		closedir(d);
	result(checked > 0 && !missing, "sysfs-files",
	       "context dir has the primary's %d entries (%d missing)",
	       checked, missing);

	id2 = new_context(&fd2);
	pp = read_pasid(pdir);
	pc1 = read_pasid(cdir);
	snprintf(path, sizeof(path), "%s/context_%d", pdir, id2);
	pc2 = read_pasid(path);
	info("pasid: primary %ld, context_%d %ld, context_%d %ld",
	     pp, id, pc1, id2, pc2);
	if (pp > 0)
		result(pc1 > 0 && pc2 > 0 && pc1 != pp && pc2 != pp && pc1 != pc2,
		       "pasid", "per-context PASIDs distinct (PASID per kfd_process)");
	else
		result(pp == 0 && pc1 == 0 && pc2 == 0, "pasid",
		       "pasid files readable, 0 without GPU (PASID per process-device)");
	if (fd2 >= 0)
		close(fd2);

	close(fd);
	ms = wait_gone(id);
	result(ms >= 0, "sysfs-disappears",
	       "context_%d gone after close (%d ms)", id, ms);
}

static void check_id_reuse(void)
{
	int fa, fb, fc, a, b, c;

	a = new_context(&fa);
	b = new_context(&fb);
	if (fa < 0 || fb < 0 || a < 0 || b < 0) {
		result(0, "id-reuse", "cannot create two contexts");
		goto out;
	}
	close(fa);
	fa = -1;
	if (wait_gone(a) < 0)
		info("context_%d still in sysfs 2 s after close", a);
	c = new_context(&fc);
	result(c == a && a != b && has_context(getpid(), c), "id-reuse",
	       "ids %d,%d; after closing %d a new context got %d", a, b, a, c);
	if (fc >= 0)
		close(fc);
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
}

static void check_events(void)
{
	struct kfd_ioctl_create_event_args ea, ea2, eb;
	uint32_t wr = 0;
	int fds[2], r, ra;

	if (open_pair(fds)) {
		result(0, "events", "cannot open two contexts");
		return;
	}
	r = create_event(fds[0], &ea);
	result(r == 0, "event-create", "CREATE_EVENT on context A = %s (id %u)",
	       err_name(r), ea.event_id);
	if (r)
		goto out;

	r = event_op(fds[1], AMDKFD_IOC_SET_EVENT, ea.event_id);
	result(r == -EINVAL, "event-set-other",
	       "SET_EVENT of A's event through B = %s (want EINVAL)", err_name(r));
	/* a successful foreign set would show as A's event being signalled */
	ra = wait_event(fds[0], ea.event_id, 0, &wr);
	result(ra == 0 && wr == KFD_IOC_WAIT_RESULT_TIMEOUT, "event-unchanged",
	       "A's event still unsignalled after B's attempts (wait %s, result %u)",
	       err_name(ra), wr);
	r = event_op(fds[1], AMDKFD_IOC_RESET_EVENT, ea.event_id);
	result(r == -EINVAL, "event-reset-other",
	       "RESET_EVENT of A's event through B = %s (want EINVAL)", err_name(r));
	r = wait_event(fds[1], ea.event_id, 0, NULL);
	result(r == -EINVAL, "event-wait-other",
	       "WAIT_EVENTS on A's event through B = %s (want EINVAL)", err_name(r));
	r = event_op(fds[1], AMDKFD_IOC_DESTROY_EVENT, ea.event_id);
	result(r == -EINVAL, "event-destroy-other",
	       "DESTROY_EVENT of A's event through B = %s (want EINVAL)", err_name(r));

	/* A's own event still works */
	r = event_op(fds[0], AMDKFD_IOC_SET_EVENT, ea.event_id);
	ra = wait_event(fds[0], ea.event_id, 0, &wr);
	result(r == 0 && ra == 0 && wr == KFD_IOC_WAIT_RESULT_COMPLETE,
	       "event-own", "A sets and waits its own event (set %s, wait %s, result %u)",
	       err_name(r), err_name(ra), wr);

	r = event_op(fds[0], AMDKFD_IOC_DESTROY_EVENT, ea.event_id);
	result(r == 0, "event-destroy-own", "A destroys its event = %s",
	       err_name(r));

	/* While A holds an event, B's first event gets A's first id. */
	ra = create_event(fds[0], &ea2);
	r = create_event(fds[1], &eb);
	info("event ids: A first %u, A now %u, B first %u", ea.event_id,
	     ea2.event_id, eb.event_id);
	result(r == 0 && ra == 0 && eb.event_id == ea.event_id,
	       "event-ids-per-context",
	       "B's first event id %u equals A's first %u while A holds event %u",
	       eb.event_id, ea.event_id, ea2.event_id);
out:
	close(fds[0]);
	close(fds[1]);
}

static void check_event_page(void)
{
	struct kfd_ioctl_create_event_args ea, eb;
	volatile uint64_t *pa = MAP_FAILED, *pb = MAP_FAILED;
	int fds[2], r1, r2;
	uint64_t before;

	if (open_pair(fds)) {
		result(0, "event-page", "cannot open two contexts");
		return;
	}
	r1 = create_event(fds[0], &ea);
	r2 = create_event(fds[1], &eb);
	if (r1 || r2) {
		result(0, "event-page-map", "CREATE_EVENT failed (%s, %s)",
		       err_name(r1), err_name(r2));
		goto out;
	}
	pa = mmap(NULL, EVENT_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		  fds[0], ea.event_page_offset);
	pb = mmap(NULL, EVENT_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		  fds[1], eb.event_page_offset);
	result(pa != MAP_FAILED && pb != MAP_FAILED, "event-page-map",
	       "event pages map through each context's fd");
	if (pa == MAP_FAILED || pb == MAP_FAILED)
		goto out;
	/* Same slot index in both pages: distinct pages must not alias. */
	before = pb[ea.event_slot_index];
	pa[ea.event_slot_index] = 0x5a5a5a5a00000001ull;
	result(pb[ea.event_slot_index] == before &&
	       pa[ea.event_slot_index] == 0x5a5a5a5a00000001ull,
	       "event-page-own",
	       "a write to A's slot %u is not visible in B's page (B's slot %#llx)",
	       ea.event_slot_index,
	       (unsigned long long)pb[ea.event_slot_index]);
	pa[ea.event_slot_index] = before;
	info("event slots: A %u, B %u", ea.event_slot_index, eb.event_slot_index);
out:
	if (pa != MAP_FAILED)
		munmap((void *)pa, EVENT_PAGE_SIZE);
	if (pb != MAP_FAILED)
		munmap((void *)pb, EVENT_PAGE_SIZE);
	close(fds[0]);
	close(fds[1]);
}

static void check_fork(void)
{
	struct kfd_ioctl_get_version_args v;
	struct kfd_ioctl_create_event_args ev;
	int fd, status = 0, r, evr;
	pid_t child;

	fd = have_contexts ? open_context() : open_kfd();
	if (fd < 0) {
		result(0, "fork-parent-fd", "no fd");
		result(0, "fork-parent-mmap", "no fd");
		result(0, "fork-own-context", "no fd");
		return;
	}
	evr = create_event(fd, &ev);
	child = fork();
	if (child == 0) {
		int code = 0, cfd;
		void *m;

		r = xioctl(fd, AMDKFD_IOC_GET_VERSION, &v);
		if (r != -EBADF)
			code |= 1;
		/* nor map the parent's event page through it */
		m = mmap(NULL, EVENT_PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, ev.event_page_offset);
		if (evr || m != MAP_FAILED)
			code |= 8;
		cfd = open_kfd();
		if (cfd < 0 || create_context(cfd))
			code |= 2;
		else if (!has_context(getpid(), 0))
			code |= 4;
		_exit(code);
	}
	waitpid(child, &status, 0);
	r = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
	result(!(r & 1) && r != 255, "fork-parent-fd",
	       "child using the parent's context fd gets EBADF");
	result(!(r & 8) && r != 255, "fork-parent-mmap",
	       "child cannot mmap the parent's event page through the parent's context fd");
	result(!(r & 6) && r != 255, "fork-own-context",
	       "child's own open + CREATE_PROCESS gives proc/<child>/context_0 (code %d)",
	       r);
	close(fd);
}

static void check_many(void)
{
	static int fds[MANY_CONTEXTS], ids[MANY_CONTEXTS * 2];
	int i, n = 0, nids, distinct = 1, ms;
	double t0, t1;
	int stale;

	for (i = 0; i < MANY_CONTEXTS; i++) {
		fds[i] = open_context();
		if (fds[i] < 0)
			break;
		n++;
	}
	nids = list_contexts(getpid(), ids, MANY_CONTEXTS * 2);
	for (i = 1; i < nids; i++)
		if (ids[i] == ids[i - 1])
			distinct = 0;
	result(n == MANY_CONTEXTS && nids == MANY_CONTEXTS && distinct &&
	       nids && ids[0] == 0 && ids[nids - 1] == MANY_CONTEXTS - 1,
	       "many-contexts", "%d contexts at once, %d in sysfs, ids %d..%d",
	       n, nids, nids ? ids[0] : -1, nids ? ids[nids - 1] : -1);
	for (i = 0; i < n; i++)
		close(fds[i]);
	ms = wait_gone(-1);
	nids = list_contexts(getpid(), ids, MANY_CONTEXTS * 2);
	result(n > 0 && nids == 0, "many-closed",
	       "all context dirs gone after closing %d fds (%d left, %d ms)",
	       n, nids, ms);

	t0 = now_us();
	for (i = 0; i < TIMING_CYCLES; i++) {
		int fd = open_context();

		if (fd < 0)
			break;
		close(fd);
	}
	t1 = now_us();
	wait_gone(-1);
	stale = list_contexts(getpid(), ids, MANY_CONTEXTS * 2);
	if (i == TIMING_CYCLES)
		info("timing: open+CREATE_PROCESS+close %.1f us per cycle (%d cycles)",
		     (t1 - t0) / i, i);
	result(i == TIMING_CYCLES && stale == 0, "create-destroy-cycles",
	       "%d create/destroy cycles, %d contexts left", i, stale);
}

static void check_refusals(void)
{
	struct kfd_ioctl_svm_args svm;
	struct kfd_ioctl_alloc_memory_of_gpu_args am;
	struct kfd_ioctl_dbg_trap_args dbg;
	int fd, prim, r, rp;
	void *buf;

	fd = have_contexts ? open_context() : open_kfd();
	prim = open_kfd();
	if (fd < 0 || prim < 0) {
		result(0, "refusals", "no fds");
		return;
	}
	buf = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	memset(&svm, 0, sizeof(svm));
	svm.start_addr = (uintptr_t)buf;
	svm.size = 4096;
	svm.op = KFD_IOCTL_SVM_OP_GET_ATTR;
	r = xioctl(fd, AMDKFD_IOC_SVM, &svm);
	rp = xioctl(prim, AMDKFD_IOC_SVM, &svm);
	result(r == -EOPNOTSUPP, "refuse-svm",
	       "SVM on a secondary = %s (primary: %s)", err_name(r), err_name(rp));

	memset(&am, 0, sizeof(am));
	am.va_addr = (uintptr_t)buf;
	am.size = 4096;
	am.mmap_offset = (uintptr_t)buf;
	am.flags = KFD_IOC_ALLOC_MEM_FLAGS_USERPTR | KFD_IOC_ALLOC_MEM_FLAGS_WRITABLE;
	r = xioctl(fd, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, &am);
	rp = xioctl(prim, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, &am);
	result(r == -EOPNOTSUPP, "refuse-userptr",
	       "ALLOC_MEMORY_OF_GPU(USERPTR) on a secondary = %s (primary: %s)",
	       err_name(r), err_name(rp));

	memset(&dbg, 0, sizeof(dbg));
	dbg.pid = getpid();
	dbg.op = KFD_IOC_DBG_TRAP_ENABLE;
	r = xioctl(fd, AMDKFD_IOC_DBG_TRAP, &dbg);
	memset(&dbg, 0, sizeof(dbg));
	dbg.pid = getpid();
	dbg.op = KFD_IOC_DBG_TRAP_ENABLE;
	rp = xioctl(prim, AMDKFD_IOC_DBG_TRAP, &dbg);
	result(r == -EOPNOTSUPP, "refuse-dbg-trap",
	       "DBG_TRAP on a secondary = %s (primary: %s)", err_name(r),
	       err_name(rp));
	/* Undo a successful enable (kernels without the refusal). */
	memset(&dbg, 0, sizeof(dbg));
	dbg.pid = getpid();
	dbg.op = KFD_IOC_DBG_TRAP_DISABLE;
	if (r == 0)
		xioctl(fd, AMDKFD_IOC_DBG_TRAP, &dbg);
	if (rp == 0)
		xioctl(prim, AMDKFD_IOC_DBG_TRAP, &dbg);
	munmap(buf, 8192);
	close(fd);
	close(prim);
}

int main(void)
{
	struct rlimit rl = { 4096, 4096 };
	int primary;

	setvbuf(stdout, NULL, _IOLBF, 0);
	setrlimit(RLIMIT_NOFILE, &rl);
	printf("kfd-conformance: pid %d\n", getpid());

	check_version();
	/* Hold the primary for the whole run, as real users do. */
	primary = open_kfd();
	if (primary < 0) {
		result(0, "primary", "cannot open %s: %s", KFD_DEV, strerror(errno));
		printf("%d passed, %d failed\n", passed, failed);
		return 1;
	}
	check_create();
	if (!have_contexts)
		info("no multiple contexts: isolation checks use two plain opens (negative control)");
	check_sysfs();
	report_left("sysfs");
	check_id_reuse();
	report_left("id-reuse");
	check_events();
	report_left("events");
	check_event_page();
	report_left("event-page");
	check_fork();
	report_left("fork");
	check_many();
	check_refusals();
	report_left("refusals");
	close(primary);

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
