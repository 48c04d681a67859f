// SPDX-License-Identifier: GPL-2.0-only
/*
 * pic_test: the in-kernel 8259A pair of KVM_CREATE_IRQCHIP (kmod/irqchip/pic.c).
 *
 * The ioctl side (api.rst 4.24 KVM_CREATE_IRQCHIP, 4.25 KVM_IRQ_LINE, 4.26-4.27
 * KVM_GET/SET_IRQCHIP):
 * - KVM_CREATE_IRQCHIP once, and only before the first vCPU;
 * - KVM_GET/SET_IRQCHIP of chips 0 and 1 carry struct kvm_pic_state unchanged;
 *   chip ids past 2 are EINVAL, and without an irqchip everything is ENXIO;
 * - KVM_IRQ_LINE_STATUS through the default routes (GSI n to PIC pin n and IOAPIC
 *   pin n, all IOAPIC pins masked) reports what the PIC did: 1 for a new request,
 *   0 for one already pending (coalesced), -1 for a masked pin.
 *
 * The guest side: a guest programs both chips as Linux does (ICW1-4 with vectors
 * 0x20 and 0x28, OCW1 masks, ELCR for a level pin), and must take exactly the
 * interrupts raised with KVM_IRQ_LINE: an edge on IRQ3 once, nothing on a masked
 * pin, and a level IRQ10 on the slave again after each EOI for as long as the
 * line stays high (Intel 8259A datasheet, "Edge and Level Triggered Modes").
 */
#include "kselftest_harness.h"
#include "irqchip.h"
#include "x86.h"

TEST(create_irqchip_errors)
{
	struct vm *vm;
	int fd;

	TEST_REQUIRE_KVM();
	vm = vm_create();
	ASSERT_EQ(0, ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0));
	ASSERT_EQ(-1, ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0));
	EXPECT_EQ(EEXIST, errno);
	vm_free(vm);

	/* After a vCPU: EINVAL (the vCPU has no local APIC to match). */
	vm = vm_create();
	fd = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	vm_free(vm);
}

TEST(no_irqchip)
{
	struct kvm_irq_level line = { .irq = 4, .level = 1 };
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_PIC_MASTER };
	struct vm *vm;

	TEST_REQUIRE_KVM();
	vm = vm_create();
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_GET_IRQCHIP, &chip));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_SET_IRQCHIP, &chip));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_IRQ_LINE, &line));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_IRQ_LINE_STATUS, &line));
	EXPECT_EQ(ENXIO, errno);
	vm_free(vm);
}

/* Power-on state as KVM gives it: all zero but the ELCR masks. */
TEST(pic_initial_state)
{
	struct kvm_irqchip chip;
	struct kvm_pic_state want = { 0 };
	struct vm *vm;

	TEST_REQUIRE_KVM();
	vm = irqchip_vm();
	irqchip_get(vm, KVM_IRQCHIP_PIC_MASTER, &chip);
	want.elcr_mask = 0xf8;
	EXPECT_EQ(0, memcmp(&want, &chip.chip.pic, sizeof(want)));
	irqchip_get(vm, KVM_IRQCHIP_PIC_SLAVE, &chip);
	want.elcr_mask = 0xde;
	EXPECT_EQ(0, memcmp(&want, &chip.chip.pic, sizeof(want)));
	vm_free(vm);
}

TEST(pic_state_round_trip)
{
	struct kvm_pic_state master = {
		.last_irr = 0x01, .irr = 0x01, .imr = 0xfa, .isr = 0x00,
		.priority_add = 3, .irq_base = 0x20, .read_reg_select = 1,
		.poll = 0, .special_mask = 0, .init_state = 0, .auto_eoi = 1,
		.rotate_on_auto_eoi = 1, .special_fully_nested_mode = 1,
		.init4 = 1, .elcr = 0x08, .elcr_mask = 0xf8,
	};
	struct kvm_pic_state slave = {
		.imr = 0xff, .isr = 0x02, .irq_base = 0x70, .elcr = 0x0c,
		.elcr_mask = 0xde, .init4 = 1,
	};
	struct kvm_irqchip chip = { 0 };
	struct vm *vm;

	TEST_REQUIRE_KVM();
	vm = irqchip_vm();
	chip.chip_id = KVM_IRQCHIP_PIC_MASTER;
	chip.chip.pic = master;
	ASSERT_EQ(0, ioctl(vm->fd, KVM_SET_IRQCHIP, &chip));
	chip.chip_id = KVM_IRQCHIP_PIC_SLAVE;
	chip.chip.pic = slave;
	ASSERT_EQ(0, ioctl(vm->fd, KVM_SET_IRQCHIP, &chip));

	irqchip_get(vm, KVM_IRQCHIP_PIC_MASTER, &chip);
	EXPECT_EQ(0, memcmp(&master, &chip.chip.pic, sizeof(master)));
	irqchip_get(vm, KVM_IRQCHIP_PIC_SLAVE, &chip);
	EXPECT_EQ(0, memcmp(&slave, &chip.chip.pic, sizeof(slave)));

	/* Chip ids 0-2 exist; 3 and beyond are EINVAL both ways. */
	chip.chip_id = 3;
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_GET_IRQCHIP, &chip));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_SET_IRQCHIP, &chip));
	EXPECT_EQ(EINVAL, errno);
	chip.chip_id = 0xffffffff;
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_GET_IRQCHIP, &chip));
	EXPECT_EQ(EINVAL, errno);
	vm_free(vm);
}

/*
 * KVM_IRQ_LINE_STATUS through the default routes, no vCPU: the IOAPIC's pins are
 * masked (they add nothing, or 0 for an edge already high), so the status is the
 * PIC's. An edge pin: a rising edge requests (1); held high it stays 1 (no new
 * edge, nothing coalesced); lowered and raised again while the request is still
 * in IRR it is coalesced (0). A masked pin reports -1, and so does a GSI with no
 * route at all; KVM_IRQ_LINE itself succeeds for any GSI.
 */
TEST(line_status)
{
	struct kvm_irqchip chip;
	struct vm *vm;

	TEST_REQUIRE_KVM();
	vm = irqchip_vm();
	EXPECT_EQ(1, irq_line_status(vm, 4, 1));
	EXPECT_EQ(1, irq_line_status(vm, 4, 1));
	irq_line(vm, 4, 0);
	EXPECT_EQ(0, irq_line_status(vm, 4, 1));
	irq_line(vm, 4, 0);
	irqchip_get(vm, KVM_IRQCHIP_PIC_MASTER, &chip);
	EXPECT_EQ(0x10, chip.chip.pic.irr);

	/* A slave pin: its request shows at the master's IR2 as well. */
	EXPECT_EQ(1, irq_line_status(vm, 12, 1));
	irq_line(vm, 12, 0);
	irqchip_get(vm, KVM_IRQCHIP_PIC_SLAVE, &chip);
	EXPECT_EQ(0x10, chip.chip.pic.irr);
	irqchip_get(vm, KVM_IRQCHIP_PIC_MASTER, &chip);
	EXPECT_EQ(0x14, chip.chip.pic.irr);

	/* Masked in the PIC too: nobody listens. */
	chip.chip.pic.imr = 0x40;
	ASSERT_EQ(0, ioctl(vm->fd, KVM_SET_IRQCHIP, &chip));
	EXPECT_EQ(-1, irq_line_status(vm, 6, 1));
	irq_line(vm, 6, 0);

	/* A level pin (ELCR) requests while high: coalesced while it is. */
	irqchip_get(vm, KVM_IRQCHIP_PIC_MASTER, &chip);
	chip.chip.pic.elcr = 0x20;
	ASSERT_EQ(0, ioctl(vm->fd, KVM_SET_IRQCHIP, &chip));
	EXPECT_EQ(1, irq_line_status(vm, 5, 1));
	EXPECT_EQ(0, irq_line_status(vm, 5, 1));
	irq_line(vm, 5, 0);
	irqchip_get(vm, KVM_IRQCHIP_PIC_MASTER, &chip);
	EXPECT_EQ(0, chip.chip.pic.irr & 0x20);

	/* GSIs 16-23 go to the (masked) IOAPIC only; 24 and up nowhere. */
	EXPECT_EQ(-1, irq_line_status(vm, 20, 1));
	EXPECT_EQ(-1, irq_line_status(vm, 24, 1));
	EXPECT_EQ(-1, irq_line_status(vm, 100000, 1));
	vm_free(vm);
}

/* ---------------------------------------------------------------- the guest */

#define REPORT_IDLE	0
#define REPORT_IRQ3	1	/* args: count of IRQ3 */
#define REPORT_IRQ10	2	/* args: count of IRQ10, the slave's ISR */
#define VEC_IRQ3	0x23
#define VEC_IRQ10	0x2a
#define COUNT3		GSTR(GUEST_DATA_GPA)
#define COUNT10		"0xf008"

/*
 * Linux's initialisation of the pair (arch/x86/kernel/i8259.c init_8259A()): ICW1
 * edge + ICW4, ICW2 vector base, ICW3 cascade on IR2, ICW4 8086 mode; then masks
 * leaving IR2, IR3 and IR10 open, and IRQ10 level-triggered in ELCR2.
 */
#define OUTB(val, port)	"mov $" #val ", %al\n\tout %al, $" #port "\n\t"
GUEST_ASM(pic_guest, 64,
	"cli\n\t"
	OUTB(0x11, 0x20) OUTB(0x20, 0x21) OUTB(0x04, 0x21) OUTB(0x01, 0x21)
	OUTB(0x11, 0xa0) OUTB(0x28, 0xa1) OUTB(0x02, 0xa1) OUTB(0x01, 0xa1)
	OUTB(0xf3, 0x21) OUTB(0xfb, 0xa1)
	"mov $0x04, %al\n\t"
	"mov $0x4d1, %dx\n\t"
	"out %al, %dx\n\t"
	"sti\n\t"
	"1: xor %edi, %edi\n\t"
	GUEST_SYNC
	"jmp 1b\n"

	"pic_irq3:\n\t"
	"push %rax\n\tpush %rdi\n\tpush %rsi\n\t"
	"incq " COUNT3 "\n\t"
	"mov $" GSTR(REPORT_IRQ3) ", %edi\n\t"
	"mov " COUNT3 ", %rsi\n\t"
	GUEST_SYNC
	OUTB(0x20, 0x20)			/* OCW2: non-specific EOI */
	"pop %rsi\n\tpop %rdi\n\tpop %rax\n\t"
	"iretq\n"

	"pic_irq10:\n\t"
	"push %rax\n\tpush %rdi\n\tpush %rsi\n\tpush %rdx\n\t"
	"incq " COUNT10 "\n\t"
	OUTB(0x0b, 0xa0)			/* OCW3: read ISR */
	"xor %edx, %edx\n\t"
	"in $0xa0, %al\n\t"
	"mov %al, %dl\n\t"
	OUTB(0x0a, 0xa0)			/* OCW3: back to IRR */
	"mov $" GSTR(REPORT_IRQ10) ", %edi\n\t"
	"mov " COUNT10 ", %rsi\n\t"
	GUEST_SYNC
	OUTB(0x20, 0xa0)			/* EOI the slave, then the master */
	OUTB(0x20, 0x20)
	"pop %rdx\n\tpop %rsi\n\tpop %rdi\n\tpop %rax\n\t"
	"iretq\n");
extern const uint8_t pic_irq3[], pic_irq10[];

/* Run to the next ucall; it must be a SYNC with report @what. */
static uint64_t expect_report(struct vcpu *vcpu, uint64_t what, struct ucall *uc)
{
	if (vcpu_run_ucall(vcpu, uc) != UCALL_SYNC || uc->args[0] != what)
		test_fail("expected report %llu, got ucall %llu report %llu",
			  (unsigned long long)what, (unsigned long long)uc->cmd,
			  (unsigned long long)uc->args[0]);
	return uc->args[1];
}

/* A few idle rounds: no interrupt may come. */
static void expect_idle(struct vcpu *vcpu, int rounds)
{
	struct ucall uc;

	while (rounds--)
		expect_report(vcpu, REPORT_IDLE, &uc);
}

TEST(guest_pic)
{
	struct kvm_irqchip chip;
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	TEST_REQUIRE_LAPIC();
	vcpu = irqchip_guest(GUEST_CODE(pic_guest));
	vm = vcpu->vm;
	vm_set_idt_gate(vm, MODE_LONG64, VEC_IRQ3, guest_code_gpa(vm, pic_irq3));
	vm_set_idt_gate(vm, MODE_LONG64, VEC_IRQ10, guest_code_gpa(vm, pic_irq10));

	/* The guest's ICWs and OCW1s as the registers show them. */
	expect_idle(vcpu, 1);
	irqchip_get(vm, KVM_IRQCHIP_PIC_MASTER, &chip);
	EXPECT_EQ(0x20, chip.chip.pic.irq_base);
	EXPECT_EQ(0xf3, chip.chip.pic.imr);
	EXPECT_EQ(0, chip.chip.pic.init_state);
	EXPECT_EQ(1, chip.chip.pic.init4);
	irqchip_get(vm, KVM_IRQCHIP_PIC_SLAVE, &chip);
	EXPECT_EQ(0x28, chip.chip.pic.irq_base);
	EXPECT_EQ(0xfb, chip.chip.pic.imr);
	EXPECT_EQ(0x04, chip.chip.pic.elcr);

	/* An edge on IRQ3: exactly one interrupt. */
	EXPECT_EQ(1, irq_line_status(vm, 3, 1));
	irq_line(vm, 3, 0);
	EXPECT_EQ(1, expect_report(vcpu, REPORT_IRQ3, &uc));
	expect_idle(vcpu, 5);

	/* IRQ4 is masked: nothing, though the request waits in IRR. */
	EXPECT_EQ(-1, irq_line_status(vm, 4, 1));
	irq_line(vm, 4, 0);
	expect_idle(vcpu, 5);

	/*
	 * Level IRQ10: in service at the slave while the handler runs; the line
	 * still high at EOI brings it back; lowered during the second, it stops.
	 */
	EXPECT_EQ(1, irq_line_status(vm, 10, 1));
	EXPECT_EQ(1, expect_report(vcpu, REPORT_IRQ10, &uc));
	EXPECT_EQ(0x04, uc.args[2]);
	EXPECT_EQ(2, expect_report(vcpu, REPORT_IRQ10, &uc));
	irq_line(vm, 10, 0);
	expect_idle(vcpu, 5);
	EXPECT_EQ(1, *(uint64_t *)gpa_to_hva(vm, GUEST_DATA_GPA));
	EXPECT_EQ(2, *(uint64_t *)gpa_to_hva(vm, GUEST_DATA_GPA + 8));

	/* Nothing left in service. */
	irqchip_get(vm, KVM_IRQCHIP_PIC_MASTER, &chip);
	EXPECT_EQ(0, chip.chip.pic.isr);
	irqchip_get(vm, KVM_IRQCHIP_PIC_SLAVE, &chip);
	EXPECT_EQ(0, chip.chip.pic.isr);
	vm_free(vm);
}

TEST_HARNESS_MAIN
