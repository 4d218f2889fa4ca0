// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kfd-conformance: checks a host /dev/kfd against the multiple-context ABI
 * (AMDKFD_IOC_CREATE_PROCESS, KFD 1.19) as far as it is observable without
 * a GPU. The ABI and its 6.12 backport: kernel-patches/linux-6.12/README.md.
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
 *  - PASID-bound checks (context-limit, limit-*, create-cost-flat,
 *    pasid-freed-at-close, the PASID part of leak-cycles): they apply where
 *    every context takes a PASID (the primary's pasid file is non-zero, the
 *    6.12 design) and pass as not applicable otherwise (7.x). Where they
 *    apply, the number of contexts per process must be bounded by the
 *    amdgpu parameter kfd_max_contexts.
 *  - exhaustion (--long): a process stops at kfd_max_contexts contexts on
 *    the backport and at 65535 (ids 0..0xFFFE) on 7.x, both with ENOSPC.
 *  - CREATE_PROCESS on a primary fd kept across exec(): the backport
 *    refuses it (ESRCH), 7.x makes a context of the new image; both pass.
 *
 * Usage: kfd-conformance [--long] [--keep-loaded]. --long runs only the
 * exhaustion checks (create contexts until the kernel refuses: 65535 on
 * 7.x, 18 to 55 minutes under TCG, as 7.x's create cost grows with the
 * number of contexts). "--stage ..." is how the exec() checks re-execute the
 * program; it is not for direct use.
 *
 * The program must run as root in a throw-away VM: it reads /dev/kmsg to
 * hold every check to a clean kernel log, enables amdgpu's PASID trace
 * events in tracefs, and unloads amdgpu at the end (rmmod check; not with
 * --keep-loaded, for runs that use the KFD afterwards).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* Sorted list of context ids in proc/<pid>/, count returned. */
static int list_contexts(pid_t pid, int *ids, int max)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

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
	qsort(ids, n, sizeof(*ids), cmp_int);
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
	/* upstream checks the size first: EINVAL on every context */
	am.size = 0;
	r = xioctl(fd, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, &am);
	result(have_contexts && r == -EINVAL, "userptr-zero-size",
	       "zero-size ALLOC_MEMORY_OF_GPU(USERPTR) on a secondary = %s (want EINVAL, as upstream)",
	       err_name(r));

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

/* ------------------------------------------------- kernel log and sysfs */

/*
 * Kernel log lines that must never appear while a check runs: warnings,
 * oopses, and the messages of a sysfs name clash or a bad IDA free.
 */
static const char *const kmsg_bad_words[] = {
	"WARNING:", "BUG:", "Oops", "Call Trace", "general protection",
	"cannot create duplicate", "kobject_add_internal failed",
	"Creating procfs", "Failed to create sysfs", "ida_free called",
	"refcount_t:", "list_del corruption", "UBSAN:", "KASAN:",
};

static int kmsg_fd = -1;

static int kmsg_is_bad(const char *msg)
{
	size_t i;

	for (i = 0; i < sizeof(kmsg_bad_words) / sizeof(*kmsg_bad_words); i++)
		if (strstr(msg, kmsg_bad_words[i]))
			return 1;
	return 0;
}

/*
 * Start collecting kernel log lines from now on.  The release work of the
 * previous check may still be printing (stock 7.x's defects print late):
 * wait until the log has been quiet for 200 ms (2 s at most), so that its
 * lines are not counted against the next check.  They are shown, and a
 * run's whole log is still scanned for warnings.
 */
static void kmsg_mark(void)
{
	double quiet = now_us(), start = quiet;
	char rec[1024];
	ssize_t n;

	if (kmsg_fd < 0)
		kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0)
		return;
	while (now_us() - quiet < 200e3 && now_us() - start < 2e6) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		char *msg;

		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0) {
			nanosleep(&ts, NULL);
			continue;
		}
		quiet = now_us();
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		if (kmsg_is_bad(msg))
			info("late kernel line of an earlier check: %s", msg);
	}
	lseek(kmsg_fd, 0, SEEK_END);
}

/*
 * Number of bad kernel log lines since kmsg_mark(); the first few are
 * printed as INFO lines. -1 when the log cannot be read.
 */
static int kmsg_bad(const char *check)
{
	char rec[1024], other[8][160];
	int bad = 0, others = 0, i;
	ssize_t n;

	if (kmsg_fd < 0)
		return -1;
	for (;;) {
		char *msg;

		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: skip ahead */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		if (!kmsg_is_bad(msg)) {
			/* kept to show what came with a bad line */
			if (others < 8)
				snprintf(other[others++], sizeof(other[0]),
					 "%.159s", msg);
			continue;
		}
		if (bad++ < 4)
			info("%s: kernel: %s", check, msg);
	}
	for (i = 0; bad && i < others; i++)
		info("%s: kernel (other line): %s", check, other[i]);
	return bad;
}

static int path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int pid_dir_exists(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), PROC_DIR "/%d", pid);
	return path_exists(path);
}

/* Milliseconds until proc/<pid>/ is gone, -1 after 2 s. */
static int wait_pid_dir_gone(pid_t pid)
{
	int ms;

	for (ms = 0; ms <= 2000; ms += 5) {
		if (!pid_dir_exists(pid))
			return ms;
		usleep(5000);
	}
	return -1;
}

/* Context directories created at the sysfs root (a missing parent). */
static int root_contexts(void)
{
	struct dirent *de;
	DIR *d = opendir("/sys");
	int n = 0;

	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, "context_", 8))
			n++;
	if (d)
		closedir(d);
	return n;
}

static int status_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

/* ------------------------------------------------------------ tracefs */

static char trace_dir[64];

/* The tracing directory, mounted if needed; 0 when tracing is missing. */
static int trace_init(void)
{
	static const char *const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[128];
	size_t i;

	if (trace_dir[0])
		return 1;
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/trace", dirs[i]);
		if (!path_exists(path) && i == 0)
			mount("tracefs", dirs[0], "tracefs", 0, NULL);
		if (path_exists(path)) {
			snprintf(trace_dir, sizeof(trace_dir), "%s", dirs[i]);
			return 1;
		}
	}
	return 0;
}

static int trace_write(const char *file, const char *val)
{
	char path[192];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", trace_dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write(fd, val, strlen(val)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/*
 * Record amdgpu's PASID allocations and frees (trace events
 * amdgpu:amdgpu_pasid_allocated/freed) from now on. 0 on success.
 */
static int trace_pasids(int on)
{
	int r;

	if (!trace_init())
		return -ENOENT;
	r = trace_write("events/amdgpu/amdgpu_pasid_allocated/enable", on ? "1" : "0");
	if (!r)
		r = trace_write("events/amdgpu/amdgpu_pasid_freed/enable", on ? "1" : "0");
	if (!r && on)
		r = trace_write("trace", "");
	return r;
}

/* Traced PASID events: allocations and frees, optionally of one PASID. */
static void trace_count(long pasid, long *allocated, long *freed)
{
	char path[128], line[512], want[32];
	FILE *f;

	*allocated = *freed = 0;
	snprintf(path, sizeof(path), "%s/trace", trace_dir);
	snprintf(want, sizeof(want), "pasid=%ld", pasid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p;

		if (line[0] == '#')
			continue;
		if (pasid >= 0) {
			p = strstr(line, want);
			if (!p || (p[strlen(want)] >= '0' && p[strlen(want)] <= '9'))
				continue;
		}
		if (strstr(line, "amdgpu_pasid_allocated:"))
			(*allocated)++;
		else if (strstr(line, "amdgpu_pasid_freed:"))
			(*freed)++;
	}
	fclose(f);
}

/* ---------------------------------------------------------- exec stages */

/*
 * The image that a check exec()s runs one of these instead of the suite.
 * It prints only INFO lines and reports through its exit status.
 */
static int stage_exec_cloexec(int contexts)
{
	int fd = open_kfd(), code = 0;

	if (fd < 0)
		return 1;
	if (contexts && create_context(fd))
		code |= 2;
	if (!pid_dir_exists(getpid()))
		code |= 4;
	if (contexts && !has_context(getpid(), 0))
		code |= 8;
	close(fd);
	return code;
}

static int distinct(const int *ids, int n)
{
	int i;

	for (i = 1; i < n; i++)
		if (ids[i] == ids[i - 1])
			return 0;
	return 1;
}

static int stage_exec_kept(int prim, int sec)
{
	int before[16], after[16], nb, na, i, j, r, fds[3], code = 0, live;

	/* The new image's own first context: proc/<pid>/context_0. */
	fds[0] = open_context();
	if (fds[0] < 0 || !has_context(getpid(), 0))
		code |= 1;
	if (root_contexts())
		code |= 2;

	/*
	 * The old image's primary fd: refused, or a context of this image,
	 * with an id of this image's primary: the next context created
	 * through a fresh open must get another id, both in proc/<pid>/.
	 */
	nb = list_contexts(getpid(), before, 16);
	r = create_context(prim);
	na = list_contexts(getpid(), after, 16);
	info("exec stage: CREATE_PROCESS on the kept primary fd = %s, contexts %d -> %d",
	     err_name(r), nb, na);
	fds[1] = open_context();
	live = list_contexts(getpid(), after, 16);
	if (r == 0 && (na != nb + 1 || live != na + 1 || !distinct(after, live)))
		code |= 4;
	if (r != 0 && live != nb + 1)
		code |= 16;

	/* The kept secondary closed, then another context. */
	close(sec);
	usleep(50000);
	fds[2] = open_context();
	na = list_contexts(getpid(), after, 16);
	if (!distinct(after, na))
		code |= 8;
	j = fds[2] >= 0;
	info("exec stage: %d contexts in proc/%d at the end (want %d), %d at the sysfs root",
	     na, getpid(), live + j, root_contexts());
	if (fds[1] < 0 || !j || na != live + j || root_contexts())
		code |= 16;
	for (i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	close(prim);
	return code;
}

static int run_stage(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[2], "exec-cloexec"))
		return stage_exec_cloexec(atoi(argv[3]));
	if (argc >= 5 && !strcmp(argv[2], "exec-kept"))
		return stage_exec_kept(atoi(argv[3]), atoi(argv[4]));
	return 127;
}

static void exec_self(const char *stage, int a, int b)
{
	char sa[16], sb[16];

	snprintf(sa, sizeof(sa), "%d", a);
	snprintf(sb, sizeof(sb), "%d", b);
	execl("/proc/self/exe", "kfd-conformance", "--stage", stage, sa, sb,
	      (char *)NULL);
	_exit(126);
}

/* --------------------------------------------------------- exec, exit */

static void check_exec(void)
{
	int status, code, bad, ms;
	pid_t child;

	/*
	 * Not without contexts: stock 6.12 already fails here (proc/<pid>
	 * still taken by the old image, then a use-after-free of the kobject
	 * that failed, which kills the release worker and hangs the VM).
	 */
	if (!have_contexts) {
		result(0, "exec-cloexec", "no contexts");
		result(0, "exec-kept-fds", "no contexts");
		result(0, "exec-kept-primary-create", "no contexts");
		return;
	}

	/* O_CLOEXEC contexts, then the new image opens /dev/kfd at once. */
	kmsg_mark();
	child = fork();
	if (child == 0) {
		int prim = open_kfd(), a = open_context(), b = open_context();

		if (prim < 0 || a < 0 || b < 0)
			_exit(64);
		exec_self("exec-cloexec", 1, 0);
	}
	waitpid(child, &status, 0);
	code = status_code(status);
	ms = wait_pid_dir_gone(child);
	bad = kmsg_bad("exec-cloexec");
	result(have_contexts && code == 0 && ms >= 0 && !bad, "exec-cloexec",
	       "after exec with O_CLOEXEC contexts the new image gets proc/<pid>/context_0 (code %d), dir gone %d ms after exit, %d bad kernel lines",
	       code, ms, bad);

	/* A primary and a secondary fd kept across exec (no O_CLOEXEC). */
	kmsg_mark();
	child = fork();
	if (child == 0) {
		int prim = open(KFD_DEV, O_RDWR), sec = open(KFD_DEV, O_RDWR);

		if (prim < 0 || sec < 0 || create_context(sec))
			_exit(64);
		exec_self("exec-kept", prim, sec);
	}
	waitpid(child, &status, 0);
	code = status_code(status);
	ms = wait_pid_dir_gone(child);
	bad = kmsg_bad("exec-kept-fds");
	result(have_contexts && code != 255 && code < 64 && !(code & ~4) &&
	       ms >= 0 && !bad, "exec-kept-fds",
	       "after exec with kept fds the new image's contexts live in proc/<pid>/, unique, none at the sysfs root (code %d), dir gone %d ms after exit, %d bad kernel lines",
	       code, ms, bad);
	result(have_contexts && code < 64 && !(code & 4), "exec-kept-primary-create",
	       "CREATE_PROCESS on a primary fd kept across exec is refused or makes a context of the new image (code %d)",
	       code);
}

struct leader_exit {
	int fd;
	int r;
};

/*
 * Whether the thread-group leader has exited: a zombie ('Z'), which it
 * becomes only after it gave up its mm.  A fixed sleep was not enough
 * under a loaded TCG host.
 */
static int leader_gone(void)
{
	char path[64], buf[256], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", getpid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = 0;
	p = strrchr(buf, ')');	/* the state follows "(comm)" */
	return p && (p[2] == 'Z' || p[2] == 'X');
}

static void *after_leader_exit(void *arg)
{
	struct leader_exit *le = arg;
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 1000 && !leader_gone(); i++)
		nanosleep(&ts, NULL);	/* the leader exits first */
	if (i == 1000)
		_exit(3);
	le->r = create_context(le->fd);
	/* exit_group: the status of the whole process */
	_exit(le->r == 0 ? 1 : le->r == -ESRCH ? 0 : 2);
	return NULL;
}

static void check_exit(void)
{
	int status, code, bad, ms, pfd[2], i;
	char c;
	pid_t child;

	/* The thread-group leader exits, a worker creates a context. */
	kmsg_mark();
	child = fork();
	if (child == 0) {
		static struct leader_exit le;
		pthread_t t;

		le.fd = open_kfd();
		if (le.fd < 0 || pthread_create(&t, NULL, after_leader_exit, &le))
			_exit(64);
		syscall(SYS_exit, 0);	/* only the leader */
	}
	waitpid(child, &status, 0);
	code = status_code(status);
	bad = kmsg_bad("exit-leader-create");
	result(have_contexts && (code == 0 || code == 2) && !bad,
	       "exit-leader-create",
	       "CREATE_PROCESS by a worker after the thread-group leader exited is refused (code %d: %s), %d bad kernel lines",
	       code, code == 0 ? "ESRCH" : code == 1 ? "created" :
	       code == 3 ? "the leader did not exit in 10 s" : "other error",
	       bad);

	/* SIGKILL a child holding contexts with mapped event pages. */
	kmsg_mark();
	if (pipe(pfd))
		pfd[0] = pfd[1] = -1;
	child = fork();
	if (child == 0) {
		for (i = 0; i < 8; i++) {
			struct kfd_ioctl_create_event_args ev;
			int fd = open_context();

			if (fd < 0 || create_event(fd, &ev) ||
			    mmap(NULL, EVENT_PAGE_SIZE, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd, ev.event_page_offset) == MAP_FAILED)
				_exit(64);
		}
		if (write(pfd[1], "r", 1) != 1)
			_exit(65);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	code = read(pfd[0], &c, 1) == 1 ? 0 : -1;
	close(pfd[0]);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	ms = wait_pid_dir_gone(child);
	bad = kmsg_bad("exit-killed");
	result(have_contexts && code == 0 && ms >= 0 && !bad, "exit-killed",
	       "a SIGKILLed child with 8 contexts and mapped event pages leaves no proc/<pid> (%d ms), %d bad kernel lines",
	       ms, bad);

	/* A forked child keeps its parent's secondary after the parent exits. */
	kmsg_mark();
	if (pipe(pfd))
		pfd[0] = pfd[1] = -1;
	child = fork();
	if (child == 0) {
		int fd = open_context(), rc;
		pid_t parent = getpid(), grandchild;

		if (fd < 0)
			_exit(64);
		grandchild = fork();
		if (grandchild == 0) {
			struct kfd_ioctl_get_version_args v;

			close(pfd[0]);
			while (getppid() == parent)
				usleep(5000);
			rc = xioctl(fd, AMDKFD_IOC_GET_VERSION, &v) == -EBADF ? 0 : 1;
			close(fd);
			if (wait_pid_dir_gone(parent) < 0)
				rc |= 2;
			c = '0' + rc;
			if (write(pfd[1], &c, 1) != 1)
				_exit(1);
			_exit(0);
		}
		_exit(0);
	}
	close(pfd[1]);
	waitpid(child, &status, 0);
	code = read(pfd[0], &c, 1) == 1 ? c - '0' : -1;
	close(pfd[0]);
	bad = kmsg_bad("exit-child-outlives-parent");
	result(have_contexts && code == 0 && !bad, "exit-child-outlives-parent",
	       "a forked child holding its parent's secondary outlives the parent: EBADF on it, close clean, parent's dir gone (code %d), %d bad kernel lines",
	       code, bad);

	/* A mapping keeps its context alive until munmap. */
	kmsg_mark();
	{
		struct kfd_ioctl_create_event_args ev;
		volatile uint64_t *page = MAP_FAILED;
		int fd, id, alive = 0, gone;

		id = new_context(&fd);
		if (fd >= 0 && id >= 0 && !create_event(fd, &ev))
			page = mmap(NULL, EVENT_PAGE_SIZE, PROT_READ | PROT_WRITE,
				    MAP_SHARED, fd, ev.event_page_offset);
		if (fd >= 0)
			close(fd);
		if (page != MAP_FAILED) {
			usleep(100000);
			alive = has_context(getpid(), id);
			page[ev.event_slot_index] = 0;
			munmap((void *)page, EVENT_PAGE_SIZE);
		}
		gone = id >= 0 ? wait_gone(id) : -1;
		bad = kmsg_bad("exit-mapping");
		result(have_contexts && alive && gone >= 0 && !bad,
		       "exit-mapping-keeps-context",
		       "context_%d stays while its event page is mapped after close (%s), gone %d ms after munmap",
		       id, alive ? "yes" : "no", gone);
	}
}

/* ---------------------------------------------------------- concurrency */

#define RACE_THREADS 8
#define CHURN_THREADS 4
#define CHURN_READERS 2
#define CHURN_SECONDS 4

struct racer {
	pthread_barrier_t *start;
	int fd;
	int r;
};

static void *race_create(void *arg)
{
	struct racer *rc = arg;

	pthread_barrier_wait(rc->start);
	rc->r = create_context(rc->fd);
	return NULL;
}

/* RACE_THREADS threads call CREATE_PROCESS at once, on @shared_fd or,
 * when it is negative, each on a fd of its own (left in @fds).
 */
static void race(int shared_fd, int *fds, int *r)
{
	struct racer rc[RACE_THREADS];
	pthread_barrier_t start;
	pthread_t t[RACE_THREADS];
	int i;

	pthread_barrier_init(&start, NULL, RACE_THREADS);
	for (i = 0; i < RACE_THREADS; i++) {
		rc[i].start = &start;
		rc[i].fd = shared_fd >= 0 ? shared_fd : (fds[i] = open_kfd());
		rc[i].r = -1;
	}
	for (i = 0; i < RACE_THREADS; i++)
		pthread_create(&t[i], NULL, race_create, &rc[i]);
	for (i = 0; i < RACE_THREADS; i++) {
		pthread_join(t[i], NULL);
		r[i] = rc[i].r;
	}
	pthread_barrier_destroy(&start);
}

struct churn {
	volatile int stop;
	int failures;
	long cycles;
	long reads;
};

struct churner {
	struct churn *ch;
	int keep[2];
};

static void *churn_thread(void *arg)
{
	struct churner *c = arg;
	int fd, slot = 0;

	while (!c->ch->stop) {
		fd = open_context();
		if (fd < 0) {
			__sync_fetch_and_add(&c->ch->failures, 1);
			usleep(1000);
			continue;
		}
		/* keep the newest two contexts, close the one before */
		if (c->keep[slot] >= 0)
			close(c->keep[slot]);
		c->keep[slot] = fd;
		slot ^= 1;
		__sync_fetch_and_add(&c->ch->cycles, 1);
	}
	return NULL;
}

static void *sysfs_reader(void *arg)
{
	struct churn *ch = arg;
	char path[128];
	int ids[MANY_CONTEXTS * 2], n, i;

	while (!ch->stop) {
		n = list_contexts(getpid(), ids, MANY_CONTEXTS * 2);
		for (i = 0; i < n; i++) {
			snprintf(path, sizeof(path), PROC_DIR "/%d/context_%d",
				 getpid(), ids[i]);
			read_pasid(path);
			__sync_fetch_and_add(&ch->reads, 1);
		}
	}
	return NULL;
}

static void check_concurrency(void)
{
	struct churner cs[CHURN_THREADS];
	pthread_t t[CHURN_THREADS + CHURN_READERS];
	int ids[MANY_CONTEXTS * 2], fds[RACE_THREADS], r[RACE_THREADS];
	int i, ok, einval, nb, na, dup, bad, fd, left, live, ms;
	static struct churn ch;
	double t0, t1;

	/* 8 threads race CREATE_PROCESS on one fd. */
	kmsg_mark();
	fd = open_kfd();
	nb = list_contexts(getpid(), ids, MANY_CONTEXTS * 2);
	race(fd, NULL, r);
	na = list_contexts(getpid(), ids, MANY_CONTEXTS * 2);
	for (i = ok = einval = 0; i < RACE_THREADS; i++) {
		ok += r[i] == 0;
		einval += r[i] == -EINVAL;
	}
	if (fd >= 0)
		close(fd);
	wait_gone(-1);
	bad = kmsg_bad("race-create-same-fd");
	result(have_contexts && ok == 1 && einval == RACE_THREADS - 1 &&
	       na == nb + 1 && !bad, "race-create-same-fd",
	       "%d threads CREATE_PROCESS on one fd: %d succeeded, %d EINVAL, %d new dirs, %d bad kernel lines",
	       RACE_THREADS, ok, einval, na - nb, bad);

	/* 8 threads, each on its own fd. */
	kmsg_mark();
	race(-1, fds, r);
	na = list_contexts(getpid(), ids, MANY_CONTEXTS * 2);
	for (i = ok = 0; i < RACE_THREADS; i++)
		ok += r[i] == 0;
	for (i = 1, dup = 0; i < na; i++)
		dup += ids[i] == ids[i - 1];
	for (i = 0; i < RACE_THREADS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	wait_gone(-1);
	bad = kmsg_bad("race-separate-fds");
	result(have_contexts && ok == RACE_THREADS && na == RACE_THREADS &&
	       !dup && !bad, "race-separate-fds",
	       "%d threads CREATE_PROCESS on their own fds: %d succeeded, %d dirs, %d duplicates, %d bad kernel lines",
	       RACE_THREADS, ok, na, dup, bad);

	/*
	 * Create/destroy churn on several threads while others read every
	 * context's pasid file, for a bounded time. Afterwards every live
	 * context has its directory and, once all are closed, none is left.
	 */
	kmsg_mark();
	memset(&ch, 0, sizeof(ch));
	for (i = 0; i < CHURN_THREADS; i++) {
		cs[i].ch = &ch;
		cs[i].keep[0] = cs[i].keep[1] = -1;
		pthread_create(&t[i], NULL, churn_thread, &cs[i]);
	}
	for (i = 0; i < CHURN_READERS; i++)
		pthread_create(&t[CHURN_THREADS + i], NULL, sysfs_reader, &ch);
	t0 = now_us();
	sleep(CHURN_SECONDS);
	ch.stop = 1;
	for (i = 0; i < CHURN_THREADS + CHURN_READERS; i++)
		pthread_join(t[i], NULL);
	t1 = now_us();
	for (i = live = 0; i < CHURN_THREADS; i++)
		live += (cs[i].keep[0] >= 0) + (cs[i].keep[1] >= 0);
	/* 7.x removes directories from its release work: let it settle */
	for (ms = 0; ms < 2000; ms += 10) {
		na = list_contexts(getpid(), ids, MANY_CONTEXTS * 2);
		if (na == live)
			break;
		usleep(10000);
	}
	for (i = 1, dup = 0; i < na; i++)
		dup += ids[i] == ids[i - 1];
	for (i = 0; i < CHURN_THREADS; i++) {
		if (cs[i].keep[0] >= 0)
			close(cs[i].keep[0]);
		if (cs[i].keep[1] >= 0)
			close(cs[i].keep[1]);
	}
	wait_gone(-1);
	left = list_contexts(getpid(), ids, MANY_CONTEXTS * 2);
	bad = kmsg_bad("race-churn-sysfs");
	info("churn: %ld cycles, %ld pasid reads, %d failed creates in %.1f s",
	     ch.cycles, ch.reads, ch.failures, (t1 - t0) / 1e6);
	result(have_contexts && ch.cycles > 0 && !ch.failures && na == live &&
	       !dup && !left && !bad, "race-churn-sysfs",
	       "%d threads churning contexts, %d reading pasid files: %d of %d live contexts have a dir, %d left after close, %d bad kernel lines",
	       CHURN_THREADS, CHURN_READERS, na, live, left, bad);
}

/* ----------------------------------------------- limits and exhaustion */

#define LIMIT_PARAM "/sys/module/amdgpu/parameters/kfd_max_contexts"
#define COST_BATCH 256

static long read_long(const char *path)
{
	char buf[32];
	long v = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

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

/* Whether every context takes a PASID of its own (6.12: the primary's
 * pasid file is non-zero; 7.x: PASIDs belong to process-devices).
 */
static int pasid_per_context(void)
{
	char dir[64];

	snprintf(dir, sizeof(dir), PROC_DIR "/%d", getpid());
	return read_pasid(dir) > 0;
}

struct fill {
	int *fds;
	int n;		/* contexts created */
	int err;	/* the failure that stopped it, 0 at @max */
	/* median create cost (open + CREATE_PROCESS) of the first and of
	 * the last full batch of COST_BATCH creates: medians, so that a
	 * busy host's hiccups do not count as cost growth
	 */
	double first_us, last_us;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* Create contexts until one fails or @max exist. */
static void fill_contexts(struct fill *f, int max)
{
	double t, batch[COST_BATCH];
	int fd;

	f->n = 0;
	f->err = 0;
	f->first_us = f->last_us = 0;
	while (f->n < max) {
		t = now_us();
		fd = open_context();
		t = now_us() - t;
		if (fd < 0) {
			f->err = fd;
			break;
		}
		batch[f->n % COST_BATCH] = t;
		f->fds[f->n++] = fd;
		if (f->n % COST_BATCH == 0) {
			f->last_us = median(batch, COST_BATCH);
			if (f->n == COST_BATCH)
				f->first_us = f->last_us;
		}
		if (f->n % 8192 == 0)
			info("fill: %d contexts, %.0f us per create", f->n, t);
	}
}

static void close_contexts(struct fill *f)
{
	int i;

	for (i = 0; i < f->n; i++)
		if (f->fds[i] >= 0)
			close(f->fds[i]);
	f->n = 0;
}

/* Wait until no context of this process is left, up to @secs. */
static int wait_all_gone(int secs)
{
	static int ids[1];
	int ms;

	for (ms = 0; ms <= secs * 1000; ms += 20) {
		if (!list_contexts(getpid(), ids, 1))
			return ms;
		usleep(20000);
	}
	return -1;
}

/* Another process can still get a context: 0 if so. */
static int other_process_creates(void)
{
	int status;
	pid_t child = fork();

	if (child == 0) {
		int fd = open_kfd();

		_exit(fd < 0 ? 1 : create_context(fd) ? 2 : 0);
	}
	waitpid(child, &status, 0);
	return status_code(status);
}

/*
 * With every context at the limit: close the one holding @idx and create
 * again at once. 0 when the new context got the freed id, no duplicate
 * directory appeared and the count is unchanged. Where contexts take a
 * PASID (6.12) the create must succeed at once; 7.x frees the id from its
 * release work, so there it may take up to 2 s (documented difference).
 */
static int reuse_at_once(struct fill *f, int *ids, int max, int idx)
{
	int n, i, dup, fd, ms, wait = !pasid_per_context();

	close(f->fds[idx]);
	f->fds[idx] = -1;
	for (ms = 0;; ms += 10) {
		fd = open_context();
		if (fd != -ENOSPC || !wait || ms >= 2000)
			break;
		usleep(10000);
	}
	if (fd < 0) {
		info("reuse: create right after close = %s (%d ms)", err_name(fd), ms);
		return 1;
	}
	if (ms)
		info("reuse: create succeeded %d ms after the close", ms);
	f->fds[idx] = fd;
	/* 7.x frees the id from its release work; its directory trails */
	usleep(200000);
	n = list_contexts(getpid(), ids, max);
	for (i = 1, dup = 0; i < n; i++)
		dup += ids[i] == ids[i - 1];
	info("reuse: %d dirs for %d contexts, %d duplicate ids, context_%d %s",
	     n, f->n, dup, idx, has_context(getpid(), idx) ? "present" : "missing");
	return n != f->n || dup || !has_context(getpid(), idx) ? 2 : 0;
}

static void check_limit(void)
{
	long limit = read_long(LIMIT_PARAM);
	int pasids = pasid_per_context(), max, lockout, reuse, bad;
	struct fill f;
	int *ids;
	double ratio;

	if (!have_contexts) {
		result(0, "context-limit", "no contexts");
		result(0, "limit-no-lockout", "no contexts");
		result(0, "limit-reuse-at-once", "no contexts");
		result(0, "create-cost-flat", "no contexts");
		return;
	}
	if (limit < 0 && !pasids) {
		/* 7.x: the id space bounds contexts; see --long */
		result(1, "context-limit", "no per-process bound; contexts take no PASID (checked to exhaustion in --long)");
		result(1, "limit-no-lockout", "contexts take no PASID: others cannot be locked out");
		result(1, "limit-reuse-at-once", "checked to exhaustion in --long");
		result(1, "create-cost-flat", "checked to exhaustion in --long");
		return;
	}
	max = limit > 0 ? limit + 16 : 4096;
	f.fds = calloc(max, sizeof(int));
	ids = calloc(max, sizeof(int));
	kmsg_mark();
	fill_contexts(&f, max);
	ratio = f.first_us > 0 ? f.last_us / f.first_us : 0;
	info("limit: %ld (%s); created %d, then %s; median create %.0f us (first %d) vs %.0f us (last %d)",
	     limit, LIMIT_PARAM, f.n, f.err ? err_name(f.err) : "stopped",
	     f.first_us, COST_BATCH, f.last_us, COST_BATCH);
	result(limit > 0 && f.n == limit && f.err == -ENOSPC, "context-limit",
	       limit > 0 ? "a process holds at most kfd_max_contexts=%ld secondaries (made %d, then %s)" :
	       "contexts take PASIDs of a shared 16-bit space but nothing bounds them per process (param %ld, made %d, %s)",
	       limit, f.n, f.err ? err_name(f.err) : "stopped");
	/*
	 * A create that walks the live contexts costs several times more at
	 * 3840 of them under TCG; a busy host moves medians by up to 2x.
	 */
	result(f.first_us > 0 && ratio <= 3.0, "create-cost-flat",
	       "create cost with %d live contexts %.0f us vs %.0f us with few (ratio %.2f, want <= 3)",
	       f.n - COST_BATCH, f.last_us, f.first_us, ratio);
	if (limit > 0 && f.n == limit) {
		lockout = other_process_creates();
		reuse = reuse_at_once(&f, ids, max, f.n / 2);
	} else {
		lockout = reuse = -1;
	}
	result(lockout == 0, "limit-no-lockout",
	       "at the limit another process still gets a context (code %d)", lockout);
	result(reuse == 0, "limit-reuse-at-once",
	       "at the limit, close one and create at once: same id, no duplicate (code %d)",
	       reuse);
	close_contexts(&f);
	wait_all_gone(30);
	bad = kmsg_bad("context-limit");
	if (bad)
		result(0, "limit-kernel-log", "%d bad kernel lines", bad);
	free(f.fds);
	free(ids);
}

/* Create until failure (--long: up to 70 000 contexts). */
static void check_exhaustion(void)
{
	struct rlimit rl = { 72000, 72000 };
	long limit = read_long(LIMIT_PARAM);
	int pasids = pasid_per_context(), max = 70000, want, lockout = -1;
	int reuse = -1, bad, ms, n;
	struct fill f;
	double t0;
	int *ids;

	if (setrlimit(RLIMIT_NOFILE, &rl))
		info("exhaustion: setrlimit(NOFILE, %ld): %s", (long)rl.rlim_cur,
		     strerror(errno));
	f.fds = calloc(max, sizeof(int));
	ids = calloc(max, sizeof(int));
	kmsg_mark();
	t0 = now_us();
	fill_contexts(&f, max);
	n = list_contexts(getpid(), ids, max);
	info("exhaustion: %d contexts in %.0f s, then %s; %d dirs, ids %d..%d; create %.0f us first vs %.0f us last",
	     f.n, (now_us() - t0) / 1e6, f.err ? err_name(f.err) : "stopped", n,
	     n ? ids[0] : -1, n ? ids[n - 1] : -1, f.first_us, f.last_us);
	/* ids 0..0xFFFE, or the module's bound; 6.12 without a bound stops
	 * where the PASID space runs out (documented difference)
	 */
	want = limit > 0 ? limit : pasids ? -1 : 0xFFFF;
	result(have_contexts && f.err == -ENOSPC && n == f.n &&
	       (want < 0 ? f.n > 1000 : f.n == want), "exhaustion",
	       "created %d contexts (want %d), then %s", f.n, want,
	       err_name(f.err));
	if (f.err) {
		lockout = other_process_creates();
		reuse = f.n > 100 ? reuse_at_once(&f, ids, max, 100) : -1;
	}
	result(lockout == 0, "exhaustion-no-lockout",
	       "with one process exhausted another still gets a context (code %d)",
	       lockout);
	result(reuse == 0, "exhaustion-reuse",
	       "after exhaustion, close context_100 and create at once: it is reused, no duplicate (code %d)",
	       reuse);
	t0 = now_us();
	close_contexts(&f);
	ms = wait_all_gone(300);
	bad = kmsg_bad("exhaustion");
	result(ms >= 0 && !bad, "exhaustion-teardown",
	       "all closed: dirs gone after %.0f s, %d bad kernel lines",
	       (now_us() - t0) / 1e6, bad);
	free(f.fds);
	free(ids);
}

/* ---------------------------------------------------------------- leaks */

/* Bytes of slab objects in use, from /proc/slabinfo. */
static long long slab_bytes(void)
{
	char line[512], name[64];
	long long sum = 0;
	FILE *f = fopen("/proc/slabinfo", "re");
	unsigned long active, total, size;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lu %lu %lu", name, &active, &total, &size) == 4)
			sum += (long long)active * size;
	fclose(f);
	return sum;
}

static long long mem_available(void)
{
	char line[256];
	long long kb = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

#define LEAK_CYCLES 10000

static void check_leaks(void)
{
	long long s0, s1, m0, m1;
	long allocated = 0, freed = 0;
	int i, fd, failures = 0, traced, bad, pasids = pasid_per_context();
	double t0;

	if (!have_contexts) {
		result(0, "leak-cycles", "no contexts");
		return;
	}
	kmsg_mark();
	/* warm up caches, then measure */
	for (i = 0; i < 200; i++) {
		fd = open_context();
		if (fd >= 0)
			close(fd);
	}
	wait_all_gone(10);
	sleep(1);
	traced = trace_pasids(1) == 0;
	s0 = slab_bytes();
	m0 = mem_available();
	t0 = now_us();
	for (i = 0; i < LEAK_CYCLES; i++) {
		fd = open_context();
		if (fd < 0) {
			failures++;
			continue;
		}
		close(fd);
	}
	t0 = now_us() - t0;
	wait_all_gone(60);
	sleep(1);
	s1 = slab_bytes();
	m1 = mem_available();
	if (traced) {
		trace_count(-1, &allocated, &freed);
		trace_pasids(0);
	}
	bad = kmsg_bad("leak-cycles");
	info("leaks: %d cycles in %.1f s (%.0f us each), %d failed; slab %+lld KiB, MemAvailable %+lld KiB; PASIDs traced %s: %ld allocated, %ld freed",
	     LEAK_CYCLES, t0 / 1e6, t0 / LEAK_CYCLES, failures,
	     (s1 - s0) / 1024, (m1 - m0) / 1024, traced ? "yes" : "no",
	     allocated, freed);
	result(!failures && s0 > 0 && s1 - s0 < 2048 * 1024 &&
	       m0 - m1 < 16 * 1024 * 1024 && !bad &&
	       (!pasids || (traced && allocated >= LEAK_CYCLES && allocated == freed)),
	       "leak-cycles",
	       "%d create/destroy cycles: slab %+lld KiB, MemAvailable %+lld KiB, PASIDs %ld allocated / %ld freed%s, %d bad kernel lines",
	       LEAK_CYCLES, (s1 - s0) / 1024, (m1 - m0) / 1024, allocated, freed,
	       pasids ? "" : " (no PASID per context)", bad);
}

/*
 * A context's PASID is free again when close() returns (6.12: PASID per
 * context; 7.x contexts without a GPU have none).
 */
static void check_pasid_free(void)
{
	char dir[96];
	long pasid, allocated, freed;
	int fd, id, traced;

	if (!have_contexts) {
		result(0, "pasid-freed-at-close", "no contexts");
		return;
	}
	if (!pasid_per_context()) {
		result(1, "pasid-freed-at-close", "contexts take no PASID (process-device PASIDs)");
		return;
	}
	traced = trace_pasids(1) == 0;
	id = new_context(&fd);
	snprintf(dir, sizeof(dir), PROC_DIR "/%d/context_%d", getpid(), id);
	pasid = read_pasid(dir);
	if (fd >= 0)
		close(fd);
	allocated = freed = 0;
	if (traced)
		trace_count(pasid, &allocated, &freed);
	if (traced)
		trace_pasids(0);
	result(traced && pasid > 0 && allocated == 1 && freed == 1,
	       "pasid-freed-at-close",
	       "PASID %ld of context_%d freed before close() returned (traced: %s, allocated %ld, freed %ld)",
	       pasid, id, traced ? "yes" : "no", allocated, freed);
}

/* ------------------------------------------- primary, foreign callers */

static void check_primary_secondary(void)
{
	struct kfd_ioctl_create_event_args ev;
	int prim = open_kfd(), prim2 = open_kfd(), sec, r1 = -1, r2 = -1, r3, r4 = -1;
	uint32_t wr = 0;

	sec = have_contexts ? open_context() : open_kfd();
	if (prim < 0 || prim2 < 0 || sec < 0) {
		result(0, "primary-secondary-events", "no fds");
		result(0, "two-opens-share-primary", "no fds");
		goto out;
	}
	/* an event of the secondary, named through the primary */
	if (!create_event(sec, &ev)) {
		r1 = event_op(prim, AMDKFD_IOC_SET_EVENT, ev.event_id);
		event_op(sec, AMDKFD_IOC_DESTROY_EVENT, ev.event_id);
	}
	/* an event of the primary, named through the secondary */
	if (!create_event(prim, &ev)) {
		r2 = event_op(sec, AMDKFD_IOC_SET_EVENT, ev.event_id);
		/* two plain opens share one primary */
		r3 = event_op(prim2, AMDKFD_IOC_SET_EVENT, ev.event_id);
		r4 = wait_event(prim, ev.event_id, 0, &wr);
		event_op(prim, AMDKFD_IOC_DESTROY_EVENT, ev.event_id);
		if (r3 || r4 || wr != KFD_IOC_WAIT_RESULT_COMPLETE)
			r4 = r3 ? r3 : r4 ? r4 : -1;
	}
	result(r1 == -EINVAL && r2 == -EINVAL, "primary-secondary-events",
	       "events do not cross primary <-> secondary (secondary's via primary: %s, primary's via secondary: %s)",
	       err_name(r1), err_name(r2));
	result(r4 == 0, "two-opens-share-primary",
	       "two plain opens share one primary: an event created on one is set through the other (%s)",
	       err_name(r4));
out:
	if (prim >= 0)
		close(prim);
	if (prim2 >= 0)
		close(prim2);
	if (sec >= 0)
		close(sec);
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c = 'f';
	struct iovec iov = { &c, 1 };
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;

	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov = { &c, 1 };
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	int fd = -1;

	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static void check_foreign(void)
{
	struct kfd_ioctl_create_event_args ev;
	int fd, status, code, sv[2], id, alive, gone, bad;
	char c;
	pid_t child;

	/* CREATE_PROCESS from a forked child on the parent's fd */
	fd = open_kfd();
	child = fork();
	if (child == 0)
		_exit(create_context(fd) == -EBADF && !pid_dir_exists(getpid()) ? 0 : 1);
	waitpid(child, &status, 0);
	code = status_code(status);
	result(code == 0, "foreign-fork-create",
	       "CREATE_PROCESS by a forked child on its parent's fd = EBADF, no proc/<child> (code %d)",
	       code);
	if (fd >= 0)
		close(fd);

	/* a secondary passed to another process with SCM_RIGHTS */
	kmsg_mark();
	id = new_context(&fd);
	if (fd < 0 || create_event(fd, &ev) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		result(0, "foreign-scm-rights", "no context or socket");
		if (fd >= 0)
			close(fd);
		return;
	}
	child = fork();
	if (child == 0) {
		struct kfd_ioctl_get_version_args v;
		int rfd = recv_fd(sv[1]), rc = 0;
		void *m;

		if (rfd < 0)
			_exit(64);
		if (xioctl(rfd, AMDKFD_IOC_GET_VERSION, &v) != -EBADF)
			rc |= 1;
		m = mmap(NULL, EVENT_PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, rfd, ev.event_page_offset);
		if (m != MAP_FAILED)
			rc |= 2;
		/* tell the sender, then wait until it closed its copy */
		c = 'r';
		if (write(sv[1], &c, 1) != 1 || read(sv[1], &c, 1) != 1)
			rc |= 4;
		close(rfd);
		c = 'c';
		if (write(sv[1], &c, 1) != 1)
			rc |= 8;
		_exit(rc);
	}
	send_fd(sv[0], fd);
	code = read(sv[0], &c, 1) == 1 ? 0 : -1;
	close(fd);
	usleep(100000);
	alive = has_context(getpid(), id);
	c = 'g';
	if (write(sv[0], &c, 1) != 1 || read(sv[0], &c, 1) != 1)
		code = -1;
	waitpid(child, &status, 0);
	gone = wait_gone(id);
	close(sv[0]);
	close(sv[1]);
	bad = kmsg_bad("foreign-scm-rights");
	code = code ? code : status_code(status);
	result(have_contexts && code == 0 && alive && gone >= 0 && !bad,
	       "foreign-scm-rights",
	       "a secondary passed by SCM_RIGHTS: EBADF on ioctl and mmap (code %d), alive while only the receiver holds it (%s), gone %d ms after it closes, %d bad kernel lines",
	       code, alive ? "yes" : "no", gone, bad);
}

/* Last: unload amdgpu with everything closed. */
static void check_rmmod(void)
{
	int r, bad;

	kmsg_mark();
	if (syscall(SYS_delete_module, "test_only_kfd_fake_gpu", O_NONBLOCK) &&
	    errno != ENOENT)
		info("rmmod test_only_kfd_fake_gpu: %s", strerror(errno));
	r = syscall(SYS_delete_module, "amdgpu", O_NONBLOCK) ? -errno : 0;
	usleep(200000);
	bad = kmsg_bad("rmmod");
	result(r == 0 && !bad, "rmmod",
	       "rmmod amdgpu at the end = %s, %d bad kernel lines", err_name(r), bad);
}

int main(int argc, char **argv)
{
	struct rlimit rl = { 4096, 4096 };
	int primary, long_run = 0, unload = 1, i;

	if (argc > 1 && !strcmp(argv[1], "--stage"))
		return run_stage(argc, argv);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--long")) {
			long_run = 1;
		} else if (!strcmp(argv[i], "--keep-loaded")) {
			/* the KFD is used after this program (check-host) */
			unload = 0;
		} else {
			fprintf(stderr, "usage: %s [--long] [--keep-loaded]\n", argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rl.rlim_cur = rl.rlim_max = 8192;
	setrlimit(RLIMIT_NOFILE, &rl);
	printf("kfd-conformance: pid %d%s\n", getpid(), long_run ? " (long)" : "");

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
	if (long_run) {
		check_exhaustion();
		report_left("exhaustion");
		goto out;
	}
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
	check_primary_secondary();
	report_left("primary-secondary");
	check_foreign();
	report_left("foreign");
	check_concurrency();
	report_left("concurrency");
	check_exec();
	check_exit();
	report_left("exit");
	check_pasid_free();
	check_limit();
	report_left("limit");
	check_leaks();
	report_left("leaks");
out:
	close(primary);
	if (unload)
		check_rmmod();

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
