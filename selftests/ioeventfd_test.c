// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioeventfd_test: guest writes that signal an eventfd instead of exiting
 * (KVM_IOEVENTFD, api.rst 4.59).
 *
 * A VMM registers (bus, address, length, optionally a value) with an
 * eventfd. A guest write that matches all of them signals the eventfd and
 * the guest goes on at once: KVM_RUN does not return. A write that does
 * not match (another value, another length) is an ordinary exit,
 * KVM_EXIT_IO or KVM_EXIT_MMIO, with the data. Length 0 takes a write of
 * any length at the address (KVM_CAP_IOEVENTFD_ANY_LENGTH). MMIO
 * ioeventfds sit on guest-physical addresses without a memslot.
 *
 * Each case below: the guest writes RAX to the address in RBX (a port, or
 * a GPA) NR_WRITES times, then reports DONE. A hit must leave DONE as the
 * first exit and the eventfd's counter at exactly NR_WRITES; a miss must
 * show each write to userspace and leave the counter at 0. Then the
 * registration's error cases.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

#define NR_WRITES	10
#define IO_PORT		0x6000
#define MMIO_GPA	0xc0000000ULL	/* no memslot; the guest's tables map it */
#define VALUE		0x1122334455667788ULL

/* One write of each kind, NR_WRITES times, then DONE. RCX counts down. */
#define WRITE_GUEST(name, insn)							\
	GUEST_ASM(name, 64,							\
		  "mov $" GSTR(NR_WRITES) ", %ecx\n"				\
		  "1: " insn "\n\t"						\
		  "dec %ecx\n\t"						\
		  "jnz 1b\n\t"							\
		  GUEST_DONE)

WRITE_GUEST(out8, "mov %ebx, %edx\n\tout %al, %dx");
WRITE_GUEST(out16, "mov %ebx, %edx\n\tout %ax, %dx");
WRITE_GUEST(out32, "mov %ebx, %edx\n\tout %eax, %dx");
WRITE_GUEST(mov8, "mov %al, (%rbx)");
WRITE_GUEST(mov16, "mov %ax, (%rbx)");
WRITE_GUEST(mov32, "mov %eax, (%rbx)");
WRITE_GUEST(mov64, "mov %rax, (%rbx)");

static int ioeventfd(int vm_fd, int efd, uint64_t addr, uint32_t len,
		     uint32_t flags, uint64_t datamatch)
{
	struct kvm_ioeventfd args = {
		.datamatch = datamatch, .addr = addr, .len = len,
		.fd = efd, .flags = flags,
	};

	return ioctl(vm_fd, KVM_IOEVENTFD, &args);
}

/* The eventfd's counter, and back to 0. */
static uint64_t efd_take(int efd)
{
	uint64_t n = 0;

	if (read(efd, &n, sizeof(n)) != sizeof(n))
		return 0;	/* EAGAIN: never signalled */
	return n;
}

FIXTURE(ioeventfd) {
	struct vcpu *vcpu;
	int efd;
};

FIXTURE_VARIANT(ioeventfd) {
	struct guest_code code;
	bool pio;
	uint32_t access_len;	/* what the guest writes */
	uint32_t len;		/* what is registered; 0 = any */
	bool datamatch;
	uint64_t match;		/* with datamatch */
	bool hit;
};

#define CASE(name, guest, is_pio, alen, rlen, dm, m, h)			\
	FIXTURE_VARIANT_ADD(ioeventfd, name) {					\
		.code = GUEST_CODE_INIT(guest), .pio = is_pio,			\
		.access_len = alen, .len = rlen, .datamatch = dm,		\
		.match = m, .hit = h,						\
	}

/* Port I/O: each size, with and without a value; a wrong value or size misses. */
CASE(pio8_any_value, out8, true, 1, 1, false, 0, true);
CASE(pio16_value, out16, true, 2, 2, true, VALUE & 0xffff, true);
CASE(pio32_value, out32, true, 4, 4, true, VALUE & 0xffffffff, true);
CASE(pio32_other_value, out32, true, 4, 4, true, 0x12345678, false);
CASE(pio16_other_len, out16, true, 2, 4, false, 0, false);
CASE(pio32_len0, out32, true, 4, 0, false, 0, true);
/* MMIO, the same, and 8 bytes. */
CASE(mmio8_value, mov8, false, 1, 1, true, VALUE & 0xff, true);
CASE(mmio16_any_value, mov16, false, 2, 2, false, 0, true);
CASE(mmio32_value, mov32, false, 4, 4, true, VALUE & 0xffffffff, true);
CASE(mmio64_value, mov64, false, 8, 8, true, VALUE, true);
CASE(mmio64_other_value, mov64, false, 8, 8, true, VALUE + 1, false);
CASE(mmio32_other_len, mov32, false, 4, 8, false, 0, false);
CASE(mmio8_len0, mov8, false, 1, 0, false, 0, true);
CASE(mmio64_len0, mov64, false, 8, 0, false, 0, true);

FIXTURE_SETUP(ioeventfd)
{
	struct kvm_regs regs;

	self->vcpu = NULL;
	self->efd = -1;
	TEST_REQUIRE_CAP(KVM_CAP_IOEVENTFD);
	if (!variant->len && kvm_check_cap(KVM_CAP_IOEVENTFD_ANY_LENGTH) <= 0)
		SKIP(return, "KVM_CAP_IOEVENTFD_ANY_LENGTH not supported");
	self->vcpu = vm_create_guest(MODE_LONG64, variant->code);
	vcpu_get_regs(self->vcpu, &regs);
	regs.rax = VALUE;
	regs.rbx = variant->pio ? IO_PORT : MMIO_GPA;
	vcpu_set_regs(self->vcpu, &regs);
	self->efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(ioeventfd)
{
	if (self->efd >= 0)
		close(self->efd);
	if (self->vcpu)
		vm_free(self->vcpu->vm);
}

/* The next exit must be the guest's write of VALUE, to userspace. */
static void expect_write_exit(struct __test_metadata *_metadata,
			      struct vcpu *vcpu, const FIXTURE_VARIANT(ioeventfd) *variant)
{
	struct kvm_run *run = vcpu->run;
	uint64_t data = 0;

	vcpu_run(vcpu);
	if (variant->pio) {
		ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
		EXPECT_EQ(KVM_EXIT_IO_OUT, run->io.direction);
		EXPECT_EQ(IO_PORT, run->io.port);
		EXPECT_EQ(variant->access_len, run->io.size);
		memcpy(&data, vcpu_io_data(vcpu), run->io.size);
	} else {
		ASSERT_EQ(KVM_EXIT_MMIO, run->exit_reason);
		EXPECT_EQ(1, run->mmio.is_write);
		EXPECT_EQ(MMIO_GPA, run->mmio.phys_addr);
		EXPECT_EQ(variant->access_len, run->mmio.len);
		memcpy(&data, run->mmio.data, run->mmio.len);
	}
	if (variant->access_len < 8)
		data |= VALUE & (~0ULL << (8 * variant->access_len));
	EXPECT_EQ(VALUE, data);
}

TEST_F(ioeventfd, writes)
{
	struct vcpu *vcpu = self->vcpu;
	uint32_t flags = variant->pio ? KVM_IOEVENTFD_FLAG_PIO : 0;
	uint64_t addr = variant->pio ? IO_PORT : MMIO_GPA;
	struct ucall uc;
	int i;

	if (!vcpu)
		return;
	if (variant->datamatch)
		flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	ASSERT_EQ(0, ioeventfd(vcpu->vm->fd, self->efd, addr, variant->len,
			       flags, variant->match));

	if (variant->hit) {
		/* Every write stays in the kernel: the first exit is DONE. */
		ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));
		EXPECT_EQ(NR_WRITES, efd_take(self->efd));
	} else {
		for (i = 0; i < NR_WRITES; i++)
			expect_write_exit(_metadata, vcpu, variant);
		ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));
		EXPECT_EQ(0, efd_take(self->efd));
	}

	/* Gone after deassign: the same writes, once more, all exit. */
	ASSERT_EQ(0, ioeventfd(vcpu->vm->fd, self->efd, addr, variant->len,
			       flags | KVM_IOEVENTFD_FLAG_DEASSIGN,
			       variant->match));
	ASSERT_EQ(-1, ioeventfd(vcpu->vm->fd, self->efd, addr, variant->len,
				flags | KVM_IOEVENTFD_FLAG_DEASSIGN,
				variant->match));
	EXPECT_EQ(ENOENT, errno);
	vcpu_init_mode(vcpu, MODE_LONG64, GUEST_CODE_GPA);
	{
		struct kvm_regs regs;

		vcpu_get_regs(vcpu, &regs);
		regs.rax = VALUE;
		regs.rbx = addr;
		vcpu_set_regs(vcpu, &regs);
	}
	for (i = 0; i < NR_WRITES; i++)
		expect_write_exit(_metadata, vcpu, variant);
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0, efd_take(self->efd));
}

/* ------------------------------------------------------------------ */
/* Registration errors                                                 */
/* ------------------------------------------------------------------ */

FIXTURE(reg) {
	struct vm *vm;
	int efd, efd2;
};

FIXTURE_SETUP(reg)
{
	self->vm = NULL;
	self->efd = self->efd2 = -1;
	TEST_REQUIRE_CAP(KVM_CAP_IOEVENTFD);
	self->vm = vm_create();
	self->efd = eventfd(0, EFD_NONBLOCK);
	self->efd2 = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
	ASSERT_LE(0, self->efd2);
}

FIXTURE_TEARDOWN(reg)
{
	if (self->efd >= 0)
		close(self->efd);
	if (self->efd2 >= 0)
		close(self->efd2);
	if (self->vm)
		vm_free(self->vm);
}

#define EXPECT_ERRNO(err, call) do {						\
	EXPECT_EQ(-1, (call));							\
	EXPECT_EQ(err, errno);							\
} while (0)

/* Lengths are 0, 1, 2, 4 or 8; the range must not wrap; flags are known. */
TEST_F(reg, invalid)
{
	int fd, efd = self->efd;
	int null_fd;

	if (!self->vm)
		return;
	fd = self->vm->fd;
	EXPECT_ERRNO(EINVAL, ioeventfd(fd, efd, MMIO_GPA, 3, 0, 0));
	EXPECT_ERRNO(EINVAL, ioeventfd(fd, efd, MMIO_GPA, 16, 0, 0));
	EXPECT_ERRNO(EINVAL, ioeventfd(fd, efd, ~0ULL - 1, 4, 0, 0));
	EXPECT_ERRNO(EINVAL, ioeventfd(fd, efd, MMIO_GPA, 4, 1u << 5, 0));
	/* A datamatch needs a length to compare. */
	EXPECT_ERRNO(EINVAL, ioeventfd(fd, efd, MMIO_GPA, 0,
				       KVM_IOEVENTFD_FLAG_DATAMATCH, 1));
	EXPECT_ERRNO(EBADF, ioeventfd(fd, -1, MMIO_GPA, 4, 0, 0));
	/* A file that is not an eventfd. */
	null_fd = open("/dev/null", O_RDWR);
	ASSERT_LE(0, null_fd);
	EXPECT_ERRNO(EINVAL, ioeventfd(fd, null_fd, MMIO_GPA, 4, 0, 0));
	close(null_fd);
	/* Up to the last byte but one of the address space: no wrap, fine. */
	EXPECT_EQ(0, ioeventfd(fd, efd, ~0ULL - 4, 4, 0, 0));
	/*
	 * The s390 virtio-ccw flag. minikvm refuses it on x86. kvm.ko
	 * accepts it (the flag is in KVM_IOEVENTFD_VALID_FLAG_MASK on every
	 * architecture) and puts the ioeventfd on a bus no x86 exit reads.
	 */
	if (kvm_is_minikvm()) {
		EXPECT_ERRNO(EINVAL, ioeventfd(fd, efd, MMIO_GPA, 4,
				KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY, 0));
	} else {
		EXPECT_EQ(0, ioeventfd(fd, efd, MMIO_GPA, 4,
				KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY, 0));
	}
}

/*
 * Two registrations collide (EEXIST) when one write could hit both, and
 * only then: same bus and address, and either takes any length, or the
 * same length with either taking any value or both the same value.
 */
TEST_F(reg, overlap)
{
	const uint32_t dm = KVM_IOEVENTFD_FLAG_DATAMATCH;
	const uint32_t pio = KVM_IOEVENTFD_FLAG_PIO;
	int fd, a = self->efd, b = self->efd2;

	if (!self->vm)
		return;
	fd = self->vm->fd;
	ASSERT_EQ(0, ioeventfd(fd, a, MMIO_GPA, 4, dm, 1));
	EXPECT_ERRNO(EEXIST, ioeventfd(fd, a, MMIO_GPA, 4, dm, 1));
	EXPECT_ERRNO(EEXIST, ioeventfd(fd, b, MMIO_GPA, 4, dm, 1));
	EXPECT_ERRNO(EEXIST, ioeventfd(fd, b, MMIO_GPA, 4, 0, 0));
	if (kvm_check_cap(KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0)
		EXPECT_ERRNO(EEXIST, ioeventfd(fd, b, MMIO_GPA, 0, 0, 0));
	/* No write can hit both of these and the first. */
	EXPECT_EQ(0, ioeventfd(fd, b, MMIO_GPA, 4, dm, 2));
	EXPECT_EQ(0, ioeventfd(fd, b, MMIO_GPA, 2, dm, 1));
	EXPECT_EQ(0, ioeventfd(fd, b, MMIO_GPA + 4, 4, dm, 1));
	EXPECT_EQ(0, ioeventfd(fd, a, MMIO_GPA & 0xffff, 4, dm | pio, 1));
	EXPECT_ERRNO(EEXIST, ioeventfd(fd, b, MMIO_GPA & 0xffff, 4, pio, 0));

	/* Deassign wants every field as registered. */
	EXPECT_ERRNO(ENOENT, ioeventfd(fd, a, MMIO_GPA, 4,
				       dm | KVM_IOEVENTFD_FLAG_DEASSIGN, 3));
	EXPECT_ERRNO(ENOENT, ioeventfd(fd, b, MMIO_GPA, 4,
				       dm | KVM_IOEVENTFD_FLAG_DEASSIGN, 1));
	EXPECT_ERRNO(ENOENT, ioeventfd(fd, a, MMIO_GPA, 4,
				       KVM_IOEVENTFD_FLAG_DEASSIGN, 0));
	EXPECT_ERRNO(ENOENT, ioeventfd(fd, a, MMIO_GPA, 4,
				       dm | pio | KVM_IOEVENTFD_FLAG_DEASSIGN, 1));
	EXPECT_EQ(0, ioeventfd(fd, a, MMIO_GPA, 4,
			       dm | KVM_IOEVENTFD_FLAG_DEASSIGN, 1));
	/* Its place is free again; a wildcard still meets value 2. */
	EXPECT_EQ(0, ioeventfd(fd, a, MMIO_GPA, 4, dm, 1));
	EXPECT_ERRNO(EEXIST, ioeventfd(fd, a, MMIO_GPA, 4, 0, 0));
}

/*
 * Closing the eventfd or the VM with ioeventfds registered, in either
 * order, must neither leak nor crash (the rig's kernel log is checked).
 */
TEST(close_order)
{
	struct vm *vm;
	int efd, i;

	TEST_REQUIRE_CAP(KVM_CAP_IOEVENTFD);
	for (i = 0; i < 2; i++) {
		vm = vm_create();
		efd = eventfd(0, 0);
		ASSERT_LE(0, efd);
		ASSERT_EQ(0, ioeventfd(vm->fd, efd, MMIO_GPA, 4, 0, 0));
		ASSERT_EQ(0, ioeventfd(vm->fd, efd, IO_PORT, 1,
				       KVM_IOEVENTFD_FLAG_PIO, 0));
		if (i) {
			close(efd);
			vm_free(vm);
		} else {
			vm_free(vm);
			close(efd);
		}
	}
}

TEST_HARNESS_MAIN
