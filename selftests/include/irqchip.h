/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * irqchip.h: helpers the in-kernel irqchip tests share (pic_test, ioapic_test).
 *
 * KVM_CREATE_IRQCHIP must come before the first vCPU, so these tests build their VM
 * by hand instead of with vm_create_guest(). A kernel whose local APIC is not there
 * yet refuses the vCPU of such a VM: the guest tests skip then.
 */
#ifndef SELFTESTS_IRQCHIP_H
#define SELFTESTS_IRQCHIP_H

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vm.h"

/* A VM with KVM_CREATE_IRQCHIP done; nothing else. */
static inline struct vm *irqchip_vm(void)
{
	struct vm *vm = vm_create();

	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0))
		test_fail("KVM_CREATE_IRQCHIP: %s", strerror(errno));
	return vm;
}

/* KVM_IRQ_LINE_STATUS: the status, or a test failure if the ioctl fails. */
static inline int irq_line_status(struct vm *vm, uint32_t gsi, uint32_t level)
{
	struct kvm_irq_level line = { .irq = gsi, .level = level };

	if (ioctl(vm->fd, KVM_IRQ_LINE_STATUS, &line))
		test_fail("KVM_IRQ_LINE_STATUS %u %u: %s", gsi, level, strerror(errno));
	return line.status;
}

static inline void irq_line(struct vm *vm, uint32_t gsi, uint32_t level)
{
	struct kvm_irq_level line = { .irq = gsi, .level = level };

	if (ioctl(vm->fd, KVM_IRQ_LINE, &line))
		test_fail("KVM_IRQ_LINE %u %u: %s", gsi, level, strerror(errno));
}

static inline void irqchip_get(struct vm *vm, uint32_t chip_id, struct kvm_irqchip *chip)
{
	memset(chip, 0, sizeof(*chip));
	chip->chip_id = chip_id;
	if (ioctl(vm->fd, KVM_GET_IRQCHIP, chip))
		test_fail("KVM_GET_IRQCHIP %u: %s", chip_id, strerror(errno));
}

/* Can a vCPU get a local APIC here? (No while minikvm's LAPIC is a placeholder.) */
static inline bool irqchip_has_lapic(void)
{
	struct vm *vm = irqchip_vm();
	int fd = ioctl(vm->fd, KVM_CREATE_VCPU, 0);

	if (fd >= 0)
		close(fd);
	vm_free(vm);
	return fd >= 0;
}

/* An irqchip VM with vCPU 0 in long mode at @code, the IDT empty. */
static inline struct vcpu *irqchip_guest(struct guest_code code)
{
	struct vm *vm = irqchip_vm();
	struct vcpu *vcpu;

	vm_add_memory(vm, 0, 0, GUEST_MEM_SIZE, 0);
	vm_init_tables(vm);
	vm_load_code(vm, code);
	vcpu = vcpu_add(vm, 0);
	vcpu_init_mode(vcpu, MODE_LONG64, GUEST_CODE_GPA);
	return vcpu;
}

#define TEST_REQUIRE_LAPIC() do {						\
	TEST_REQUIRE_KVM();							\
	if (!irqchip_has_lapic())						\
		SKIP(return, "no vCPU with an in-kernel local APIC yet");	\
} while (0)

#endif /* SELFTESTS_IRQCHIP_H */
