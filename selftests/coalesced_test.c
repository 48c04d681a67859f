// SPDX-License-Identifier: GPL-2.0-only
/*
 * coalesced_test: guest writes that wait in a ring instead of exiting
 * (KVM_REGISTER_COALESCED_MMIO, api.rst 4.116; KVM_CAP_COALESCED_PIO).
 *
 * A VMM names a zone of guest-physical addresses (or ports, pio = 1). A guest
 * write inside the zone is appended to the ring at page
 * KVM_CHECK_EXTENSION(KVM_CAP_COALESCED_MMIO) of the vCPU mmap and the guest
 * goes on without an exit; the VMM reads the entries after the next exit,
 * before it handles that exit. One ring entry always stays free: when the
 * other KVM_COALESCED_MMIO_MAX - 1 are taken, the next write exits as usual.
 * Reads and writes that leave the zone always exit.
 *
 * The guest below writes EAX to the address in RBX, RCX times, EAX counting
 * up and RBX moving on by 4 bytes (MMIO) or staying (a port), then reports
 * DONE. The host drains the ring at every exit and checks that the values
 * arrive in order, each exactly once, and how many of them exited.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

#define MMIO_GPA	0xc0000000ULL	/* no memslot; the guest's tables map it */
#define PORT		0x70		/* QEMU coalesces the RTC index port */
#define FIRST_VALUE	0x1000

GUEST_ASM(mmio_writes, 64,
	  "1: mov %eax, (%rbx)\n\t"
	  "add $4, %rbx\n\t"
	  "inc %eax\n\t"
	  "dec %ecx\n\t"
	  "jnz 1b\n\t"
	  GUEST_DONE);

GUEST_ASM(pio_writes, 64,
	  "mov %ebx, %edx\n\t"
	  "1: out %al, %dx\n\t"
	  "inc %eax\n\t"
	  "dec %ecx\n\t"
	  "jnz 1b\n\t"
	  GUEST_DONE);

/* A read from the zone, then DONE with the value read in RDI. */
GUEST_ASM(mmio_read, 64,
	  "mov (%rbx), %edi\n\t"
	  "mov %edi, %esi\n\t"
	  GUEST_UCALL(UCALL_SYNC)
	  GUEST_DONE);

static int zone_ioctl(struct vm *vm, unsigned long ioctl_nr, uint64_t addr,
		      uint32_t size, uint32_t pio)
{
	struct kvm_coalesced_mmio_zone z = {
		.addr = addr, .size = size, .pio = pio,
	};

	return ioctl(vm->fd, ioctl_nr, &z);
}

static struct kvm_coalesced_mmio_ring *ring_of(struct vcpu *vcpu)
{
	int page = kvm_check_cap(KVM_CAP_COALESCED_MMIO);

	return (void *)((char *)vcpu->run + page * PAGE_SIZE);
}

/* What one run of a writing guest showed the host. */
struct tally {
	uint32_t ring_entries;	/* values that came through the ring */
	uint32_t exits;		/* values that came as KVM_EXIT_MMIO/IO */
	uint32_t next;		/* the value expected next */
	bool bad;		/* a value out of order, a wrong address or size */
};

/* Take every entry of the ring, in order, as a VMM does after an exit. */
static void drain(struct vcpu *vcpu, struct tally *t, bool pio, uint8_t width)
{
	struct kvm_coalesced_mmio_ring *ring = ring_of(vcpu);
	uint32_t max = KVM_COALESCED_MMIO_MAX;

	while (ring->first != ring->last) {
		struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[ring->first];
		uint32_t v = 0;
		uint64_t addr = pio ? PORT : MMIO_GPA + 4ULL * (t->next - FIRST_VALUE);

		__sync_synchronize();
		memcpy(&v, e->data, width);
		if (e->len != width || e->pio != pio || e->phys_addr != addr ||
		    v != (t->next & (width == 1 ? 0xff : 0xffffffff)))
			t->bad = true;
		t->next++;
		t->ring_entries++;
		ring->first = (ring->first + 1) % max;
	}
}

/* Run the guest to DONE; every exit first empties the ring. */
static void run_writes(struct __test_metadata *_metadata, struct vcpu *vcpu,
		       bool pio, uint32_t count, struct tally *t)
{
	uint8_t width = pio ? 1 : 4;
	struct kvm_regs regs;
	struct ucall uc;

	vcpu_get_regs(vcpu, &regs);
	regs.rax = FIRST_VALUE;
	regs.rbx = pio ? PORT : MMIO_GPA;
	regs.rcx = count;
	vcpu_set_regs(vcpu, &regs);
	memset(t, 0, sizeof(*t));
	t->next = FIRST_VALUE;

	for (;;) {
		struct kvm_run *run = vcpu->run;
		uint32_t v = 0;

		vcpu_run(vcpu);
		drain(vcpu, t, pio, width);
		if (vcpu_get_ucall(vcpu, &uc) == UCALL_DONE)
			break;
		if (pio) {
			ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
			ASSERT_EQ(PORT, run->io.port);
			ASSERT_EQ(KVM_EXIT_IO_OUT, run->io.direction);
			memcpy(&v, vcpu_io_data(vcpu), 1);
			EXPECT_EQ(t->next & 0xff, v);
		} else {
			ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason);
			ASSERT_EQ(1, run->mmio.is_write);
			ASSERT_EQ(4, run->mmio.len);
			EXPECT_EQ(MMIO_GPA + 4ULL * (t->next - FIRST_VALUE),
				  run->mmio.phys_addr);
			memcpy(&v, run->mmio.data, 4);
			EXPECT_EQ(t->next, v);
		}
		t->next++;
		t->exits++;
		ASSERT_GE(count, t->exits);
	}
	EXPECT_FALSE(t->bad);
	EXPECT_EQ(FIRST_VALUE + count, t->next);
	EXPECT_EQ(count, t->ring_entries + t->exits);
}

FIXTURE(coalesced) {
	struct vcpu *vcpu;
};

FIXTURE_SETUP(coalesced)
{
	self->vcpu = NULL;
	TEST_REQUIRE_CAP(KVM_CAP_COALESCED_MMIO);
}

FIXTURE_TEARDOWN(coalesced)
{
	if (self->vcpu)
		vm_free(self->vcpu->vm);
}

/* The ring is inside the vCPU mapping, empty at first. */
TEST_F(coalesced, ring_page)
{
	int page = kvm_check_cap(KVM_CAP_COALESCED_MMIO);

	self->vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(mmio_writes));
	EXPECT_LT(0, page);
	EXPECT_LE((page + 1) * (int)PAGE_SIZE, self->vcpu->vm->run_size);
	EXPECT_EQ(0, ring_of(self->vcpu)->first);
	EXPECT_EQ(0, ring_of(self->vcpu)->last);
}

/* Ten writes into the zone: no exit but DONE, ten entries in order. */
TEST_F(coalesced, mmio_batched)
{
	struct tally t;

	self->vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(mmio_writes));
	ASSERT_EQ(0, zone_ioctl(self->vcpu->vm, KVM_REGISTER_COALESCED_MMIO,
				MMIO_GPA, PAGE_SIZE, 0));
	run_writes(_metadata, self->vcpu, false, 10, &t);
	EXPECT_EQ(0, t.exits);
	EXPECT_EQ(10, t.ring_entries);
}

/* The same on a port, with pio = 1 (KVM_CAP_COALESCED_PIO). */
TEST_F(coalesced, pio_batched)
{
	struct tally t;

	if (kvm_check_cap(KVM_CAP_COALESCED_PIO) <= 0)
		SKIP(return, "KVM_CAP_COALESCED_PIO not supported");
	self->vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(pio_writes));
	ASSERT_EQ(0, zone_ioctl(self->vcpu->vm, KVM_REGISTER_COALESCED_MMIO,
				PORT, 1, 1));
	run_writes(_metadata, self->vcpu, true, 10, &t);
	EXPECT_EQ(0, t.exits);
	EXPECT_EQ(10, t.ring_entries);
}

/*
 * More writes than the ring holds, drained only at exits: a write that
 * finds the ring full exits, so no value is lost or reordered and at least
 * every KVM_COALESCED_MMIO_MAX-th write exits. On minikvm exactly those
 * exit (the ring holds MAX - 1 entries). kvm_amd in the SVM rig exited 3
 * times for these 370 writes, not 2: its full test (virt/kvm/
 * coalesced_mmio.c) takes (first - last - 1) % MAX of a 32-bit unsigned
 * difference, which also reads as full at other index pairs once the
 * difference wraps. api.rst promises only that a full ring exits.
 */
TEST_F(coalesced, ring_full_exits)
{
	uint32_t count = 2 * KVM_COALESCED_MMIO_MAX + 30;
	struct tally t;

	self->vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(mmio_writes));
	ASSERT_EQ(0, zone_ioctl(self->vcpu->vm, KVM_REGISTER_COALESCED_MMIO,
				MMIO_GPA, 4 * PAGE_SIZE, 0));
	run_writes(_metadata, self->vcpu, false, count, &t);
	TH_LOG("%u writes: %u through the ring, %u exits (ring of %lu)",
	       count, t.ring_entries, t.exits,
	       (unsigned long)KVM_COALESCED_MMIO_MAX);
	EXPECT_LE(count / KVM_COALESCED_MMIO_MAX, t.exits);
	if (kvm_is_minikvm())
		EXPECT_EQ(count / KVM_COALESCED_MMIO_MAX, t.exits);
}

/* A write that does not fit inside the zone exits, and so does a read. */
TEST_F(coalesced, outside_and_reads_exit)
{
	struct kvm_run *run;
	struct kvm_regs regs;
	struct tally t;
	struct ucall uc;

	self->vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(mmio_writes));
	run = self->vcpu->run;
	/* Two bytes: a 4-byte store at its start is not inside. */
	ASSERT_EQ(0, zone_ioctl(self->vcpu->vm, KVM_REGISTER_COALESCED_MMIO,
				MMIO_GPA, 2, 0));
	run_writes(_metadata, self->vcpu, false, 3, &t);
	EXPECT_EQ(3, t.exits);
	EXPECT_EQ(0, t.ring_entries);

	/* A read of a coalesced zone: an ordinary read exit. */
	ASSERT_EQ(0, zone_ioctl(self->vcpu->vm, KVM_REGISTER_COALESCED_MMIO,
				MMIO_GPA + PAGE_SIZE, PAGE_SIZE, 0));
	vm_load_code(self->vcpu->vm, GUEST_CODE(mmio_read));
	vcpu_init_mode(self->vcpu, MODE_LONG64, GUEST_CODE_GPA);
	vcpu_get_regs(self->vcpu, &regs);
	regs.rbx = MMIO_GPA + PAGE_SIZE;
	vcpu_set_regs(self->vcpu, &regs);
	vcpu_run(self->vcpu);
	ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason);
	EXPECT_EQ(0, run->mmio.is_write);
	EXPECT_EQ(MMIO_GPA + PAGE_SIZE, run->mmio.phys_addr);
	memcpy(run->mmio.data, "\x78\x56\x34\x12", 4);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(self->vcpu, &uc));
	EXPECT_EQ(0x12345678, uc.args[0]);
	EXPECT_EQ(ring_of(self->vcpu)->first, ring_of(self->vcpu)->last);
}

/* After KVM_UNREGISTER_COALESCED_MMIO every write exits again. */
TEST_F(coalesced, unregister)
{
	struct vm *vm;
	struct tally t;

	self->vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(mmio_writes));
	vm = self->vcpu->vm;
	ASSERT_EQ(0, zone_ioctl(vm, KVM_REGISTER_COALESCED_MMIO, MMIO_GPA,
				PAGE_SIZE, 0));
	/* A port zone of the same address is another zone: it stays. */
	ASSERT_EQ(0, zone_ioctl(vm, KVM_REGISTER_COALESCED_MMIO, MMIO_GPA,
				PAGE_SIZE, 1));
	ASSERT_EQ(0, zone_ioctl(vm, KVM_UNREGISTER_COALESCED_MMIO, MMIO_GPA,
				PAGE_SIZE, 0));
	/* Nothing left to remove is not an error. */
	EXPECT_EQ(0, zone_ioctl(vm, KVM_UNREGISTER_COALESCED_MMIO, MMIO_GPA,
				PAGE_SIZE, 0));
	run_writes(_metadata, self->vcpu, false, 5, &t);
	EXPECT_EQ(5, t.exits);
	EXPECT_EQ(0, t.ring_entries);
}

/* pio is 0 or 1. */
TEST_F(coalesced, invalid)
{
	struct vm *vm;

	self->vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(mmio_writes));
	vm = self->vcpu->vm;
	EXPECT_EQ(-1, zone_ioctl(vm, KVM_REGISTER_COALESCED_MMIO, MMIO_GPA,
				 PAGE_SIZE, 2));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, zone_ioctl(vm, KVM_UNREGISTER_COALESCED_MMIO, MMIO_GPA,
				 PAGE_SIZE, 2));
	EXPECT_EQ(EINVAL, errno);
}

TEST_HARNESS_MAIN
