/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The SVM world switch: run the guest once, come back at its #VMEXIT.
 *
 * What the hardware does for us (AMD APM Vol.2 15.5.1 "VMRUN", 15.6
 * "#VMEXIT"):
 *   VMRUN   saves a slice of host state (CS, RIP, RSP, RAX, RFLAGS, EFER,
 *           CR0/3/4, GDTR, IDTR, ES/SS/DS) into the page named by
 *           MSR_VM_HSAVE_PA, then loads the guest's copy of that slice
 *           plus RAX and RSP from the VMCB whose physical address is RAX.
 *   #VMEXIT writes the guest slice back into the VMCB and reloads the
 *           host slice from the HSAVE page. Execution continues after the
 *           VMRUN with host RSP and RAX (= the VMCB address) restored.
 *
 * What it does not do, and we must:
 *   - the other guest general-purpose registers: RBX..R15 are simply left
 *     in the CPU. We load them from vcpu->regs[] before VMRUN and store
 *     them back after, which is most of this file.
 *   - FS, GS, TR, LDTR (with their hidden parts), KERNEL_GS_BASE, STAR,
 *     LSTAR, CSTAR, SFMASK and SYSENTER_CS/ESP/EIP. VMSAVE/VMLOAD copy
 *     exactly that set between the CPU and a VMCB-format page (APM Vol.2
 *     15.5.2). We VMSAVE the host's set into a per-CPU page, VMLOAD the
 *     guest's from its VMCB, and do the mirror image after #VMEXIT.
 *
 * Until the host VMLOAD at the end, GS.base is the guest's: no per-CPU
 * data may be touched, which is why every address we need after the
 * switch is kept on the stack.
 *
 * The caller (svm.c) has executed CLGI: with the global interrupt flag
 * clear, no interrupt, NMI or SMI is taken anywhere in this file, even
 * though RFLAGS.IF is 1 (APM Vol.2 15.17).
 *
 * void __svm_vcpu_run(unsigned long *regs, u64 vmcb_pa, u64 host_save_pa)
 *                     %rdi                 %rsi         %rdx
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

/*
 * Byte offsets in vcpu->regs[], in the x86 register-number order of
 * enum mkvm_reg (minikvm.h; svm.c checks the two agree). RAX and RSP are
 * not here: the VMCB holds them and VMRUN/#VMEXIT move them.
 */
#define REG_RCX		(1 * 8)
#define REG_RDX		(2 * 8)
#define REG_RBX		(3 * 8)
#define REG_RBP		(5 * 8)
#define REG_RSI		(6 * 8)
#define REG_RDI		(7 * 8)
#define REG_R8		(8 * 8)
#define REG_R9		(9 * 8)
#define REG_R10		(10 * 8)
#define REG_R11		(11 * 8)
#define REG_R12		(12 * 8)
#define REG_R13		(13 * 8)
#define REG_R14		(14 * 8)
#define REG_R15		(15 * 8)

/* Our three arguments, saved on the stack below the callee-saved GPRs. */
#define STK_HOST_SAVE	0	/* (%rsp): host VMSAVE page */
#define STK_VMCB	8	/* 8(%rsp): guest VMCB */
#define STK_REGS	16	/* 16(%rsp): vcpu->regs */

	.text

SYM_FUNC_START(__svm_vcpu_run)
	/*
	 * The C calling convention lets us clobber RAX, RCX, RDX, RSI, RDI
	 * and R8-R11 but the caller expects RBX, RBP and R12-R15 back
	 * unchanged. The guest will overwrite all of them, so save the
	 * callee-saved ones on the host stack, which VMRUN leaves alone
	 * (RSP is part of the host state it restores).
	 */
	push	%rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx

	/* Keep the three arguments; the guest GPRs are about to fill RDI..RDX. */
	push	%rdi			/* STK_REGS */
	push	%rsi			/* STK_VMCB */
	push	%rdx			/* STK_HOST_SAVE */

	/*
	 * VMSAVE/VMLOAD/VMRUN take the physical address of their page in
	 * RAX, implicitly (APM Vol.3, "VMRUN", "VMLOAD", "VMSAVE").
	 *
	 * 1. Save the host's FS/GS/TR/LDTR/syscall MSRs into the per-CPU
	 *    host save area...
	 */
	mov	%rdx, %rax
	vmsave	%rax

	/* 2. ...and load the guest's from its VMCB. */
	mov	%rsi, %rax
	vmload	%rax

	/*
	 * 3. Load the guest's general-purpose registers. RDI holds the
	 *    pointer to vcpu->regs, so it is loaded last.
	 */
	mov	REG_RCX(%rdi), %rcx
	mov	REG_RDX(%rdi), %rdx
	mov	REG_RBX(%rdi), %rbx
	mov	REG_RBP(%rdi), %rbp
	mov	REG_RSI(%rdi), %rsi
	mov	REG_R8(%rdi), %r8
	mov	REG_R9(%rdi), %r9
	mov	REG_R10(%rdi), %r10
	mov	REG_R11(%rdi), %r11
	mov	REG_R12(%rdi), %r12
	mov	REG_R13(%rdi), %r13
	mov	REG_R14(%rdi), %r14
	mov	REG_R15(%rdi), %r15
	mov	REG_RDI(%rdi), %rdi

	/*
	 * Flush CPU-internal buffers (VERW) so that the guest cannot sample
	 * host data left in them, if the kernel decided this CPU needs it
	 * (MDS-class mitigations; patched in at module load).
	 */
	VM_CLEAR_CPU_BUFFERS

	/*
	 * 4. Enter the guest. RAX = VMCB physical address. The guest runs
	 *    until an intercepted event; then #VMEXIT resumes here with host
	 *    RSP and RAX, and every other GPR still holding the guest's value.
	 */
	vmrun	%rax

	/*
	 * 5. Store the guest's GPRs. RAX is the only free register: use it
	 *    to fetch the vcpu->regs pointer from the stack.
	 */
	mov	STK_REGS(%rsp), %rax
	mov	%rcx, REG_RCX(%rax)
	mov	%rdx, REG_RDX(%rax)
	mov	%rbx, REG_RBX(%rax)
	mov	%rbp, REG_RBP(%rax)
	mov	%rsi, REG_RSI(%rax)
	mov	%rdi, REG_RDI(%rax)
	mov	%r8, REG_R8(%rax)
	mov	%r9, REG_R9(%rax)
	mov	%r10, REG_R10(%rax)
	mov	%r11, REG_R11(%rax)
	mov	%r12, REG_R12(%rax)
	mov	%r13, REG_R13(%rax)
	mov	%r14, REG_R14(%rax)
	mov	%r15, REG_R15(%rax)

	/* 6. Save the guest's FS/GS/TR/LDTR/syscall MSRs into its VMCB... */
	mov	STK_VMCB(%rsp), %rax
	vmsave	%rax

	/* 7. ...and bring the host's back: GS.base is the kernel's again. */
	mov	STK_HOST_SAVE(%rsp), %rax
	vmload	%rax

	/*
	 * Speculation hygiene on the way out, as the kernel's own entry code
	 * does: refill the return stack buffer so no guest-planted entry is
	 * consumed by a host RET, and run the return-untraining sequence and
	 * IBPB the kernel selected for this CPU. All are patched in (or left
	 * as no-ops) at module load according to the host's mitigations.
	 */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT
	UNTRAIN_RET
	ALTERNATIVE "", "call entry_ibpb", X86_FEATURE_IBPB_ON_VMEXIT

	/*
	 * 8. Do not leave guest values in registers the compiler considers
	 *    dead: it could speculatively use them. Zeroing is cheap.
	 */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	/* 9. Drop our three saved arguments and restore the host's registers. */
	add	$24, %rsp
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(__svm_vcpu_run)
