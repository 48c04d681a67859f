// SPDX-License-Identifier: GPL-2.0-only
/*
 * guestmem_test: guest memory is ordinary memory of the VMM process.
 *
 * The NPT/EPT maps the VMM's pages without pinning them, and an MMU notifier on
 * the VMM's mm takes a mapping away as soon as the VMM's page tables change
 * (kmod/tdp.c). So whatever the host does to the memory behind a slot, the guest
 * sees what the VMM's mapping holds now, never a page the host let go of:
 *
 *  - dontneed_reads_zeros: MADV_DONTNEED on the slot: the guest reads zeros
 *    (anonymous memory), and what it writes next is what the host reads.
 *  - host_writes: the guest read a page the host never touched (the shared zero
 *    page); the host writes it, then maps fresh memory over it (MAP_FIXED): the
 *    guest sees each new value.
 *  - pageout_swap: MADV_PAGEOUT with swap on zram: the pages leave memory
 *    (/proc/self/pagemap says swapped; the guest's accesses count, so the
 *    first round may keep them) and the guest still reads its data.
 *  - unmap_while_running: the VMM unmaps the slot's memory while the vCPU spins
 *    reading it: KVM_RUN fails with EFAULT, as on KVM.
 *  - ksm_merges_two_vms: two VMs whose guests write identical pages,
 *    MADV_MERGEABLE: KSM merges them within a bounded time, the guests still
 *    read their data, and a write by one guest reaches its VM only.
 *
 * A module that pins guest pages fails each of these: the guest keeps reading the
 * old page, and reclaim and KSM cannot move pinned pages.
 *
 * The guest is a little interpreter: at each SYNC the host puts an operation in
 * RSI (0 read, 1 write, 2 done), a guest-physical address in RDX and a value in RCX;
 * the guest does it and SYNCs again with the value read (or written) in RDI.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

#define DATA_GPA	0x1000000ULL	/* 16 MiB: no other slot there */
#define DATA_PAGES	16
#define DATA_SIZE	(DATA_PAGES * PAGE_SIZE)
#define DATA_SLOT	1

#define OP_READ		0
#define OP_WRITE	1
#define OP_DONE		2

#define PAGEOUT_ROUNDS	4

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif

GUEST_ASM(memop, 64,
	"1:\n\t"
	GUEST_SYNC
	"cmp $" GSTR(OP_READ) ", %rsi\n\t"
	"je 2f\n\t"
	"cmp $" GSTR(OP_WRITE) ", %rsi\n\t"
	"je 3f\n\t"
	GUEST_DONE
	"2: mov (%rdx), %rdi\n\t"
	"jmp 1b\n"
	"3: mov %rcx, (%rdx)\n\t"
	"mov %rcx, %rdi\n\t"
	"jmp 1b\n\t");

/*
 * Read the qword at R8 while it is non-zero, then DONE. For unmap_while_running.
 * A CPUID each time round, so that the loop exits: under Bochs a guest that never
 * exits holds the host's interrupts back (see xsave_test.c), and on the VMX rig's
 * one CPU the unmapping thread would never run.
 */
GUEST_ASM(spin_read, 64,
	"1: mov (%r8), %rdi\n\t"
	"test %rdi, %rdi\n\t"
	"jz 2f\n\t"
	"xor %eax, %eax\n\t"
	"cpuid\n\t"
	"jmp 1b\n"
	"2:\n\t"
	GUEST_DONE);

/* Have the guest do one operation; returns the value it read or wrote. */
static uint64_t guest_op(struct vcpu *vcpu, uint64_t op, uint64_t gpa, uint64_t val)
{
	struct kvm_regs regs;
	struct ucall uc;

	vcpu_get_regs(vcpu, &regs);
	regs.rsi = op;
	regs.rdx = gpa;
	regs.rcx = val;
	vcpu_set_regs(vcpu, &regs);
	if (vcpu_run_ucall(vcpu, &uc) != UCALL_SYNC)
		test_fail("guest op %llu at %#llx: ucall %llu, not SYNC",
			  (unsigned long long)op, (unsigned long long)gpa,
			  (unsigned long long)uc.cmd);
	return uc.args[0];
}

static uint64_t guest_read(struct vcpu *vcpu, uint64_t gpa)
{
	return guest_op(vcpu, OP_READ, gpa, 0);
}

static void guest_write(struct vcpu *vcpu, uint64_t gpa, uint64_t val)
{
	guest_op(vcpu, OP_WRITE, gpa, val);
}

/* A VM running memop, with DATA_SLOT backed by fresh anonymous memory. */
static struct vcpu *memop_vm(void **data)
{
	struct vcpu *vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(memop));
	struct ucall uc;

	*data = mmap(NULL, DATA_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*data == MAP_FAILED)
		test_fail("mmap: %s", strerror(errno));
	if (__vm_set_memslot(vcpu->vm, DATA_SLOT, 0, DATA_GPA, DATA_SIZE, *data))
		test_fail("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	if (vcpu_run_ucall(vcpu, &uc) != UCALL_SYNC)
		test_fail("memop did not start");
	return vcpu;
}

static volatile uint64_t *host_qword(void *data, int page)
{
	return (volatile uint64_t *)((char *)data + page * PAGE_SIZE);
}

static uint64_t pattern(int page)
{
	return 0x6d656d0000000000ULL | (page + 1);
}

TEST(dontneed_reads_zeros)
{
	struct vcpu *vcpu;
	void *data;
	int i;

	TEST_REQUIRE_KVM();
	vcpu = memop_vm(&data);
	for (i = 0; i < DATA_PAGES; i++)
		guest_write(vcpu, DATA_GPA + i * PAGE_SIZE, pattern(i));
	for (i = 0; i < DATA_PAGES; i++)
		ASSERT_EQ(pattern(i), *host_qword(data, i));

	ASSERT_EQ(0, madvise(data, DATA_SIZE, MADV_DONTNEED));
	for (i = 0; i < DATA_PAGES; i++) {
		EXPECT_EQ(0, guest_read(vcpu, DATA_GPA + i * PAGE_SIZE))
			TH_LOG("page %d: the guest still sees the page MADV_DONTNEED freed", i);
	}
	/* The guest's next write lands in the host's new page. */
	guest_write(vcpu, DATA_GPA + 3 * PAGE_SIZE, 0x1234);
	EXPECT_EQ(0x1234, *host_qword(data, 3));
	EXPECT_EQ(0, *host_qword(data, 4));
	vm_free(vcpu->vm);
	munmap(data, DATA_SIZE);
}

TEST(host_writes)
{
	struct vcpu *vcpu;
	void *data, *p;

	TEST_REQUIRE_KVM();
	vcpu = memop_vm(&data);
	/* Never touched by anyone: the guest reads the zero page. */
	EXPECT_EQ(0, guest_read(vcpu, DATA_GPA));
	/* The host's write gets a page of its own (COW from the zero page). */
	*host_qword(data, 0) = 0xabcd;
	EXPECT_EQ(0xabcd, guest_read(vcpu, DATA_GPA));

	/* The same after the guest wrote the page: new memory replaces it. */
	guest_write(vcpu, DATA_GPA + PAGE_SIZE, 0x1111);
	EXPECT_EQ(0x1111, *host_qword(data, 1));
	p = mmap((char *)data + PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, guest_read(vcpu, DATA_GPA + PAGE_SIZE));
	*host_qword(data, 1) = 0x2222;
	EXPECT_EQ(0x2222, guest_read(vcpu, DATA_GPA + PAGE_SIZE));
	/* And the guest's writes reach the new page. */
	guest_write(vcpu, DATA_GPA + PAGE_SIZE, 0x3333);
	EXPECT_EQ(0x3333, *host_qword(data, 1));
	vm_free(vcpu->vm);
	munmap(data, DATA_SIZE);
}

/* Swap on /dev/zram0 (the rig packs zram.ko and its dependencies): NULL, or why not. */
static const char *swap_on(void)
{
	char line[256];
	FILE *f;
	int n = 0;

	f = fopen("/proc/swaps", "r");
	if (!f)
		return "no /proc/swaps (kernel without swap)";
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	if (n > 1)
		return NULL;	/* a header line and a swap device */
	/* zram and what it needs, in order; built in or loaded already is fine. */
	if (system("test -e /sys/block/zram0 -o -e /lib/modules/extra/zram.ko || exit 1; "
		   "for m in zsmalloc lz4_compress lz4hc_compress zram; do "
		   "test -e /lib/modules/extra/$m.ko && "
		   "insmod /lib/modules/extra/$m.ko 2>/dev/null; done; true"))
		return "no zram module here (scripts/rig.sh packs it)";
	if (system("echo 16M > /sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null && "
		   "swapon /dev/zram0"))
		return "could not swap on /dev/zram0";
	return NULL;
}

/* Is the page at @addr swapped out? /proc/self/pagemap bit 62 (root reads it). */
static int page_swapped(void *addr)
{
	uint64_t entry;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, &entry, sizeof(entry), (uintptr_t)addr / PAGE_SIZE * sizeof(entry));
	close(fd);
	if (n != sizeof(entry))
		return -1;
	return !!(entry & (1ULL << 62));
}

TEST(pageout_swap)
{
	struct vcpu *vcpu;
	const char *why;
	void *data;
	int i, round, swapped = 0;

	TEST_REQUIRE_KVM();
	why = swap_on();
	if (why)
		SKIP(return, "%s", why);
	vcpu = memop_vm(&data);
	for (i = 0; i < DATA_PAGES; i++)
		guest_write(vcpu, DATA_GPA + i * PAGE_SIZE, pattern(i));
	/*
	 * Reclaim asks the MMU notifier whether the guest used the pages
	 * (clear_flush_young): the first round finds them used by the guest's
	 * writes and keeps them, and clears that; a later round takes them.
	 * All of them in the end: nothing else holds these pages.
	 */
	for (round = 1; round <= PAGEOUT_ROUNDS && swapped < DATA_PAGES; round++) {
		ASSERT_EQ(0, madvise(data, DATA_SIZE, MADV_PAGEOUT))
			TH_LOG("%s", strerror(errno));
		swapped = 0;
		for (i = 0; i < DATA_PAGES; i++)
			swapped += page_swapped((char *)data + i * PAGE_SIZE) == 1;
		TH_LOG("MADV_PAGEOUT round %d: %d of %d pages swapped out", round,
		       swapped, DATA_PAGES);
	}
	EXPECT_EQ(DATA_PAGES, swapped);
	for (i = 0; i < DATA_PAGES; i++)
		EXPECT_EQ(pattern(i), guest_read(vcpu, DATA_GPA + i * PAGE_SIZE));
	vm_free(vcpu->vm);
	munmap(data, DATA_SIZE);
}

struct unmapper {
	void *addr;
	size_t size;
	int ret;
};

static void *unmap_later(void *arg)
{
	struct unmapper *u = arg;

	usleep(200 * 1000);
	u->ret = munmap(u->addr, u->size);
	return NULL;
}

TEST(unmap_while_running)
{
	struct unmapper u = { .size = DATA_SIZE };
	struct kvm_regs regs;
	struct vcpu *vcpu;
	pthread_t thread;
	int r, err;

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(spin_read));
	u.addr = mmap(NULL, DATA_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, u.addr);
	*host_qword(u.addr, 0) = 1;	/* the guest spins while this is non-zero */
	ASSERT_EQ(0, __vm_set_memslot(vcpu->vm, DATA_SLOT, 0, DATA_GPA, DATA_SIZE, u.addr));
	vcpu_get_regs(vcpu, &regs);
	regs.r8 = DATA_GPA;
	vcpu_set_regs(vcpu, &regs);

	ASSERT_EQ(0, pthread_create(&thread, NULL, unmap_later, &u));
	/* No exit to userspace in the loop: only the unmap can end this KVM_RUN. */
	r = __vcpu_run(vcpu);
	err = errno;
	pthread_join(thread, NULL);
	ASSERT_EQ(0, u.ret);
	EXPECT_EQ(-1, r) TH_LOG("KVM_RUN returned %d, exit reason %u", r,
				vcpu->run->exit_reason);
	EXPECT_EQ(EFAULT, err) TH_LOG("errno %d (%s)", err, strerror(err));
	/* And again: the memory stays gone. */
	r = __vcpu_run(vcpu);
	err = errno;
	EXPECT_EQ(-1, r);
	EXPECT_EQ(EFAULT, err);
	vm_free(vcpu->vm);
}

/* Write @val to the KSM knob @name; 0 or -1. */
static int ksm_set(const char *name, const char *val)
{
	char path[128];
	int fd, ok;

	snprintf(path, sizeof(path), "/sys/kernel/mm/ksm/%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

static long ksm_get(const char *name)
{
	char path[128], buf[32] = "";
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/mm/ksm/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return strtol(buf, NULL, 10);
}

#define KSM_WAIT_S	20	/* within the harness's 30 s per test */

TEST(ksm_merges_two_vms)
{
	struct vcpu *vcpu[2];
	void *data[2];
	long shared = 0;
	int i, v, waited;

	TEST_REQUIRE_KVM();
	if (access("/sys/kernel/mm/ksm/run", W_OK))
		SKIP(return, "no KSM in this kernel");
	for (v = 0; v < 2; v++) {
		vcpu[v] = memop_vm(&data[v]);
		ASSERT_EQ(0, madvise(data[v], DATA_SIZE, MADV_MERGEABLE))
			TH_LOG("MADV_MERGEABLE: %s", strerror(errno));
		/* The same page contents in both VMs, written by the guests. */
		for (i = 0; i < DATA_PAGES; i++)
			guest_write(vcpu[v], DATA_GPA + i * PAGE_SIZE, pattern(i));
	}
	ASSERT_EQ(0, ksm_set("sleep_millisecs", "10"));
	ASSERT_EQ(0, ksm_set("pages_to_scan", "1000"));
	ASSERT_EQ(0, ksm_set("run", "1"));
	for (waited = 0; waited < KSM_WAIT_S * 10; waited++) {
		shared = ksm_get("pages_shared");
		if (shared >= DATA_PAGES)
			break;
		usleep(100 * 1000);
	}
	TH_LOG("pages_shared %ld, pages_sharing %ld after %d.%d s", shared,
	       ksm_get("pages_sharing"), waited / 10, waited % 10);
	EXPECT_LE(DATA_PAGES, shared) TH_LOG("KSM merged fewer than the guests' pages");

	/* Both guests still read their data from the merged pages... */
	for (v = 0; v < 2; v++)
		for (i = 0; i < DATA_PAGES; i++)
			EXPECT_EQ(pattern(i), guest_read(vcpu[v], DATA_GPA + i * PAGE_SIZE));
	/* ...and a write by one reaches its own VM only. */
	guest_write(vcpu[0], DATA_GPA + 2 * PAGE_SIZE, 0x4b534d);
	EXPECT_EQ(0x4b534d, *host_qword(data[0], 2));
	EXPECT_EQ(pattern(2), *host_qword(data[1], 2));
	EXPECT_EQ(pattern(2), guest_read(vcpu[1], DATA_GPA + 2 * PAGE_SIZE));
	EXPECT_EQ(0x4b534d, guest_read(vcpu[0], DATA_GPA + 2 * PAGE_SIZE));

	ksm_set("run", "2");	/* unmerge everything, stop */
	for (v = 0; v < 2; v++) {
		vm_free(vcpu[v]->vm);
		munmap(data[v], DATA_SIZE);
	}
}

TEST_HARNESS_MAIN
