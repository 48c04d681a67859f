// SPDX-License-Identifier: GPL-2.0-only
/*
 * pit_test: the in-kernel 8254 PIT (KVM_CREATE_PIT2, KVM_GET/SET_PIT2,
 * KVM_REINJECT_CONTROL; api.rst 4.71-4.73, 4.99; the chip: Intel 8254
 * datasheet).
 *
 * - the ioctls' errors: ENXIO before the PIT exists, EEXIST for a second one;
 * - its state: what a new PIT holds, and KVM_SET_PIT2 then KVM_GET_PIT2
 *   giving back what was set (each count starts over from the SET, so
 *   count_load_time is the one field that moves);
 * - a guest programming counter 2 (gate through port 0x61, which the kernel
 *   answers with KVM_PIT_SPEAKER_DUMMY and the VMM without it), latching it
 *   and reading it going down, and reading its status back;
 * - with the in-kernel irqchip, a guest counting counter 0's interrupts
 *   through the PIC at 100 Hz, with and without reinjection, and none in
 *   HPET legacy mode;
 * - and with reinjection, ticks that go on after one was lost without an
 *   EOI: an edge request erased by re-initialising the PIC, an IOAPIC
 *   vector changed (masked, then unmasked) while a tick waited in the IRR.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

/* An ioctl that must fail with @err. */
#define EXPECT_ERRNO(err, call) do {						\
	EXPECT_EQ(-1, (call));							\
	EXPECT_EQ(err, errno);							\
} while (0)

static int create_pit2(struct vm *vm, uint32_t flags)
{
	struct kvm_pit_config cfg = { .flags = flags };

	return ioctl(vm->fd, KVM_CREATE_PIT2, &cfg);
}

/* Is there an in-kernel PIT to test at all? (minikvm before it had one: ENOTTY) */
static bool have_pit(void)
{
	struct vm *vm = vm_create();
	int r = create_pit2(vm, 0);

	vm_free(vm);
	return r == 0;
}

#define TEST_REQUIRE_PIT() do {							\
	TEST_REQUIRE_KVM();							\
	if (!have_pit())							\
		SKIP(return, "no in-kernel PIT (KVM_CREATE_PIT2)");		\
} while (0)

TEST(create_errors)
{
	struct kvm_reinject_control rc = { .pit_reinject = 1 };
	struct kvm_pit_state2 s2;
	struct kvm_pit_state s;
	struct vm *vm;

	TEST_REQUIRE_PIT();
	vm = vm_create();
	EXPECT_ERRNO(ENXIO, ioctl(vm->fd, KVM_GET_PIT2, &s2));
	EXPECT_ERRNO(ENXIO, ioctl(vm->fd, KVM_GET_PIT, &s));
	memset(&s2, 0, sizeof(s2));
	EXPECT_ERRNO(ENXIO, ioctl(vm->fd, KVM_SET_PIT2, &s2));
	EXPECT_ERRNO(ENXIO, ioctl(vm->fd, KVM_REINJECT_CONTROL, &rc));
	/* No in-kernel irqchip needed (KVM allows it; no interrupts then). */
	ASSERT_EQ(0, create_pit2(vm, KVM_PIT_SPEAKER_DUMMY));
	EXPECT_ERRNO(EEXIST, create_pit2(vm, 0));
	EXPECT_ERRNO(EEXIST, ioctl(vm->fd, KVM_CREATE_PIT, 0));
	EXPECT_EQ(0, ioctl(vm->fd, KVM_GET_PIT2, &s2));
	EXPECT_EQ(0, ioctl(vm->fd, KVM_REINJECT_CONTROL, &rc));
	vm_free(vm);

	/* The old form: a PIT with the speaker port, as KVM makes it. */
	vm = vm_create();
	EXPECT_EQ(0, ioctl(vm->fd, KVM_CREATE_PIT, 0));
	EXPECT_ERRNO(EEXIST, create_pit2(vm, 0));
	vm_free(vm);

	/*
	 * Unknown flags: minikvm refuses them. kvm.ko (6.1) does not look at
	 * any bit but KVM_PIT_SPEAKER_DUMMY and makes the PIT.
	 */
	if (kvm_is_minikvm()) {
		vm = vm_create();
		EXPECT_ERRNO(EINVAL, create_pit2(vm, 2));
		vm_free(vm);
	}
}

/* What KVM_CREATE_PIT2 starts with: no mode, count 2^16, gates 0 and 1 high. */
TEST(initial_state)
{
	struct kvm_pit_state2 s;
	struct vm *vm;
	int i;

	TEST_REQUIRE_PIT();
	vm = vm_create();
	ASSERT_EQ(0, create_pit2(vm, 0));
	memset(&s, 0xa5, sizeof(s));
	ASSERT_EQ(0, ioctl(vm->fd, KVM_GET_PIT2, &s));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0x10000, s.channels[i].count);
		EXPECT_EQ(0xff, s.channels[i].mode);
		EXPECT_EQ(i != 2, s.channels[i].gate);
		EXPECT_EQ(0, s.channels[i].count_latched);
		EXPECT_EQ(0, s.channels[i].status_latched);
	}
	EXPECT_EQ(0, s.flags);
	for (i = 0; i < 9; i++)
		EXPECT_EQ(0, s.reserved[i]);
	vm_free(vm);
}

/* SET_PIT2 then GET_PIT2: every field back but count_load_time. */
TEST(state_round_trip)
{
	struct kvm_pit_state2 in, out;
	struct kvm_pit_state old;
	struct vm *vm;
	int i;

	TEST_REQUIRE_PIT();
	vm = vm_create();
	ASSERT_EQ(0, create_pit2(vm, 0));
	memset(&in, 0, sizeof(in));
	for (i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *c = &in.channels[i];

		c->count = 0x1234 + i;
		c->latched_count = 0x4321;
		c->count_latched = i == 1 ? 3 : 0;
		c->status_latched = i == 2;
		c->status = 0x36;
		c->read_state = 3;
		c->write_state = 4;
		c->write_latch = 0x5a;
		c->rw_mode = 3;
		c->mode = i + 1;
		c->gate = 1;
	}
	in.channels[2].count = 0;	/* loads as 2^16 */
	in.flags = KVM_PIT_FLAGS_HPET_LEGACY | KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	ASSERT_EQ(0, ioctl(vm->fd, KVM_SET_PIT2, &in));
	ASSERT_EQ(0, ioctl(vm->fd, KVM_GET_PIT2, &out));
	in.channels[2].count = 0x10000;
	for (i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *a = &in.channels[i];
		struct kvm_pit_channel_state *b = &out.channels[i];

		EXPECT_EQ(a->count, b->count);
		EXPECT_EQ(a->latched_count, b->latched_count);
		EXPECT_EQ(a->count_latched, b->count_latched);
		EXPECT_EQ(a->status_latched, b->status_latched);
		EXPECT_EQ(a->status, b->status);
		EXPECT_EQ(a->read_state, b->read_state);
		EXPECT_EQ(a->write_state, b->write_state);
		EXPECT_EQ(a->write_latch, b->write_latch);
		EXPECT_EQ(a->rw_mode, b->rw_mode);
		EXPECT_EQ(a->mode, b->mode);
		EXPECT_EQ(a->bcd, b->bcd);
		EXPECT_EQ(a->gate, b->gate);
	}
	EXPECT_EQ(in.flags, out.flags);

	/* The old ioctls: the same channels, flags untouched. */
	ASSERT_EQ(0, ioctl(vm->fd, KVM_GET_PIT, &old));
	EXPECT_EQ(0, memcmp(&old.channels[1], &out.channels[1],
			    offsetof(struct kvm_pit_channel_state, count_load_time)));
	old.channels[0].mode = 3;
	ASSERT_EQ(0, ioctl(vm->fd, KVM_SET_PIT, &old));
	ASSERT_EQ(0, ioctl(vm->fd, KVM_GET_PIT2, &out));
	EXPECT_EQ(3, out.channels[0].mode);
	EXPECT_EQ(in.flags, out.flags);

	/* minikvm checks flags and reserved words; kvm.ko (6.1) takes anything. */
	if (kvm_is_minikvm()) {
		in.flags = 4;
		EXPECT_ERRNO(EINVAL, ioctl(vm->fd, KVM_SET_PIT2, &in));
		in.flags = 0;
		in.reserved[0] = 1;
		EXPECT_ERRNO(EINVAL, ioctl(vm->fd, KVM_SET_PIT2, &in));
	}
	vm_free(vm);
}

/*
 * Counter 2 as Linux's TSC calibration drives it: gate high through port
 * 0x61, mode 2 with the largest count, then three latched reads with a
 * pause between them and a read-back of its status. No exit may reach
 * userspace before the report: the PIT and port 0x61 are in the kernel.
 */
GUEST_ASM(counter_guest, 64,
	"mov $1, %al\n\t"		/* port 0x61: gate 2 high, speaker off */
	"out %al, $0x61\n\t"
	"mov $0xb4, %al\n\t"		/* counter 2, low then high byte, mode 2 */
	"out %al, $0x43\n\t"
	"mov $0xff, %al\n\t"
	"out %al, $0x42\n\t"
	"out %al, $0x42\n\t"
	"call ctr_read\n\t"
	"mov %eax, %edi\n\t"
	"call ctr_delay\n\t"
	"call ctr_read\n\t"
	"mov %eax, %esi\n\t"
	"call ctr_delay\n\t"
	"call ctr_read\n\t"
	"mov %eax, %edx\n\t"
	"mov $0xe8, %al\n\t"		/* read-back: status of counter 2 */
	"out %al, $0x43\n\t"
	"in $0x42, %al\n\t"
	"movzbl %al, %ecx\n\t"
	GUEST_SYNC
	GUEST_DONE
	"ctr_read:\n\t"			/* latch counter 2, read low, high */
	"mov $0x80, %al\n\t"
	"out %al, $0x43\n\t"
	"in $0x42, %al\n\t"
	"mov %al, %bl\n\t"
	"in $0x42, %al\n\t"
	"mov %al, %bh\n\t"
	"movzwl %bx, %eax\n\t"
	"ret\n"
	"ctr_delay:\n\t"
	"mov $20000, %ecx\n"
	"2: dec %ecx\n\t"
	"jnz 2b\n\t"
	"ret\n\t");

TEST(counter_goes_down)
{
	struct vcpu *vcpu;
	struct ucall uc;

	TEST_REQUIRE_PIT();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(counter_guest));
	ASSERT_EQ(0, create_pit2(vcpu->vm, KVM_PIT_SPEAKER_DUMMY));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	TH_LOG("counter 2 read %#llx, %#llx, %#llx; status %#llx",
	       (unsigned long long)uc.args[0], (unsigned long long)uc.args[1],
	       (unsigned long long)uc.args[2], (unsigned long long)uc.args[3]);
	EXPECT_GT(uc.args[0], uc.args[1]);
	EXPECT_GT(uc.args[1], uc.args[2]);
	EXPECT_GT(uc.args[2], 0);
	/* Status: RW = low then high (3), mode 2, binary; bit 7 is OUT2. */
	EXPECT_EQ(0x34, uc.args[3] & 0x3f);
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));
	vm_free(vcpu->vm);
}

/* Without KVM_PIT_SPEAKER_DUMMY, port 0x61 is the VMM's; the PIT's are not. */
GUEST_ASM(port61_guest, 64,
	"in $0x40, %al\n\t"
	"in $0x61, %al\n\t"
	GUEST_DONE);

TEST(speaker_port_to_vmm)
{
	struct vcpu *vcpu;
	struct ucall uc;

	TEST_REQUIRE_PIT();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(port61_guest));
	ASSERT_EQ(0, create_pit2(vcpu->vm, 0));
	vcpu_run(vcpu);
	ASSERT_EQ(KVM_EXIT_IO, vcpu->run->exit_reason);
	EXPECT_EQ(0x61, vcpu->run->io.port);
	EXPECT_EQ(KVM_EXIT_IO_IN, vcpu->run->io.direction);
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));
	vm_free(vcpu->vm);
}

/* ------------------------------------------------------------------ */
/* Counter 0's interrupts (in-kernel irqchip)                          */
/* ------------------------------------------------------------------ */

#define NR_TICKS	20
#define TICK_COUNT	11932	/* 1193182 Hz / 11932 = 100 Hz */

/*
 * The PICs as a BIOS leaves them (master at vectors 0x20-0x27, slave at
 * 0x28-0x2f), only IRQ 0 unmasked; counter 0 in mode 2 at 100 Hz. After a
 * SYNC (the host starts its clock) the guest halts until its handler has
 * counted NR_TICKS interrupts.
 */
GUEST_ASM(tick_guest, 64,
	"mov $0x11, %al\n\t out %al, $0x20\n\t"	/* ICW1: edge, ICW4 follows */
	"mov $0x20, %al\n\t out %al, $0x21\n\t"	/* ICW2: vector base */
	"mov $0x04, %al\n\t out %al, $0x21\n\t"	/* ICW3: slave on IRQ 2 */
	"mov $0x01, %al\n\t out %al, $0x21\n\t"	/* ICW4: 8086 mode */
	"mov $0x11, %al\n\t out %al, $0xa0\n\t"
	"mov $0x28, %al\n\t out %al, $0xa1\n\t"
	"mov $0x02, %al\n\t out %al, $0xa1\n\t"
	"mov $0x01, %al\n\t out %al, $0xa1\n\t"
	"mov $0xff, %al\n\t out %al, $0xa1\n\t"	/* OCW1: slave all masked */
	"mov $0xfe, %al\n\t out %al, $0x21\n\t"	/* master: IRQ 0 only */
	"mov $0x34, %al\n\t out %al, $0x43\n\t"	/* counter 0, lo/hi, mode 2 */
	"mov $" GSTR(TICK_COUNT) " & 0xff, %al\n\t out %al, $0x40\n\t"
	"mov $" GSTR(TICK_COUNT) " >> 8, %al\n\t out %al, $0x40\n\t"
	GUEST_SYNC
	"sti\n"
	"1: hlt\n\t"
	"cmpq $" GSTR(NR_TICKS) ", " GSTR(GUEST_DATA_GPA) "\n\t"
	"jb 1b\n\t"
	"cli\n\t"
	GUEST_DONE
	"tick_handler:\n\t"
	"push %rax\n\t"
	"incq " GSTR(GUEST_DATA_GPA) "\n\t"
	"mov $0x20, %al\n\t"			/* OCW2: non-specific EOI */
	"out %al, $0x20\n\t"
	"pop %rax\n\t"
	"iretq\n\t");
extern const uint8_t tick_handler[];

/*
 * The same through the IOAPIC, as Linux runs IRQ 0 once it found one:
 * PICs masked, LAPIC software-enabled (SVR), IOAPIC pin 0 edge-triggered
 * to vector 0x30 at APIC 0; the handler EOIs at the LAPIC. Pin 0: KVM's
 * default routing takes GSI n to IOAPIC pin n (QEMU replaces it with one
 * that takes GSI 0 to pin 2, a PC's wiring). The EOI of an edge vector
 * never reaches the IOAPIC on real hardware; with reinjection on, KVM still
 * hears it (ack notifiers see every vector the IOAPIC sent), or the PIT
 * would hold every tick after the first.
 */
#define LAPIC_GPA	0xfee00000
#define IOAPIC_GPA	0xfec00000
#define IOAPIC_VECTOR	0x30

GUEST_ASM(tick_ioapic_guest, 64,
	"mov $0xff, %al\n\t out %al, $0x21\n\t"	/* both PICs masked */
	"out %al, $0xa1\n\t"
	"mov $" GSTR(LAPIC_GPA) ", %ebx\n\t"
	"movl $0x1ff, 0xf0(%rbx)\n\t"		/* SVR: on, spurious 0xff */
	"mov $" GSTR(IOAPIC_GPA) ", %ebx\n\t"
	"movl $0x10, (%rbx)\n\t"			/* redirection 0, low */
	"movl $" GSTR(IOAPIC_VECTOR) ", 0x10(%rbx)\n\t"
	"movl $0x11, (%rbx)\n\t"			/* high: APIC ID 0 */
	"movl $0, 0x10(%rbx)\n\t"
	"mov $0x34, %al\n\t out %al, $0x43\n\t"
	"mov $" GSTR(TICK_COUNT) " & 0xff, %al\n\t out %al, $0x40\n\t"
	"mov $" GSTR(TICK_COUNT) " >> 8, %al\n\t out %al, $0x40\n\t"
	GUEST_SYNC
	"sti\n"
	"1: hlt\n\t"
	"cmpq $" GSTR(NR_TICKS) ", " GSTR(GUEST_DATA_GPA) "\n\t"
	"jb 1b\n\t"
	"cli\n\t"
	GUEST_DONE
	"tick_ioapic_handler:\n\t"
	"push %rbx\n\t"
	"incq " GSTR(GUEST_DATA_GPA) "\n\t"
	"mov $" GSTR(LAPIC_GPA) ", %ebx\n\t"
	"movl $0, 0xb0(%rbx)\n\t"			/* LAPIC EOI */
	"pop %rbx\n\t"
	"iretq\n\t");
extern const uint8_t tick_ioapic_handler[];

/*
 * A tick taken and then lost without an EOI must not silence the PIT
 * with reinjection on (it holds each tick until the one before is
 * acknowledged). Linux's boot-time timer check does both of these:
 *
 * reinit: the PIC guest above, but with IF=0 it waits until a tick sits
 * in the master's IRR (OCW3 "read IRR"), then initialises the master
 * again: ICW1 erases that edge request, which will never see an EOI
 * (KVM tells its ack notifiers of it). Then it counts NR_TICKS.
 */
GUEST_ASM(pic_reinit_guest, 64,
	"mov $0x11, %al\n\t out %al, $0x20\n\t"
	"mov $0x20, %al\n\t out %al, $0x21\n\t"
	"mov $0x04, %al\n\t out %al, $0x21\n\t"
	"mov $0x01, %al\n\t out %al, $0x21\n\t"
	"mov $0x11, %al\n\t out %al, $0xa0\n\t"
	"mov $0x28, %al\n\t out %al, $0xa1\n\t"
	"mov $0x02, %al\n\t out %al, $0xa1\n\t"
	"mov $0x01, %al\n\t out %al, $0xa1\n\t"
	"mov $0xff, %al\n\t out %al, $0xa1\n\t"
	"mov $0xfe, %al\n\t out %al, $0x21\n\t"
	"mov $0x34, %al\n\t out %al, $0x43\n\t"
	"mov $" GSTR(TICK_COUNT) " & 0xff, %al\n\t out %al, $0x40\n\t"
	"mov $" GSTR(TICK_COUNT) " >> 8, %al\n\t out %al, $0x40\n\t"
	GUEST_SYNC
	"1: mov $0x0a, %al\n\t out %al, $0x20\n\t"	/* OCW3: read IRR */
	"in $0x20, %al\n\t"
	"test $1, %al\n\t"
	"jz 1b\n\t"
	"mov $0x11, %al\n\t out %al, $0x20\n\t"	/* ICW1 again */
	"mov $0x20, %al\n\t out %al, $0x21\n\t"
	"mov $0x04, %al\n\t out %al, $0x21\n\t"
	"mov $0x01, %al\n\t out %al, $0x21\n\t"
	"mov $0xfe, %al\n\t out %al, $0x21\n\t"
	"sti\n"
	"2: hlt\n\t"
	"cmpq $" GSTR(NR_TICKS) ", " GSTR(GUEST_DATA_GPA) "\n\t"
	"jb 2b\n\t"
	"cli\n\t"
	GUEST_DONE
	"reinit_handler:\n\t"			/* as tick_handler */
	"push %rax\n\t"
	"incq " GSTR(GUEST_DATA_GPA) "\n\t"
	"mov $0x20, %al\n\t"
	"out %al, $0x20\n\t"
	"pop %rax\n\t"
	"iretq\n\t");
extern const uint8_t reinit_handler[];

/*
 * revector: the IOAPIC guest above, but with IF=0 it waits until vector
 * 0x30 is in the LAPIC's IRR (IRR bits 32-63 at offset 0x210), then
 * masks pin 0 while moving it to vector 0x31, and unmasks it. The tick
 * of 0x30 is still taken and EOIed, but no entry carries that vector any
 * more, so its EOI reaches no ack notifier; unmasking the pin restarts
 * the PIT's reinjection (KVM's mask notifier). Handlers for both vectors.
 */
#define IOAPIC_VECTOR2	0x31

GUEST_ASM(ioapic_revector_guest, 64,
	"mov $0xff, %al\n\t out %al, $0x21\n\t"
	"out %al, $0xa1\n\t"
	"mov $" GSTR(LAPIC_GPA) ", %ebx\n\t"
	"movl $0x1ff, 0xf0(%rbx)\n\t"
	"mov $" GSTR(IOAPIC_GPA) ", %ecx\n\t"
	"movl $0x10, (%rcx)\n\t"
	"movl $" GSTR(IOAPIC_VECTOR) ", 0x10(%rcx)\n\t"
	"movl $0x11, (%rcx)\n\t"
	"movl $0, 0x10(%rcx)\n\t"
	"mov $0x34, %al\n\t out %al, $0x43\n\t"
	"mov $" GSTR(TICK_COUNT) " & 0xff, %al\n\t out %al, $0x40\n\t"
	"mov $" GSTR(TICK_COUNT) " >> 8, %al\n\t out %al, $0x40\n\t"
	GUEST_SYNC
	"1: testl $0x10000, 0x210(%rbx)\n\t"	/* IRR bit 0x30 */
	"jz 1b\n\t"
	"movl $0x10, (%rcx)\n\t"			/* masked, new vector */
	"movl $0x10000 + " GSTR(IOAPIC_VECTOR2) ", 0x10(%rcx)\n\t"
	"movl $0x10, (%rcx)\n\t"			/* unmasked */
	"movl $" GSTR(IOAPIC_VECTOR2) ", 0x10(%rcx)\n\t"
	"sti\n"
	"2: hlt\n\t"
	"cmpq $" GSTR(NR_TICKS) ", " GSTR(GUEST_DATA_GPA) "\n\t"
	"jb 2b\n\t"
	"cli\n\t"
	GUEST_DONE
	"revector_handler:\n\t"		/* as tick_ioapic_handler */
	"push %rbx\n\t"
	"incq " GSTR(GUEST_DATA_GPA) "\n\t"
	"mov $" GSTR(LAPIC_GPA) ", %ebx\n\t"
	"movl $0, 0xb0(%rbx)\n\t"
	"pop %rbx\n\t"
	"iretq\n\t");
extern const uint8_t revector_handler[];

static void on_alarm(int sig)
{
	(void)sig;
}

/* KVM_RUN for at most @secs: 0 if the guest exited, -1 (EINTR) at the alarm. */
static int run_with_alarm(struct vcpu *vcpu, double secs)
{
	struct itimerval it = { .it_value = {
		.tv_sec = (time_t)secs,
		.tv_usec = (suseconds_t)((secs - (time_t)secs) * 1e6),
	} };
	struct itimerval off = { 0 };
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	int r;

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	r = __vcpu_run(vcpu);
	setitimer(ITIMER_REAL, &off, NULL);
	return r;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

FIXTURE(ticks) {
	struct vcpu *vcpu;
};

FIXTURE_VARIANT(ticks) {
	int reinject;
	bool hpet_legacy;
	bool ioapic;
	bool lost_tick;		/* pic_reinit/ioapic_revector_guest */
};

FIXTURE_VARIANT_ADD(ticks, reinject) { .reinject = 1 };
FIXTURE_VARIANT_ADD(ticks, no_reinject) { .reinject = 0 };
FIXTURE_VARIANT_ADD(ticks, hpet_legacy) { .reinject = 1, .hpet_legacy = true };
FIXTURE_VARIANT_ADD(ticks, ioapic_reinject) { .reinject = 1, .ioapic = true };
FIXTURE_VARIANT_ADD(ticks, ioapic_no_reinject) { .reinject = 0, .ioapic = true };
FIXTURE_VARIANT_ADD(ticks, pic_reinit) { .reinject = 1, .lost_tick = true };
FIXTURE_VARIANT_ADD(ticks, ioapic_revector) {
	.reinject = 1, .ioapic = true, .lost_tick = true,
};

FIXTURE_SETUP(ticks)
{
	struct kvm_reinject_control rc = { .pit_reinject = variant->reinject };
	struct vm *vm;

	self->vcpu = NULL;
	TEST_REQUIRE_PIT();
	TEST_REQUIRE_CAP(KVM_CAP_IRQCHIP);
	vm = vm_create();
	vm_add_memory(vm, 0, 0, GUEST_MEM_SIZE, 0);
	vm_init_tables(vm);
	if (variant->ioapic && variant->lost_tick) {
		vm_load_code(vm, GUEST_CODE(ioapic_revector_guest));
		vm_set_idt_gate(vm, MODE_LONG64, IOAPIC_VECTOR,
				guest_code_gpa(vm, revector_handler));
		vm_set_idt_gate(vm, MODE_LONG64, IOAPIC_VECTOR2,
				guest_code_gpa(vm, revector_handler));
	} else if (variant->ioapic) {
		vm_load_code(vm, GUEST_CODE(tick_ioapic_guest));
		vm_set_idt_gate(vm, MODE_LONG64, IOAPIC_VECTOR,
				guest_code_gpa(vm, tick_ioapic_handler));
	} else if (variant->lost_tick) {
		vm_load_code(vm, GUEST_CODE(pic_reinit_guest));
		vm_set_idt_gate(vm, MODE_LONG64, 0x20,
				guest_code_gpa(vm, reinit_handler));
	} else {
		vm_load_code(vm, GUEST_CODE(tick_guest));
		vm_set_idt_gate(vm, MODE_LONG64, 0x20,
				guest_code_gpa(vm, tick_handler));
	}
	ASSERT_EQ(0, ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0));
	ASSERT_EQ(0, create_pit2(vm, KVM_PIT_SPEAKER_DUMMY));
	ASSERT_EQ(0, ioctl(vm->fd, KVM_REINJECT_CONTROL, &rc));
	if (variant->hpet_legacy) {
		struct kvm_pit_state2 s;

		ASSERT_EQ(0, ioctl(vm->fd, KVM_GET_PIT2, &s));
		s.flags |= KVM_PIT_FLAGS_HPET_LEGACY;
		ASSERT_EQ(0, ioctl(vm->fd, KVM_SET_PIT2, &s));
	}
	self->vcpu = vcpu_add(vm, 0);
	vcpu_init_mode(self->vcpu, MODE_LONG64, GUEST_CODE_GPA);
}

FIXTURE_TEARDOWN(ticks)
{
	if (self->vcpu)
		vm_free(self->vcpu->vm);
}

/*
 * NR_TICKS at 100 Hz is 0.2 s of the host clock (the hrtimer's, which is
 * also CLOCK_MONOTONIC here); the range allows for an emulated machine
 * that is slow to take interrupts, not for a lost or doubled rate.
 */
TEST_F(ticks, count)
{
	struct vcpu *vcpu = self->vcpu;
	volatile uint64_t *count;
	struct ucall uc;
	double t0, dt;
	int r;

	if (!vcpu)
		return;
	count = gpa_to_hva(vcpu->vm, GUEST_DATA_GPA);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	t0 = now_seconds();
	r = run_with_alarm(vcpu, variant->hpet_legacy ? 0.5 : 10);
	dt = now_seconds() - t0;
	if (variant->hpet_legacy) {
		/* The HPET drives IRQ 0 in legacy mode: the PIT is silent. */
		EXPECT_EQ(-1, r);
		EXPECT_EQ(EINTR, errno);
		EXPECT_EQ(0, *count);
		return;
	}
	ASSERT_EQ(0, r) {
		TH_LOG("no DONE after %.1f s: %llu ticks", dt,
		       (unsigned long long)*count);
	}
	ASSERT_EQ(UCALL_DONE, vcpu_get_ucall(vcpu, &uc));
	TH_LOG("%d ticks in %.3f s", NR_TICKS, dt);
	EXPECT_GE(dt, 0.1);
	EXPECT_LE(dt, 2.0);
}

TEST_HARNESS_MAIN
