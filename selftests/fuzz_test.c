// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_test.c: a structure-aware fuzzer of the KVM API, bounded and replayable.
 *
 * What it does. The program is a series of rounds; each round is one VMM: a
 * child process with FUZZ_THREADS threads that share a table of open objects
 * (/dev/kvm fds, VMs, vCPUs with their kvm_run mappings and stats fds,
 * eventfds). Every step a thread draws one operation from a weighted list and
 * applies it to a random live object of the right kind: create or close VMs
 * and vCPUs, add, move, resize, flag and delete memslots (also while another
 * thread is in KVM_RUN on that VM), every ioctl minikvm implements on
 * /dev/kvm, VM and vCPU fds (kmod/main.c, kmod/vm.c, kmod/vcpu.c, the
 * irqchip's) with valid, edge and garbage arguments, bad pointers, reads of
 * stats fds, madvise(MADV_DONTNEED) of guest memory, closes of fds other
 * threads are using, and signals to the other threads. KVM_RUN is bounded by
 * a per-thread timer signal (1-6 ms), so a guest that spins or halts forever
 * only costs that. The guest part writes random code (raw bytes or a soup of
 * instructions that exit: IN/OUT, string I/O, MMIO, CPUID, RDMSR/WRMSR, HLT,
 * VMMCALL, exceptions...) at GUEST_CODE_GPA and starts it in one of the four
 * modes of lib/modes.c (real, prot32, paged32, long64), with random general
 * registers, random MSR writes and a randomly mutated CPUID. The segment and
 * control registers come from those four consistent states with only
 * architecturally valid changes: random CR0/CR4/EFER bits made an emulated
 * CPU stall with the real kvm_amd too (Documentation/testing.rst, "Fuzzing"),
 * so they are off unless FUZZ_WILD=1. Some rounds end by closing everything
 * in order, some by exit() with everything open, some by SIGKILL from the
 * parent at a random moment.
 *
 * Reproducible. Every random choice comes from a per-thread xorshift
 * generator seeded from (seed, round, thread); an operation's arguments never
 * depend on what an earlier ioctl returned, only on the fuzzer's own table.
 * With FUZZ_THREADS=1 a seed therefore gives the same sequence of ioctls
 * (test 3 below checks that by running one round twice and comparing a hash
 * of every ioctl number and argument); with more threads each thread draws
 * the same numbers, but what it finds in the shared table depends on the
 * interleaving. The seed is printed first; replay a round with
 * FUZZ_SEED=<seed> FUZZ_FIRST_ROUND=<round> FUZZ_ROUNDS=1 and the same
 * FUZZ_THREADS.
 *
 * Bounded. FUZZ_SECS (total guest seconds; default 40, 15 in the VMX rig),
 * FUZZ_OPS (operations per thread per round, 20000), FUZZ_ROUNDS (0: as many
 * as the time allows), FUZZ_ROUND_SECS (5), FUZZ_THREADS (3), FUZZ_GUEST
 * (1: run guest code, the default when FUZZ_SECS is given, in the SVM rig
 * only; 0: ioctls only, the default inside the whole suite and in the VMX
 * rig, see main()), FUZZ_WILD (0).
 *
 * Judged. 1: every round's VMM ended (exit, or SIGKILL if asked to) and was
 * reaped within its limit: a VMM that SIGKILL cannot reap is a kernel hang.
 * 2: kernel memory back to its baseline after every VMM exited: VmallocUsed
 * and SUnreclaim of /proc/meminfo and the FOLL_PIN page count of /proc/vmstat
 * (nr_foll_pin_acquired - nr_foll_pin_released), baseline taken after a
 * warm-up round (caches, per-CPU slabs, cached thread stacks). Pins must come
 * back exactly; vmalloc within 512 KiB and slab within 2 MiB, because freed
 * kernel stacks stay cached per CPU and slab pages with free objects stay on
 * per-CPU partial lists. A leak of a few hundred bytes per VM still shows:
 * the run creates thousands. 3: the replay check above. Oopses, WARNs, BUGs
 * and hung tasks are the rig's to catch in the kernel log (parse-serial.sh).
 * The last lines give the figures: rounds, ioctls, KVM_RUNs and guest entries
 * (the vCPUs' "exits" statistic read before each close).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "vm.h"
#include "x86.h"

#define MAX_OBJS	48
#define MAX_THREADS	8
#define ARENA_SIZE	(8UL << 20)	/* host memory behind one VM's slots */
#define DIRTY_BUF_SIZE	(4UL << 20)	/* enough for a 128 GiB slot's bitmap */
#define SCRATCH_SIZE	(1UL << 20)
#define DIRTY_MAX_SIZE	(64ULL << 30)	/* dirty-logged slots stay under this */
#define SIG_TIMER	SIGUSR1
#define SIG_POKE	SIGUSR2

/* ---------------------------------------------------------------- settings */

static struct {
	uint64_t seed;
	double secs, round_secs;
	long ops, rounds, first_round;
	int threads, guest, wild;
} cfg;

static long env_long(const char *name, long def)
{
	const char *s = getenv(name);

	return s && *s ? strtol(s, NULL, 0) : def;
}

/* Counters shared by all VMM processes with the parent (a MAP_SHARED page). */
struct counters {
	uint64_t ioctls, runs, entries, vms, vcpus, ops;
	uint64_t trace_hash;	/* thread 0's ioctl sequence, for the replay check */
};
static struct counters *ctr;

/* ---------------------------------------------------------------- random */

struct rng {
	uint64_t s;
};

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static bool chance(struct rng *r, unsigned int one_in)
{
	return below(r, one_in) == 0;
}

/* A value for an integer argument: valid-looking, edge, or garbage. */
static uint64_t edge_val(struct rng *r)
{
	static const uint64_t edges[] = {
		0, 1, 2, 3, 7, 8, 0xff, 0x100, 0xfff, 0x1000, 0xffff, 0x10000,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
		0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL, ~0ULL - 1,
		0xfee00000, 0xfec00000, 0xc0000000,
	};

	switch (below(r, 4)) {
	case 0:
		return edges[below(r, ARRAY_SIZE(edges))];
	case 1:
		return below(r, 64);
	case 2:
		return 1ULL << below(r, 64);
	default:
		return rnd(r);
	}
}

/* ---------------------------------------------------------------- objects */

enum kind { K_FREE, K_SYS, K_VM, K_VCPU, K_EVFD };

struct obj {
	enum kind kind;
	int fd;
	int refs;
	bool dead;
	/* vCPUs */
	int vm;			/* index of the VM object (its arena) */
	uint32_t id;
	struct kvm_run *run;
	int stats_fd;
	/* VMs */
	uint8_t *arena;		/* ARENA_SIZE, never unmapped: slots point here */
};

static struct obj objs[MAX_OBJS];
static uint8_t *arenas[MAX_OBJS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static size_t run_size;
static struct kvm_sregs tmpl_sregs[NR_GUEST_MODES];
static struct kvm_cpuid2 *supported_cpuid;
static uint32_t msr_list[1024];
static int nr_msr_list;
static volatile int stop_all;
static pthread_t tids[MAX_THREADS];
static volatile pid_t ktids[MAX_THREADS];	/* 0 once the thread is done */
static void *bad_page;		/* PROT_NONE: a user pointer that faults */
static bool svm_host;		/* see fix_tr() */
static void fix_tr(struct kvm_sregs *sregs);

struct thr {
	struct rng r;
	int idx;
	uint64_t hash;
	uint8_t *scratch;	/* SCRATCH_SIZE: every "out" buffer */
	uint8_t *dirty;		/* DIRTY_BUF_SIZE */
	timer_t timer;
};

/* Every ioctl goes through here: counted and, for the replay check, hashed. */
static long fz_ioctl(struct thr *t, int fd, unsigned long nr, unsigned long arg)
{
	__atomic_add_fetch(&ctr->ioctls, 1, __ATOMIC_RELAXED);
	t->hash = splitmix(t->hash ^ nr ^ ((uint64_t)fd << 32));
	/* No SMI on SVM: see fix_tr(). */
	if (svm_host && nr == KVM_SMI) {
		errno = EINVAL;
		return -1;
	}
	return ioctl(fd, nr, arg);
}

static void hash_arg(struct thr *t, uint64_t v)
{
	t->hash = splitmix(t->hash ^ v);
}

/* A new object: a free table entry or -1 (the fd is closed then). */
static int obj_add(enum kind kind, int fd)
{
	int i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < MAX_OBJS; i++) {
		if (objs[i].kind == K_FREE) {
			memset(&objs[i], 0, sizeof(objs[i]));
			objs[i].kind = kind;
			objs[i].fd = fd;
			objs[i].stats_fd = -1;
			objs[i].refs = 1;	/* the creator's, until it is set up */
			pthread_mutex_unlock(&lock);
			return i;
		}
	}
	pthread_mutex_unlock(&lock);
	close(fd);
	return -1;
}

/* Take a reference to a random live object of @kind (-1: none). */
static int obj_get(struct thr *t, enum kind kind)
{
	int i, n, start = below(&t->r, MAX_OBJS);

	pthread_mutex_lock(&lock);
	for (n = 0; n < MAX_OBJS; n++) {
		i = (start + n) % MAX_OBJS;
		if (objs[i].kind == kind && !objs[i].dead) {
			objs[i].refs++;
			pthread_mutex_unlock(&lock);
			return i;
		}
	}
	pthread_mutex_unlock(&lock);
	return -1;
}

static void vcpu_count_entries(struct obj *o)
{
	struct vcpu v = { .fd = o->fd };
	int64_t exits = vcpu_stat(&v, "exits");

	if (exits > 0)
		__atomic_add_fetch(&ctr->entries, exits, __ATOMIC_RELAXED);
}

/* Called with the lock held, when a dead object's last reference goes. */
static void obj_free_locked(int i)
{
	struct obj *o = &objs[i];

	if (o->run)
		munmap(o->run, run_size);
	if (o->stats_fd >= 0)
		close(o->stats_fd);
	o->kind = K_FREE;
}

static void obj_put(int i)
{
	pthread_mutex_lock(&lock);
	if (--objs[i].refs == 0 && objs[i].dead)
		obj_free_locked(i);
	pthread_mutex_unlock(&lock);
}

/*
 * Close an object's fd now, even if another thread is inside an ioctl on it
 * (the kernel holds its own file reference for that); the mappings go when
 * the last user of the table entry is done.
 */
static void obj_close(int i)
{
	pthread_mutex_lock(&lock);
	if (!objs[i].dead) {
		objs[i].dead = true;
		if (objs[i].kind == K_VCPU)
			vcpu_count_entries(&objs[i]);
		close(objs[i].fd);
	}
	pthread_mutex_unlock(&lock);
	obj_put(i);
}

/* A pointer argument: mostly @good, sometimes one that faults. */
static unsigned long ptr_arg(struct thr *t, void *good)
{
	switch (below(&t->r, 24)) {
	case 0:
		return 0;
	case 1:
		return (unsigned long)bad_page;
	case 2:
		return 0xffff888000000000UL;	/* a kernel address */
	default:
		return (unsigned long)good;
	}
}

/* ---------------------------------------------------------------- /dev/kvm */

static void op_open_sys(struct thr *t)
{
	int fd = open(KVM_DEV_PATH, O_RDWR | O_CLOEXEC);

	hash_arg(t, 1);
	if (fd >= 0) {
		int i = obj_add(K_SYS, fd);

		if (i >= 0)
			obj_put(i);
	}
}

static void op_sys_ioctl(struct thr *t)
{
	int i = obj_get(t, K_SYS);
	uint8_t *s = t->scratch;
	int fd;

	if (i < 0)
		return;
	fd = objs[i].fd;
	switch (below(&t->r, 10)) {
	case 0:
		fz_ioctl(t, fd, KVM_GET_API_VERSION, 0);
		break;
	case 1: {
		uint64_t cap = chance(&t->r, 4) ? edge_val(&t->r) : below(&t->r, 240);

		hash_arg(t, cap);
		fz_ioctl(t, fd, KVM_CHECK_EXTENSION, cap);
		break;
	}
	case 2:
		fz_ioctl(t, fd, KVM_GET_VCPU_MMAP_SIZE, edge_val(&t->r));
		break;
	case 3:
	case 4: {
		struct kvm_msr_list *l = (void *)s;

		l->nmsrs = chance(&t->r, 2) ? below(&t->r, 2000) : edge_val(&t->r);
		hash_arg(t, l->nmsrs);
		fz_ioctl(t, fd, chance(&t->r, 2) ? KVM_GET_MSR_INDEX_LIST :
			 KVM_GET_MSR_FEATURE_INDEX_LIST, ptr_arg(t, l));
		break;
	}
	case 5: {
		struct kvm_cpuid2 *c = (void *)s;

		c->nent = chance(&t->r, 2) ? below(&t->r, 300) : edge_val(&t->r);
		hash_arg(t, c->nent);
		fz_ioctl(t, fd, KVM_GET_SUPPORTED_CPUID, ptr_arg(t, c));
		break;
	}
	case 6: {
		/* Feature MSRs through /dev/kvm. */
		struct kvm_msrs *m = (void *)s;
		uint32_t k;

		m->nmsrs = below(&t->r, 4) ? below(&t->r, 8) : edge_val(&t->r) & 0x3ff;
		for (k = 0; k < m->nmsrs && k < 8; k++)
			m->entries[k].index = nr_msr_list && chance(&t->r, 2) ?
				msr_list[below(&t->r, nr_msr_list)] : edge_val(&t->r);
		hash_arg(t, m->nmsrs);
		fz_ioctl(t, fd, KVM_GET_MSRS, ptr_arg(t, m));
		break;
	}
	case 7:
		fz_ioctl(t, fd, KVM_X86_GET_MCE_CAP_SUPPORTED, ptr_arg(t, s));
		break;
	case 8: {
		/* An ioctl number /dev/kvm does not have, or a vCPU one. */
		unsigned long nr = chance(&t->r, 2) ? KVM_RUN :
			_IOC(below(&t->r, 4), KVMIO, below(&t->r, 256), below(&t->r, 64));

		hash_arg(t, nr);
		fz_ioctl(t, fd, nr, ptr_arg(t, s));
		break;
	}
	default:
		fz_ioctl(t, fd, KVM_GET_TSC_KHZ, 0);
		break;
	}
	obj_put(i);
}

/* ---------------------------------------------------------------- VMs */

/* Slot 0 at GPA 0 with the tables of lib/modes.c written into the arena. */
static void vm_setup_memory(struct thr *t, int vmfd, uint8_t *arena)
{
	struct kvm_userspace_memory_region mr = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = GUEST_MEM_SIZE,
		.userspace_addr = (unsigned long)arena,
	};
	struct vm fake = { .nr_regions = 1 };

	fake.regions[0].size = GUEST_MEM_SIZE;
	fake.regions[0].hva = arena;
	memset(arena, 0, GUEST_FREE_GPA);	/* tables and code; the rest stays */
	vm_init_tables(&fake);
	fz_ioctl(t, vmfd, KVM_SET_USER_MEMORY_REGION, (unsigned long)&mr);
}

static void op_create_vm(struct thr *t)
{
	int si = obj_get(t, K_SYS), fd, i;
	unsigned long type = chance(&t->r, 16) ? edge_val(&t->r) : 0;

	if (si < 0)
		return;
	hash_arg(t, type);
	fd = fz_ioctl(t, objs[si].fd, KVM_CREATE_VM, type);
	obj_put(si);
	if (fd < 0)
		return;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	i = obj_add(K_VM, fd);
	if (i < 0)
		return;
	__atomic_add_fetch(&ctr->vms, 1, __ATOMIC_RELAXED);
	objs[i].arena = arenas[i];
	if (!chance(&t->r, 8))
		vm_setup_memory(t, fd, objs[i].arena);
	if (chance(&t->r, 2))
		fz_ioctl(t, fd, KVM_CREATE_IRQCHIP, 0);
	if (chance(&t->r, 3)) {
		struct kvm_pit_config pc = { .flags = below(&t->r, 2) };

		fz_ioctl(t, fd, KVM_CREATE_PIT2, (unsigned long)&pc);
	}
	obj_put(i);
}

static void op_create_vcpu(struct thr *t)
{
	int vi = obj_get(t, K_VM), fd, i;
	uint64_t id = chance(&t->r, 8) ? edge_val(&t->r) : below(&t->r, 6);
	void *run;

	if (vi < 0)
		return;
	hash_arg(t, id);
	fd = fz_ioctl(t, objs[vi].fd, KVM_CREATE_VCPU, id);
	if (fd < 0) {
		obj_put(vi);
		return;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	i = obj_add(K_VCPU, fd);
	if (i < 0) {
		if (run != MAP_FAILED)
			munmap(run, run_size);
		obj_put(vi);
		return;
	}
	__atomic_add_fetch(&ctr->vcpus, 1, __ATOMIC_RELAXED);
	objs[i].run = run == MAP_FAILED ? NULL : run;
	objs[i].vm = vi;
	objs[i].id = id;
	objs[i].arena = objs[vi].arena;
	obj_put(vi);
	obj_put(i);
}

static void op_memslot(struct thr *t)
{
	int vi = obj_get(t, K_VM);
	struct kvm_userspace_memory_region mr;
	uint64_t off, size;

	if (vi < 0)
		return;
	memset(&mr, 0, sizeof(mr));
	mr.slot = below(&t->r, 4) ? below(&t->r, 8) : edge_val(&t->r);
	if (chance(&t->r, 3))
		mr.slot |= below(&t->r, 4) << 16;	/* address space id */
	switch (below(&t->r, 6)) {
	case 0:		/* delete */
		size = 0;
		break;
	case 1:		/* garbage size, possibly huge or unaligned */
		size = edge_val(&t->r);
		if (size >> 40)
			size = chance(&t->r, 2) ? ((1ULL << 31) << 12) : size;
		break;
	default:
		size = (1 + below(&t->r, ARENA_SIZE / PAGE_SIZE / 2)) * PAGE_SIZE;
		break;
	}
	off = below(&t->r, ARENA_SIZE / PAGE_SIZE / 2) * PAGE_SIZE;
	mr.memory_size = size;
	mr.userspace_addr = (unsigned long)objs[vi].arena + off;
	if (chance(&t->r, 16))
		mr.userspace_addr = ptr_arg(t, (void *)(mr.userspace_addr + below(&t->r, 4096)));
	switch (below(&t->r, 5)) {
	case 0:
		mr.guest_phys_addr = edge_val(&t->r);
		break;
	case 1:
		mr.guest_phys_addr = 0;
		break;
	default:
		mr.guest_phys_addr = below(&t->r, 0x2000) * PAGE_SIZE;
		break;
	}
	mr.flags = below(&t->r, 3) ? 0 : below(&t->r, 4);
	if (chance(&t->r, 16))
		mr.flags = edge_val(&t->r);
	/* The dirty bitmaps the kernel fills must fit this fuzzer's buffer. */
	if ((mr.flags & KVM_MEM_LOG_DIRTY_PAGES) && size > DIRTY_MAX_SIZE)
		mr.flags &= ~KVM_MEM_LOG_DIRTY_PAGES;
	hash_arg(t, mr.slot);
	hash_arg(t, mr.flags);
	hash_arg(t, mr.guest_phys_addr);
	hash_arg(t, size);
	fz_ioctl(t, objs[vi].fd, KVM_SET_USER_MEMORY_REGION, (unsigned long)&mr);
	obj_put(vi);
}

static void op_vm_ioctl(struct thr *t)
{
	int vi = obj_get(t, K_VM), fd;
	uint8_t *s = t->scratch;
	unsigned int k, n;

	if (vi < 0)
		return;
	fd = objs[vi].fd;
	memset(s, 0, 8192);
	switch (below(&t->r, 26)) {
	case 0: {
		struct kvm_dirty_log *dl = (void *)s;

		dl->slot = below(&t->r, 4) ? below(&t->r, 8) : edge_val(&t->r);
		dl->dirty_bitmap = (void *)ptr_arg(t, t->dirty);
		hash_arg(t, dl->slot);
		fz_ioctl(t, fd, KVM_GET_DIRTY_LOG, (unsigned long)dl);
		break;
	}
	case 1:
		fz_ioctl(t, fd, KVM_CREATE_IRQCHIP, 0);
		break;
	case 2: {
		struct kvm_pit_config *pc = (void *)s;

		pc->flags = chance(&t->r, 4) ? edge_val(&t->r) : below(&t->r, 2);
		hash_arg(t, pc->flags);
		fz_ioctl(t, fd, chance(&t->r, 4) ? KVM_CREATE_PIT : KVM_CREATE_PIT2,
			 ptr_arg(t, pc));
		break;
	}
	case 3:
	case 4: {
		struct kvm_irqchip *c = (void *)s;

		c->chip_id = chance(&t->r, 8) ? edge_val(&t->r) : below(&t->r, 3);
		hash_arg(t, c->chip_id);
		if (fz_ioctl(t, fd, KVM_GET_IRQCHIP, ptr_arg(t, c)) == 0 || chance(&t->r, 2)) {
			/* Flip random bytes of what came back (or of garbage). */
			n = below(&t->r, 8);
			for (k = 0; k < n; k++)
				c->chip.dummy[below(&t->r, sizeof(c->chip.dummy))] = rnd(&t->r);
			fz_ioctl(t, fd, KVM_SET_IRQCHIP, ptr_arg(t, c));
		}
		break;
	}
	case 5: {
		struct kvm_pit_state2 *p = (void *)s;

		if (fz_ioctl(t, fd, KVM_GET_PIT2, ptr_arg(t, p)) == 0 || chance(&t->r, 2)) {
			n = below(&t->r, 6);
			for (k = 0; k < n; k++)
				s[below(&t->r, sizeof(*p))] = rnd(&t->r);
			fz_ioctl(t, fd, KVM_SET_PIT2, ptr_arg(t, p));
		}
		break;
	}
	case 6: {
		struct kvm_pit_state *p = (void *)s;

		fz_ioctl(t, fd, KVM_GET_PIT, ptr_arg(t, p));
		n = below(&t->r, 6);
		for (k = 0; k < n; k++)
			s[below(&t->r, sizeof(*p))] = rnd(&t->r);
		fz_ioctl(t, fd, KVM_SET_PIT, ptr_arg(t, p));
		break;
	}
	case 7: {
		struct kvm_irq_routing *rt = (void *)s;

		rt->nr = below(&t->r, 4) ? below(&t->r, 40) : edge_val(&t->r);
		rt->flags = chance(&t->r, 8) ? edge_val(&t->r) : 0;
		for (k = 0; k < rt->nr && k < 40; k++) {
			struct kvm_irq_routing_entry *e = &rt->entries[k];

			e->gsi = below(&t->r, 4) ? below(&t->r, 32) : edge_val(&t->r);
			e->type = below(&t->r, 4) ? 1 + below(&t->r, 2) : edge_val(&t->r);
			e->flags = chance(&t->r, 8) ? edge_val(&t->r) : 0;
			if (e->type == KVM_IRQ_ROUTING_IRQCHIP) {
				e->u.irqchip.irqchip = below(&t->r, 4);
				e->u.irqchip.pin = below(&t->r, 4) ? below(&t->r, 24) : edge_val(&t->r);
			} else {
				e->u.msi.address_lo = chance(&t->r, 2) ? 0xfee00000 | (below(&t->r, 16) << 12) :
					edge_val(&t->r);
				e->u.msi.address_hi = chance(&t->r, 4) ? edge_val(&t->r) : 0;
				e->u.msi.data = rnd(&t->r) & 0xffff;
			}
		}
		hash_arg(t, rt->nr);
		fz_ioctl(t, fd, KVM_SET_GSI_ROUTING, ptr_arg(t, rt));
		break;
	}
	case 8:
	case 9: {
		struct kvm_irq_level *l = (void *)s;

		l->irq = below(&t->r, 4) ? below(&t->r, 26) : edge_val(&t->r);
		l->level = below(&t->r, 2);
		hash_arg(t, l->irq);
		fz_ioctl(t, fd, chance(&t->r, 2) ? KVM_IRQ_LINE : KVM_IRQ_LINE_STATUS,
			 ptr_arg(t, l));
		break;
	}
	case 10: {
		struct kvm_msi *m = (void *)s;

		m->address_lo = chance(&t->r, 2) ? 0xfee00000 : edge_val(&t->r);
		m->address_hi = chance(&t->r, 4) ? edge_val(&t->r) : 0;
		m->data = rnd(&t->r);
		m->flags = chance(&t->r, 8) ? edge_val(&t->r) : 0;
		hash_arg(t, m->data);
		fz_ioctl(t, fd, KVM_SIGNAL_MSI, ptr_arg(t, m));
		break;
	}
	case 11: {
		struct kvm_irqfd *f = (void *)s;
		int ei = obj_get(t, K_EVFD), ri = obj_get(t, K_EVFD);

		f->fd = ei >= 0 ? objs[ei].fd : (int)edge_val(&t->r);
		f->gsi = below(&t->r, 4) ? below(&t->r, 32) : edge_val(&t->r);
		f->flags = below(&t->r, 4) ? below(&t->r, 4) : edge_val(&t->r);
		f->resamplefd = ri >= 0 ? objs[ri].fd : -1;
		hash_arg(t, f->gsi);
		hash_arg(t, f->flags);
		fz_ioctl(t, fd, KVM_IRQFD, ptr_arg(t, f));
		if (ei >= 0)
			obj_put(ei);
		if (ri >= 0)
			obj_put(ri);
		break;
	}
	case 12: {
		struct kvm_ioeventfd *f = (void *)s;
		int ei = obj_get(t, K_EVFD);
		static const uint32_t lens[] = { 0, 1, 2, 4, 8, 3, 16 };

		f->fd = ei >= 0 ? objs[ei].fd : (int)edge_val(&t->r);
		f->addr = chance(&t->r, 2) ? below(&t->r, 0x100) : edge_val(&t->r);
		f->len = lens[below(&t->r, ARRAY_SIZE(lens))];
		f->flags = below(&t->r, 4) ? below(&t->r, 16) : edge_val(&t->r);
		f->datamatch = below(&t->r, 4);
		hash_arg(t, f->addr);
		hash_arg(t, f->flags);
		fz_ioctl(t, fd, KVM_IOEVENTFD, ptr_arg(t, f));
		if (ei >= 0)
			obj_put(ei);
		break;
	}
	case 13:
		fz_ioctl(t, fd, KVM_SET_TSS_ADDR, chance(&t->r, 2) ? 0xfffbd000 : edge_val(&t->r));
		break;
	case 14: {
		uint64_t *a = (void *)s;

		*a = chance(&t->r, 2) ? 0xfffbc000 : edge_val(&t->r);
		fz_ioctl(t, fd, KVM_SET_IDENTITY_MAP_ADDR, ptr_arg(t, a));
		break;
	}
	case 15: {
		struct kvm_clock_data *c = (void *)s;

		fz_ioctl(t, fd, KVM_GET_CLOCK, ptr_arg(t, c));
		if (chance(&t->r, 2))
			c->clock = edge_val(&t->r);
		c->flags = chance(&t->r, 2) ? 0 : edge_val(&t->r);
		fz_ioctl(t, fd, KVM_SET_CLOCK, ptr_arg(t, c));
		break;
	}
	case 16: {
		struct kvm_reinject_control *rc = (void *)s;

		rc->pit_reinject = below(&t->r, 2);
		fz_ioctl(t, fd, KVM_REINJECT_CONTROL, ptr_arg(t, rc));
		break;
	}
	case 17:
		fz_ioctl(t, fd, KVM_SET_BOOT_CPU_ID, chance(&t->r, 2) ? below(&t->r, 4) :
			 edge_val(&t->r));
		break;
	case 18: {
		struct kvm_enable_cap *c = (void *)s;
		static const uint32_t caps[] = {
			KVM_CAP_DISABLE_QUIRKS2, KVM_CAP_X86_USER_SPACE_MSR,
			KVM_CAP_MSR_PLATFORM_INFO, KVM_CAP_SPLIT_IRQCHIP,
			KVM_CAP_MAX_VCPU_ID, KVM_CAP_ENFORCE_PV_FEATURE_CPUID,
			KVM_CAP_X86_DISABLE_EXITS, KVM_CAP_HALT_POLL,
		};

		c->cap = chance(&t->r, 8) ? edge_val(&t->r) : caps[below(&t->r, ARRAY_SIZE(caps))];
		c->flags = chance(&t->r, 8) ? edge_val(&t->r) : 0;
		c->args[0] = chance(&t->r, 2) ? below(&t->r, 32) : edge_val(&t->r);
		c->args[1] = chance(&t->r, 4) ? edge_val(&t->r) : 0;
		hash_arg(t, c->cap);
		hash_arg(t, c->args[0]);
		fz_ioctl(t, fd, KVM_ENABLE_CAP, ptr_arg(t, c));
		break;
	}
	case 19: {
		struct kvm_msr_filter *f = (void *)s;
		uint8_t *bitmap = s + 4096;

		f->flags = chance(&t->r, 8) ? edge_val(&t->r) : below(&t->r, 2);
		n = below(&t->r, KVM_MSR_FILTER_MAX_RANGES + 1);
		for (k = 0; k < n; k++) {
			f->ranges[k].flags = chance(&t->r, 8) ? edge_val(&t->r) : 1 + below(&t->r, 3);
			f->ranges[k].base = chance(&t->r, 2) && nr_msr_list ?
				msr_list[below(&t->r, nr_msr_list)] : edge_val(&t->r);
			/* The bitmap is 4 KiB: at most 32768 MSRs. */
			f->ranges[k].nmsrs = chance(&t->r, 8) ? 0 : 1 + below(&t->r, 32768);
			f->ranges[k].bitmap = (void *)ptr_arg(t, bitmap);
		}
		for (k = 0; k < 64; k++)
			bitmap[below(&t->r, 4096)] = rnd(&t->r);
		hash_arg(t, f->flags);
		hash_arg(t, n);
		fz_ioctl(t, fd, KVM_X86_SET_MSR_FILTER, ptr_arg(t, f));
		break;
	}
	case 20: {
		int sfd = fz_ioctl(t, fd, KVM_GET_STATS_FD, 0);

		if (sfd >= 0) {
			pread(sfd, s, below(&t->r, 4096), chance(&t->r, 2) ? below(&t->r, 512) :
			      edge_val(&t->r) & 0x7fffffffffffffffULL);
			close(sfd);
		}
		break;
	}
	case 21:
		fz_ioctl(t, fd, KVM_SET_NR_MMU_PAGES, edge_val(&t->r));
		fz_ioctl(t, fd, KVM_GET_NR_MMU_PAGES, 0);
		break;
	case 22: {
		uint64_t cap = chance(&t->r, 4) ? edge_val(&t->r) : below(&t->r, 240);

		hash_arg(t, cap);
		fz_ioctl(t, fd, KVM_CHECK_EXTENSION, cap);
		break;
	}
	case 23: {
		unsigned long nr = _IOC(below(&t->r, 4), KVMIO, below(&t->r, 256),
					below(&t->r, 128));

		hash_arg(t, nr);
		fz_ioctl(t, fd, nr, ptr_arg(t, s));
		break;
	}
	case 24: {
		/* Throw guest memory away under the guest's feet. */
		off_t off = below(&t->r, ARENA_SIZE / PAGE_SIZE) * PAGE_SIZE;
		size_t len = (1 + below(&t->r, 64)) * PAGE_SIZE;

		hash_arg(t, off);
		if (off + len > ARENA_SIZE)
			len = ARENA_SIZE - off;
		madvise(objs[vi].arena + off, len, MADV_DONTNEED);
		break;
	}
	default:
		vm_setup_memory(t, fd, objs[vi].arena);
		break;
	}
	obj_put(vi);
}

/* ---------------------------------------------------------------- guest code */

/* Instructions that leave the guest or exercise the emulator, any mode. */
static const struct { uint8_t len, b[6]; } soup[] = {
	{ 2, { 0xe6, 0x80 } },		/* out $0x80, %al */
	{ 2, { 0xe4, 0x61 } },		/* in $0x61, %al */
	{ 1, { 0xee } },		/* out %al, %dx */
	{ 1, { 0xed } },		/* in %dx, %eax */
	{ 2, { 0xf3, 0x6e } },		/* rep outsb */
	{ 2, { 0xf3, 0x6c } },		/* rep insb */
	{ 2, { 0x0f, 0xa2 } },		/* cpuid */
	{ 2, { 0x0f, 0x32 } },		/* rdmsr */
	{ 2, { 0x0f, 0x30 } },		/* wrmsr */
	{ 2, { 0x0f, 0x31 } },		/* rdtsc */
	{ 1, { 0xf4 } },		/* hlt */
	{ 1, { 0xfb } },		/* sti */
	{ 1, { 0xfa } },		/* cli */
	{ 1, { 0xcc } },		/* int3 */
	{ 2, { 0x0f, 0x0b } },		/* ud2 */
	{ 3, { 0x0f, 0x01, 0xd9 } },	/* vmmcall */
	{ 3, { 0x0f, 0x01, 0xc1 } },	/* vmcall */
	{ 3, { 0x0f, 0x01, 0xd1 } },	/* xsetbv */
	{ 2, { 0xf3, 0x90 } },		/* pause */
	{ 2, { 0x0f, 0x09 } },		/* wbinvd */
	{ 3, { 0x0f, 0x20, 0xc0 } },	/* mov %cr0, %eax */
	{ 3, { 0x0f, 0x22, 0xd8 } },	/* mov %eax, %cr3 */
	{ 3, { 0x0f, 0x22, 0xe0 } },	/* mov %eax, %cr4 */
	{ 3, { 0x0f, 0x23, 0xf8 } },	/* mov %eax, %dr7 */
	{ 2, { 0x89, 0x00 } },		/* mov %eax, (%eax): MMIO if unmapped */
	{ 2, { 0x8b, 0x01 } },		/* mov (%ecx), %eax */
	{ 2, { 0xa5, 0x90 } },		/* movs */
	{ 2, { 0xcd, 0x0d } },		/* int $13 */
	{ 1, { 0xcf } },		/* iret */
	{ 2, { 0xeb, 0xfe } },		/* jmp . */
	{ 2, { 0x0f, 0x33 } },		/* rdpmc */
	{ 3, { 0x0f, 0x01, 0xc8 } },	/* monitor */
	{ 3, { 0x0f, 0x01, 0xc9 } },	/* mwait */
	{ 2, { 0x0f, 0x06 } },		/* clts */
	{ 3, { 0x0f, 0x01, 0xf8 } },	/* swapgs */
	{ 2, { 0x0f, 0x05 } },		/* syscall */
	{ 3, { 0x0f, 0x00, 0xd8 } },	/* ltr %ax */
	{ 3, { 0x0f, 0x01, 0x38 } },	/* invlpg (%eax) */
};

static void write_code(struct thr *t, uint8_t *code, size_t size)
{
	size_t p = 0;

	if (chance(&t->r, 4)) {
		for (p = 0; p < size; p++)
			code[p] = rnd(&t->r);
		return;
	}
	while (p + 8 < size) {
		switch (below(&t->r, 4)) {
		case 0: {		/* mov $imm32, %eax/%ecx/%edx */
			uint32_t v = edge_val(&t->r);

			code[p++] = 0xb8 + below(&t->r, 3);
			memcpy(code + p, &v, 4);
			p += 4;
			break;
		}
		default: {
			unsigned int k = below(&t->r, ARRAY_SIZE(soup));

			memcpy(code + p, soup[k].b, soup[k].len);
			p += soup[k].len;
			break;
		}
		}
	}
	while (p < size)
		code[p++] = 0xf4;
}

static const uint32_t fuzz_msrs[] = {
	0x10, 0x1b, 0x3a, 0x48, 0x8b, 0xc1, 0x174, 0x175, 0x176, 0x179, 0x17a,
	0x1a0, 0x1d9, 0x200, 0x201, 0x250, 0x277, 0x2ff, 0x6e0, 0x400, 0x401,
	0x802, 0x808, 0x80b, 0x830, 0x838, 0xc0000081, 0xc0000082, 0xc0000083,
	0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103, 0xc0010015,
	0xc0010117, 0x4b564d00, 0x4b564d01, 0x4b564d02, 0x4b564d03, 0x4b564d04,
	0x40000000, 0xffffffff,
};

/* Give the vCPU a mode, registers, code and random MSRs / CPUID. */
static void prepare_guest(struct thr *t, int fd, uint8_t *arena)
{
	enum guest_mode mode = below(&t->r, NR_GUEST_MODES);
	struct kvm_sregs sregs = tmpl_sregs[mode];
	struct kvm_regs regs;
	uint64_t *g = (uint64_t *)&regs;
	unsigned int k;

	hash_arg(t, mode);
	write_code(t, arena + GUEST_CODE_GPA, 4096);
	/* Sometimes IDT gates into the code (exceptions loop through it). */
	if (mode != MODE_REAL && chance(&t->r, 2)) {
		struct vm fake = { .nr_regions = 1 };

		fake.regions[0].size = GUEST_MEM_SIZE;
		fake.regions[0].hva = arena;
		for (k = 0; k < 32; k++)
			vm_set_idt_gate(&fake, mode, k, GUEST_CODE_GPA + below(&t->r, 4096));
	}
	if (chance(&t->r, 2)) {
		/* Valid changes only: features the mode does not depend on. */
		sregs.cr0 ^= chance(&t->r, 2) ? X86_CR0_WP : 0;
		sregs.cr0 |= chance(&t->r, 4) ? X86_CR0_MP : 0;
		if (mode != MODE_REAL)
			sregs.cr4 |= (chance(&t->r, 2) ? X86_CR4_OSFXSR : 0) |
				     (chance(&t->r, 4) ? X86_CR4_MCE : 0) |
				     (chance(&t->r, 4) ? (1UL << 7) : 0);	/* PGE */
		if (mode == MODE_LONG64)
			sregs.efer |= (chance(&t->r, 2) ? EFER_SCE : 0) |
				      (chance(&t->r, 2) ? EFER_NXE : 0);
		sregs.apic_base = chance(&t->r, 8) ? edge_val(&t->r) : sregs.apic_base;
	}
	if (cfg.wild && chance(&t->r, 2)) {
		sregs.cr0 ^= 1ULL << below(&t->r, 32);
		sregs.cr4 ^= 1ULL << below(&t->r, 24);
		sregs.efer ^= 1ULL << below(&t->r, 16);
		sregs.cr3 = chance(&t->r, 2) ? sregs.cr3 : edge_val(&t->r);
	}
	fix_tr(&sregs);
	fz_ioctl(t, fd, KVM_SET_SREGS, (unsigned long)&sregs);

	for (k = 0; k < sizeof(regs) / 8; k++)
		g[k] = chance(&t->r, 2) ? edge_val(&t->r) : below(&t->r, 0x20000);
	regs.rip = mode == MODE_REAL ? below(&t->r, 16) : GUEST_CODE_GPA + below(&t->r, 16);
	regs.rsp = GUEST_STACK_TOP;
	regs.rflags = X86_RFLAGS_FIXED | (rnd(&t->r) & 0xcd5) |
		      (chance(&t->r, 2) ? X86_RFLAGS_IF : 0) |
		      (chance(&t->r, 16) ? (1UL << 8) : 0);	/* TF */
	fz_ioctl(t, fd, KVM_SET_REGS, (unsigned long)&regs);

	if (chance(&t->r, 2)) {
		struct {
			struct kvm_msrs hdr;
			struct kvm_msr_entry e[4];
		} m;

		memset(&m, 0, sizeof(m));
		m.hdr.nmsrs = 1 + below(&t->r, 4);
		for (k = 0; k < m.hdr.nmsrs; k++) {
			m.e[k].index = fuzz_msrs[below(&t->r, ARRAY_SIZE(fuzz_msrs))];
			m.e[k].data = edge_val(&t->r);
		}
		fz_ioctl(t, fd, KVM_SET_MSRS, (unsigned long)&m);
	}
}

static void set_cpuid(struct thr *t, int fd)
{
	struct kvm_cpuid2 *c = (void *)t->scratch;
	unsigned int k, n;

	if (!supported_cpuid)
		return;
	memcpy(c, supported_cpuid, sizeof(*c) + supported_cpuid->nent * sizeof(c->entries[0]));
	switch (below(&t->r, 4)) {
	case 0:
		c->nent = below(&t->r, c->nent + 1);	/* drop the tail */
		break;
	case 1:
		n = below(&t->r, 8);
		for (k = 0; k < n && c->nent; k++) {
			struct kvm_cpuid_entry2 *e = &c->entries[below(&t->r, c->nent)];
			uint32_t *w = &e->eax + below(&t->r, 4);

			*w ^= 1u << below(&t->r, 32);
		}
		break;
	case 2:
		c->nent = edge_val(&t->r);	/* the kernel must refuse or bound it */
		if (c->nent > 1000)
			c->nent = 1000 + below(&t->r, 2) * 0x7fffff00;
		break;
	default:
		break;
	}
	hash_arg(t, c->nent);
	fz_ioctl(t, fd, KVM_SET_CPUID2, ptr_arg(t, c));
}

/* ---------------------------------------------------------------- vCPUs */

/*
 * Periodic, not one-shot: a signal that comes between timer_settime() and
 * the entry into KVM_RUN is taken in user mode, and a one-shot timer would
 * then leave a halted or spinning guest running for ever.
 */
static void arm_timer(struct thr *t, long ns)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = 0, .tv_nsec = ns },
		.it_interval = { .tv_sec = 0, .tv_nsec = ns },
	};

	timer_settime(t->timer, 0, &its, NULL);
}

static void op_run(struct thr *t)
{
	int ci = obj_get(t, K_VCPU), fd;
	struct kvm_run *run;

	if (ci < 0)
		return;
	fd = objs[ci].fd;
	run = objs[ci].run;
	if (cfg.guest && objs[ci].arena && chance(&t->r, 3))
		prepare_guest(t, fd, objs[ci].arena);
	if (run) {
		run->immediate_exit = chance(&t->r, 16);
		if (chance(&t->r, 8)) {
			run->kvm_valid_regs = below(&t->r, 8);
			run->kvm_dirty_regs = chance(&t->r, 4) ? edge_val(&t->r) : 0;
			/*
			 * Segment registers that come in through the sync area
			 * need the TR fix too: an all-zero TR from it aborted
			 * QEMU ("qemu: fatal: invalid tss", seed 0x7007, round 68
			 * of a long run).
			 */
			if (run->kvm_dirty_regs & KVM_SYNC_X86_SREGS)
				fix_tr(&run->s.regs.sregs);
		}
		run->request_interrupt_window = chance(&t->r, 8);
	}
	/*
	 * The reset state (and an INIT) leaves a busy TSS type in TR, and
	 * KVM_SET_MSRS may have set EFER.LME with paging off, which the SVM
	 * rig's emulator cannot take (fix_tr()): put the template's TR back,
	 * outside the count and the replay hash, like the rig's own workaround.
	 */
	if (svm_host) {
		struct kvm_sregs sr;

		if (ioctl(fd, KVM_GET_SREGS, &sr) == 0 &&
		    (sr.tr.type != SEG_TYPE_TSS_AVAIL ||
		     ((sr.efer & EFER_LME) && !(sr.cr0 & X86_CR0_PG)))) {
			fix_tr(&sr);
			ioctl(fd, KVM_SET_SREGS, &sr);
		}
	}
	/* Without guest code, the vCPU runs whatever its memory holds (zeros). */
	arm_timer(t, 1000000 + below(&t->r, 6) * 1000000);
	__atomic_add_fetch(&ctr->runs, 1, __ATOMIC_RELAXED);
	fz_ioctl(t, fd, KVM_RUN, 0);
	arm_timer(t, 0);
	obj_put(ci);
}

static void op_vcpu_ioctl(struct thr *t)
{
	int ci = obj_get(t, K_VCPU), fd;
	uint8_t *s = t->scratch;
	unsigned int k, n;

	if (ci < 0)
		return;
	fd = objs[ci].fd;
	memset(s, 0, 16384);
	switch (below(&t->r, 28)) {
	case 0: {
		struct kvm_regs *r = (void *)s;

		fz_ioctl(t, fd, KVM_GET_REGS, ptr_arg(t, r));
		n = below(&t->r, 4);
		for (k = 0; k < n; k++)
			((uint64_t *)r)[below(&t->r, sizeof(*r) / 8)] = edge_val(&t->r);
		fz_ioctl(t, fd, KVM_SET_REGS, ptr_arg(t, r));
		break;
	}
	case 1:
	case 2: {
		struct kvm_sregs *sr = (void *)s;

		*sr = tmpl_sregs[below(&t->r, NR_GUEST_MODES)];
		if (chance(&t->r, 2)) {
			/* Bytes of the state: segments, descriptor tables, apic_base... */
			n = 1 + below(&t->r, 3);
			for (k = 0; k < n; k++)
				s[below(&t->r, sizeof(*sr))] = rnd(&t->r);
		}
		fix_tr(sr);
		fz_ioctl(t, fd, KVM_SET_SREGS, ptr_arg(t, sr));
		fz_ioctl(t, fd, KVM_GET_SREGS, ptr_arg(t, sr));
		break;
	}
	case 3:
	case 4: {
		struct kvm_msrs *m = (void *)s;

		m->nmsrs = below(&t->r, 8) ? 1 + below(&t->r, 8) : edge_val(&t->r) & 0x1ff;
		for (k = 0; k < m->nmsrs && k < 8; k++) {
			m->entries[k].index = chance(&t->r, 3) && nr_msr_list ?
				msr_list[below(&t->r, nr_msr_list)] :
				chance(&t->r, 2) ? fuzz_msrs[below(&t->r, ARRAY_SIZE(fuzz_msrs))] :
				edge_val(&t->r);
			m->entries[k].data = edge_val(&t->r);
		}
		hash_arg(t, m->nmsrs);
		fz_ioctl(t, fd, chance(&t->r, 2) ? KVM_GET_MSRS : KVM_SET_MSRS, ptr_arg(t, m));
		break;
	}
	case 5:
		set_cpuid(t, fd);
		break;
	case 6: {
		struct kvm_cpuid2 *c = (void *)s;

		c->nent = chance(&t->r, 2) ? below(&t->r, 300) : edge_val(&t->r);
		if (c->nent > 4000)	/* the buffer: 16 KiB cleared, 1 MiB in all */
			c->nent = 4000;
		fz_ioctl(t, fd, KVM_GET_CPUID2, ptr_arg(t, c));
		break;
	}
	case 7: {
		struct kvm_fpu *f = (void *)s;

		fz_ioctl(t, fd, KVM_GET_FPU, ptr_arg(t, f));
		s[below(&t->r, sizeof(*f))] = rnd(&t->r);
		fz_ioctl(t, fd, KVM_SET_FPU, ptr_arg(t, f));
		break;
	}
	case 8:
	case 9: {
		struct kvm_xsave *x = (void *)s;

		fz_ioctl(t, fd, chance(&t->r, 2) ? KVM_GET_XSAVE : KVM_GET_XSAVE2, ptr_arg(t, x));
		n = below(&t->r, 6);
		for (k = 0; k < n; k++)
			s[below(&t->r, below(&t->r, 2) ? 600 : 4096)] = rnd(&t->r);
		fz_ioctl(t, fd, KVM_SET_XSAVE, ptr_arg(t, x));
		break;
	}
	case 10: {
		struct kvm_xcrs *x = (void *)s;

		fz_ioctl(t, fd, KVM_GET_XCRS, ptr_arg(t, x));
		x->nr_xcrs = chance(&t->r, 4) ? edge_val(&t->r) : 1;
		x->xcrs[0].xcr = chance(&t->r, 4) ? edge_val(&t->r) : 0;
		x->xcrs[0].value = chance(&t->r, 2) ? below(&t->r, 8) : edge_val(&t->r);
		fz_ioctl(t, fd, KVM_SET_XCRS, ptr_arg(t, x));
		break;
	}
	case 11:
	case 12: {
		struct kvm_lapic_state *l = (void *)s;

		fz_ioctl(t, fd, KVM_GET_LAPIC, ptr_arg(t, l));
		n = below(&t->r, 8);
		for (k = 0; k < n; k++)
			*(uint32_t *)&l->regs[below(&t->r, KVM_APIC_REG_SIZE / 16) * 16] =
				edge_val(&t->r);
		fz_ioctl(t, fd, KVM_SET_LAPIC, ptr_arg(t, l));
		break;
	}
	case 13: {
		struct kvm_mp_state *m = (void *)s;

		m->mp_state = chance(&t->r, 4) ? edge_val(&t->r) : below(&t->r, 9);
		hash_arg(t, m->mp_state);
		fz_ioctl(t, fd, chance(&t->r, 2) ? KVM_SET_MP_STATE : KVM_GET_MP_STATE,
			 ptr_arg(t, m));
		break;
	}
	case 14:
	case 15: {
		struct kvm_vcpu_events *e = (void *)s;

		fz_ioctl(t, fd, KVM_GET_VCPU_EVENTS, ptr_arg(t, e));
		n = 1 + below(&t->r, 4);
		for (k = 0; k < n; k++)
			s[below(&t->r, sizeof(*e))] = below(&t->r, 2) ? rnd(&t->r) : below(&t->r, 2);
		if (svm_host)	/* no SMI, no SMM: see fix_tr() */
			e->flags &= ~KVM_VCPUEVENT_VALID_SMM;
		fz_ioctl(t, fd, KVM_SET_VCPU_EVENTS, ptr_arg(t, e));
		break;
	}
	case 16: {
		struct kvm_debugregs *d = (void *)s;

		fz_ioctl(t, fd, KVM_GET_DEBUGREGS, ptr_arg(t, d));
		((uint64_t *)d)[below(&t->r, 8)] = edge_val(&t->r);
		/*
		 * The guest's DR7 goes into the VMCB, and the SVM rig's emulator
		 * (QEMU 7.2 TCG) crashes with a segmentation fault at a #VMEXIT
		 * after a VMRUN that loaded a DR7 with breakpoints enabled from
		 * the fuzzer's random values (seed 0x94a59ea17b1993ea, 2026-12-03,
		 * once minikvm ran guests with their own DR7 as kvm_amd does):
		 * no breakpoint is enabled on SVM. guest_breakpoints in
		 * events_test covers them.
		 */
		if (svm_host)
			d->dr7 &= ~0xffULL;	/* L0-L3, G0-G3 */
		fz_ioctl(t, fd, KVM_SET_DEBUGREGS, ptr_arg(t, d));
		break;
	}
	case 17: {
		struct kvm_interrupt *i = (void *)s;

		i->irq = chance(&t->r, 2) ? below(&t->r, 256) : edge_val(&t->r);
		hash_arg(t, i->irq);
		fz_ioctl(t, fd, KVM_INTERRUPT, ptr_arg(t, i));
		break;
	}
	case 18:
		fz_ioctl(t, fd, KVM_NMI, 0);
		break;
	case 19: {
		/* Never SIG_TIMER: it is what bounds KVM_RUN. */
		struct kvm_signal_mask *m = (void *)s;
		uint64_t set = rnd(&t->r) & ~(1ULL << (SIG_TIMER - 1)) & ~(1ULL << (SIG_POKE - 1));

		m->len = chance(&t->r, 4) ? edge_val(&t->r) & 0xff : 8;
		memcpy(m->sigset, &set, 8);
		fz_ioctl(t, fd, KVM_SET_SIGNAL_MASK, chance(&t->r, 4) ? 0 : ptr_arg(t, m));
		break;
	}
	case 20: {
		uint64_t *mcg = (void *)s;

		*mcg = chance(&t->r, 2) ? 0x10a : edge_val(&t->r);
		fz_ioctl(t, fd, KVM_X86_SETUP_MCE, ptr_arg(t, mcg));
		break;
	}
	case 21: {
		struct kvm_x86_mce *m = (void *)s;

		m->status = edge_val(&t->r) | (chance(&t->r, 2) ? (1ULL << 63) : 0);
		m->addr = edge_val(&t->r);
		m->misc = edge_val(&t->r);
		m->mcg_status = below(&t->r, 8);
		m->bank = chance(&t->r, 2) ? below(&t->r, 12) : edge_val(&t->r);
		hash_arg(t, m->bank);
		fz_ioctl(t, fd, KVM_X86_SET_MCE, ptr_arg(t, m));
		break;
	}
	case 22:
		fz_ioctl(t, fd, KVM_GET_TSC_KHZ, 0);
		break;
	case 23: {
		struct kvm_vapic_addr *v = (void *)s;

		v->vapic_addr = chance(&t->r, 2) ? below(&t->r, 0x200) * PAGE_SIZE : edge_val(&t->r);
		fz_ioctl(t, fd, KVM_SET_VAPIC_ADDR, ptr_arg(t, v));
		break;
	}
	case 24: {
		struct vcpu v = { .fd = fd };

		__atomic_add_fetch(&ctr->ioctls, 1, __ATOMIC_RELAXED);
		vcpu_stat(&v, chance(&t->r, 2) ? "exits" : "halt_exits");
		break;
	}
	case 25: {
		struct kvm_enable_cap *c = (void *)s;

		c->cap = edge_val(&t->r) & 0xff;
		c->args[0] = edge_val(&t->r);
		hash_arg(t, c->cap);
		fz_ioctl(t, fd, KVM_ENABLE_CAP, ptr_arg(t, c));
		break;
	}
	case 26: {
		unsigned long nr = _IOC(below(&t->r, 4), KVMIO, below(&t->r, 256),
					below(&t->r, 128));

		hash_arg(t, nr);
		fz_ioctl(t, fd, nr, ptr_arg(t, s));
		break;
	}
	default:
		if (cfg.guest && objs[ci].arena)
			prepare_guest(t, fd, objs[ci].arena);
		break;
	}
	obj_put(ci);
}

static void op_close(struct thr *t)
{
	static const enum kind kinds[] = { K_SYS, K_VM, K_VCPU, K_EVFD };
	int i = obj_get(t, kinds[below(&t->r, ARRAY_SIZE(kinds))]);

	if (i >= 0)
		obj_close(i);
}

static void op_eventfd(struct thr *t)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), i;

	hash_arg(t, 2);
	if (fd < 0)
		return;
	i = obj_add(K_EVFD, fd);
	if (i >= 0) {
		uint64_t one = 1;

		if (chance(&t->r, 2))
			write(fd, &one, 8);
		obj_put(i);
	}
}

static void op_signal(struct thr *t)
{
	int k = below(&t->r, cfg.threads);

	hash_arg(t, k);
	/*
	 * tgkill on the kernel's thread id, not pthread_kill: a thread that is
	 * done may already have been joined, and its pthread_t freed (the first
	 * long run's VMM died of SIGSEGV in a round that ended this way).
	 */
	if (k != t->idx && ktids[k])
		syscall(SYS_tgkill, getpid(), ktids[k], SIG_POKE);
}

/* ---------------------------------------------------------------- one VMM */

static const struct { void (*fn)(struct thr *t); int weight; } ops[] = {
	{ op_open_sys, 2 }, { op_sys_ioctl, 8 }, { op_create_vm, 3 },
	{ op_create_vcpu, 5 }, { op_memslot, 10 }, { op_vm_ioctl, 24 },
	{ op_vcpu_ioctl, 30 }, { op_run, 40 }, { op_close, 5 },
	{ op_eventfd, 2 }, { op_signal, 2 },
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double round_end;

static void *worker(void *arg)
{
	struct thr *t = arg;
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIG_TIMER,
	};
	int total = 0, w;
	long n;
	unsigned int k;

	sev._sigev_un._tid = syscall(SYS_gettid);
	ktids[t->idx] = sev._sigev_un._tid;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t->timer))
		return NULL;
	for (k = 0; k < ARRAY_SIZE(ops); k++)
		total += ops[k].weight;
	for (n = 0; n < cfg.ops && !stop_all; n++) {
		if ((n & 15) == 0 && now() > round_end)
			break;
		w = below(&t->r, total);
		for (k = 0; w >= ops[k].weight; k++)
			w -= ops[k].weight;
		hash_arg(t, k);
		ops[k].fn(t);
		__atomic_add_fetch(&ctr->ops, 1, __ATOMIC_RELAXED);
	}
	ktids[t->idx] = 0;
	timer_delete(t->timer);
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
}

/* The four mode states of lib/modes.c, as KVM_GET_SREGS reads them back. */
static void make_templates(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu;
	int m;

	vm_add_memory(vm, 0, 0, GUEST_MEM_SIZE, 0);
	vm_init_tables(vm);
	vcpu = vcpu_add(vm, 0);
	for (m = 0; m < NR_GUEST_MODES; m++) {
		vcpu_init_mode(vcpu, m, GUEST_CODE_GPA);
		vcpu_get_sregs(vcpu, &tmpl_sregs[m]);
		if (svm_host)
			tmpl_sregs[m].tr.type = SEG_TYPE_TSS_AVAIL;
	}
	vm_free(vm);
}

/*
 * The SVM rig's emulator (QEMU 7.2 TCG) aborts the whole machine ("qemu:
 * fatal: invalid tss type", seen in this fuzzer's first long run) when a
 * nested guest takes an interrupt or exception from CPL 3 or virtual-8086
 * mode while its cached TR says "busy TSS": its own LTR caches the type
 * before setting the busy bit, and its stack-switch code accepts only that.
 * A VMRUN loads TR from the VMCB as it is, with no check of the type, so on
 * SVM the fuzzer's guests get an "available" TSS type in TR (VMX requires
 * "busy", SDM 27.3.1.2, and Bochs has no such abort): KVM_SET_SREGS calls
 * get the template's TR whatever else they change, and op_run() puts it
 * back after a reset. (A second long run still hit the abort once, from a
 * vCPU in its reset state, before op_run() did that.)
 */
static void fix_tr(struct kvm_sregs *sregs)
{
	if (!svm_host)
		return;
	sregs->tr = tmpl_sregs[MODE_PROT32].tr;
	/*
	 * The same emulator stalls one of its CPUs for good (no interrupt, no
	 * NMI) when a nested guest runs with EFER.LME set and paging off, a
	 * valid x86 state: fail_entry_test's efer_msr_keeps_lma stalled the SVM
	 * rig on kvm_amd as on minikvm (2026-12-03), and so did long runs of
	 * this fuzzer. Such guests are left out on SVM.
	 */
	if (!(sregs->cr0 & X86_CR0_PG))
		sregs->efer &= ~EFER_LME;
	/*
	 * RSM loads TR (and EFLAGS.VM) from the state-save area, which random
	 * guest code and memslot churn can overwrite between the SMI and the
	 * RSM: an all-zero TR in virtual-8086 mode aborted QEMU the same way
	 * (seed 0xa00a, round 67, 2026-12-03). So the fuzzer raises no SMI on
	 * SVM (fz_ioctl() drops KVM_SMI, op_vcpu_ioctl() the SMM flag of
	 * KVM_SET_VCPU_EVENTS); the VMX rig keeps them.
	 */
}

static void vmm_setup(void)
{
	struct kvm_msr_list *l;
	int fd = kvm_open(), k;
	uint8_t *res;

	run_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	l = calloc(1, sizeof(*l) + sizeof(msr_list));
	l->nmsrs = ARRAY_SIZE(msr_list);
	if (l && ioctl(fd, KVM_GET_MSR_INDEX_LIST, l) == 0) {
		nr_msr_list = l->nmsrs < ARRAY_SIZE(msr_list) ? l->nmsrs : ARRAY_SIZE(msr_list);
		memcpy(msr_list, l->indices, nr_msr_list * 4);
	}
	free(l);
	close(fd);
	supported_cpuid = kvm_get_supported_cpuid();
	make_templates();
	bad_page = mmap(NULL, PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/*
	 * The arenas sit at the start of a PROT_NONE reservation of 1 TiB more
	 * than they need: a slot of a garbage size (at most 1 TiB, op_memslot)
	 * starting in an arena covers no other mapping of this process, so a
	 * guest cannot write into the fuzzer through it.
	 */
	res = mmap(NULL, MAX_OBJS * ARENA_SIZE + (1ULL << 40), PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	for (k = 0; k < MAX_OBJS; k++)
		arenas[k] = mmap(res + k * ARENA_SIZE, ARENA_SIZE, PROT_READ | PROT_WRITE,
				 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
}

/* The VMM of round @round: returns its exit status (for _exit()). */
static int vmm_main(uint64_t round)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	static struct thr thr[MAX_THREADS];
	struct rng r = { splitmix(cfg.seed ^ splitmix(round)) | 1 };
	int k, i;

	sigaction(SIG_TIMER, &sa, NULL);
	sigaction(SIG_POKE, &sa, NULL);
	vmm_setup();
	round_end = now() + cfg.round_secs;
	for (k = 0; k < cfg.threads; k++) {
		thr[k].r.s = splitmix(cfg.seed + splitmix(round * MAX_THREADS + k)) | 1;
		thr[k].idx = k;
		thr[k].hash = 0;
		thr[k].scratch = mmap(NULL, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		thr[k].dirty = mmap(NULL, DIRTY_BUF_SIZE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		/* Start with /dev/kvm, a VM and a vCPU, so the first ops have targets. */
		if (k == 0) {
			op_open_sys(&thr[0]);
			op_create_vm(&thr[0]);
			op_create_vcpu(&thr[0]);
		}
	}
	for (k = 0; k < cfg.threads; k++)
		pthread_create(&tids[k], NULL, worker, &thr[k]);
	for (k = 0; k < cfg.threads; k++)
		pthread_join(tids[k], NULL);
	ctr->trace_hash = thr[0].hash;

	/* How the VMM ends: close everything in order, or exit with it all open. */
	if (below(&r, 2)) {
		for (i = 0; i < MAX_OBJS; i++)
			if (objs[i].kind == K_VCPU && !objs[i].dead)
				obj_close((objs[i].refs++, i));
		for (i = 0; i < MAX_OBJS; i++)
			if (objs[i].kind != K_FREE && !objs[i].dead)
				obj_close((objs[i].refs++, i));
	} else {
		for (i = 0; i < MAX_OBJS; i++)
			if (objs[i].kind == K_VCPU && !objs[i].dead)
				vcpu_count_entries(&objs[i]);
	}
	return 0;
}

/* ---------------------------------------------------------------- the parent */

struct mem {
	long vmalloc_kb, sunreclaim_kb, pins;
};

static long meminfo_kb(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = strtol(line + strlen(key) + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static long vmstat(const char *key)
{
	char name[128];
	long v, r = 0;
	FILE *f = fopen("/proc/vmstat", "r");

	while (f && fscanf(f, "%127s %ld", name, &v) == 2)
		if (!strcmp(name, key))
			r = v;
	if (f)
		fclose(f);
	return r;
}

static struct mem mem_now(void)
{
	struct mem m;

	settle_slab();		/* per-CPU slabs, KASAN's quarantine (lib/vm.c) */
	m = (struct mem){
		.vmalloc_kb = meminfo_kb("VmallocUsed"),
		.sunreclaim_kb = meminfo_kb("SUnreclaim"),
		.pins = vmstat("nr_foll_pin_acquired") - vmstat("nr_foll_pin_released"),
	};

	return m;
}

#define VMALLOC_SLACK_KB	512
#define SLAB_SLACK_KB		2048

static bool mem_ok(struct mem base, struct mem m)
{
	return m.pins == base.pins && m.vmalloc_kb - base.vmalloc_kb <= VMALLOC_SLACK_KB &&
	       m.sunreclaim_kb - base.sunreclaim_kb <= SLAB_SLACK_KB;
}

/*
 * Run round @round as a child VMM, maybe SIGKILLed at a random moment
 * (@kill_ms, 0: never). Returns false if it could not be reaped: a hang.
 */
static bool run_round(uint64_t round, long kill_ms)
{
	double limit = cfg.round_secs + 30, start = now();
	pid_t pid = fork();
	int status;
	bool killed = false;

	if (pid == 0)
		_exit(vmm_main(round));
	if (pid < 0)
		return false;
	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (!killed && ((kill_ms && now() - start > kill_ms / 1000.0) ||
				now() - start > limit)) {
			if (!kill_ms)
				printf("# round %lld: still running after %.0f s, SIGKILL\n",
				       (long long)round, limit);
			kill(pid, SIGKILL);
			killed = true;
			start = now();
			limit = 30;
			continue;
		}
		if (killed && now() - start > limit) {
			char path[64], buf[512] = "";
			FILE *f;

			snprintf(path, sizeof(path), "/proc/%d/stack", pid);
			f = fopen(path, "r");
			if (f) {
				while (fgets(buf, sizeof(buf), f))
					printf("#   %s", buf);
				fclose(f);
			}
			printf("# round %lld: pid %d not reaped 30 s after SIGKILL\n",
			       (long long)round, pid);
			return false;
		}
		usleep(10000);
	}
	if (!killed && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		printf("# round %lld: VMM ended with status %#x\n", (long long)round, status);
		return false;
	}
	return true;
}

int main(void)
{
	struct mem base, m = { 0 };
	struct rng pr;
	double start, end;
	uint64_t round, hash1, hash2;
	bool ok_run = true, ok_mem = false;
	long n = 0;
	int tries;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	if (!kvm_present()) {
		printf("1..1\nok 1 fuzz # SKIP %s not available\n", KVM_DEV_PATH);
		return 4;
	}
	svm_host = host_virt() == HOST_VIRT_SVM;
	/*
	 * In the VMX rig (Bochs) random guest code is run only when asked (make
	 * fuzz VENDOR=vmx FUZZ_GUEST=1): its first run there, seed 0x3 on minikvm
	 * with guest code, left the machine silent from the SIGKILL of round 0
	 * until the rig's limit (no soft-lockup report either), and so did the
	 * real kvm_intel on the same seed: a limit of that rig under this load,
	 * not yet understood. The ioctl part runs there as in the SVM rig (seed
	 * 0xb5aca9fddbe146dd, 20 s: 56,862 ioctls, 157,866 guest entries,
	 * "vmx-fz-mk: 7 passed, 0 failed", 2026-12-03): see cfg.guest below.
	 */
	/*
	 * Inside make check the real kvm_amd is not fuzzed either: in a
	 * fresh-clone make check on 2026-12-02 (seed 0x561bdec6833d2b76, ioctls
	 * only) the SVM rig's CPU 0 stalled in round 1 on kvm_amd ("rcu_preempt
	 * detected stalls", then soft lockups until the rig's limit): the
	 * emulator limit RIG.md describes, which took the rest of that rig's
	 * tests with it. make fuzz REF=kvm still runs it.
	 */
	if (!kvm_is_minikvm() && !getenv("FUZZ_SECS")) {
		printf("1..1\nok 1 fuzz # SKIP on kvm.ko only with FUZZ_SECS (make fuzz REF=kvm)\n");
		return 4;
	}
	cfg.seed = env_long("FUZZ_SEED", 0);
	if (!cfg.seed)
		cfg.seed = splitmix(time(NULL) ^ ((uint64_t)getpid() << 32));
	cfg.secs = env_long("FUZZ_SECS", host_virt() == HOST_VIRT_VMX ? 15 : 40);
	cfg.round_secs = env_long("FUZZ_ROUND_SECS", 5);
	cfg.ops = env_long("FUZZ_OPS", 20000);
	cfg.rounds = env_long("FUZZ_ROUNDS", 0);
	cfg.first_round = env_long("FUZZ_FIRST_ROUND", 0);
	cfg.threads = env_long("FUZZ_THREADS", 3);
	/*
	 * Guest code by default only when asked for a run (make fuzz sets
	 * FUZZ_SECS): inside the whole suite (make check) the fuzzer runs the
	 * ioctl part only, because the SVM rig's QEMU itself died under random
	 * guest code on kvm_amd too (a segmentation fault of the emulator, seed
	 * 0x5005, Documentation/testing.rst).
	 */
	cfg.guest = env_long("FUZZ_GUEST", svm_host && getenv("FUZZ_SECS") ? 1 : 0);
	cfg.wild = env_long("FUZZ_WILD", 0);
	if (cfg.threads < 1 || cfg.threads > MAX_THREADS)
		cfg.threads = 3;
	printf("1..3\n");
	printf("# fuzz: seed %#llx threads %d secs %.0f round_secs %.0f ops %ld guest %d wild %d\n",
	       (unsigned long long)cfg.seed, cfg.threads, cfg.secs, cfg.round_secs, cfg.ops,
	       cfg.guest, cfg.wild);
	printf("# replay: FUZZ_SEED=%#llx FUZZ_THREADS=%d FUZZ_OPS=%ld\n",
	       (unsigned long long)cfg.seed, cfg.threads, cfg.ops);
	ctr = mmap(NULL, sizeof(*ctr), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctr == MAP_FAILED)
		return 1;
	start = now();
	end = start + cfg.secs;

	/* Warm-up (round -1): the first VMs fill caches that stay (not a leak). */
	{
		double rs = cfg.round_secs;
		long ops = cfg.ops;

		cfg.round_secs = 1;
		cfg.ops = 500;
		run_round(~0ULL, 0);
		cfg.round_secs = rs;
		cfg.ops = ops;
	}
	sleep(1);
	base = mem_now();
	memset(ctr, 0, sizeof(*ctr));

	for (round = cfg.first_round; ok_run && now() < end; round++, n++) {
		long kill_ms = 0;

		if (cfg.rounds && n >= cfg.rounds)
			break;
		if (cfg.round_secs > end - now())
			cfg.round_secs = end - now() > 1 ? end - now() : 1;
		/* From (seed, round) alone: a round replayed by itself ends the same way. */
		pr.s = splitmix(cfg.seed ^ splitmix(round ^ 0x5eed)) | 1;
		if (chance(&pr, 4))
			kill_ms = 50 + below(&pr, cfg.round_secs * 1000);
		printf("# round %llu%s (so far: %llu ioctls, %llu guest entries)\n",
		       (unsigned long long)round, kill_ms ? " (SIGKILL)" : "",
		       (unsigned long long)ctr->ioctls, (unsigned long long)ctr->entries);
		ok_run = run_round(round, kill_ms);
	}
	printf("# fuzz: %ld rounds, %llu ops, %llu ioctls, %llu KVM_RUNs, %llu guest entries, "
	       "%llu VMs, %llu vCPUs in %.1f s\n", n, (unsigned long long)ctr->ops,
	       (unsigned long long)ctr->ioctls, (unsigned long long)ctr->runs,
	       (unsigned long long)ctr->entries, (unsigned long long)ctr->vms,
	       (unsigned long long)ctr->vcpus, now() - start);
	printf("%s 1 fuzz_vmms_end # %ld rounds\n", ok_run ? "ok" : "not ok", n);

	/* RCU and deferred frees: give them a few seconds. */
	for (tries = 0; tries < 10 && !ok_mem; tries++) {
		sleep(1);
		m = mem_now();
		ok_mem = mem_ok(base, m);
	}
	printf("# memory: VmallocUsed %ld -> %ld kB, SUnreclaim %ld -> %ld kB, pinned pages %ld -> %ld\n",
	       base.vmalloc_kb, m.vmalloc_kb, base.sunreclaim_kb, m.sunreclaim_kb, base.pins,
	       m.pins);
	printf("%s 2 fuzz_memory_baseline\n", ok_mem ? "ok" : "not ok");

	/* Replay: one single-thread round twice, the same ioctls both times. */
	{
		int threads = cfg.threads;
		long ops = cfg.ops;

		cfg.threads = 1;
		cfg.ops = 300;
		cfg.round_secs = 30;
		ctr->trace_hash = 0;
		run_round(cfg.first_round, 0);
		hash1 = ctr->trace_hash;
		ctr->trace_hash = 0;
		run_round(cfg.first_round, 0);
		hash2 = ctr->trace_hash;
		cfg.threads = threads;
		cfg.ops = ops;
	}
	printf("# replay: round %ld single-threaded twice: trace %#llx, %#llx\n",
	       cfg.first_round, (unsigned long long)hash1, (unsigned long long)hash2);
	printf("%s 3 fuzz_replay\n", hash1 && hash1 == hash2 ? "ok" : "not ok");
	return ok_run && ok_mem && hash1 && hash1 == hash2 ? 0 : 1;
}
