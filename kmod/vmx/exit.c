// SPDX-License-Identifier: GPL-2.0-only
/*
 * VM-exit handlers: decode what the VMCS says happened, then let the
 * core act (STYLE.md 5). An exit handler never touches kvm_run for port
 * I/O, CPUID, MSRs, HLT or EPT faults: it fills a neutral struct or sets
 * vcpu->exit_insn_len and calls the same mkvm_emulate_*() that the SVM
 * handlers call.
 *
 * Handler contract (STYLE.md 4), as in minikvm.h: return 1 to re-enter
 * the guest, 0 after filling vcpu->run for userspace, a negative errno on
 * failure.
 *
 * The VMCS is current on this CPU while handlers run: the core keeps it
 * so through vcpu_load() (and vmx_vmcs_get() in state.c makes sure).
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/nospec.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "vmx.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* The exit was caused by an instruction: the core may step over it. */
static void vmx_set_insn_len(struct mkvm_vcpu *vcpu)
{
	vcpu->exit_insn_len = vmcs_read(VMCS_EXIT_INSTRUCTION_LEN);
}

/* Emulated an instruction successfully: step over it, re-enter. */
static int vmx_skip_insn(struct mkvm_vcpu *vcpu)
{
	vmx_set_insn_len(vcpu);
	mkvm_skip_insn(vcpu);
	return 1;
}

/* A general-purpose register at the operand size a MOV CR/DR uses. */
static u64 vmx_read_gpr(struct mkvm_vcpu *vcpu, int reg)
{
	u64 val = vcpu->regs[reg];

	return vmx_is_64bit_mode(vcpu) ? val : (u32)val;
}

static void vmx_inject_gp(struct mkvm_vcpu *vcpu)
{
	mkvm_queue_exception(vcpu, MKVM_GP_VECTOR, true, 0);
}

/* ------------------------------------------------------------------ */
/* Exit handlers, in exit-reason order                                 */
/* ------------------------------------------------------------------ */

/*
 * A machine check struck while the guest ran (an #MC exit), or during the
 * entry itself (exit reason 41, SDM Vol.3 27.8): it is the host's. Run
 * the host's #MC handler as if the exception had arrived here; the guest
 * goes on (or the host's handler decides it cannot).
 */
static int vmx_host_machine_check(void)
{
	asm volatile("int $0x12");
	return 1;
}

/*
 * Reason 0: an exception in the exception bitmap, or an NMI. The NMI was
 * already handed to the host in run() (it must happen with interrupts
 * still off); #AC goes back to the guest, #UD to the core, #MC to the
 * host (see the exception bitmap in vmx.c).
 */
static int vmx_handle_exception_nmi(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	u32 info = vmx->exit_intr_info;
	u32 type = (info & VMX_INTR_INFO_TYPE_MASK) >> VMX_INTR_INFO_TYPE_SHIFT;
	u32 vector = info & VMX_INTR_INFO_VECTOR_MASK;

	if (type == VMX_INTR_TYPE_NMI)
		return 1;
	if (type == VMX_INTR_TYPE_HW_EXCEPTION && vector == X86_TRAP_MC)
		return vmx_host_machine_check();
	/* #UD: the core rewrites VMMCALL or reflects it (pv.c). */
	if (type == VMX_INTR_TYPE_HW_EXCEPTION && vector == X86_TRAP_UD)
		return mkvm_handle_ud(vcpu);
	/*
	 * #DB and #BP exit only while the VMM debugs the guest (guestdbg.c).
	 * The exit qualification holds the DR6 bits B0-3, BD, BS (Table
	 * 28-1); RIP is still at an INT3 (the exit replaces its delivery).
	 */
	if (type == VMX_INTR_TYPE_HW_EXCEPTION && vector == X86_TRAP_DB)
		return mkvm_handle_db(vcpu, (vmx->exit_qual & 0x600f) |
					    VMX_DR6_RESET,
				      vmcs_read(VMCS_GUEST_DR7));
	if (type == VMX_INTR_TYPE_SOFT_EXCEPTION && vector == X86_TRAP_BP)
		return mkvm_debug_exit(vcpu, MKVM_BP_VECTOR, 0, 0);
	if (type == VMX_INTR_TYPE_HW_EXCEPTION && vector == X86_TRAP_AC) {
		mkvm_queue_exception(vcpu, X86_TRAP_AC, true,
				     vmcs_read(VMCS_EXIT_INTR_ERROR_CODE));
		return 1;
	}
	return mkvm_exit_unexpected(vcpu, VMX_EXIT_EXCEPTION_NMI, info,
				    vmx->exit_qual);
}

/*
 * Reason 1: a host interrupt arrived while the guest ran. "Acknowledge
 * interrupt on exit" is off, so it is still pending in the local APIC
 * and the host takes it as soon as the core enables interrupts.
 */
static int vmx_handle_external_intr(struct mkvm_vcpu *vcpu)
{
	return 1;
}

/*
 * Reason 52: the VMX-preemption timer ran out (vmx_arm_preemption_timer()
 * arms it for entries with IF=0). Nothing to do, as for reason 1: the
 * core enables interrupts, the host takes what was pending, and the
 * guest goes on.
 */
static int vmx_handle_preempt_timer(struct mkvm_vcpu *vcpu)
{
	return 1;
}

/* Reason 2: the guest triple-faulted: a real CPU would shut down. */
static int vmx_handle_triple_fault(struct mkvm_vcpu *vcpu)
{
	return mkvm_exit_shutdown(vcpu);
}

/* Reason 7: the guest can take an interrupt now (vmx_enable_irq_window). */
static int vmx_handle_intr_window(struct mkvm_vcpu *vcpu)
{
	vmx_set_proc_bits(to_vmx(vcpu), PROC_INTR_WINDOW_EXITING, false);
	return mkvm_handle_irq_window(vcpu);
}

/* Reason 18: VMCALL, the hypercall (pv.c); it always exits (26.1.2). */
static int vmx_handle_vmcall(struct mkvm_vcpu *vcpu)
{
	vmx_set_insn_len(vcpu);
	return mkvm_emulate_hypercall(vcpu);
}

/* Reasons 36, 39: MWAIT, MONITOR: NOPs or #UD (features.c). */
static int vmx_handle_monitor_mwait(struct mkvm_vcpu *vcpu)
{
	vmx_set_insn_len(vcpu);
	return mkvm_emulate_monitor_mwait(vcpu);
}

/* Reason 10: CPUID always exits in VMX non-root operation (26.1.2). */
static int vmx_handle_cpuid(struct mkvm_vcpu *vcpu)
{
	vmx_set_insn_len(vcpu);
	return mkvm_emulate_cpuid(vcpu);
}

static int vmx_handle_xsetbv(struct mkvm_vcpu *vcpu)
{
	vmx_set_insn_len(vcpu);
	return mkvm_emulate_xsetbv(vcpu);
}

static int vmx_handle_hlt(struct mkvm_vcpu *vcpu)
{
	vmx_set_insn_len(vcpu);
	return mkvm_emulate_hlt(vcpu);
}

/*
 * INVD, WBINVD: nothing to do. Guest memory is ordinary cached
 * host memory, so dropping caches would only slow the host down.
 */
static int vmx_handle_nop(struct mkvm_vcpu *vcpu)
{
	return vmx_skip_insn(vcpu);
}

/*
 * Reason 40, PAUSE (or a PAUSE loop, 25.6.13): the guest waits for
 * something, usually a lock another vCPU holds. Step over the PAUSE and
 * let the host run another thread first: maybe that vCPU's.
 */
static int vmx_handle_pause(struct mkvm_vcpu *vcpu)
{
	vmx_skip_insn(vcpu);
	mkvm_vcpu_on_spin(vcpu);
	return 1;
}

/* Instructions minikvm does not offer to guests: #UD, as without VMX. */
static int vmx_handle_ud(struct mkvm_vcpu *vcpu)
{
	mkvm_queue_exception(vcpu, MKVM_UD_VECTOR, false, 0);
	return 1;
}

/* RDPMC: no performance counters are offered: #GP(0). */
static int vmx_handle_rdpmc(struct mkvm_vcpu *vcpu)
{
	vmx_inject_gp(vcpu);
	return 1;
}

/*
 * Reason 28: control-register access (exit qualification: Table 28-3).
 * CR0 and CR4 exit when the guest writes a bit minikvm owns (the mask),
 * CR8 always (the TPR is virtual), CR3 only if the CPU forces CR3
 * exiting.
 */
static int vmx_handle_mov_to_cr(struct mkvm_vcpu *vcpu, int cr, u64 val)
{
	int ret;

	switch (cr) {
	case 0:
		ret = vmx_guest_set_cr0(vcpu, val);
		break;
	case 3:
		ret = vmx_guest_set_cr3(vcpu, val);
		break;
	case 4:
		ret = vmx_guest_set_cr4(vcpu, val);
		break;
	case 8:
		vmx_set_insn_len(vcpu);
		return mkvm_emulate_set_cr8(vcpu, val);
	default:
		return mkvm_exit_unexpected(vcpu, VMX_EXIT_CR_ACCESS,
					    to_vmx(vcpu)->exit_qual, 0);
	}
	if (ret) {
		vmx_inject_gp(vcpu);
		return 1;
	}
	return vmx_skip_insn(vcpu);
}

static int vmx_handle_mov_from_cr(struct mkvm_vcpu *vcpu, int cr, int reg)
{
	if (cr != 3 && cr != 8)
		return mkvm_exit_unexpected(vcpu, VMX_EXIT_CR_ACCESS,
					    to_vmx(vcpu)->exit_qual, 0);
	vcpu->regs[reg] = vmx_get_cr(vcpu, cr);
	return vmx_skip_insn(vcpu);
}

static int vmx_handle_cr(struct mkvm_vcpu *vcpu)
{
	unsigned long q = to_vmx(vcpu)->exit_qual;
	int cr = QUAL_CR_NUM(q), reg = QUAL_CR_GPR(q);
	u64 cr0;

	switch (QUAL_CR_ACCESS(q)) {
	case QUAL_CR_ACCESS_MOV_TO:
		return vmx_handle_mov_to_cr(vcpu, cr, vmx_read_gpr(vcpu, reg));
	case QUAL_CR_ACCESS_MOV_FROM:
		return vmx_handle_mov_from_cr(vcpu, cr, reg);
	case QUAL_CR_ACCESS_CLTS:
		/* Only exits if minikvm owned TS; clear it like the CPU. */
		cr0 = vmx_get_cr(vcpu, 0) & ~(u64)X86_CR0_TS;
		return vmx_handle_mov_to_cr(vcpu, 0, cr0);
	default:
		/* LMSW loads CR0[3:0] (PE, MP, EM, TS) but cannot clear PE. */
		cr0 = vmx_get_cr(vcpu, 0);
		cr0 = (cr0 & ~0xeull) | (QUAL_CR_LMSW_DATA(q) & 0xf);
		return vmx_handle_mov_to_cr(vcpu, 0, cr0);
	}
}

/*
 * Reason 29: MOV to/from a debug register (Table 28-4). minikvm keeps
 * the guest's DR0-3, DR6 and DR7 in software and every MOV DR exits
 * (its DR7.GD is checked here, guestdbg.c). A DR7 that enables a
 * breakpoint goes into the VMCS (vmx_write_dr7()), and vmx_run() then
 * loads DR0-3 and DR6 around each entry and reads DR6 back after it.
 *
 * KVM instead stops the MOV DR exits after the first one and reads every
 * debug register back at the next exit. Here they keep exiting: one
 * place holds the guest's values at all times, nothing is read back but
 * DR6, and only while a breakpoint is enabled; the cost is an exit per
 * MOV DR, which guests make rarely (task switches with breakpoints, the
 * #DB handler). DR4/DR5 alias DR6/DR7 (CR4.DE=1 makes them #UD before
 * any exit).
 */
static int vmx_handle_dr(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	unsigned long q = vmx->exit_qual;
	int dr = QUAL_DR_NUM(q), reg = QUAL_DR_GPR(q), r;
	unsigned long *slot;
	u64 val;

	if (mkvm_dr_general_detect(vcpu, &r))
		return r;

	if (dr < 4)
		slot = &vmx->dr[dr];
	else if (dr == 4 || dr == 6)
		slot = &vmx->dr6;
	else
		slot = &vmx->dr7;

	if (q & QUAL_DR_FROM) {
		vcpu->regs[reg] = *slot;
		return vmx_skip_insn(vcpu);
	}
	val = vmx_read_gpr(vcpu, reg);
	if (dr >= 4 && (val >> 32)) {
		vmx_inject_gp(vcpu);
		return 1;
	}
	if (slot == &vmx->dr6)	/* B0-3, BLD, BD, BS, BT, RTM; rest fixed */
		val = (val & 0x0001e80full) | (VMX_DR6_RESET & ~0x0001e80full);
	else if (slot == &vmx->dr7)
		val |= VMX_DR7_RESET;
	*slot = val;
	if (slot == &vmx->dr7)
		vmx_write_dr7(vcpu);
	return vmx_skip_insn(vcpu);
}

/*
 * Reason 30: IN, OUT, INS, OUTS (Table 28-5). The qualification gives
 * size, direction, string/REP and port; for INS/OUTS the VM-exit
 * instruction information (Table 28-8) adds the address size and the
 * segment of OUTS's source. Without that information (IA32_VMX_BASIC
 * bit 54 clear), assume the code segment's default address size and DS.
 */
static int vmx_handle_io(struct mkvm_vcpu *vcpu)
{
	unsigned long q = to_vmx(vcpu)->exit_qual;
	struct mkvm_io io = {
		.port	= QUAL_IO_PORT(q),
		.size	= QUAL_IO_SIZE(q),
		.in	= q & QUAL_IO_IN,
		.string	= q & QUAL_IO_STRING,
		.rep	= q & QUAL_IO_REP,
		.seg	= MKVM_DS,
	};
	u32 info;

	vmx_set_insn_len(vcpu);
	io.next_rip = vcpu->rip + vcpu->exit_insn_len;
	if (io.string) {
		if (vmx_cfg.inout_info) {
			info = vmcs_read(VMCS_EXIT_INSTRUCTION_INFO);
			io.addr_size = 2 << INSN_INFO_ADDR_SIZE(info);
			if (!io.in)
				io.seg = INSN_INFO_SEG(info);
		} else if (vmx_is_64bit_mode(vcpu)) {
			io.addr_size = 8;
		} else {
			io.addr_size = (vmcs_read(VMCS_GUEST_CS_AR) & VMX_AR_DB) ?
				       4 : 2;
		}
		if (io.in)
			io.seg = MKVM_ES;	/* INS always writes ES:rDI */
	}
	return mkvm_emulate_io(vcpu, &io);
}

static int vmx_handle_rdmsr(struct mkvm_vcpu *vcpu)
{
	vmx_set_insn_len(vcpu);
	return mkvm_emulate_rdmsr(vcpu);
}

static int vmx_handle_wrmsr(struct mkvm_vcpu *vcpu)
{
	vmx_set_insn_len(vcpu);
	return mkvm_emulate_wrmsr(vcpu);
}

/*
 * Reason 48: EPT violation (Table 28-7). The guest touched a
 * guest-physical address the EPT does not map, or maps without the
 * needed permission; bits 5:3 tell whether a translation existed at
 * all. The core maps RAM or emulates MMIO.
 */
static int vmx_handle_ept_violation(struct mkvm_vcpu *vcpu)
{
	unsigned long q = to_vmx(vcpu)->exit_qual;
	struct mkvm_tdp_fault f = {
		.gpa	 = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS),
		.write	 = q & QUAL_EPT_WRITE,
		.fetch	 = q & QUAL_EPT_FETCH,
		.present = q & (QUAL_EPT_READABLE | QUAL_EPT_WRITABLE |
				QUAL_EPT_EXECUTABLE),
	};

	/* Not an instruction exit: the length field is undefined (28.2.5). */
	vcpu->exit_insn_len = 0;
	return mkvm_handle_tdp_fault(vcpu, &f);
}

/* Reason 49: an EPT entry minikvm wrote is malformed: a bug, report it. */
static int vmx_handle_ept_misconfig(struct mkvm_vcpu *vcpu)
{
	return mkvm_exit_unexpected(vcpu, VMX_EXIT_EPT_MISCONFIG,
				    vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS), 0);
}


/* ------------------------------------------------------------------ */
/* The exit table                                                      */
/* ------------------------------------------------------------------ */

/*
 * Indexed by basic exit reason (appendix C). An empty slot is an exit
 * minikvm did not ask for: it reaches userspace as
 * KVM_EXIT_INTERNAL_ERROR with the raw reason, never a host crash.
 */
static int (*const vmx_exit_handlers[VMX_EXIT_MAX])(struct mkvm_vcpu *) = {
	[VMX_EXIT_EXCEPTION_NMI]	= vmx_handle_exception_nmi,
	[VMX_EXIT_EXTERNAL_INTR]	= vmx_handle_external_intr,
	[VMX_EXIT_PREEMPTION_TIMER]	= vmx_handle_preempt_timer,
	[VMX_EXIT_TRIPLE_FAULT]	= vmx_handle_triple_fault,
	[VMX_EXIT_INTR_WINDOW]	= vmx_handle_intr_window,
	[VMX_EXIT_NMI_WINDOW]	= vmx_handle_nmi_window,
	[VMX_EXIT_CPUID]		= vmx_handle_cpuid,
	[VMX_EXIT_GETSEC]		= vmx_handle_ud,
	[VMX_EXIT_HLT]		= vmx_handle_hlt,
	[VMX_EXIT_INVD]		= vmx_handle_nop,
	[VMX_EXIT_RDPMC]		= vmx_handle_rdpmc,
	[VMX_EXIT_RSM]		= vmx_handle_ud,
	[VMX_EXIT_VMCALL]		= vmx_handle_vmcall,
	[VMX_EXIT_VMCLEAR]		= vmx_handle_ud,
	[VMX_EXIT_VMLAUNCH]		= vmx_handle_ud,
	[VMX_EXIT_VMPTRLD]		= vmx_handle_ud,
	[VMX_EXIT_VMPTRST]		= vmx_handle_ud,
	[VMX_EXIT_VMREAD]		= vmx_handle_ud,
	[VMX_EXIT_VMRESUME]		= vmx_handle_ud,
	[VMX_EXIT_VMWRITE]		= vmx_handle_ud,
	[VMX_EXIT_VMXOFF]		= vmx_handle_ud,
	[VMX_EXIT_VMXON]		= vmx_handle_ud,
	[VMX_EXIT_CR_ACCESS]		= vmx_handle_cr,
	[VMX_EXIT_DR_ACCESS]		= vmx_handle_dr,
	[VMX_EXIT_IO_INSTRUCTION]	= vmx_handle_io,
	[VMX_EXIT_RDMSR]		= vmx_handle_rdmsr,
	[VMX_EXIT_WRMSR]		= vmx_handle_wrmsr,
	[VMX_EXIT_MWAIT]		= vmx_handle_monitor_mwait,
	[VMX_EXIT_MONITOR]		= vmx_handle_monitor_mwait,
	[VMX_EXIT_PAUSE]		= vmx_handle_pause,
	[VMX_EXIT_EPT_VIOLATION]	= vmx_handle_ept_violation,
	[VMX_EXIT_EPT_MISCONFIG]	= vmx_handle_ept_misconfig,
	[VMX_EXIT_INVEPT]		= vmx_handle_ud,
	[VMX_EXIT_INVVPID]		= vmx_handle_ud,
	[VMX_EXIT_WBINVD]		= vmx_handle_nop,
	/* XSETBV always exits (26.1.2): the guest's XCR0 (xsave.c). */
	[VMX_EXIT_XSETBV]		= vmx_handle_xsetbv,
	[VMX_EXIT_VMFUNC]		= vmx_handle_ud,
};

/*
 * A failed entry, reported to userspace as KVM_EXIT_FAIL_ENTRY with
 * hardware_entry_failure_reason set as KVM sets it:
 *  - entry failed while loading guest state (exit reason bit 31 set:
 *    33 invalid guest state, 34 MSR loading, 41 machine check): the
 *    full exit reason, e.g. 0x80000021;
 *  - VMfailValid (bad controls or host state): the VM-instruction error
 *    number (SDM 31.4), e.g. 7 for "invalid control field(s)";
 *  - VMfailInvalid (no current VMCS, a minikvm bug): 0.
 * The three ranges do not overlap, so a test can tell them apart.
 */
static int vmx_handle_failed_entry(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	if (vmx->fail == VMX_FAIL_VALID) {
		pr_err_ratelimited("VM entry failed: VM-instruction error %u (%s)\n",
				   vmx->fail_code,
				   vmx_insn_error_name(vmx->fail_code));
		return mkvm_exit_fail_entry(vcpu, vmx->fail_code);
	}
	if (vmx->fail == VMX_FAIL_INVALID) {
		pr_err_ratelimited("VM entry failed: no current VMCS\n");
		return mkvm_exit_fail_entry(vcpu, 0);
	}
	if ((vmx->exit_reason & VMX_EXIT_REASON_BASIC) == VMX_EXIT_MCE_DURING_ENTRY)
		vmx_host_machine_check();
	pr_debug("VM entry failed: exit reason %#x, qualification %#lx\n",
		 vmx->exit_reason, vmx->exit_qual);
	return mkvm_exit_fail_entry(vcpu, vmx->exit_reason);
}

int vmx_handle_exit(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	u32 reason = vmx->exit_reason & VMX_EXIT_REASON_BASIC;

	if (vmx->fail != VMX_ENTERED ||
	    (vmx->exit_reason & VMX_EXIT_REASON_FAILED_ENTRY))
		return vmx_handle_failed_entry(vcpu);
	if (reason >= ARRAY_SIZE(vmx_exit_handlers) ||
	    !vmx_exit_handlers[reason])
		return mkvm_exit_unexpected(vcpu, vmx->exit_reason,
					    vmx->exit_qual, 0);
	reason = array_index_nospec(reason, ARRAY_SIZE(vmx_exit_handlers));
	return vmx_exit_handlers[reason](vcpu);
}
