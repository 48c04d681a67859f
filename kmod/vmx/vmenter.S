/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VMX world switch: from the host into the guest and back.
 *
 * int vmx_vmenter(unsigned long *regs, unsigned int launched);
 *
 * @regs is mkvm_vcpu->regs[], the guest's general-purpose registers in
 * x86 encoding order (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15).
 * RSP is not loaded from it: the processor loads guest RSP from the VMCS
 * (vmx.c copies regs[RSP] there first) and saves it back on exit.
 *
 * On VM entry the processor loads the guest's control registers, segment
 * registers, RIP, RSP and RFLAGS from the VMCS guest-state area (SDM
 * 27.3.2), but not the other fifteen GPRs: those stay whatever software
 * left in them. So we load them by hand right before VMLAUNCH/VMRESUME.
 * On VM exit the processor loads host RIP, RSP and control state from
 * the VMCS host-state area (SDM 28.5) and leaves the guest's GPRs in the
 * registers; so the exit lands on vmx_vmexit (HOST_RIP) with our stack
 * (HOST_RSP, written below) and we store them by hand.
 *
 * Returns (vmx.h):
 *   VMX_ENTER_EXIT (0)         the guest ran and a VM exit happened, or
 *                              the entry failed after loading guest
 *                              state (exit reason bit 31), which the
 *                              processor reports as a VM exit too
 *   VMX_ENTER_FAIL_INVALID (1) VMfailInvalid: RFLAGS.CF=1, there is no
 *                              current VMCS (or VMX was off: a fault)
 *   VMX_ENTER_FAIL_VALID (2)   VMfailValid: RFLAGS.ZF=1, the reason is
 *                              in the VM-instruction error field
 *                              (SDM 31.2, 31.4)
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

#include "vmx/vmcs.h"
#include "vmx/vmx.h"

/* Offset of guest register n in @regs (enum mkvm_reg; vmx.c checks). */
#define GPR(n)	((n) * 8)
#define RAX	GPR(0)
#define RCX	GPR(1)
#define RDX	GPR(2)
#define RBX	GPR(3)
/* GPR(4) is RSP: switched through the VMCS */
#define RBP	GPR(5)
#define RSI	GPR(6)
#define RDI	GPR(7)
#define R8	GPR(8)
#define R9	GPR(9)
#define R10	GPR(10)
#define R11	GPR(11)
#define R12	GPR(12)
#define R13	GPR(13)
#define R14	GPR(14)
#define R15	GPR(15)

	.text

SYM_FUNC_START(vmx_vmenter)
	/* A frame, so stack traces through a VM exit make sense. */
	push	%rbp
	mov	%rsp, %rbp
	/* The callee-saved registers of the C ABI: the guest will trash them. */
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	/* Keep @regs on the stack: every register is the guest's after exit. */
	push	%rdi

	/*
	 * HOST_RSP = the stack pointer right now, so a VM exit comes back
	 * with exactly this stack (SDM 28.5.3). Written on every entry: it
	 * depends on how deep the caller's stack is.
	 * AT&T order: vmwrite <value>, <field encoding register>.
	 */
	mov	$VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	/* CF or ZF set: there is no usable current VMCS; don't enter. */
	jbe	.Lvmfail

	/*
	 * @launched decides VMLAUNCH or VMRESUME; keep the answer in CF
	 * (bit 0 of @launched), which neither MOV nor VERW below changes.
	 */
	bt	$0, %esi

	/* Load the guest's GPRs from @regs; MOV leaves RFLAGS (CF) alone. */
	mov	%rdi, %rax		/* RAX = @regs, loaded last */
	mov	RCX(%rax), %rcx
	mov	RDX(%rax), %rdx
	mov	RBX(%rax), %rbx
	mov	RBP(%rax), %rbp
	mov	RSI(%rax), %rsi
	mov	RDI(%rax), %rdi
	mov	R8(%rax), %r8
	mov	R9(%rax), %r9
	mov	R10(%rax), %r10
	mov	R11(%rax), %r11
	mov	R12(%rax), %r12
	mov	R13(%rax), %r13
	mov	R14(%rax), %r14
	mov	R15(%rax), %r15
	mov	RAX(%rax), %rax		/* guest RAX: @regs is gone now */

	/*
	 * Flush CPU-internal buffers (VERW) so that the guest cannot sample
	 * host data left in them, if the kernel decided this CPU needs it
	 * (MDS-class mitigations; patched in at module load). VERW changes
	 * ZF only, hence CF above.
	 */
	VM_CLEAR_CPU_BUFFERS

	/* CF=0: @launched was 0, the VMCS is clear: VMLAUNCH. */
	jnc	.Lvmlaunch

	/*
	 * Success means no return here: execution continues at vmx_vmexit
	 * when the guest exits. Tell objtool to remember the stack state
	 * now and restore it there.
	 */
	UNWIND_HINT_SAVE
.Lvmresume:
	vmresume
	/* Still here: VMfail, flags say which. */
	jmp	.Lvmfail

.Lvmlaunch:
	vmlaunch
	jmp	.Lvmfail

	/* VMLAUNCH/VMRESUME fault (#UD) if VMX is off: treat as a VMfail. */
	_ASM_EXTABLE(.Lvmresume, .Lvmfault)
	_ASM_EXTABLE(.Lvmlaunch, .Lvmfault)

SYM_INNER_LABEL(vmx_vmexit, SYM_L_GLOBAL)
	/*
	 * A VM exit lands here with RSP = HOST_RSP (the stack as it was
	 * before VMLAUNCH), RFLAGS = 2, and the guest's GPRs in registers.
	 */
	UNWIND_HINT_RESTORE
	/* vmx.c takes this label's address for HOST_RIP: IBT wants ENDBR. */
	ENDBR

	push	%rax			/* free RAX: park guest RAX on the stack */
	mov	8(%rsp), %rax		/* RAX = @regs, pushed at entry */
	pop	RAX(%rax)		/* guest RAX into regs[RAX] */
	mov	%rcx, RCX(%rax)
	mov	%rdx, RDX(%rax)
	mov	%rbx, RBX(%rax)
	mov	%rbp, RBP(%rax)
	mov	%rsi, RSI(%rax)
	mov	%rdi, RDI(%rax)
	mov	%r8, R8(%rax)
	mov	%r9, R9(%rax)
	mov	%r10, R10(%rax)
	mov	%r11, R11(%rax)
	mov	%r12, R12(%rax)
	mov	%r13, R13(%rax)
	mov	%r14, R14(%rax)
	mov	%r15, R15(%rax)

	xor	%ebx, %ebx		/* return VMX_ENTER_EXIT */

.Lout:
	add	$8, %rsp		/* drop @regs */

	/*
	 * Leave no guest value in a register the host might use
	 * speculatively before overwriting it; RBX holds the return value.
	 */
	xor	%eax, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%ebp, %ebp
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d

	/*
	 * The guest may have filled the return stack buffer with its own
	 * return addresses; overwrite it before the first unbalanced RET
	 * if this CPU needs that (the kernel decides, by alternatives).
	 */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	/*
	 * Likewise the branch history the guest left (BHI): a loop of
	 * branches overwrites it, on CPUs the kernel marked as needing it
	 * at VM exits. It may use RAX and RCX, which hold nothing now.
	 */
	CLEAR_BRANCH_HISTORY_VMEXIT

	mov	%ebx, %eax		/* the return value */
	pop	%rbx			/* the host's callee-saved registers */
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET

.Lvmfault:
	/* A fault leaves flags undefined: report it as VMfailInvalid. */
	mov	$VMX_ENTER_FAIL_INVALID, %ebx
	jmp	.Lout

.Lvmfail:
	/* VMfailValid sets ZF, VMfailInvalid sets CF (SDM 31.2). */
	mov	$VMX_ENTER_FAIL_VALID, %ebx	/* MOV keeps the flags */
	jz	.Lout
	mov	$VMX_ENTER_FAIL_INVALID, %ebx
	jmp	.Lout
SYM_FUNC_END(vmx_vmenter)
