// SPDX-License-Identifier: GPL-2.0-only
/*
 * lifecycle_test: creating and destroying VMs must not leak.
 *
 * Each round creates a VM with a memslot and a vCPU, runs the guest to completion
 * and closes everything. The kernel frees a VM when the last reference goes (the
 * VM fd and every vCPU fd); some of it after an RCU grace period. Many rounds later,
 * the kernel's free memory must be back where it was, give or take noise: per-CPU
 * page lists and slab caches keep a few pages around. The threshold allows one
 * page per VM on average over the run: a leak of anything per VM (a vCPU, a control
 * block, a page table page, the kvm_run page) is at least that.
 *
 * A warm-up round first populates the caches, so their growth is not counted.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

#define WARMUP_VMS	20
#define MEASURED_VMS	200

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

/* Let deferred frees (RCU callbacks, workqueues) finish, then read the counters. */
static void settle(long *free_kb, long *slab_kb)
{
	sync();
	usleep(500 * 1000);
	*free_kb = meminfo_kb("MemFree");
	*slab_kb = meminfo_kb("SUnreclaim");
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

/* Bochs runs a few hundred VMs slowly: allow minutes. */
TEST_F_TIMEOUT(lifecycle, create_destroy_no_leak, 600)
{
	long free0, slab0, free1, slab1, lost_kb, slab_kb;
	int i;

	TEST_REQUIRE_KVM();
	if (meminfo_kb("MemFree") < 0)
		SKIP(return, "no /proc/meminfo");

	for (i = 0; i < WARMUP_VMS; i++)
		one_vm();
	settle(&free0, &slab0);
	for (i = 0; i < MEASURED_VMS; i++)
		one_vm();
	settle(&free1, &slab1);

	lost_kb = free0 - free1;
	slab_kb = slab1 - slab0;
	TH_LOG("%d VMs: MemFree %ld -> %ld kB (lost %ld kB), SUnreclaim %ld -> %ld kB",
	       MEASURED_VMS, free0, free1, lost_kb, slab0, slab1);
	EXPECT_LT(lost_kb, MEASURED_VMS * 4);
	EXPECT_LT(slab_kb, MEASURED_VMS * 4);
}

/* A VM whose vCPU never ran, and one whose fds are closed in an odd order. */
TEST(teardown_orders)
{
	struct vcpu *vcpu;
	struct vm *vm;
	int i;

	TEST_REQUIRE_KVM();
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
}

TEST_HARNESS_MAIN
