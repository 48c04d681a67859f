// SPDX-License-Identifier: GPL-2.0-only
/*
 * irq.c: where the devices' interrupt lines go, --irqchip=user or kernel.
 *
 * user    the VMM's own 8259 pair (hw/pic.c) and 8254 (hw/pit.c). A line
 *         that rises sets the PIC's IRR; the vCPU thread runs the INTA cycle
 *         and hands KVM one vector with KVM_INTERRUPT (vcpu.c). One CPU only:
 *         there is no local APIC to start a second one.
 *
 * kernel  KVM_CREATE_IRQCHIP: KVM keeps the two 8259s, the IOAPIC and one
 *         local APIC per vCPU, and KVM_CREATE_PIT2 the 8254 (Documentation/
 *         virt/kvm/api.rst). A device line becomes KVM_IRQ_LINE with the
 *         line's level, as QEMU's kvm_pic_set_irq() forwards it: the
 *         default routing of KVM_CREATE_IRQCHIP takes GSI n to PIC input n
 *         and IOAPIC pin n, and each chip sees the edge or the level it is
 *         programmed for. A pulse (the PIT's IRQ 0 when it stays here) is
 *         raise then lower. The kernel decides which vCPU takes what, wakes
 *         halted vCPUs itself, and INIT/SIPI start the APs: no KVM_INTERRUPT,
 *         no KVM_EXIT_HLT.
 *
 * The default is kernel when KVM reports KVM_CAP_IRQCHIP, for a Linux guest;
 * a raw image (--image) always uses user, because its HLT means "done" and
 * only a userspace irqchip sees HLT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "runner.h"

static int irq__check_extension(struct vm *vm, long cap)
{
	/* The VM fd answers for this VM (KVM_CAP_CHECK_EXTENSION_VM). */
	int r = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, cap);

	if (r < 0)
		r = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, cap);
	return r < 0 ? 0 : r;
}

/* Which irqchip this run uses; a negative errno if the one asked for is absent. */
static int irq__choose(struct vm *vm, const struct config *cfg)
{
	bool have = irq__check_extension(vm, KVM_CAP_IRQCHIP) > 0;

	switch (cfg->irqchip) {
	case IRQCHIP_USER:
		return 0;
	case IRQCHIP_KERNEL:
		if (!have) {
			pr_err("--irqchip=kernel: this KVM has no in-kernel irqchip "
			       "(KVM_CAP_IRQCHIP is 0)");
			return -ENOTTY;
		}
		break;
	case IRQCHIP_DEFAULT:
		if (cfg->image)
			return 0;
		if (!have) {
			if (cfg->cpus > 1) {
				pr_err("--cpus %d needs the in-kernel irqchip, and this KVM "
				       "has none (KVM_CAP_IRQCHIP is 0)", cfg->cpus);
				return -ENOTTY;
			}
			pr_err("KVM_CAP_IRQCHIP is 0: the PIC and the PIT stay in "
			       "minikvm-run (--irqchip=user)");
			return 0;
		}
		break;
	}
	vm->kernel_irqchip = true;
	return 0;
}

int irq__init(struct vm *vm, const struct config *cfg)
{
	/* Port 0x61 to the kernel too: Linux times the PIT's channel 2 there. */
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	int ret = irq__choose(vm, cfg);

	if (ret || !vm->kernel_irqchip)
		return ret;
	/* Before the first KVM_CREATE_VCPU: each vCPU gets its LAPIC at creation. */
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		pr_err("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -errno;
	}
	/*
	 * The in-kernel PIT too, when KVM has one (KVM_CAP_PIT2), as QEMU
	 * does with its in-kernel irqchip: no timerfd wake-up and no
	 * KVM_IRQ_LINE pair per tick. MINIKVM_RUN_USER_PIT=1 in the
	 * environment keeps the runner's own PIT (hw/pit.c) raising IRQ 0
	 * with KVM_IRQ_LINE instead, to compare the two.
	 */
	if (getenv("MINIKVM_RUN_USER_PIT") ||
	    irq__check_extension(vm, KVM_CAP_PIT2) <= 0)
		return 0;
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		pr_err("KVM_CREATE_PIT2: %s", strerror(errno));
		return -errno;
	}
	vm->kernel_pit = true;
	return 0;
}

/* ------------------------------------------------------------ the lines */

static void irq__user_set(void *opaque, int irq, int level)
{
	struct vm *vm = opaque;

	pic__set_irq(&vm->pic, irq, level);
}

/*
 * KVM_IRQ_LINE with the line's new level. Called under vm->lock, like every
 * device call; a level the kernel already has is not sent again.
 */
static void irq__kernel_set(void *opaque, int irq, int level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level line = { .irq = irq, .level = !!level };
	uint32_t bit = 1u << irq;

	if (!!(vm->irq_levels & bit) == !!level)
		return;
	vm->irq_levels ^= bit;
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &line) < 0 && !vm->irq_error) {
		vm->irq_error = true;	/* say it once, not at every byte */
		pr_err("KVM_IRQ_LINE %d level %d: %s", irq, level, strerror(errno));
	}
}

/* The line an ISA device's IRQ pin drives (irq 0..15). */
struct irq_line irq__line(struct vm *vm, int irq)
{
	return (struct irq_line){
		.set = vm->kernel_irqchip ? irq__kernel_set : irq__user_set,
		.opaque = vm, .irq = irq,
	};
}

/* --------------------------------------------------------- state dump */

static void irq__dump_user(struct vm *vm, FILE *f)
{
	for (int c = 0; c < 2; c++) {
		struct pic_chip *p = &vm->pic.chip[c];

		fprintf(f, "  pic %s: irr %02x isr %02x imr %02x lines %02x base 0x%02x%s%s\r\n",
			c ? "slave " : "master", p->irr, p->isr, p->imr, p->last_level,
			p->vector_base, p->init_step ? " (initializing)" : "",
			p->auto_eoi ? " auto-eoi" : "");
	}
	fprintf(f, "  pic INT %s\r\n", pic__has_interrupt(&vm->pic) ? "high" : "low");
}

/* The in-kernel chips, read with KVM_GET_IRQCHIP (a VM ioctl: no vCPU stops). */
static void irq__dump_kernel(struct vm *vm, FILE *f)
{
	struct kvm_irqchip chip;

	for (int c = KVM_IRQCHIP_PIC_MASTER; c <= KVM_IRQCHIP_PIC_SLAVE; c++) {
		struct kvm_pic_state *p = &chip.chip.pic;

		memset(&chip, 0, sizeof(chip));
		chip.chip_id = c;
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chip) < 0) {
			fprintf(f, "  kernel pic %d: KVM_GET_IRQCHIP: %s\r\n", c, strerror(errno));
			continue;
		}
		fprintf(f, "  kernel pic %s: irr %02x isr %02x imr %02x base 0x%02x elcr %02x\r\n",
			c ? "slave " : "master", p->irr, p->isr, p->imr, p->irq_base, p->elcr);
	}
	memset(&chip, 0, sizeof(chip));
	chip.chip_id = KVM_IRQCHIP_IOAPIC;
	if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chip) < 0) {
		fprintf(f, "  kernel ioapic: KVM_GET_IRQCHIP: %s\r\n", strerror(errno));
		return;
	}
	fprintf(f, "  kernel ioapic: irr %08x; unmasked pins:", chip.chip.ioapic.irr);
	for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++) {
		uint64_t e = chip.chip.ioapic.redirtbl[i].bits;

		if (!(e & (1ull << 16)))	/* bit 16: masked */
			fprintf(f, " %d->vec 0x%02x dest %u%s", i, (unsigned)(e & 0xff),
				(unsigned)(e >> 56), e & (1ull << 14) ? " remote-irr" : "");
	}
	fprintf(f, "\r\n  lines raised by the VMM: %04x\r\n", vm->irq_levels);
}

/* For event__dump(), under vm->lock. */
void irq__dump(struct vm *vm, FILE *f)
{
	if (vm->kernel_irqchip)
		irq__dump_kernel(vm, f);
	else
		irq__dump_user(vm, f);
}
