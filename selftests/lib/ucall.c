// SPDX-License-Identifier: GPL-2.0-only
/*
 * ucall.c: decode exits, recognise the guest's ucalls (see guest.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vm.h"

const char *exit_reason_str(uint32_t reason)
{
	static const char *const names[] = {
#define X(r) [KVM_EXIT_##r] = #r
		X(UNKNOWN), X(EXCEPTION), X(IO), X(HYPERCALL), X(DEBUG), X(HLT),
		X(MMIO), X(IRQ_WINDOW_OPEN), X(SHUTDOWN), X(FAIL_ENTRY), X(INTR),
		X(SET_TPR), X(TPR_ACCESS), X(NMI), X(INTERNAL_ERROR), X(SYSTEM_EVENT),
		X(IOAPIC_EOI), X(HYPERV), X(X86_RDMSR), X(X86_WRMSR),
#undef X
	};

	if (reason < ARRAY_SIZE(names) && names[reason])
		return names[reason];
	return "(unknown exit reason)";
}

/* One line about the last exit, for failure messages: the reason and its details. */
const char *vcpu_describe_exit(struct vcpu *vcpu, char *buf, size_t len)
{
	struct kvm_run *run = vcpu->run;
	struct kvm_regs regs;
	int n;

	n = snprintf(buf, len, "exit %s (%u)", exit_reason_str(run->exit_reason),
		     run->exit_reason);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		n += snprintf(buf + n, len - n, " %s port %#x size %u count %u data %#x",
			      run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
			      run->io.port, run->io.size, run->io.count,
			      *(uint32_t *)vcpu_io_data(vcpu));
		break;
	case KVM_EXIT_MMIO:
		n += snprintf(buf + n, len - n, " %s gpa %#llx len %u data %#llx",
			      run->mmio.is_write ? "write" : "read",
			      (unsigned long long)run->mmio.phys_addr, run->mmio.len,
			      *(unsigned long long *)run->mmio.data);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		n += snprintf(buf + n, len - n, " hardware reason %#llx",
			      (unsigned long long)
			      run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		n += snprintf(buf + n, len - n, " suberror %u ndata %u data0 %#llx",
			      run->internal.suberror, run->internal.ndata,
			      (unsigned long long)run->internal.data[0]);
		break;
	}
	/* Where the guest stood; harmless to ask for after any exit. */
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) == 0)
		snprintf(buf + n, len - n, " rip %#llx", (unsigned long long)regs.rip);
	return buf;
}

/*
 * If the last exit is a ucall (an OUT of 4 bytes to UCALL_PORT), fill @uc and return
 * the command; otherwise return UCALL_NONE.
 */
uint64_t vcpu_get_ucall(struct vcpu *vcpu, struct ucall *uc)
{
	struct kvm_run *run = vcpu->run;
	struct kvm_regs regs;

	memset(uc, 0, sizeof(*uc));
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != UCALL_PORT ||
	    run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 ||
	    run->io.count != 1)
		return UCALL_NONE;

	vcpu_get_regs(vcpu, &regs);
	uc->cmd = *(uint32_t *)vcpu_io_data(vcpu);
	uc->args[0] = regs.rdi;
	uc->args[1] = regs.rsi;
	uc->args[2] = regs.rdx;
	uc->args[3] = regs.rcx;
	return uc->cmd;
}

/*
 * Run until the next exit, which must be a ucall. UCALL_FAIL and UCALL_EXCEPTION end
 * the test here, so callers only deal with SYNC and DONE.
 */
uint64_t vcpu_run_ucall(struct vcpu *vcpu, struct ucall *uc)
{
	char buf[256];

	vcpu_run(vcpu);
	switch (vcpu_get_ucall(vcpu, uc)) {
	case UCALL_NONE:
		test_fail("expected a ucall, got %s",
			  vcpu_describe_exit(vcpu, buf, sizeof(buf)));
	case UCALL_FAIL:
		test_fail("guest reported failure %#llx (%#llx %#llx %#llx)",
			  (unsigned long long)uc->args[0], (unsigned long long)uc->args[1],
			  (unsigned long long)uc->args[2], (unsigned long long)uc->args[3]);
	case UCALL_EXCEPTION:
		test_fail("guest took exception %llu, error code %#llx, at rip %#llx",
			  (unsigned long long)uc->args[0], (unsigned long long)uc->args[1],
			  (unsigned long long)uc->args[2]);
	}
	return uc->cmd;
}

/* Run, letting SYNCs pass, until the guest reports DONE. */
void vcpu_run_until_done(struct vcpu *vcpu)
{
	struct ucall uc;

	while (vcpu_run_ucall(vcpu, &uc) != UCALL_DONE)
		;
}

/* Run once; the exit must be @exit_reason. */
void vcpu_expect_exit(struct vcpu *vcpu, uint32_t exit_reason)
{
	char buf[256];

	vcpu_run(vcpu);
	if (vcpu->run->exit_reason != exit_reason)
		test_fail("expected exit %s, got %s", exit_reason_str(exit_reason),
			  vcpu_describe_exit(vcpu, buf, sizeof(buf)));
}
