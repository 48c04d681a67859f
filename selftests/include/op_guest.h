/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * op_guest.h: a 64-bit guest that executes one instruction at a time for the
 * host, for model_test and pv_test. Include once per test, after
 * kselftest_harness.h.
 *
 * The guest loops on a ucall ("what next?"); the host puts an operation in RBX
 * (enum op), an MSR index or hypercall argument in RCX and a value in EDX:EAX
 * (RAX for a hypercall number), and runs it. The guest executes the instruction
 * and reports in a second ucall:
 *   arg0  the vector of the exception it took (0: none)
 *   arg1  RDMSR: EDX:EAX; CPUID: ECX; a hypercall: RAX
 *   arg2  the error code of that exception
 * #GP and #UD handlers record the vector and skip the instruction (its length
 * is in R13), so a faulting instruction does not stop the loop.
 */
#ifndef SELFTESTS_OP_GUEST_H
#define SELFTESTS_OP_GUEST_H

#include "msr_op.h"
#include "vm.h"
#include "x86.h"

/* OP_RDMSR, OP_WRMSR and OP_STOP come from msr_op.h, and do_op() runs one. */
enum op {
	OP_CPUID = OP_STOP + 1, OP_MONITOR, OP_MWAIT, OP_VMCALL, OP_VMMCALL,
};

GUEST_ASM(op_guest, 64,
	"1:\n\t"
	GUEST_SYNC				/* the host loads RBX, RCX, RAX, RDX */
	"xor %r15d, %r15d\n\t"
	"xor %r14d, %r14d\n\t"
	"mov $3, %r13d\n\t"			/* three-byte instructions by default */
	"cmp $1, %ebx\n\t"
	"jb 10f\n\t"
	"je 11f\n\t"
	"cmp $3, %ebx\n\t"
	"jb 19f\n\t"
	"je 13f\n\t"
	"cmp $5, %ebx\n\t"
	"jb 14f\n\t"
	"je 15f\n\t"
	"cmp $6, %ebx\n\t"
	"je op_guest_vmcall\n\t"
	"jmp op_guest_vmmcall\n"
	"10: mov $2, %r13d\n\t"
	"rdmsr\n\t"
	"jmp 20f\n"
	"11: mov $2, %r13d\n\t"
	"wrmsr\n\t"
	"jmp 20f\n"
	"13: mov $2, %r13d\n\t"
	"cpuid\n\t"
	"mov %ecx, %eax\n\t"
	"xor %edx, %edx\n\t"
	"jmp 20f\n"
	"14: mov %ecx, %eax\n\t"		/* MONITOR [RAX]: the data page */
	"xor %ecx, %ecx\n\t"
	"xor %edx, %edx\n\t"
	"monitor\n\t"
	"jmp 20f\n"
	"15: xor %eax, %eax\n\t"
	"xor %ecx, %ecx\n\t"
	"mwait\n\t"
	"jmp 20f\n"
	"op_guest_vmcall: .byte 0x0f, 0x01, 0xc1\n\t"
	"jmp 21f\n"
	"op_guest_vmmcall: .byte 0x0f, 0x01, 0xd9\n\t"
	"jmp 21f\n"
	/* EDX:EAX -> arg1 */
	"20: shl $32, %rdx\n\t"
	"mov %eax, %eax\n\t"
	"or %rdx, %rax\n"
	"21: mov %rax, %rsi\n\t"
	"mov %r15, %rdi\n\t"
	"mov %r14, %rdx\n\t"
	GUEST_SYNC
	"jmp 1b\n"
	"19:\n\t"
	GUEST_DONE
	"op_guest_gp:\n\t"
	"mov $13, %r15d\n\t"
	"pop %r14\n\t"
	"add %r13, (%rsp)\n\t"
	"iretq\n\t"
	"op_guest_ud:\n\t"
	"mov $6, %r15d\n\t"
	"add %r13, (%rsp)\n\t"
	"iretq\n\t");
extern const uint8_t op_guest_gp[], op_guest_ud[];
extern const uint8_t op_guest_vmcall[], op_guest_vmmcall[];

/* A vCPU in long mode running op_guest, with its #GP and #UD handlers. */
static inline struct vcpu *op_vcpu(void)
{
	struct vcpu *vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(op_guest));

	vm_set_idt_gate(vcpu->vm, MODE_LONG64, GP_VECTOR,
			guest_code_gpa(vcpu->vm, op_guest_gp));
	vm_set_idt_gate(vcpu->vm, MODE_LONG64, UD_VECTOR,
			guest_code_gpa(vcpu->vm, op_guest_ud));
	return vcpu;
}

/* The supported CPUID without the entries of leaf @fn (0: keep all). */
static inline struct kvm_cpuid2 *cpuid_without(uint32_t fn)
{
	struct kvm_cpuid2 *c = kvm_get_supported_cpuid();
	uint32_t i, n = 0;

	for (i = 0; i < c->nent; i++)
		if (!fn || c->entries[i].function != fn)
			c->entries[n++] = c->entries[i];
	c->nent = n;
	return c;
}

/* The entry of leaf @fn (subleaf 0) in @c, or NULL. */
static inline struct kvm_cpuid_entry2 *cpuid_entry(struct kvm_cpuid2 *c, uint32_t fn)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == 0)
			return &c->entries[i];
	return NULL;
}

#endif
