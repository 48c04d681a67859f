// SPDX-License-Identifier: GPL-2.0-only
/*
 * names.c: raw exit codes to names, for both vendors.
 *
 * The kvm_exit tracepoint carries the hardware's own number: on AMD the VMCB
 * EXITCODE (APM Vol.2 Appendix C, "SVM Intercept Exit Codes"), on Intel the basic
 * exit reason, bits 15:0 of the VMCS field (SDM Vol.3 Appendix C, "VMX Basic Exit
 * Reasons"). The "isa" field says which: 1 = VMX, 2 = SVM. The names are the
 * suffixes of the kernel's SVM_EXIT_* and EXIT_REASON_* constants, so they read
 * like the output of perf kvm stat.
 */
#include <stdio.h>
#include <linux/kvm.h>

#include "names.h"

#define N(code, name)	[code] = name

/* APM Vol.2 Appendix C, the contiguous part 0x60-0xa4. */
static const char *const svm_names[] = {
	N(0x60, "INTR"),	N(0x61, "NMI"),		N(0x62, "SMI"),
	N(0x63, "INIT"),	N(0x64, "VINTR"),	N(0x65, "CR0_SEL_WRITE"),
	N(0x66, "IDTR_READ"),	N(0x67, "GDTR_READ"),	N(0x68, "LDTR_READ"),
	N(0x69, "TR_READ"),	N(0x6a, "IDTR_WRITE"),	N(0x6b, "GDTR_WRITE"),
	N(0x6c, "LDTR_WRITE"),	N(0x6d, "TR_WRITE"),	N(0x6e, "RDTSC"),
	N(0x6f, "RDPMC"),	N(0x70, "PUSHF"),	N(0x71, "POPF"),
	N(0x72, "CPUID"),	N(0x73, "RSM"),		N(0x74, "IRET"),
	N(0x75, "SWINT"),	N(0x76, "INVD"),	N(0x77, "PAUSE"),
	N(0x78, "HLT"),		N(0x79, "INVLPG"),	N(0x7a, "INVLPGA"),
	N(0x7b, "IOIO"),	N(0x7c, "MSR"),		N(0x7d, "TASK_SWITCH"),
	N(0x7e, "FERR_FREEZE"),	N(0x7f, "SHUTDOWN"),	N(0x80, "VMRUN"),
	N(0x81, "VMMCALL"),	N(0x82, "VMLOAD"),	N(0x83, "VMSAVE"),
	N(0x84, "STGI"),	N(0x85, "CLGI"),	N(0x86, "SKINIT"),
	N(0x87, "RDTSCP"),	N(0x88, "ICEBP"),	N(0x89, "WBINVD"),
	N(0x8a, "MONITOR"),	N(0x8b, "MWAIT"),	N(0x8c, "MWAIT_COND"),
	N(0x8d, "XSETBV"),	N(0x8e, "RDPRU"),	N(0x8f, "EFER_WRITE_TRAP"),
	N(0xa0, "INVLPGB"),	N(0xa1, "INVLPGB_ILLEGAL"), N(0xa2, "INVPCID"),
	N(0xa3, "MCOMMIT"),	N(0xa4, "TLBSYNC"),
};

/* SDM Vol.3 Appendix C, Table C-1. Gaps are reasons the SDM leaves unused. */
static const char *const vmx_names[] = {
	N(0, "EXCEPTION_NMI"),	N(1, "EXTERNAL_INTERRUPT"), N(2, "TRIPLE_FAULT"),
	N(3, "INIT_SIGNAL"),	N(4, "SIPI_SIGNAL"),	N(5, "IO_SMI"),
	N(6, "OTHER_SMI"),	N(7, "INTERRUPT_WINDOW"), N(8, "NMI_WINDOW"),
	N(9, "TASK_SWITCH"),	N(10, "CPUID"),		N(11, "GETSEC"),
	N(12, "HLT"),		N(13, "INVD"),		N(14, "INVLPG"),
	N(15, "RDPMC"),		N(16, "RDTSC"),		N(17, "RSM"),
	N(18, "VMCALL"),	N(19, "VMCLEAR"),	N(20, "VMLAUNCH"),
	N(21, "VMPTRLD"),	N(22, "VMPTRST"),	N(23, "VMREAD"),
	N(24, "VMRESUME"),	N(25, "VMWRITE"),	N(26, "VMOFF"),
	N(27, "VMON"),		N(28, "CR_ACCESS"),	N(29, "DR_ACCESS"),
	N(30, "IO_INSTRUCTION"), N(31, "MSR_READ"),	N(32, "MSR_WRITE"),
	N(33, "INVALID_STATE"),	N(34, "MSR_LOAD_FAIL"),	N(36, "MWAIT_INSTRUCTION"),
	N(37, "MONITOR_TRAP_FLAG"), N(39, "MONITOR_INSTRUCTION"),
	N(40, "PAUSE_INSTRUCTION"), N(41, "MCE_DURING_VMENTRY"),
	N(43, "TPR_BELOW_THRESHOLD"), N(44, "APIC_ACCESS"), N(45, "EOI_INDUCED"),
	N(46, "GDTR_IDTR"),	N(47, "LDTR_TR"),	N(48, "EPT_VIOLATION"),
	N(49, "EPT_MISCONFIG"),	N(50, "INVEPT"),	N(51, "RDTSCP"),
	N(52, "PREEMPTION_TIMER"), N(53, "INVVPID"),	N(54, "WBINVD"),
	N(55, "XSETBV"),	N(56, "APIC_WRITE"),	N(57, "RDRAND"),
	N(58, "INVPCID"),	N(59, "VMFUNC"),	N(60, "ENCLS"),
	N(61, "RDSEED"),	N(62, "PML_FULL"),	N(63, "XSAVES"),
	N(64, "XRSTORS"),	N(67, "UMWAIT"),	N(68, "TPAUSE"),
	N(74, "BUS_LOCK"),	N(75, "NOTIFY"),
};

/* <linux/kvm.h> KVM_EXIT_*: what KVM_RUN tells the VMM. */
static const char *const kvm_exit_names[] = {
	N(KVM_EXIT_UNKNOWN, "UNKNOWN"),		N(KVM_EXIT_EXCEPTION, "EXCEPTION"),
	N(KVM_EXIT_IO, "IO"),			N(KVM_EXIT_HYPERCALL, "HYPERCALL"),
	N(KVM_EXIT_DEBUG, "DEBUG"),		N(KVM_EXIT_HLT, "HLT"),
	N(KVM_EXIT_MMIO, "MMIO"),		N(KVM_EXIT_IRQ_WINDOW_OPEN, "IRQ_WINDOW_OPEN"),
	N(KVM_EXIT_SHUTDOWN, "SHUTDOWN"),	N(KVM_EXIT_FAIL_ENTRY, "FAIL_ENTRY"),
	N(KVM_EXIT_INTR, "INTR"),		N(KVM_EXIT_SET_TPR, "SET_TPR"),
	N(KVM_EXIT_TPR_ACCESS, "TPR_ACCESS"),	N(KVM_EXIT_NMI, "NMI"),
	N(KVM_EXIT_INTERNAL_ERROR, "INTERNAL_ERROR"), N(KVM_EXIT_SYSTEM_EVENT, "SYSTEM_EVENT"),
	N(KVM_EXIT_X86_RDMSR, "X86_RDMSR"),	N(KVM_EXIT_X86_WRMSR, "X86_WRMSR"),
};

#define LOOKUP(table, code)						\
	((code) < sizeof(table) / sizeof(table[0]) ? table[code] : NULL)

/*
 * The SVM ranges that encode an operand in the code: CR/DR number, exception
 * vector. @buf receives the name when it has to be built.
 */
static const char *svm_exit_name(unsigned int code, char *buf, size_t len)
{
	static const char *const ranges[] = {
		"READ_CR", "WRITE_CR", "READ_DR", "WRITE_DR", "EXCP", "EXCP"
	};

	if (code < 0x60) {		/* 0x00-0x5f: 16 each, EXCP has 32 */
		snprintf(buf, len, "%s%u", ranges[code >> 4],
			 code >= 0x40 ? code - 0x40 : code & 0xf);
		return buf;
	}
	if (code >= 0x90 && code <= 0x9f) {
		snprintf(buf, len, "CR%u_WRITE_TRAP", code - 0x90);
		return buf;
	}
	switch (code) {
	case 0x400: return "NPF";
	case 0x401: return "AVIC_INCOMPLETE_IPI";
	case 0x402: return "AVIC_UNACCELERATED_ACCESS";
	case 0x403: return "VMGEXIT";
	case 0xffffffff: return "INVALID";	/* VMRUN failed its consistency checks */
	}
	return LOOKUP(svm_names, code);
}

const char *exit_name(unsigned int isa, unsigned int code, char *buf, size_t len)
{
	const char *name = NULL;

	if (isa == ISA_SVM)
		name = svm_exit_name(code, buf, len);
	else if (isa == ISA_VMX)
		name = LOOKUP(vmx_names, code);
	if (!name) {
		snprintf(buf, len, "0x%x", code);
		name = buf;
	}
	return name;
}

const char *kvm_exit_name(int reason, char *buf, size_t len)
{
	const char *name = NULL;

	if (reason < 0)
		return "ERROR";		/* KVM_RUN failed: -EINTR, -EFAULT, ... */
	name = LOOKUP(kvm_exit_names, (unsigned int)reason);
	if (!name) {
		snprintf(buf, len, "%d", reason);
		name = buf;
	}
	return name;
}
