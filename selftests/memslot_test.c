// SPDX-License-Identifier: GPL-2.0-only
/*
 * memslot_test: KVM_SET_USER_MEMORY_REGION.
 *
 * A memslot maps guest physical [guest_phys_addr, + memory_size) onto userspace
 * memory at userspace_addr. The same ioctl creates a slot (new id), deletes it
 * (memory_size 0), moves it (same size and address, new GPA) or changes its flags
 * (only KVM_MEM_LOG_DIRTY_PAGES may change). Everything else is refused; the errors
 * below are real KVM's (virt/kvm/kvm_main.c __kvm_set_memory_region()):
 *
 *   EINVAL  unknown flag; size, GPA or host address not page-aligned; host range
 *           not in user space; slot id >= KVM_CAP_NR_MEMSLOTS; GPA + size wraps;
 *           deleting a slot that does not exist; changing the size or host address
 *           of a slot, or toggling KVM_MEM_READONLY
 *   EEXIST  the new range overlaps another slot (create or move)
 *
 * Then a guest reads and writes through many slots (at least 32) at once, and sees
 * a moved slot at its new address and a deleted one gone (MMIO exits).
 *
 * Last, the VM's own ioctls do not wait for a guest that keeps its CPU: with a vCPU
 * spinning in the guest on another thread, a new slot, a dirty log and a second
 * vCPU come back at once (slots_while_guest_spins).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

#define SLOT1_GPA	0x1000000ULL	/* 16 MiB */
#define SLOT1_SIZE	0x10000ULL
#define FREE_GPA	0x2000000ULL	/* nothing here */

FIXTURE(memslot) {
	struct vm *vm;
	void *mem1;		/* host memory of slot 1 */
	void *spare;		/* page-aligned host memory not in any slot */
	int nr_slots;		/* KVM_CAP_NR_MEMSLOTS */
};

FIXTURE_SETUP(memslot)
{
	self->vm = NULL;
	TEST_REQUIRE_KVM();
	self->nr_slots = kvm_check_cap(KVM_CAP_NR_MEMSLOTS);
	ASSERT_GT(self->nr_slots, 0);
	self->vm = vm_create();
	vm_add_memory(self->vm, 0, 0, GUEST_MEM_SIZE, 0);
	self->mem1 = vm_add_memory(self->vm, 1, SLOT1_GPA, SLOT1_SIZE, 0);
	self->spare = mmap(NULL, 0x100000, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->spare);
}

FIXTURE_TEARDOWN(memslot)
{
	if (self->vm) {
		munmap(self->spare, 0x100000);
		vm_free(self->vm);
	}
}

#define EXPECT_SLOT_ERR(err, slot, flags, gpa, size, hva) do {			\
	errno = 0;								\
	EXPECT_EQ(-1, __vm_set_memslot(self->vm, slot, flags, gpa, size, hva))	\
		TH_LOG("slot %#x flags %#x gpa %#llx size %#llx",		\
		       (unsigned int)(slot), (unsigned int)(flags),		\
		       (unsigned long long)(gpa), (unsigned long long)(size));	\
	EXPECT_EQ(err, errno)							\
		TH_LOG("slot %#x gpa %#llx", (unsigned int)(slot),		\
		       (unsigned long long)(gpa));				\
} while (0)

#define EXPECT_SLOT_OK(slot, flags, gpa, size, hva)				\
	EXPECT_EQ(0, __vm_set_memslot(self->vm, slot, flags, gpa, size, hva))	\
		TH_LOG("slot %#x: %s", (unsigned int)(slot), strerror(errno))

TEST_F(memslot, invalid_create)
{
	uint8_t *hva = self->spare;

	if (!self->vm)
		return;
	EXPECT_SLOT_ERR(EINVAL, 5, 0, FREE_GPA, 0x1001, hva);		/* size */
	EXPECT_SLOT_ERR(EINVAL, 5, 0, FREE_GPA, 0x800, hva);
	EXPECT_SLOT_ERR(EINVAL, 5, 0, FREE_GPA + 0x800, 0x1000, hva);	/* GPA */
	EXPECT_SLOT_ERR(EINVAL, 5, 0, FREE_GPA, 0x1000, hva + 0x10);	/* host address */
	EXPECT_SLOT_ERR(EINVAL, 5, 1u << 2, FREE_GPA, 0x1000, hva);	/* flags */
	EXPECT_SLOT_ERR(EINVAL, 5, 1u << 31, FREE_GPA, 0x1000, hva);
	EXPECT_SLOT_ERR(EINVAL, self->nr_slots, 0, FREE_GPA, 0x1000, hva); /* slot id */
	EXPECT_SLOT_ERR(EINVAL, 0xffff, 0, FREE_GPA, 0x1000, hva);
	EXPECT_SLOT_ERR(EINVAL, 5, 0, 0xfffffffffffff000ULL, 0x2000, hva); /* wraps */
	/* Host ranges outside user space: kernel addresses, or running off the end. */
	EXPECT_SLOT_ERR(EINVAL, 5, 0, FREE_GPA, 0x1000, (void *)0xffff888000000000ULL);
	EXPECT_SLOT_ERR(EINVAL, 5, 0, FREE_GPA, 1ULL << 62, hva);
	/* Deleting what is not there. */
	EXPECT_SLOT_ERR(EINVAL, 7, 0, FREE_GPA, 0, hva);
	EXPECT_SLOT_ERR(EINVAL, self->nr_slots - 1, 0, 0, 0, NULL);
}

TEST_F(memslot, overlap)
{
	uint8_t *hva = self->spare;

	if (!self->vm)
		return;
	EXPECT_SLOT_ERR(EEXIST, 5, 0, 0x1000, 0x1000, hva);		/* inside slot 0 */
	EXPECT_SLOT_ERR(EEXIST, 5, 0, SLOT1_GPA - 0x1000, 0x2000, hva);	/* its start */
	EXPECT_SLOT_ERR(EEXIST, 5, 0, SLOT1_GPA + SLOT1_SIZE - 0x1000, 0x2000, hva);
	EXPECT_SLOT_ERR(EEXIST, 5, 0, SLOT1_GPA - 0x10000, 0x40000, hva);	/* around */
	EXPECT_SLOT_ERR(EEXIST, 5, 0, SLOT1_GPA, SLOT1_SIZE, hva);		/* same range */
	/* Moving slot 1 onto slot 0. */
	EXPECT_SLOT_ERR(EEXIST, 1, 0, 0x100000, SLOT1_SIZE, self->mem1);
	/* Right next to each other is fine. */
	EXPECT_SLOT_OK(5, 0, SLOT1_GPA + SLOT1_SIZE, 0x1000, hva);
	EXPECT_SLOT_OK(6, 0, SLOT1_GPA - 0x1000, 0x1000, hva + 0x1000);
	EXPECT_SLOT_OK(7, 0, GUEST_MEM_SIZE, 0x1000, hva + 0x2000);
}

/*
 * A slot of more than KVM_MEM_MAX_NR_PAGES (2^31 - 1) pages is refused
 * with EINVAL, before anything is allocated for it: with dirty logging,
 * its bitmap alone would be 256 MiB. Nothing needs to be mapped at the
 * host address: only its range is checked.
 */
TEST_F(memslot, too_large)
{
	uint64_t hva = 0x100000000000ULL;	/* 16 TiB, in user space */

	if (!self->vm)
		return;
	EXPECT_SLOT_ERR(EINVAL, 5, KVM_MEM_LOG_DIRTY_PAGES, 1ULL << 44,
			(1ULL << 31) * 4096, (void *)hva);
	EXPECT_SLOT_ERR(EINVAL, 5, 0, 1ULL << 44, (1ULL << 32) * 4096,
			(void *)hva);
}

/* VmallocUsed of /proc/meminfo, in KiB. */
static long vmalloc_used_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmallocUsed: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * A refused slot leaves nothing behind. Each call asks for a 1 TiB
 * dirty-logged slot (its bitmap: 32 MiB, too big for kmalloc, so it comes
 * from vmalloc) over slot 0, which fails with EEXIST; 10 of them would
 * leak 320 MiB of vmalloc space if the bitmap were not freed on that
 * path. Measured after the VM is gone.
 */
TEST(refused_slot_leaks_nothing)
{
	long before, after;
	struct vm *vm;
	int i;

	TEST_REQUIRE_KVM();
	before = vmalloc_used_kib();
	ASSERT_GT(before, 0);
	vm = vm_create();
	vm_add_memory(vm, 0, 0, GUEST_MEM_SIZE, 0);
	for (i = 0; i < 10; i++) {
		errno = 0;
		ASSERT_EQ(-1, __vm_set_memslot(vm, 5, KVM_MEM_LOG_DIRTY_PAGES, 0,
					       1ULL << 40,
					       (void *)0x200000000000ULL));
		ASSERT_EQ(EEXIST, errno);
	}
	vm_free(vm);
	after = vmalloc_used_kib();
	TH_LOG("VmallocUsed %ld kB before, %ld kB after", before, after);
	EXPECT_LT(after - before, 16 * 1024);
}

TEST_F(memslot, modify)
{
	if (!self->vm)
		return;
	/* Size, host address and READONLY are fixed for the life of a slot. */
	EXPECT_SLOT_ERR(EINVAL, 1, 0, SLOT1_GPA, SLOT1_SIZE * 2, self->mem1);
	EXPECT_SLOT_ERR(EINVAL, 1, 0, SLOT1_GPA, SLOT1_SIZE - 0x1000, self->mem1);
	EXPECT_SLOT_ERR(EINVAL, 1, 0, SLOT1_GPA, SLOT1_SIZE, self->spare);
	if (kvm_check_cap(KVM_CAP_READONLY_MEM) > 0)
		EXPECT_SLOT_ERR(EINVAL, 1, KVM_MEM_READONLY, SLOT1_GPA, SLOT1_SIZE,
				self->mem1);
	/* The same again is a no-op; dirty logging can be switched on and off. */
	EXPECT_SLOT_OK(1, 0, SLOT1_GPA, SLOT1_SIZE, self->mem1);
	EXPECT_SLOT_OK(1, KVM_MEM_LOG_DIRTY_PAGES, SLOT1_GPA, SLOT1_SIZE, self->mem1);
	EXPECT_SLOT_OK(1, 0, SLOT1_GPA, SLOT1_SIZE, self->mem1);
	/* Move, delete, create again with another size and address. */
	EXPECT_SLOT_OK(1, 0, FREE_GPA, SLOT1_SIZE, self->mem1);
	EXPECT_SLOT_OK(1, 0, FREE_GPA, 0, self->mem1);
	EXPECT_SLOT_ERR(EINVAL, 1, 0, FREE_GPA, 0, self->mem1);	/* gone already */
	EXPECT_SLOT_OK(1, 0, SLOT1_GPA, 0x1000, self->spare);
	/* A deleted range is free for another slot. */
	EXPECT_SLOT_OK(2, 0, FREE_GPA, SLOT1_SIZE, self->mem1);
}

/* The highest slot id userspace may use works; ids are not a dense array. */
TEST_F(memslot, highest_slot_id)
{
	if (!self->vm)
		return;
	EXPECT_SLOT_OK(self->nr_slots - 1, 0, FREE_GPA, 0x1000, self->spare);
	EXPECT_SLOT_OK(self->nr_slots - 1, 0, FREE_GPA, 0, self->spare);
}

/* ---------------------------------------------------------------- guest */

#define MANY_BASE	0x40000000ULL	/* slot i at MANY_BASE + i * MANY_STRIDE */
#define MANY_STRIDE	0x10000ULL
#define MANY_SLOTS	40

/*
 * For i in 0..RCX-1: read the qword at the start of slot i, add it to a sum, and
 * write the address read to the next qword. Report the sum.
 */
GUEST_ASM(many_guest, 64,
	"mov $" GSTR(MANY_BASE) ", %ebx\n\t"
	"xor %edi, %edi\n\t"
	"1: mov (%rbx), %rax\n\t"
	"add %rax, %rdi\n\t"
	"mov %rbx, 8(%rbx)\n\t"
	"add $" GSTR(MANY_STRIDE) ", %rbx\n\t"
	"loop 1b\n\t"
	GUEST_SYNC
	GUEST_DONE);

TEST(many_slots)
{
	uint64_t *pages[MANY_SLOTS], sum = 0;
	struct kvm_regs regs;
	struct vcpu *vcpu;
	struct ucall uc;
	int i, n;

	TEST_REQUIRE_KVM();
	/* Slot 0 holds the guest; at least 32 more if the host allows. */
	n = kvm_check_cap(KVM_CAP_NR_MEMSLOTS) - 1;
	if (n > MANY_SLOTS)
		n = MANY_SLOTS;
	ASSERT_GE(n, 32) TH_LOG("KVM_CAP_NR_MEMSLOTS = %d", n + 1);

	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(many_guest));
	for (i = 0; i < n; i++) {
		pages[i] = vm_add_memory(vcpu->vm, 1 + i, MANY_BASE + i * MANY_STRIDE,
					 PAGE_SIZE, 0);
		pages[i][0] = 0x100000001ULL * (i + 1);
		sum += pages[i][0];
	}
	vcpu_get_regs(vcpu, &regs);
	regs.rcx = n;
	vcpu_set_regs(vcpu, &regs);

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(sum, uc.args[0]);
	for (i = 0; i < n; i++)
		EXPECT_EQ(MANY_BASE + i * MANY_STRIDE, pages[i][1]) TH_LOG("slot %d", 1 + i);
	vm_free(vcpu->vm);
}

/* Read the qword at RBX, report it, repeat: the host changes the slots in between. */
GUEST_ASM(probe_guest, 64,
	"1: mov (%rbx), %rdi\n\t"
	GUEST_SYNC
	"jmp 1b\n\t");

TEST(move_and_delete)
{
	struct kvm_regs regs;
	struct vcpu *vcpu;
	struct ucall uc;
	uint64_t *page;

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(probe_guest));
	page = vm_add_memory(vcpu->vm, 1, SLOT1_GPA, PAGE_SIZE, 0);
	page[0] = 0x5107;
	vcpu_get_regs(vcpu, &regs);
	regs.rbx = SLOT1_GPA;
	vcpu_set_regs(vcpu, &regs);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0x5107, uc.args[0]);

	/* Move the slot: the old address is now MMIO, the data is at the new one. */
	ASSERT_EQ(0, __vm_set_memslot(vcpu->vm, 1, 0, FREE_GPA, PAGE_SIZE, page));
	vcpu_expect_exit(vcpu, KVM_EXIT_MMIO);
	EXPECT_EQ(SLOT1_GPA, vcpu->run->mmio.phys_addr);
	EXPECT_EQ(0, vcpu->run->mmio.is_write);
	memset(vcpu->run->mmio.data, 0x11, sizeof(vcpu->run->mmio.data));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0x1111111111111111ULL, uc.args[0]);

	vcpu_get_regs(vcpu, &regs);
	regs.rbx = FREE_GPA;
	vcpu_set_regs(vcpu, &regs);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0x5107, uc.args[0]);

	/* Delete it: MMIO there too. */
	ASSERT_EQ(0, __vm_set_memslot(vcpu->vm, 1, 0, FREE_GPA, 0, page));
	vcpu_expect_exit(vcpu, KVM_EXIT_MMIO);
	EXPECT_EQ(FREE_GPA, vcpu->run->mmio.phys_addr);
	memset(vcpu->run->mmio.data, 0x22, sizeof(vcpu->run->mmio.data));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0x2222222222222222ULL, uc.args[0]);
	vm_free(vcpu->vm);
}

/* Guest writes land in the host memory of the slot, and host writes are seen. */
GUEST_ASM(write_guest, 64,
	"mov (%rbx), %rdi\n\t"
	"movq $0x600d, 8(%rbx)\n\t"
	GUEST_SYNC
	"mov 16(%rbx), %rdi\n\t"
	GUEST_SYNC
	GUEST_DONE);

TEST(shared_memory)
{
	struct kvm_regs regs;
	struct vcpu *vcpu;
	struct ucall uc;
	uint64_t *page;

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(write_guest));
	page = vm_add_memory(vcpu->vm, 3, SLOT1_GPA, 2 * PAGE_SIZE, 0);
	page[0] = 0xfeed;
	vcpu_get_regs(vcpu, &regs);
	regs.rbx = SLOT1_GPA;
	vcpu_set_regs(vcpu, &regs);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0xfeed, uc.args[0]);
	EXPECT_EQ(0x600d, page[1]);
	page[2] = 0xabcdef;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0xabcdef, uc.args[0]);
	vm_free(vcpu->vm);
}

/*
 * A guest that never exits on its own: the only exits are the host's (timer
 * interrupts, the signal at the end). The slot set is read under SRCU in the exit
 * handlers; a vCPU that stayed in its SRCU read side while the guest runs would
 * make KVM_SET_USER_MEMORY_REGION (which waits for readers: synchronize_srcu())
 * wait for the guest, and with it vm->lock and everything that takes it.
 *
 * The guest runs with RFLAGS.IF=1 (nothing is ever injected: the interrupts that
 * arrive are the host's, and they make it exit whatever its IF). In the VMX rig
 * a guest entered with IF=0 keeps Bochs from delivering the host's interrupts
 * (kmod/vmx/vmx.c, vmx_setup_preemption_timer()): kvm_intel has no such
 * workaround, and with IF=0 this test hung the rig's one CPU on it (the
 * fresh-clone make check of 2026-12-02, vmx-kvm-6.1).
 */
GUEST_ASM(spin_guest, 64,
	"sti\n\t"
	"1: incq " GSTR(GUEST_DATA_GPA) "\n\t"
	"jmp 1b\n\t");

static atomic_bool spin_stop;

static void on_sigusr1(int sig)
{
	(void)sig;
}

static void *spin_thread(void *arg)
{
	struct vcpu *vcpu = arg;

	/* KVM_RUN returns on the signal (EINTR); until asked to stop, enter again. */
	while (!atomic_load(&spin_stop))
		__vcpu_run(vcpu);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST(slots_while_guest_spins)
{
	volatile uint64_t *count;
	struct sigaction sa;
	struct kvm_dirty_log log;
	unsigned long bitmap[8];
	struct vcpu *vcpu;
	pthread_t thread;
	double t0, t;
	void *mem;

	TEST_REQUIRE_KVM();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;		/* no SA_RESTART: KVM_RUN returns */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(spin_guest));
	count = gpa_to_hva(vcpu->vm, GUEST_DATA_GPA);
	atomic_store(&spin_stop, false);
	ASSERT_EQ(0, pthread_create(&thread, NULL, spin_thread, vcpu));

	/* The guest runs: its counter moves. */
	t0 = now_s();
	while (*count == 0 && now_s() - t0 < 10)
		;
	ASSERT_NE(0, *count);

	/* A new slot with dirty logging, its log, and a second vCPU: none waits. */
	mem = mmap(NULL, 0x40000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	t0 = now_s();
	EXPECT_EQ(0, __vm_set_memslot(vcpu->vm, 2, KVM_MEM_LOG_DIRTY_PAGES, FREE_GPA,
				      0x40000, mem)) TH_LOG("%s", strerror(errno));
	memset(&log, 0, sizeof(log));
	log.slot = 2;
	log.dirty_bitmap = bitmap;
	EXPECT_EQ(0, ioctl(vcpu->vm->fd, KVM_GET_DIRTY_LOG, &log));
	EXPECT_EQ(0, __vm_set_memslot(vcpu->vm, 2, 0, FREE_GPA, 0, mem));
	EXPECT_LE(0, ioctl(vcpu->vm->fd, KVM_CREATE_VCPU, 1));
	t = now_s() - t0;
	TH_LOG("slot added, logged, deleted and a vCPU created in %.3f s, guest at %llu",
	       t, (unsigned long long)*count);
	/* A grace period is milliseconds; a wait for the guest would be forever. */
	EXPECT_GT(2.0, t);

	/* immediate_exit: a KVM_RUN the signal comes too early for returns at once. */
	atomic_store(&spin_stop, true);
	vcpu->run->immediate_exit = 1;
	pthread_kill(thread, SIGUSR1);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	munmap(mem, 0x40000);
	vm_free(vcpu->vm);
}

TEST_HARNESS_MAIN
