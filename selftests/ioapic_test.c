// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioapic_test: the in-kernel IOAPIC, GSI routing and MSIs (kmod/irqchip/ioapic.c,
 * kmod/irqchip/route.c).
 *
 * The ioctl side (api.rst 4.25 KVM_IRQ_LINE, 4.26-4.27 KVM_GET/SET_IRQCHIP, 4.52
 * KVM_SET_GSI_ROUTING, 4.71 KVM_SIGNAL_MSI):
 * - the IOAPIC's state after KVM_CREATE_IRQCHIP (every entry masked) and its round
 *   trip through KVM_SET/GET_IRQCHIP;
 * - KVM_SET_GSI_ROUTING refuses, with EINVAL, every table KVM refuses;
 * - KVM_SIGNAL_MSI's errors, and its return value when no LAPIC is addressed.
 *
 * The guest side: a guest enables its local APIC, masks the PICs, and programs two
 * IOAPIC redirection entries (82093AA datasheet 3.2.4): pin 5 edge, pin 9 level. It
 * must take exactly the interrupts raised: one per edge, one per EOI of the level
 * pin while its line stays high (Remote IRR holds the rest back), then MSIs sent
 * with KVM_SIGNAL_MSI and through an MSI route (SDM Vol.3 10.11).
 */
#include "kselftest_harness.h"
#include "irqchip.h"
#include "x86.h"

#define IOAPIC_BASE	0xfec00000ULL
#define RTE_MASKED	(1ULL << 16)

TEST(ioapic_initial_state)
{
	struct kvm_irqchip chip;
	struct vm *vm;
	int pin;

	TEST_REQUIRE_KVM();
	vm = irqchip_vm();
	irqchip_get(vm, KVM_IRQCHIP_IOAPIC, &chip);
	EXPECT_EQ(IOAPIC_BASE, chip.chip.ioapic.base_address);
	EXPECT_EQ(0, chip.chip.ioapic.ioregsel);
	EXPECT_EQ(0, chip.chip.ioapic.id);
	EXPECT_EQ(0, chip.chip.ioapic.irr);
	for (pin = 0; pin < KVM_IOAPIC_NUM_PINS; pin++)
		EXPECT_EQ(RTE_MASKED, chip.chip.ioapic.redirtbl[pin].bits);
	vm_free(vm);
}

/*
 * Masked entries (so nothing is delivered on SET), one level entry with Remote IRR
 * set (a migrated guest inside a level handler) and an edge request waiting behind
 * a mask: GET gives back what SET took.
 */
TEST(ioapic_state_round_trip)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC }, got;
	struct kvm_ioapic_state *s = &chip.chip.ioapic;
	struct vm *vm;
	int pin;

	TEST_REQUIRE_KVM();
	vm = irqchip_vm();
	s->base_address = IOAPIC_BASE;
	s->ioregsel = 0x12;
	s->id = 5;
	for (pin = 0; pin < KVM_IOAPIC_NUM_PINS; pin++)
		s->redirtbl[pin].bits = RTE_MASKED | (0x30 + pin) |
					((uint64_t)pin << 56);
	s->redirtbl[3].fields.trig_mode = 1;
	s->redirtbl[3].fields.remote_irr = 1;
	s->redirtbl[4].fields.dest_mode = 1;
	s->redirtbl[4].fields.delivery_mode = 1;	/* lowest priority */
	s->irr = 1 << 7;
	ASSERT_EQ(0, ioctl(vm->fd, KVM_SET_IRQCHIP, &chip));
	irqchip_get(vm, KVM_IRQCHIP_IOAPIC, &got);
	EXPECT_EQ(0, memcmp(s, &got.chip.ioapic, sizeof(*s)));

	/*
	 * The page cannot move. minikvm refuses another base_address; KVM takes it
	 * (and then answers MMIO at neither address), so only the errno differs.
	 */
	s->base_address = 0xfed00000;
	if (kvm_is_minikvm()) {
		EXPECT_EQ(-1, ioctl(vm->fd, KVM_SET_IRQCHIP, &chip));
		EXPECT_EQ(EINVAL, errno);
	} else {
		EXPECT_EQ(0, ioctl(vm->fd, KVM_SET_IRQCHIP, &chip));
	}
	vm_free(vm);
}

/*
 * Through the IOAPIC alone (GSI 16-23), no vCPU: a masked pin reports -1; an edge
 * pin already high is coalesced (0), even behind its mask.
 */
TEST(ioapic_line_status)
{
	struct vm *vm;

	TEST_REQUIRE_KVM();
	vm = irqchip_vm();
	EXPECT_EQ(-1, irq_line_status(vm, 20, 1));
	EXPECT_EQ(0, irq_line_status(vm, 20, 1));
	EXPECT_EQ(1, irq_line_status(vm, 20, 0));
	EXPECT_EQ(-1, irq_line_status(vm, 20, 1));
	vm_free(vm);
}

static int set_routing(struct vm *vm, const struct kvm_irq_routing_entry *e,
		       uint32_t nr, uint32_t flags)
{
	struct kvm_irq_routing *rt;
	int r;

	rt = calloc(1, sizeof(*rt) + (nr + 1) * sizeof(*e));
	if (!rt)
		test_fail("out of memory");
	rt->nr = nr;
	rt->flags = flags;
	if (e)
		memcpy(rt->entries, e, nr * sizeof(*e));
	r = ioctl(vm->fd, KVM_SET_GSI_ROUTING, rt);
	free(rt);
	return r;
}

#define CHIP(g, c, p)	{ .gsi = (g), .type = KVM_IRQ_ROUTING_IRQCHIP,		\
			  .u.irqchip = { .irqchip = (c), .pin = (p) } }
#define MSI(g, d)	{ .gsi = (g), .type = KVM_IRQ_ROUTING_MSI,		\
			  .u.msi = { .address_lo = 0xfee00000, .data = (d) } }

/* Tables KVM refuses with EINVAL, two entries each (the second may be unused). */
static const struct {
	const char *what;
	struct kvm_irq_routing_entry e[2];
	uint32_t nr;
} bad_tables[] = {
	{ "gsi 4096", { CHIP(4096, KVM_IRQCHIP_IOAPIC, 0) }, 1 },
	{ "gsi ~0", { MSI(0xffffffff, 0x30) }, 1 },
	{ "type 0", { { .gsi = 1, .type = 0 } }, 1 },
	{ "type 3 (s390 adapter)", { { .gsi = 1, .type = 3 } }, 1 },
	{ "type 99", { { .gsi = 1, .type = 99 } }, 1 },
	{ "irqchip 3", { CHIP(1, 3, 0) }, 1 },
	{ "PIC master pin 8", { CHIP(1, KVM_IRQCHIP_PIC_MASTER, 8) }, 1 },
	{ "PIC slave pin 8", { CHIP(1, KVM_IRQCHIP_PIC_SLAVE, 8) }, 1 },
	{ "IOAPIC pin 24", { CHIP(1, KVM_IRQCHIP_IOAPIC, 24) }, 1 },
	{ "two routes of a gsi to one chip",
	  { CHIP(1, KVM_IRQCHIP_IOAPIC, 1), CHIP(1, KVM_IRQCHIP_IOAPIC, 2) }, 2 },
	{ "a gsi on both PIC pins of one chip",
	  { CHIP(9, KVM_IRQCHIP_PIC_SLAVE, 1), CHIP(9, KVM_IRQCHIP_PIC_SLAVE, 2) }, 2 },
	{ "an MSI beside an irqchip route",
	  { CHIP(5, KVM_IRQCHIP_IOAPIC, 5), MSI(5, 0x30) }, 2 },
	{ "an irqchip route beside an MSI",
	  { MSI(5, 0x30), CHIP(5, KVM_IRQCHIP_IOAPIC, 5) }, 2 },
	{ "two MSIs of a gsi", { MSI(5, 0x30), MSI(5, 0x31) }, 2 },
	{ "irqchip route with flags",
	  { { .gsi = 1, .type = KVM_IRQ_ROUTING_IRQCHIP, .flags = 1,
	      .u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = 1 } } }, 1 },
	{ "irqchip route with KVM_MSI_VALID_DEVID",
	  { { .gsi = 1, .type = KVM_IRQ_ROUTING_IRQCHIP, .flags = KVM_MSI_VALID_DEVID,
	      .u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = 1 } } }, 1 },
	{ "MSI route with flag 4",
	  { { .gsi = 1, .type = KVM_IRQ_ROUTING_MSI, .flags = 4 } }, 1 },
};

TEST(gsi_routing_validation)
{
	struct kvm_irq_routing_entry ok[] = {
		CHIP(0, KVM_IRQCHIP_PIC_MASTER, 0), CHIP(0, KVM_IRQCHIP_IOAPIC, 2),
		CHIP(9, KVM_IRQCHIP_PIC_SLAVE, 1), CHIP(9, KVM_IRQCHIP_IOAPIC, 9),
		CHIP(9, KVM_IRQCHIP_PIC_MASTER, 7), MSI(4095, 0x40),
		{ .gsi = 100, .type = KVM_IRQ_ROUTING_MSI, .flags = KVM_MSI_VALID_DEVID,
		  .u.msi = { .address_lo = 0xfee00000, .data = 0x41, .devid = 7 } },
	};
	struct kvm_irq_routing_entry *many;
	struct vm *vm;
	unsigned int i;

	TEST_REQUIRE_KVM();
	/* Without an in-kernel irqchip: EINVAL, whatever the table. */
	vm = vm_create();
	EXPECT_EQ(-1, set_routing(vm, ok, 1, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_routing(vm, NULL, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	vm_free(vm);

	vm = irqchip_vm();
	for (i = 0; i < ARRAY_SIZE(bad_tables); i++) {
		errno = 0;
		EXPECT_EQ(-1, set_routing(vm, bad_tables[i].e, bad_tables[i].nr, 0)) {
			TH_LOG("%s: accepted", bad_tables[i].what);
		}
		EXPECT_EQ(EINVAL, errno) {
			TH_LOG("%s: errno %d", bad_tables[i].what, errno);
		}
	}
	/* The header: flags must be 0, nr at most 4096 (KVM_CAP_IRQ_ROUTING). */
	EXPECT_EQ(-1, set_routing(vm, ok, 1, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_routing(vm, NULL, 4097, 0));
	EXPECT_EQ(EINVAL, errno);

	/* Accepted: a gsi on several chips, gsi 4095, an MSI with a device ID. */
	EXPECT_EQ(0, set_routing(vm, ok, ARRAY_SIZE(ok), 0));
	/* 4096 MSI routes, gsi 0-4095. */
	many = calloc(4096, sizeof(*many));
	ASSERT_NE(NULL, many);
	for (i = 0; i < 4096; i++)
		many[i] = (struct kvm_irq_routing_entry)MSI(i, 0x40);
	EXPECT_EQ(0, set_routing(vm, many, 4096, 0));
	free(many);

	/* An empty table: every GSI goes nowhere. */
	EXPECT_EQ(0, set_routing(vm, NULL, 0, 0));
	EXPECT_EQ(-1, irq_line_status(vm, 4, 1));
	EXPECT_EQ(-1, irq_line_status(vm, 4, 0));
	vm_free(vm);
}

TEST(signal_msi_errors)
{
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = 0x40 };
	struct vm *vm;

	TEST_REQUIRE_KVM();
	vm = vm_create();
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_SIGNAL_MSI, &msi));
	EXPECT_EQ(EINVAL, errno);
	vm_free(vm);

	vm = irqchip_vm();
	msi.flags = 4;
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_SIGNAL_MSI, &msi));
	EXPECT_EQ(EINVAL, errno);
	/*
	 * No vCPU, so no LAPIC is addressed: KVM returns the delivery's -1 as the
	 * ioctl's result, which userspace reads as EPERM. KVM_MSI_VALID_DEVID is
	 * accepted on x86 (and the device ID ignored).
	 */
	msi.flags = 0;
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_SIGNAL_MSI, &msi));
	EXPECT_EQ(EPERM, errno);
	msi.flags = KVM_MSI_VALID_DEVID;
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_SIGNAL_MSI, &msi));
	EXPECT_EQ(EPERM, errno);
	vm_free(vm);
}

/* ---------------------------------------------------------------- the guest */

#define REPORT_IDLE	0
#define VEC_EDGE	0x45	/* IOAPIC pin 5, edge */
#define VEC_LEVEL	0x49	/* IOAPIC pin 9, level */
#define VEC_MSI		0x51	/* KVM_SIGNAL_MSI */
#define VEC_MSI_ROUTE	0x52	/* an MSI route */
#define VEC_STORM	0x4a	/* IOAPIC pin 10, level, never quieted */
#define STORM_EOIS	10000	/* KVM's IOAPIC_SUCCESSIVE_IRQ_MAX_COUNT */

/* Handler N counts in the data page at 8*N and reports N with its count. */
#define HANDLER(n)							\
	"handler" #n ":\n\t"						\
	"push %rax\n\tpush %rdi\n\tpush %rsi\n\tpush %rbx\n\t"		\
	"incq " GSTR(GUEST_DATA_GPA) " + 8 * " #n "\n\t"		\
	"mov $" #n ", %edi\n\t"						\
	"mov " GSTR(GUEST_DATA_GPA) " + 8 * " #n ", %rsi\n\t"		\
	GUEST_SYNC							\
	"mov $0xfee00000, %ebx\n\t"					\
	"movl $0, 0xb0(%rbx)\n\t"		/* LAPIC EOI */		\
	"pop %rbx\n\tpop %rsi\n\tpop %rdi\n\tpop %rax\n\t"		\
	"iretq\n"

/* Write @val to IOAPIC register @reg through IOREGSEL/IOWIN (datasheet 3.1). */
#define IOAPIC_WRITE(reg, val)						\
	"movl $" #reg ", (%rbx)\n\t"					\
	"movl $" #val ", 0x10(%rbx)\n\t"

GUEST_ASM(ioapic_guest, 64,
	"cli\n\t"
	"mov $0xff, %al\n\t"			/* both PICs fully masked */
	"out %al, $0x21\n\t"
	"out %al, $0xa1\n\t"
	"mov $0xfee00000, %ebx\n\t"
	"movl $0x1ff, 0xf0(%rbx)\n\t"		/* SVR: APIC on, spurious 0xff */
	"mov $0xfec00000, %ebx\n\t"
	IOAPIC_WRITE(0x1b, 0)			/* pin 5: APIC ID 0 */
	IOAPIC_WRITE(0x1a, 0x45)		/* fixed, physical, edge, unmasked */
	IOAPIC_WRITE(0x23, 0)			/* pin 9: APIC ID 0 */
	IOAPIC_WRITE(0x22, 0x8049)		/* ... level */
	IOAPIC_WRITE(0x25, 0)			/* pin 10: APIC ID 0 */
	IOAPIC_WRITE(0x24, 0x804a)		/* ... level, for storm_guard */
	"sti\n\t"
	"1: xor %edi, %edi\n\t"
	GUEST_SYNC
	"jmp 1b\n"
	HANDLER(1) HANDLER(2) HANDLER(3) HANDLER(4)
	/* Count and EOI, no report: a guest that ignores its device. */
	"storm_handler:\n\t"
	"push %rbx\n\t"
	"incq " GSTR(GUEST_DATA_GPA) " + 8 * 5\n\t"
	"mov $0xfee00000, %ebx\n\t"
	"movl $0, 0xb0(%rbx)\n\t"
	"pop %rbx\n\t"
	"iretq\n");
extern const uint8_t handler1[], handler2[], handler3[], handler4[];
extern const uint8_t storm_handler[];

static uint64_t expect_report(struct vcpu *vcpu, uint64_t what)
{
	struct ucall uc;

	if (vcpu_run_ucall(vcpu, &uc) != UCALL_SYNC || uc.args[0] != what)
		test_fail("expected report %llu, got ucall %llu report %llu",
			  (unsigned long long)what, (unsigned long long)uc.cmd,
			  (unsigned long long)uc.args[0]);
	return uc.args[1];
}

static void expect_idle(struct vcpu *vcpu, int rounds)
{
	while (rounds--)
		expect_report(vcpu, REPORT_IDLE);
}

TEST(guest_ioapic_and_msi)
{
	struct kvm_irq_routing_entry routes[] = {
		CHIP(5, KVM_IRQCHIP_IOAPIC, 5), MSI(40, VEC_MSI_ROUTE),
	};
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = VEC_MSI };
	struct kvm_irqchip chip;
	struct vcpu *vcpu;
	struct vm *vm;

	TEST_REQUIRE_LAPIC();
	vcpu = irqchip_guest(GUEST_CODE(ioapic_guest));
	vm = vcpu->vm;
	vm_set_idt_gate(vm, MODE_LONG64, VEC_EDGE, guest_code_gpa(vm, handler1));
	vm_set_idt_gate(vm, MODE_LONG64, VEC_LEVEL, guest_code_gpa(vm, handler2));
	vm_set_idt_gate(vm, MODE_LONG64, VEC_MSI, guest_code_gpa(vm, handler3));
	vm_set_idt_gate(vm, MODE_LONG64, VEC_MSI_ROUTE, guest_code_gpa(vm, handler4));

	expect_idle(vcpu, 1);
	irqchip_get(vm, KVM_IRQCHIP_IOAPIC, &chip);
	EXPECT_EQ(VEC_EDGE, chip.chip.ioapic.redirtbl[5].bits);
	EXPECT_EQ(0x8000 | VEC_LEVEL, chip.chip.ioapic.redirtbl[9].bits);

	/* An edge on GSI 5: the PIC pin is masked (-1), the IOAPIC delivers (1). */
	EXPECT_EQ(1, irq_line_status(vm, 5, 1));
	irq_line(vm, 5, 0);
	EXPECT_EQ(1, expect_report(vcpu, 1));
	expect_idle(vcpu, 5);

	/*
	 * Level GSI 9 held high: delivered, then Remote IRR holds it (a second
	 * raise reports -1) until the guest's EOI, which brings it back while the
	 * line is high; lowered in the second handler, it stops there.
	 */
	EXPECT_EQ(1, irq_line_status(vm, 9, 1));
	EXPECT_EQ(1, expect_report(vcpu, 2));
	irqchip_get(vm, KVM_IRQCHIP_IOAPIC, &chip);
	EXPECT_EQ(1, (int)chip.chip.ioapic.redirtbl[9].fields.remote_irr);
	EXPECT_EQ(-1, irq_line_status(vm, 9, 1));
	EXPECT_EQ(2, expect_report(vcpu, 2));
	irq_line(vm, 9, 0);
	expect_idle(vcpu, 5);
	irqchip_get(vm, KVM_IRQCHIP_IOAPIC, &chip);
	EXPECT_EQ(0, (int)chip.chip.ioapic.redirtbl[9].fields.remote_irr);
	EXPECT_EQ(0, chip.chip.ioapic.irr);

	/* KVM_SIGNAL_MSI: fixed, physical APIC ID 0; one LAPIC took it. */
	EXPECT_EQ(1, ioctl(vm->fd, KVM_SIGNAL_MSI, &msi));
	EXPECT_EQ(1, expect_report(vcpu, 3));
	expect_idle(vcpu, 3);

	/* An MSI route: raising GSI 40 sends it, lowering it does nothing (-1). */
	ASSERT_EQ(0, set_routing(vm, routes, ARRAY_SIZE(routes), 0));
	EXPECT_EQ(1, irq_line_status(vm, 40, 1));
	EXPECT_EQ(-1, irq_line_status(vm, 40, 0));
	EXPECT_EQ(1, expect_report(vcpu, 4));
	expect_idle(vcpu, 3);
	/* GSI 5 still reaches its pin; GSI 9 has no route any more. */
	EXPECT_EQ(1, irq_line_status(vm, 5, 1));
	irq_line(vm, 5, 0);
	EXPECT_EQ(2, expect_report(vcpu, 1));
	EXPECT_EQ(-1, irq_line_status(vm, 9, 1));
	expect_idle(vcpu, 3);
	vm_free(vm);
}

/*
 * A level line the guest never quiets comes back at every EOI. Both KVM and
 * minikvm hold the 10000th re-delivery in a row back for about 10 ms, so the
 * guest gets out of its handler loop and reaches its idle report; then the line
 * drops and the interrupts stop (at most one was already on its way).
 *
 * A fixture only for its time limit: 10,000 deliveries are 10,000 exits. In the
 * debug rig (KASAN, lockdep) they took from under 30 s to over 100 s (2026-12-03,
 * not understood): make check's debug rig sets IOAPIC_STORM_SKIP=1.
 */
FIXTURE(storm) {
	int unused;
};

FIXTURE_SETUP(storm)
{
}

FIXTURE_TEARDOWN(storm)
{
}

TEST_F_TIMEOUT(storm, guard, 180)
{
	if (getenv("IOAPIC_STORM_SKIP"))
		SKIP(return, "IOAPIC_STORM_SKIP: too slow under the debug kernel");
	volatile uint64_t *count;
	struct vcpu *vcpu;
	struct vm *vm;
	uint64_t seen;

	TEST_REQUIRE_LAPIC();
	vcpu = irqchip_guest(GUEST_CODE(ioapic_guest));
	vm = vcpu->vm;
	vm_set_idt_gate(vm, MODE_LONG64, VEC_STORM, guest_code_gpa(vm, storm_handler));
	count = gpa_to_hva(vm, GUEST_DATA_GPA + 8 * 5);
	expect_idle(vcpu, 1);

	EXPECT_EQ(1, irq_line_status(vm, 10, 1));
	expect_idle(vcpu, 1);
	EXPECT_LE(STORM_EOIS, *count);
	irq_line(vm, 10, 0);
	seen = *count;
	expect_idle(vcpu, 5);
	EXPECT_GE(seen + 1, *count);
	vm_free(vm);
}

TEST_HARNESS_MAIN
