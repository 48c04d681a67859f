// SPDX-License-Identifier: GPL-2.0-only
/*
 * guestdbg_test: KVM_SET_GUEST_DEBUG, the VMM debugging its guest.
 *
 * What a gdbstub in a VMM relies on (api.rst, "KVM_SET_GUEST_DEBUG"): single-stepping
 * (each instruction ends in KVM_EXIT_DEBUG with exception 1, DR6.BS and pc at the next
 * one, also across an instruction the kernel emulates, CPUID), software breakpoints
 * (INT3 exits with exception 3, pc at the INT3), hardware instruction breakpoints and
 * data watchpoints in each of DR0-DR3 (exception 1, DR6.Bn; an instruction breakpoint
 * is a fault, pc at the instruction; a watchpoint a trap, pc after the write), DR7.GD
 * (MOV DR faults with DR6.BD), INJECT_DB, and the TF that stepping adds never shows in
 * KVM_GET_REGS. The VMM's hardware breakpoints take the place of the guest's own
 * (hw_breakpoint_precedence: the guest's instruction breakpoint, set with
 * KVM_SET_DEBUGREGS, stays silent while the VMM's watchpoint exits, and fires in the
 * guest once the VMM stops; the guest's own breakpoints are events_test's).
 *
 * The SVM rig's emulated CPU (QEMU 7.2 TCG) cannot host three of these: it checks an
 * INT3 in guest mode against the INTn intercept, not the #BP exception intercept, and
 * it does not arm the breakpoints of the DR7 that VMRUN loads from the VMCB. The real
 * kvm_amd fails them there exactly as minikvm does (measured: sw_breakpoint ends in a
 * triple fault, the hardware breakpoints never fire), so under QEMU TCG with an SVM
 * host they skip, hw_breakpoint_precedence too; everywhere else they run. DR7.GD under
 * TCG: minikvm checks it in software (every MOV DR exits while the VMM debugs), kvm_amd
 * leaves the check to the CPU and the MOV runs, so only kvm_amd skips it there.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

#define DR6_FIXED	0xffff0ff0ULL
#define DR6_BD		(1ULL << 13)
#define DR6_BS		(1ULL << 14)
#define DR7_FIXED	0x400ULL
#define DR7_GD		(1ULL << 13)
#define RFLAGS_TF	(1ULL << 8)

/*
 * A SYNC first: each test starts on a vCPU that has entered the guest once (Bochs
 * with kvm_intel raised a single-step trap before the first instruction of a vCPU
 * that had never run). Then five instructions to step through (CPUID exits and is emulated by the kernel), an
 * INT3, an instruction for a breakpoint, a 4-byte write for a watchpoint, a MOV from
 * DR0 for DR7.GD. The #DB handler reports itself with a SYNC (argument 0xdb).
 */
GUEST_ASM(gd_guest, 64,
	GUEST_SYNC
	"gd_start:\n\t"
	"nop\n"
	"gd_step1:\n\t"
	"mov $7, %ebx\n"
	"gd_step2:\n\t"
	"xor %eax, %eax\n"
	"gd_step3:\n\t"
	"cpuid\n"
	"gd_step4:\n\t"
	"add $1, %ecx\n"
	"gd_step5:\n\t"
	"gd_int3:\n\t"
	"int3\n"
	"gd_exec:\n\t"
	"nop\n\t"
	"gd_write:\n\t"
	"movl $1234, 0xf000\n"
	"gd_after_write:\n\t"
	"gd_movdr:\n\t"
	"mov %dr0, %rax\n\t"
	GUEST_DONE
	"gd_db_handler:\n\t"
	"mov $0xdb, %edi\n\t"
	GUEST_SYNC
	"iretq\n\t");
extern const uint8_t gd_start[], gd_step1[], gd_step2[], gd_step3[], gd_step4[], gd_step5[],
	gd_int3[], gd_exec[], gd_write[], gd_after_write[], gd_movdr[], gd_db_handler[];

#define SKIP_UNDER_TCG() do {							\
	if (host_svm_under_tcg())						\
		SKIP(return, "QEMU TCG's SVM cannot (see the top of the file)");	\
} while (0)

static int __set_guest_debug(struct vcpu *vcpu, uint32_t control, const uint64_t *dr)
{
	struct kvm_guest_debug dbg = { .control = control };

	if (dr)
		memcpy(dbg.arch.debugreg, dr, sizeof(dbg.arch.debugreg));
	return ioctl(vcpu->fd, KVM_SET_GUEST_DEBUG, &dbg);
}

static void set_guest_debug(struct vcpu *vcpu, uint32_t control, const uint64_t *dr)
{
	if (__set_guest_debug(vcpu, control, dr))
		test_fail("KVM_SET_GUEST_DEBUG 0x%x: %s", control, strerror(errno));
}

static void set_rip(struct vcpu *vcpu, uint64_t rip)
{
	struct kvm_regs regs;

	vcpu_get_regs(vcpu, &regs);
	regs.rip = rip;
	vcpu_set_regs(vcpu, &regs);
}

/* Run until the next exit, which must be KVM_EXIT_DEBUG with these values. */
static void expect_debug(struct vcpu *vcpu, uint32_t exception, uint64_t pc, uint64_t dr6)
{
	struct kvm_debug_exit_arch *d = &vcpu->run->debug.arch;

	vcpu_expect_exit(vcpu, KVM_EXIT_DEBUG);
	if (d->exception != exception || d->pc != pc ||
	    (exception == 1 && d->dr6 != dr6))
		test_fail("KVM_EXIT_DEBUG: exception %u pc 0x%llx dr6 0x%llx, want %u 0x%llx 0x%llx",
			  d->exception, (unsigned long long)d->pc, (unsigned long long)d->dr6,
			  exception, (unsigned long long)pc, (unsigned long long)dr6);
}

static struct vcpu *create(void)
{
	struct vcpu *vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(gd_guest));

	struct ucall uc;

	vm_set_idt_gate(vcpu->vm, MODE_LONG64, 1, guest_code_gpa(vcpu->vm, gd_db_handler));
	if (vcpu_run_ucall(vcpu, &uc) != UCALL_SYNC)
		test_fail("the guest did not start");
	return vcpu;
}

/* Debugging off again, the guest runs to its end. */
static void finish(struct vcpu *vcpu)
{
	struct ucall uc;
	char buf[128];

	set_guest_debug(vcpu, 0, NULL);
	set_rip(vcpu, guest_code_gpa(vcpu->vm, gd_movdr) + 3);	/* past MOV DR (0F 21 C0) */
	if (vcpu_run_ucall(vcpu, &uc) != UCALL_DONE)
		test_fail("the guest did not finish: %s",
			  vcpu_describe_exit(vcpu, buf, sizeof(buf)));
	vm_free(vcpu->vm);
}

TEST(capabilities)
{
	TEST_REQUIRE_CAP(KVM_CAP_SET_GUEST_DEBUG);
	EXPECT_EQ(1, kvm_check_cap(KVM_CAP_SET_GUEST_DEBUG));
	/* Both modules take every x86 flag; 6.1's kvm.ko reports the same set. */
	if (kvm_check_cap(KVM_CAP_SET_GUEST_DEBUG2) > 0)
		EXPECT_EQ(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP | KVM_GUESTDBG_USE_SW_BP |
			  KVM_GUESTDBG_USE_HW_BP | KVM_GUESTDBG_INJECT_DB |
			  KVM_GUESTDBG_INJECT_BP | KVM_GUESTDBG_BLOCKIRQ,
			  kvm_check_cap(KVM_CAP_SET_GUEST_DEBUG2));
}

/*
 * Each step one exit, CPUID (emulated) included; RFLAGS.TF stays out of sight. The
 * first exit is the OUT of the SYNC: the kernel completes it at the next KVM_RUN, by
 * then with TF set, and reports its step as KVM does (pc right after it).
 */
TEST(single_step)
{
	const uint8_t *steps[] = { gd_start, gd_step1, gd_step2, gd_step3, gd_step4,
				   gd_step5 };
	struct kvm_regs regs;
	struct vcpu *vcpu;
	unsigned int i;

	TEST_REQUIRE_CAP(KVM_CAP_SET_GUEST_DEBUG);
	/*
	 * kvm_intel 6.1 in the VMX rig (Bochs) traps twice after the emulated
	 * CPUID: "exception 1 pc 0x10011 ... want 1 0x10014" (rig.sh --vendor vmx
	 * --ref --test guestdbg, 2026-12-02). The CPUID exit leaves a single-step
	 * trap pending (BS) in the VMCS and KVM enters with it; minikvm drops it
	 * (kmod/vmx/vmx.c:vmx_load_guest) and passes. Whether real Intel hardware
	 * leaves BS pending there too is not known here, so kvm_intel is not
	 * judged on this case.
	 */
	if (!kvm_is_minikvm() && host_virt() == HOST_VIRT_VMX)
		SKIP(return, "kvm_intel: a second trap after an emulated CPUID (see above)");
	vcpu = create();
	set_guest_debug(vcpu, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP, NULL);
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		expect_debug(vcpu, 1, guest_code_gpa(vcpu->vm, steps[i]), DR6_FIXED | DR6_BS);
		vcpu_get_regs(vcpu, &regs);
		EXPECT_EQ(0, regs.rflags & RFLAGS_TF);
		EXPECT_EQ(guest_code_gpa(vcpu->vm, steps[i]), regs.rip);
	}
	/* The instructions did run: EBX = 7 then CPUID's, ECX = CPUID's + 1 ... */
	vcpu_get_regs(vcpu, &regs);
	EXPECT_NE(7, regs.rbx);
	/* ... and the #DB never reached the guest's handler (no SYNC). */
	set_guest_debug(vcpu, 0, NULL);
	vcpu_get_regs(vcpu, &regs);
	EXPECT_EQ(0, regs.rflags & RFLAGS_TF);
	/* The INT3 is next: without USE_SW_BP it would go to the guest (no handler). */
	finish(vcpu);
}

/* INT3 exits before delivery: pc is the INT3 itself. */
TEST(sw_breakpoint)
{
	struct kvm_regs regs;
	struct vcpu *vcpu;

	TEST_REQUIRE_CAP(KVM_CAP_SET_GUEST_DEBUG);
	SKIP_UNDER_TCG();
	vcpu = create();
	set_guest_debug(vcpu, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP, NULL);
	expect_debug(vcpu, 3, guest_code_gpa(vcpu->vm, gd_int3), 0);
	vcpu_get_regs(vcpu, &regs);
	EXPECT_EQ(guest_code_gpa(vcpu->vm, gd_int3), regs.rip);
	finish(vcpu);
}

/* An instruction breakpoint in each of DR0-DR3: a fault, pc at the instruction. */
TEST(hw_exec_breakpoint)
{
	struct vcpu *vcpu;
	int i;

	TEST_REQUIRE_CAP(KVM_CAP_SET_GUEST_DEBUG);
	SKIP_UNDER_TCG();
	vcpu = create();
	set_rip(vcpu, guest_code_gpa(vcpu->vm, gd_exec));
	for (i = 0; i < 4; i++) {
		uint64_t dr[8] = { 0 };

		dr[i] = guest_code_gpa(vcpu->vm, gd_exec);
		dr[7] = DR7_FIXED | (1ULL << (2 * i + 1));	/* Gn, execute, 1 byte */
		set_guest_debug(vcpu, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, dr);
		expect_debug(vcpu, 1, guest_code_gpa(vcpu->vm, gd_exec), DR6_FIXED | (1ULL << i));
	}
	finish(vcpu);
}

/* A 4-byte write watchpoint in each of DR0-DR3: a trap, pc after the write. */
TEST(hw_data_watchpoint)
{
	struct vcpu *vcpu;
	uint32_t *var;
	int i;

	TEST_REQUIRE_CAP(KVM_CAP_SET_GUEST_DEBUG);
	SKIP_UNDER_TCG();
	vcpu = create();
	var = gpa_to_hva(vcpu->vm, GUEST_DATA_GPA);
	for (i = 0; i < 4; i++) {
		uint64_t dr[8] = { 0 };

		*var = 0;
		set_rip(vcpu, guest_code_gpa(vcpu->vm, gd_write));
		dr[i] = GUEST_DATA_GPA;
		/* Gn, R/Wn = 01 (writes), LENn = 11 (4 bytes) */
		dr[7] = DR7_FIXED | (1ULL << (2 * i + 1)) | (0xdULL << (16 + 4 * i));
		set_guest_debug(vcpu, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, dr);
		expect_debug(vcpu, 1, guest_code_gpa(vcpu->vm, gd_after_write),
			     DR6_FIXED | (1ULL << i));
		EXPECT_EQ(1234, *var);
	}
	finish(vcpu);
}

/* DR7.GD of the VMM's DR7: MOV DR raises #DB with DR6.BD, before it runs. */
TEST(hw_general_detect)
{
	uint64_t dr[8] = { [7] = DR7_FIXED | DR7_GD };
	struct vcpu *vcpu;

	TEST_REQUIRE_CAP(KVM_CAP_SET_GUEST_DEBUG);
	if (!kvm_is_minikvm())
		SKIP_UNDER_TCG();
	vcpu = create();
	set_rip(vcpu, guest_code_gpa(vcpu->vm, gd_movdr));
	set_guest_debug(vcpu, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, dr);
	expect_debug(vcpu, 1, guest_code_gpa(vcpu->vm, gd_movdr), DR6_FIXED | DR6_BD);
	finish(vcpu);
}

/*
 * The VMM's hardware breakpoints replace the guest's own while it uses them (as in
 * KVM): the guest's instruction breakpoint on gd_exec does not fire, the VMM's
 * watchpoint on the write after it does, and KVM_GET_DEBUGREGS still shows the
 * guest's own DR0 and DR7. Once the VMM stops, the guest's breakpoint goes to the
 * guest's #DB handler.
 */
TEST(hw_breakpoint_precedence)
{
	uint64_t dr[8] = { 0 };
	struct kvm_debugregs own, back;
	struct vcpu *vcpu;
	struct ucall uc;

	TEST_REQUIRE_CAP(KVM_CAP_SET_GUEST_DEBUG);
	TEST_REQUIRE_CAP(KVM_CAP_DEBUGREGS);
	SKIP_UNDER_TCG();
	vcpu = create();
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_GET_DEBUGREGS, &own));
	own.db[0] = guest_code_gpa(vcpu->vm, gd_exec);
	own.dr7 = DR7_FIXED | 1;			/* L0, execute */
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_SET_DEBUGREGS, &own));

	set_rip(vcpu, guest_code_gpa(vcpu->vm, gd_exec));
	dr[1] = GUEST_DATA_GPA;
	dr[7] = DR7_FIXED | (1ULL << 3) | (0xdULL << 20);	/* G1, writes, 4 bytes */
	set_guest_debug(vcpu, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, dr);
	expect_debug(vcpu, 1, guest_code_gpa(vcpu->vm, gd_after_write), DR6_FIXED | 2);
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_GET_DEBUGREGS, &back));
	EXPECT_EQ(own.db[0], back.db[0]);
	EXPECT_EQ(own.dr7, back.dr7);

	set_guest_debug(vcpu, 0, NULL);
	set_rip(vcpu, guest_code_gpa(vcpu->vm, gd_exec));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0xdb, uc.args[0]);
	/* The handler returns without RF: the breakpoint goes off first. */
	own.dr7 = DR7_FIXED;
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_SET_DEBUGREGS, &own));
	finish(vcpu);
}

/* INJECT_DB: the guest's own #DB handler runs (and returns). */
TEST(inject_db)
{
	struct vcpu *vcpu;
	struct ucall uc;

	TEST_REQUIRE_CAP(KVM_CAP_SET_GUEST_DEBUG);
	vcpu = create();
	set_rip(vcpu, guest_code_gpa(vcpu->vm, gd_movdr) + 3);
	set_guest_debug(vcpu, KVM_GUESTDBG_INJECT_DB, NULL);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0xdb, uc.args[0]);
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));
	vm_free(vcpu->vm);
}

/*
 * Flags outside the x86 set. minikvm refuses them (EINVAL); the kvm.ko of 6.1 takes
 * and ignores them, so there only the call itself is checked.
 */
TEST(invalid_flags)
{
	struct vcpu *vcpu;
	int r;

	TEST_REQUIRE_CAP(KVM_CAP_SET_GUEST_DEBUG);
	vcpu = create();
	r = __set_guest_debug(vcpu, KVM_GUESTDBG_ENABLE | (1u << 30), NULL);
	if (kvm_is_minikvm()) {
		EXPECT_EQ(-1, r);
		EXPECT_EQ(EINVAL, errno);
	}
	finish(vcpu);
}

TEST_HARNESS_MAIN
