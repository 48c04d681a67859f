// SPDX-License-Identifier: GPL-2.0-only
/*
 * lifecycle_test: creating and destroying VMs must not leak.
 *
 * Each iteration creates a VM with a memslot and a vCPU, runs the guest to
 * completion and closes everything. The kernel frees a VM when the last reference
 * goes (the VM fd and every vCPU fd); some of it after an RCU grace period. After a
 * round of many VMs, the kernel must have freed as many pages as it allocated, give
 * or take noise. A leak of anything per VM (a vCPU, a control block, a page table
 * page, the kvm_run page) is at least a page or a slab object per VM.
 *
 * What is counted: /proc/vmstat's page events, pages allocated (pgalloc_*) minus
 * pages freed (pgfree), over a round. MemFree is no good for this: pages freed to the
 * per-CPU lists are not "free" in it, and those lists hold megabytes. Slab growth
 * is checked with SUnreclaim.
 *
 * A warm-up first populates the caches, so their growth is not counted.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

#define WARMUP_VMS	20
#define ROUND_VMS	200

#ifndef MIN
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#endif

GUEST_ASM(short_guest, 64,
	"movq $1, " GSTR(GUEST_DATA_GPA) "\n\t"
	GUEST_DONE);

/* A field of /proc/meminfo in kB, -1 if absent. */
static long meminfo_kb(const char *field)
{
	char line[256];
	long value = -1;
	size_t len = strlen(field);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':') {
			sscanf(line + len + 1, "%ld", &value);
			break;
		}
	fclose(f);
	return value;
}

static void one_vm(void)
{
	struct vcpu *vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(short_guest));

	vcpu_run_until_done(vcpu);
	if (*(uint64_t *)gpa_to_hva(vcpu->vm, GUEST_DATA_GPA) != 1)
		test_fail("guest did not run");
	vm_free(vcpu->vm);
}

struct sample {
	long free_kb, slab_kb, reclaimable_kb;
	long long pages;	/* pages allocated - pages freed, since boot */
};

/* Sum of the pgalloc_<zone> events minus pgfree, from /proc/vmstat. */
static long long vmstat_net_pages(void)
{
	long long alloc = 0, freed = 0, v;
	char name[64];
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return 0;
	while (fscanf(f, "%63s %lld", name, &v) == 2) {
		if (!strncmp(name, "pgalloc_", 8))
			alloc += v;
		else if (!strcmp(name, "pgfree"))
			freed = v;
	}
	fclose(f);
	return alloc - freed;
}

/*
 * Let deferred frees (RCU callbacks, workqueues) finish, drop what the kernel only
 * caches (e.g. the dentries of the per-VM debugfs directories real KVM creates and
 * removes), then read the counters.
 */
static void settle(struct sample *s)
{
	FILE *f;

	sync();
	f = fopen("/proc/sys/vm/drop_caches", "w");
	if (f) {
		fputs("3\n", f);
		fclose(f);
	}
	sleep(1);	/* RCU-freed objects (call_rcu) reach their cache */
	settle_slab();
	sleep(2);	/* also lets the per-CPU vmstat deltas fold (every second) */
	s->free_kb = meminfo_kb("MemFree");
	s->slab_kb = meminfo_kb("SUnreclaim");
	s->reclaimable_kb = meminfo_kb("SReclaimable");
	s->pages = vmstat_net_pages();
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

FIXTURE(lifecycle) {
	int unused;
};

FIXTURE_SETUP(lifecycle)
{
}

FIXTURE_TEARDOWN(lifecycle)
{
}

/*
 * Two rounds of ROUND_VMS after the warm-up; what each round loses is compared with
 * the threshold. A VM stays open across the rounds: KVM enables virtualization on
 * every CPU when the first VM is created and disables it when the last one goes;
 * the keeper keeps that (and its per-CPU allocations) out of the measurement. It
 * also avoids a problem of the emulated SVM machine: with 2 CPUs, that enable/disable
 * cycle (an IPI to each CPU) hangs the machine after a few dozen rounds, even with
 * real kvm_amd.
 */
TEST_F_TIMEOUT(lifecycle, create_destroy_no_leak, 600)
{
	struct sample s[3];
	long long lost[2];
	long slab[2];
	struct timespec t0;
	struct vm *keeper;
	int round, i;

	TEST_REQUIRE_KVM();
	if (meminfo_kb("MemFree") < 0)
		SKIP(return, "no /proc/meminfo");

	keeper = vm_create();
	for (i = 0; i < WARMUP_VMS; i++)
		one_vm();
	settle(&s[0]);
	for (round = 1; round <= 2; round++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (i = 0; i < ROUND_VMS; i++)
			one_vm();
		TH_LOG("round %d: %d VMs in %ld ms", round, ROUND_VMS, ms_since(&t0));
		settle(&s[round]);
	}
	vm_free(keeper);

	for (round = 1; round <= 2; round++) {
		lost[round - 1] = s[round].pages - s[round - 1].pages;
		slab[round - 1] = s[round].slab_kb - s[round - 1].slab_kb;
		TH_LOG("round %d: net pages allocated %lld, MemFree %ld -> %ld kB, "
		       "SUnreclaim %ld -> %ld kB, SReclaimable %ld -> %ld kB", round,
		       lost[round - 1], s[round - 1].free_kb, s[round].free_kb,
		       s[round - 1].slab_kb, s[round].slab_kb,
		       s[round - 1].reclaimable_kb, s[round].reclaimable_kb);
		/* Even a noisy round stays below 2 pages per VM. */
		EXPECT_LT(lost[round - 1], ROUND_VMS * 2);
	}
	/*
	 * A leak repeats in every round, noise (caches still settling) does not: the
	 * better round must keep less than half a page, and less than 256 bytes of
	 * slab, per VM. (Real KVM 6.1: a handful of pages and 0-4 kB per 200 VMs.)
	 * kvm.ko 6.12 keeps about 0.4 kB of unreclaimable slab per VM in every
	 * round (seen in the rig: +84 and +88 kB per 200 VMs); that is kvm.ko's, not
	 * ours to judge, so for kvm.ko the slab bound is 1 kB per VM.
	 */
	EXPECT_LT(MIN(lost[0], lost[1]), ROUND_VMS / 2);
	EXPECT_LT(MIN(slab[0], slab[1]), kvm_is_minikvm() ? ROUND_VMS / 4 : ROUND_VMS);
}

/*
 * VMs whose vCPUs never ran, and one whose fds are closed in an odd order. A keeper
 * VM stays open meanwhile, for the reason given above create_destroy_no_leak.
 */
TEST(teardown_orders)
{
	struct vm *vm, *keeper;
	struct vcpu *vcpu;
	int i;

	TEST_REQUIRE_KVM();
	keeper = vm_create();
	for (i = 0; i < 20; i++) {
		vm = vm_create();
		vm_add_memory(vm, 0, 0, GUEST_MEM_SIZE, 0);
		vcpu_add(vm, 0);
		vcpu_add(vm, 1);
		vm_free(vm);
	}

	/* Close the VM fd first: the vCPU keeps the VM alive and still runs. */
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(short_guest));
	close(vcpu->vm->fd);
	vcpu->vm->fd = -1;
	close(vcpu->vm->kvm_fd);
	vcpu->vm->kvm_fd = -1;
	vcpu_run_until_done(vcpu);
	vm_free(vcpu->vm);
	vm_free(keeper);
}

TEST_HARNESS_MAIN
