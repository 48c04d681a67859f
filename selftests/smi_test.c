// SPDX-License-Identifier: GPL-2.0-only
/*
 * smi_test: System Management Mode (KVM_CAP_X86_SMM): SMIs, the SMM view of
 * memory (address space 1), the state-save area, RSM, and the smi block of
 * KVM_GET/SET_VCPU_EVENTS.
 *
 * Memory: RAM at 0 in both address spaces; at SMRAM_GPA (64 KiB) address space 0
 * has a "decoy" page and address space 1 the SMRAM, each with its own marker. SMBASE
 * is SMRAM_GPA, so the SMI handler runs at SMRAM_GPA + 0x8000 and the state-save
 * area is at SMRAM_GPA + 0xFE00 (SDM Vol.3 32.4, 32.5; APM Vol.2 10.2, 10.3).
 * The handler (real-address mode with 4 GiB segments) reads the marker at
 * SMRAM_GPA, counts its SMIs in SMRAM, reports SYNC and executes RSM. The cases:
 *
 *   caps          KVM_CAP_X86_SMM 1, KVM_CAP_MULTI_ADDRESS_SPACE 2; a slot id in
 *                 address space 2 is EINVAL
 *   kvm_smi       KVM_SMI at a SYNC: the handler runs (SMM marker, kvm_run->flags
 *                 KVM_RUN_X86_SMM, SMM entry registers: CS = SMBASE >> 4, base
 *                 SMBASE, RIP 0x8000, CR0.PE/PG 0, CR4 0, EFER 0), the save area
 *                 holds the guest's long-mode state (revision 0x20064, SMBASE, RIP
 *                 after the OUT, RDI, CR3, EFER, CR4, CS.L); after RSM the guest
 *                 goes on in long mode and sees the decoy again
 *   self_ipi      an SMI the guest sends itself through its LAPIC's ICR (delivery
 *                 mode SMI, shorthand self); a second SMI counts 2
 *   events        KVM_SET_VCPU_EVENTS smi.pending enters SMM at the next KVM_RUN;
 *                 in SMM, GET shows smm 1 and NMIs masked; after RSM smm 0, NMIs
 *                 not masked; KVM_GET/SET_MSRS of MSR_IA32_SMBASE
 *   migrate_smm   the vCPU is saved inside the handler and restored into a new VM
 *                 (REGS, SREGS, MSRS with SMBASE, VCPU_EVENTS with smm 1); the
 *                 handler there finishes with RSM and the guest goes on
 *   smi_halted    an SMI wakes a vCPU halted in KVM_MP_STATE_HALTED
 *   rsm_outside   RSM outside SMM is #UD
 *   close_in_smm  the VM is closed while its vCPU is in SMM
 *   rsm_keeps_tpr in-kernel LAPIC: a TPR of 0x35 is still 0x35 after an SMI and
 *                 RSM (CR8 holds only TPR[7:4]: RSM must not write TPR through it;
 *                 kvm_amd loses bits 3:0 at any exit, see the case)
 *   rsm_tf        the host sets TF in the saved RFLAGS: after RSM the guest takes
 *                 one single-step #DB, after its first instruction, none at RSM
 *   rsm_prefixed  the handler's RSM with a CS prefix (2E 0F AA) still returns
 *                 (VMX: RSM reaches the kernel as #UD and is decoded there)
 *   smi_32bit     a 32-bit protected-mode guest whose CPUID lacks long mode: the
 *                 save area has the 32-bit layout (revision 0x20000, SDM Vol.3
 *                 Table 32-1: EIP, EDI, CR0, CR3, CR4, CS), and RSM returns to it
 *   kvmclock_in_smm  the VMM sets MSR_KVM_SYSTEM_TIME_NEW while the vCPU is in SMM,
 *                 at an address where SMRAM hides other memory: the pvclock
 *                 structure goes to normal memory (address space 0), not SMRAM
 *
 * Every case passes on kvm.ko too (the rigs run it on both), rsm_keeps_tpr on
 * kvm_amd with the one difference it names.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "irqchip.h"
#include "vm.h"
#include "x86.h"

#define SMRAM_GPA	0x3f0000ULL	/* SMBASE; CS = 0xf000 in SMM */
#define SMRAM_SIZE	0x10000ULL
#define SMRAM_SLOT	((1u << 16) | 1)	/* address space 1, slot 1 */
#define SMM_RAM_SLOT	((1u << 16) | 0)	/* address space 1, slot 0 */
#define DECOY_SLOT	1
#define SMM_MARKER	0x5353u		/* "SS" at SMRAM_GPA in SMRAM */
#define DECOY_MARKER	0x4444u		/* "DD" there in address space 0 */
#define SMI_COUNT_OFF	0x10		/* SMRAM: SMIs the handler took */
#define SAVE_OFF	0xfe00		/* the state-save area, from SMBASE */
#define UD_GPA		(GUEST_DATA_GPA + 0x00)	/* #UDs the guest took */
#define DB_COUNT_GPA	(GUEST_DATA_GPA + 0x08)	/* #DBs the guest took */
#define DB_RIP_GPA	(GUEST_DATA_GPA + 0x10)	/* the first #DB's return RIP */
#define TPR_VALUE	0x35	/* class 3, sub-class 5 */
#define RFLAGS_TF	(1u << 8)
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01
#define PVCLOCK_OFF	0x100	/* in the page at SMRAM_GPA */

#define APIC_ICR_SMI_SELF	0x44200	/* self shorthand, assert, delivery SMI */

/* The SMI handler, at SMBASE + 0x8000: 16-bit code, DS base 0, 4 GiB limits. */
GUEST_ASM(smi_handler, 16,
	"addr32 movzwl " GSTR(SMRAM_GPA) ", %edi\n\t"
	"addr32 incl " GSTR(SMRAM_GPA + SMI_COUNT_OFF) "\n\t"
	"addr32 movl " GSTR(SMRAM_GPA + SMI_COUNT_OFF) ", %esi\n\t"
	GUEST_SYNC
	"rsm\n\t");

/*
 * An IRET to the next instruction. A new vCPU has no NMI blocking (SDM Vol.3 9.1.1),
 * and this changes nothing on a real CPU; but Bochs 2.7, the VMX rig, keeps the
 * virtual-NMI blocking an SMI set, past the RSM that ended it, into later VM entries,
 * even of the next VM's vCPU, until a guest IRET (seen on kvm_intel and minikvm
 * alike: "ev.smi.smm_inside_nmi (1)" in a new VM). Each guest starts with one.
 */
#define IRET_TO_SELF							\
	"mov %rsp, %rax\n\t"						\
	"pushq $" GSTR(SEL_DATA) "\n\t"					\
	"push %rax\n\t"							\
	"pushfq\n\t"							\
	"pushq $" GSTR(SEL_CODE64) "\n\t"					\
	"lea 1f(%rip), %rax\n\t"						\
	"push %rax\n\t"							\
	"iretq\n"								\
	"1:\n\t"

GUEST_ASM(smi_guest, 64,
	/* ---- kvm_smi, events, migrate_smm, close_in_smm ---- */
	"host_entry:\n\t"
	IRET_TO_SELF
	"movzwl " GSTR(SMRAM_GPA) ", %edi\n\t"
	GUEST_SYNC				/* host: raises an SMI */
	"movzwl " GSTR(SMRAM_GPA) ", %edi\n\t"	/* after RSM: the decoy */
	GUEST_SYNC
	GUEST_DONE

	/* ---- self_ipi: two SMIs through the ICR ---- */
	"ipi_entry:\n\t"
	IRET_TO_SELF
	"mov $0xfee00000, %ebx\n\t"
	"movl $0x1ff, 0xf0(%rbx)\n\t"		/* SVR: APIC on */
	"movl $0, 0x310(%rbx)\n\t"
	"movl $" GSTR(APIC_ICR_SMI_SELF) ", 0x300(%rbx)\n\t"
	"movzwl " GSTR(SMRAM_GPA) ", %edi\n\t"
	GUEST_SYNC
	"movl $" GSTR(APIC_ICR_SMI_SELF) ", 0x300(%rbx)\n\t"
	"movzwl " GSTR(SMRAM_GPA) ", %edi\n\t"
	GUEST_SYNC
	GUEST_DONE

	/* ---- rsm_keeps_tpr ---- */
	"tpr_entry:\n\t"
	IRET_TO_SELF
	"mov $0xfee00000, %ebx\n\t"
	"movl $0x1ff, 0xf0(%rbx)\n\t"		/* SVR: APIC on */
	"movl $" GSTR(TPR_VALUE) ", 0x80(%rbx)\n\t"
	"movzwl " GSTR(SMRAM_GPA) ", %edi\n\t"
	GUEST_SYNC				/* host: raises an SMI */
	"mov 0x80(%rbx), %edi\n\t"
	"mov %cr8, %rsi\n\t"
	GUEST_SYNC
	GUEST_DONE

	/* ---- rsm_tf: RSM returns here with TF set ---- */
	"tf_entry:\n\t"
	IRET_TO_SELF
	"movzwl " GSTR(SMRAM_GPA) ", %edi\n\t"
	GUEST_SYNC				/* host: raises an SMI */
	"tf_first: nop\n\t"
	"tf_second: nop\n\t"
	"mov " GSTR(DB_COUNT_GPA) ", %rdi\n\t"
	"mov " GSTR(DB_RIP_GPA) ", %rsi\n\t"
	GUEST_SYNC
	GUEST_DONE
	/* #DB: count, note the first return RIP, return with TF off. */
	"db_handler:\n\t"
	"push %rax\n\t"
	"incq " GSTR(DB_COUNT_GPA) "\n\t"
	"cmpq $1, " GSTR(DB_COUNT_GPA) "\n\t"
	"jne 2f\n\t"
	"mov 8(%rsp), %rax\n\t"
	"mov %rax, " GSTR(DB_RIP_GPA) "\n"
	"2: andq $~" GSTR(RFLAGS_TF) ", 24(%rsp)\n\t"
	"pop %rax\n\t"
	"iretq\n\t"

	/* ---- rsm_outside ---- */
	"rsm_entry:\n\t"
	"rsm\n\t"
	"mov " GSTR(UD_GPA) ", %rdi\n\t"
	GUEST_DONE
	"ud_handler:\n\t"
	"incq " GSTR(UD_GPA) "\n\t"
	"addq $2, (%rsp)\n\t"			/* past the 2-byte RSM */
	"iretq\n\t");
extern const uint8_t host_entry[], ipi_entry[], rsm_entry[], ud_handler[], tpr_entry[],
	tf_entry[], tf_second[], db_handler[];

/* A 32-bit guest (CR0.PE, no paging) for the 32-bit save-area layout. */
GUEST_ASM(smi_guest32, 32,
	"host32_entry:\n\t"
	/* IRET to the next instruction, as IRET_TO_SELF does in 64-bit code. */
	"call 2f\n"
	"2: pop %eax\n\t"
	"add $(1f - 2b), %eax\n\t"
	"pushfl\n\t"
	"pushl %cs\n\t"
	"push %eax\n\t"
	"iretl\n"
	"1: movzwl " GSTR(SMRAM_GPA) ", %edi\n\t"
	GUEST_SYNC				/* host: raises an SMI */
	"movzwl " GSTR(SMRAM_GPA) ", %edi\n\t"	/* after RSM: the decoy */
	GUEST_SYNC
	GUEST_DONE);
extern const uint8_t host32_entry[];

struct smm_vm {
	struct vm *vm;
	struct vcpu *vcpu;
	uint8_t *smram;
	uint8_t *decoy;
};

static void add_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *hva)
{
	if (__vm_set_memslot(vm, slot, 0, gpa, size, hva))
		test_fail("memslot %#x gpa %#llx: %s", slot, (unsigned long long)gpa,
			  strerror(errno));
}

static void *smm_alloc(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		test_fail("mmap: %s", strerror(errno));
	return p;
}

/*
 * A VM with an in-kernel irqchip; RAM in both address spaces; the decoy in 0 and
 * SMRAM in 1 at SMRAM_GPA (@smram/@decoy: reuse those buffers, else fresh ones).
 */
static void smm_vm_create(struct smm_vm *s, uint8_t *smram, uint8_t *decoy)
{
	struct vm *vm = irqchip_vm();
	void *ram;

	ram = vm_add_memory(vm, 0, 0, GUEST_MEM_SIZE, 0);
	add_slot(vm, SMM_RAM_SLOT, 0, GUEST_MEM_SIZE, ram);
	s->smram = smram ? smram : smm_alloc(SMRAM_SIZE);
	s->decoy = decoy ? decoy : smm_alloc(PAGE_SIZE);
	add_slot(vm, DECOY_SLOT, SMRAM_GPA, PAGE_SIZE, s->decoy);
	add_slot(vm, SMRAM_SLOT, SMRAM_GPA, SMRAM_SIZE, s->smram);
	s->vm = vm;
}

/*
 * The host's CPUID, long mode included: KVM writes the AMD64 save-area layout only
 * for a guest whose CPUID has long mode (else the 32-bit one, and EFER stays).
 */
static void smm_cpuid(struct vcpu *vcpu)
{
	struct kvm_cpuid2 *cpuid = kvm_get_supported_cpuid();

	vcpu_set_cpuid(vcpu, cpuid);
	free(cpuid);
}

static void smm_guest(struct smm_vm *s, const void *entry)
{
	smm_vm_create(s, NULL, NULL);
	*(uint16_t *)s->smram = SMM_MARKER;
	*(uint16_t *)s->decoy = DECOY_MARKER;
	memcpy(s->smram + 0x8000, smi_handler_start, smi_handler_end - smi_handler_start);
	vm_init_tables(s->vm);
	vm_load_code(s->vm, GUEST_CODE(smi_guest));
	vm_set_idt_gate(s->vm, MODE_LONG64, 6, guest_code_gpa(s->vm, ud_handler));
	vm_set_idt_gate(s->vm, MODE_LONG64, 1, guest_code_gpa(s->vm, db_handler));
	s->vcpu = vcpu_add(s->vm, 0);
	smm_cpuid(s->vcpu);
	vcpu_init_mode(s->vcpu, MODE_LONG64, guest_code_gpa(s->vm, entry));
	vcpu_set_msr(s->vcpu, MSR_IA32_SMBASE, SMRAM_GPA);
}

static void smm_free(struct smm_vm *s)
{
	vm_free(s->vm);
	munmap(s->smram, SMRAM_SIZE);
	munmap(s->decoy, PAGE_SIZE);
}

static void get_events(struct vcpu *vcpu, struct kvm_vcpu_events *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, ev))
		test_fail("KVM_GET_VCPU_EVENTS: %s", strerror(errno));
}

static uint32_t smram_count(struct smm_vm *s)
{
	return *(volatile uint32_t *)(s->smram + SMI_COUNT_OFF);
}

/* The vCPU stopped at the handler's SYNC: check what SMM entry made of it. */
static void check_in_handler(struct __test_metadata *_metadata, struct smm_vm *s,
			     const struct ucall *uc, uint32_t count)
{
	struct kvm_vcpu_events ev;
	struct kvm_sregs sr;
	struct kvm_regs r;

	EXPECT_EQ(SMM_MARKER, uc->args[0]);
	EXPECT_EQ(count, uc->args[1]);
	EXPECT_EQ(count, smram_count(s));
	EXPECT_EQ(KVM_RUN_X86_SMM, s->vcpu->run->flags & KVM_RUN_X86_SMM);
	vcpu_get_sregs(s->vcpu, &sr);
	vcpu_get_regs(s->vcpu, &r);
	EXPECT_EQ(SMRAM_GPA, sr.cs.base);
	EXPECT_EQ((SMRAM_GPA >> 4) & 0xffff, sr.cs.selector);
	EXPECT_EQ(0, sr.cr0 & 0x80000001);	/* PG, PE */
	EXPECT_EQ(0, sr.cr4);
	EXPECT_EQ(0, sr.efer);
	EXPECT_EQ(0, sr.ds.base);
	EXPECT_EQ(0xffffffff, sr.ds.limit);
	EXPECT_EQ(0, sr.idt.limit);
	EXPECT_LT(0x8000, r.rip);
	EXPECT_GT(0x8000 + (smi_handler_end - smi_handler_start), r.rip);
	get_events(s->vcpu, &ev);
	EXPECT_NE(0, ev.flags & KVM_VCPUEVENT_VALID_SMM);
	EXPECT_EQ(1, ev.smi.smm);
	EXPECT_EQ(0, ev.smi.pending);
	EXPECT_EQ(1, ev.nmi.masked);	/* NMIs blocked in SMM (SDM 32.8) */
	EXPECT_EQ(0, ev.smi.smm_inside_nmi);	/* they were not before */
}

/* Offsets in the AMD64 state-save area (APM Vol.2 Table 10-2), from SMBASE+0xFE00. */
#define SS_CS_ATTR	0x12
#define SS_EFER		0xd0
#define SS_REVISION	0xfc
#define SS_SMBASE	0x100
#define SS_CR4		0x148
#define SS_CR3		0x150
#define SS_CR0		0x158
#define SS_RIP		0x178
#define SS_RDI		0x1c0	/* 0x1f8 - 8 * 7: RDI is register 7 */

/* The save area of the SMI taken at the guest's first SYNC, after its OUT. */
static void check_save_area(struct __test_metadata *_metadata, struct smm_vm *s,
			    uint64_t rip, const struct kvm_sregs *before)
{
	uint8_t *sa = s->smram + SAVE_OFF;

	EXPECT_EQ(0x00020064, *(uint32_t *)(sa + SS_REVISION));
	EXPECT_EQ(SMRAM_GPA, *(uint32_t *)(sa + SS_SMBASE));
	EXPECT_EQ(rip, *(uint64_t *)(sa + SS_RIP));
	EXPECT_EQ(DECOY_MARKER, *(uint64_t *)(sa + SS_RDI));
	EXPECT_EQ(before->cr0, *(uint64_t *)(sa + SS_CR0));
	EXPECT_EQ(before->cr3, *(uint64_t *)(sa + SS_CR3));
	EXPECT_EQ(before->cr4, *(uint64_t *)(sa + SS_CR4));
	EXPECT_EQ(before->efer, *(uint64_t *)(sa + SS_EFER));
	/* Descriptor bits 55:40, as KVM packs them: L is bit 13, P bit 7. */
	EXPECT_NE(0, *(uint16_t *)(sa + SS_CS_ATTR) & (1 << 13));	/* CS.L */
	EXPECT_NE(0, *(uint16_t *)(sa + SS_CS_ATTR) & (1 << 7));	/* CS.P */
}

/* Run to the guest's first SYNC, raise an SMI with @raise, run into the handler. */
static void smi_at_first_sync(struct __test_metadata *_metadata, struct smm_vm *s,
			      void (*raise)(struct vcpu *))
{
	struct kvm_vcpu_events ev;
	struct kvm_sregs before;
	struct kvm_regs r;
	struct ucall uc;

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(s->vcpu, &uc));
	EXPECT_EQ(DECOY_MARKER, uc.args[0]);	/* address space 0 */
	EXPECT_EQ(0, s->vcpu->run->flags & KVM_RUN_X86_SMM);
	vcpu_get_sregs(s->vcpu, &before);
	vcpu_get_regs(s->vcpu, &r);
	get_events(s->vcpu, &ev);
	EXPECT_EQ(0, ev.nmi.masked);
	raise(s->vcpu);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(s->vcpu, &uc));
	check_in_handler(_metadata, s, &uc, 1);
	/* KVM: RIP stays at the OUT until the next KVM_RUN completes it. */
	check_save_area(_metadata, s, r.rip + 2, &before);
}

/* After RSM: long mode again, address space 0. */
static void finish_after_rsm(struct __test_metadata *_metadata, struct smm_vm *s)
{
	struct kvm_vcpu_events ev;
	struct kvm_sregs sr;
	struct ucall uc;

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(s->vcpu, &uc));
	EXPECT_EQ(DECOY_MARKER, uc.args[0]);
	EXPECT_EQ(0, s->vcpu->run->flags & KVM_RUN_X86_SMM);
	vcpu_get_sregs(s->vcpu, &sr);
	EXPECT_NE(0, sr.efer & (1 << 10));	/* LMA */
	EXPECT_EQ(1, sr.cs.l);
	get_events(s->vcpu, &ev);
	EXPECT_EQ(0, ev.smi.smm);
	EXPECT_EQ(0, ev.nmi.masked);
	vcpu_run_until_done(s->vcpu);
}

static void raise_kvm_smi(struct vcpu *vcpu)
{
	if (ioctl(vcpu->fd, KVM_SMI))
		test_fail("KVM_SMI: %s", strerror(errno));
}

static void raise_events_smi(struct vcpu *vcpu)
{
	struct kvm_vcpu_events ev;

	get_events(vcpu, &ev);
	ev.flags = KVM_VCPUEVENT_VALID_SMM;
	ev.smi.pending = 1;
	if (ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &ev))
		test_fail("KVM_SET_VCPU_EVENTS: %s", strerror(errno));
	get_events(vcpu, &ev);
	if (!ev.smi.pending || ev.smi.smm)
		test_fail("smi.pending %u smm %u", ev.smi.pending, ev.smi.smm);
}

#define TEST_REQUIRE_SMM() do {							\
	TEST_REQUIRE_KVM();							\
	if (kvm_check_cap(KVM_CAP_X86_SMM) <= 0)				\
		SKIP(return, "no KVM_CAP_X86_SMM");				\
} while (0)

TEST(caps)
{
	struct kvm_userspace_memory_region mr = {
		.slot = 2u << 16, .memory_size = PAGE_SIZE,
	};
	struct vm *vm;

	TEST_REQUIRE_SMM();
	EXPECT_EQ(1, kvm_check_cap(KVM_CAP_X86_SMM));
	EXPECT_EQ(2, kvm_check_cap(KVM_CAP_MULTI_ADDRESS_SPACE));
	vm = vm_create();
	mr.userspace_addr = (uintptr_t)smm_alloc(PAGE_SIZE);
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &mr));
	EXPECT_EQ(EINVAL, errno);
	mr.slot = (1u << 16) | 3;	/* address space 1 is fine */
	EXPECT_EQ(0, ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &mr));
	munmap((void *)(uintptr_t)mr.userspace_addr, PAGE_SIZE);
	vm_free(vm);
}

TEST(kvm_smi)
{
	struct smm_vm s;

	TEST_REQUIRE_SMM();
	smm_guest(&s, host_entry);
	smi_at_first_sync(_metadata, &s, raise_kvm_smi);
	finish_after_rsm(_metadata, &s);
	EXPECT_EQ(1, smram_count(&s));
	smm_free(&s);
}

TEST(self_ipi)
{
	struct smm_vm s;
	struct ucall uc;

	TEST_REQUIRE_SMM();
	smm_guest(&s, ipi_entry);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(s.vcpu, &uc));	/* in the handler */
	check_in_handler(_metadata, &s, &uc, 1);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(s.vcpu, &uc));	/* after RSM */
	EXPECT_EQ(DECOY_MARKER, uc.args[0]);
	EXPECT_EQ(0, s.vcpu->run->flags & KVM_RUN_X86_SMM);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(s.vcpu, &uc));	/* the second SMI */
	check_in_handler(_metadata, &s, &uc, 2);
	finish_after_rsm(_metadata, &s);
	smm_free(&s);
}

TEST(events)
{
	struct smm_vm s;
	uint64_t smbase;

	TEST_REQUIRE_SMM();
	smm_guest(&s, host_entry);
	smbase = vcpu_get_msr(s.vcpu, MSR_IA32_SMBASE);
	EXPECT_EQ(SMRAM_GPA, smbase);
	smi_at_first_sync(_metadata, &s, raise_events_smi);
	finish_after_rsm(_metadata, &s);
	smm_free(&s);
}

/* Save the vCPU in the handler, restore it into a new VM, let it finish there. */
TEST(migrate_smm)
{
	struct kvm_vcpu_events ev;
	struct kvm_sregs sr;
	struct kvm_regs r;
	struct smm_vm s, t;
	struct ucall uc;
	uint64_t smbase;
	void *ram;

	TEST_REQUIRE_SMM();
	smm_guest(&s, host_entry);
	smi_at_first_sync(_metadata, &s, raise_kvm_smi);
	/* Finish the ucall's OUT before reading the state, as a VMM must. */
	s.vcpu->run->immediate_exit = 1;
	EXPECT_EQ(-1, __vcpu_run(s.vcpu));
	EXPECT_EQ(EINTR, errno);
	s.vcpu->run->immediate_exit = 0;
	vcpu_get_regs(s.vcpu, &r);
	vcpu_get_sregs(s.vcpu, &sr);
	get_events(s.vcpu, &ev);
	smbase = vcpu_get_msr(s.vcpu, MSR_IA32_SMBASE);
	ASSERT_EQ(1, ev.smi.smm);

	smm_vm_create(&t, s.smram, s.decoy);
	ram = gpa_to_hva(t.vm, 0);
	memcpy(ram, gpa_to_hva(s.vm, 0), GUEST_MEM_SIZE);
	t.vm->code = s.vm->code;
	vm_free(s.vm);
	t.vcpu = vcpu_add(t.vm, 0);
	smm_cpuid(t.vcpu);
	vcpu_set_sregs(t.vcpu, &sr);
	vcpu_set_msr(t.vcpu, MSR_IA32_SMBASE, smbase);
	ev.flags |= KVM_VCPUEVENT_VALID_SMM;
	ASSERT_EQ(0, ioctl(t.vcpu->fd, KVM_SET_VCPU_EVENTS, &ev));
	vcpu_set_regs(t.vcpu, &r);
	get_events(t.vcpu, &ev);
	EXPECT_EQ(1, ev.smi.smm);
	EXPECT_EQ(1, ev.nmi.masked);

	/* The handler goes on at its RSM; the guest after it. */
	finish_after_rsm(_metadata, &t);
	EXPECT_EQ(1, smram_count(&t));
	smm_free(&t);
	(void)uc;
}

/* An SMI wakes a halted vCPU; after RSM it is runnable (RSM returns past HLT). */
TEST(smi_halted)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_HALTED };
	struct smm_vm s;
	struct ucall uc;

	TEST_REQUIRE_SMM();
	smm_guest(&s, host_entry);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(s.vcpu, &uc));
	s.vcpu->run->immediate_exit = 1;	/* finish the OUT */
	EXPECT_EQ(-1, __vcpu_run(s.vcpu));
	s.vcpu->run->immediate_exit = 0;
	ASSERT_EQ(0, ioctl(s.vcpu->fd, KVM_SET_MP_STATE, &mp));
	raise_kvm_smi(s.vcpu);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(s.vcpu, &uc));
	check_in_handler(_metadata, &s, &uc, 1);
	ASSERT_EQ(0, ioctl(s.vcpu->fd, KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, mp.mp_state);
	finish_after_rsm(_metadata, &s);
	smm_free(&s);
}

TEST(rsm_outside)
{
	struct smm_vm s;
	struct ucall uc;

	TEST_REQUIRE_SMM();
	smm_guest(&s, rsm_entry);
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(s.vcpu, &uc));
	EXPECT_EQ(1, uc.args[0]);
	smm_free(&s);
}

TEST(rsm_keeps_tpr)
{
	struct smm_vm s;
	struct ucall uc;

	TEST_REQUIRE_SMM();
	smm_guest(&s, tpr_entry);
	smi_at_first_sync(_metadata, &s, raise_kvm_smi);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(s.vcpu, &uc));	/* after RSM */
	EXPECT_EQ(0, s.vcpu->run->flags & KVM_RUN_X86_SMM);
	/*
	 * kvm_amd (6.1) sets TPR from the VMCB's V_TPR, which holds only bits 7:4,
	 * after every exit while CR8 writes are not intercepted (sync_cr8_to_lapic
	 * in svm.c): bits 3:0 are lost at any exit there, RSM or not.
	 */
	if (!kvm_is_minikvm() && host_virt() == HOST_VIRT_SVM) {
		EXPECT_EQ(TPR_VALUE & 0xf0, uc.args[0] & 0xf0);
		TH_LOG("kvm_amd: TPR %#llx after RSM", (unsigned long long)uc.args[0]);
	} else {
		EXPECT_EQ(TPR_VALUE, uc.args[0]);
	}
	EXPECT_EQ(TPR_VALUE >> 4, uc.args[1]);			/* CR8 */
	vcpu_run_until_done(s.vcpu);
	smm_free(&s);
}

/* Offset of the saved RFLAGS in the AMD64 state-save area (APM Table 10-2). */
#define SS_RFLAGS	0x170

TEST(rsm_tf)
{
	struct smm_vm s;
	struct ucall uc;

	TEST_REQUIRE_SMM();
	smm_guest(&s, tf_entry);
	smi_at_first_sync(_metadata, &s, raise_kvm_smi);
	*(uint64_t *)(s.smram + SAVE_OFF + SS_RFLAGS) |= RFLAGS_TF;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(s.vcpu, &uc));	/* after RSM */
	EXPECT_EQ(1, uc.args[0]);
	/* The trap comes after the first instruction (SDM Vol.3 17.3.1.4). */
	EXPECT_EQ(guest_code_gpa(s.vm, tf_second), uc.args[1]);
	vcpu_run_until_done(s.vcpu);
	smm_free(&s);
}

TEST(rsm_prefixed)
{
	uint8_t *rsm;
	struct smm_vm s;

	TEST_REQUIRE_SMM();
	smm_guest(&s, host_entry);
	smi_at_first_sync(_metadata, &s, raise_kvm_smi);
	/* The handler ends with RSM: make it 2E 0F AA (SMRAM is zero after it). */
	rsm = s.smram + 0x8000 + (smi_handler_end - smi_handler_start) - 2;
	ASSERT_EQ(0x0f, rsm[0]);
	ASSERT_EQ(0xaa, rsm[1]);
	rsm[0] = 0x2e;
	rsm[1] = 0x0f;
	rsm[2] = 0xaa;
	finish_after_rsm(_metadata, &s);
	smm_free(&s);
}

/* Offsets in the 32-bit state-save area (SDM Table 32-1), from SMBASE+0xFE00. */
#define SS32_SMBASE	0xf8
#define SS32_REVISION	0xfc
#define SS32_CR4	0x114
#define SS32_CS_FLAGS	0x190
#define SS32_CS_SEL	0x1ac
#define SS32_EDI	0x1ec
#define SS32_EIP	0x1f0
#define SS32_CR3	0x1f8
#define SS32_CR0	0x1fc

TEST(smi_32bit)
{
	struct kvm_cpuid2 *cpuid;
	struct kvm_sregs before, sr;
	struct kvm_regs r;
	struct smm_vm s;
	struct ucall uc;
	uint8_t *sa;
	uint32_t i;

	TEST_REQUIRE_SMM();
	smm_vm_create(&s, NULL, NULL);
	*(uint16_t *)s.smram = SMM_MARKER;
	*(uint16_t *)s.decoy = DECOY_MARKER;
	memcpy(s.smram + 0x8000, smi_handler_start, smi_handler_end - smi_handler_start);
	vm_init_tables(s.vm);
	vm_load_code(s.vm, GUEST_CODE(smi_guest32));
	s.vcpu = vcpu_add(s.vm, 0);
	cpuid = kvm_get_supported_cpuid();
	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 0x80000001)
			cpuid->entries[i].edx &= ~(1u << 29);	/* no LM */
	vcpu_set_cpuid(s.vcpu, cpuid);
	free(cpuid);
	vcpu_init_mode(s.vcpu, MODE_PROT32, guest_code_gpa(s.vm, host32_entry));
	vcpu_set_msr(s.vcpu, MSR_IA32_SMBASE, SMRAM_GPA);

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(s.vcpu, &uc));
	EXPECT_EQ(DECOY_MARKER, uc.args[0]);
	vcpu_get_sregs(s.vcpu, &before);
	vcpu_get_regs(s.vcpu, &r);
	raise_kvm_smi(s.vcpu);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(s.vcpu, &uc));
	check_in_handler(_metadata, &s, &uc, 1);

	sa = s.smram + SAVE_OFF;
	EXPECT_EQ(0x00020000, *(uint32_t *)(sa + SS32_REVISION));
	EXPECT_EQ(SMRAM_GPA, *(uint32_t *)(sa + SS32_SMBASE));
	EXPECT_EQ(r.rip + 2, *(uint32_t *)(sa + SS32_EIP));
	EXPECT_EQ(DECOY_MARKER, *(uint32_t *)(sa + SS32_EDI));
	EXPECT_EQ(before.cr0, *(uint32_t *)(sa + SS32_CR0));
	EXPECT_EQ(before.cr3, *(uint32_t *)(sa + SS32_CR3));
	EXPECT_EQ(before.cr4, *(uint32_t *)(sa + SS32_CR4));
	EXPECT_EQ(before.cs.selector, *(uint32_t *)(sa + SS32_CS_SEL));
	/* Descriptor bits 55:40 shifted left by 8: D/B is bit 22, P bit 15. */
	EXPECT_NE(0, *(uint32_t *)(sa + SS32_CS_FLAGS) & (1u << 22));
	EXPECT_NE(0, *(uint32_t *)(sa + SS32_CS_FLAGS) & (1u << 15));

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(s.vcpu, &uc));	/* after RSM */
	EXPECT_EQ(DECOY_MARKER, uc.args[0]);
	EXPECT_EQ(0, s.vcpu->run->flags & KVM_RUN_X86_SMM);
	vcpu_get_sregs(s.vcpu, &sr);
	EXPECT_EQ(before.cr0, sr.cr0);
	EXPECT_EQ(1, sr.cs.db);
	EXPECT_EQ(before.cs.selector, sr.cs.selector);
	vcpu_run_until_done(s.vcpu);
	smm_free(&s);
}

TEST(kvmclock_in_smm)
{
	uint32_t version;
	struct smm_vm s;
	int i;

	TEST_REQUIRE_SMM();
	smm_guest(&s, host_entry);
	smi_at_first_sync(_metadata, &s, raise_kvm_smi);
	memset(s.decoy + PVCLOCK_OFF, 0, 32);
	memset(s.smram + PVCLOCK_OFF, 0, 32);
	/* Enabled (bit 0), in the page SMRAM covers in address space 1. */
	vcpu_set_msr(s.vcpu, MSR_KVM_SYSTEM_TIME_NEW, SMRAM_GPA + PVCLOCK_OFF + 1);
	finish_after_rsm(_metadata, &s);
	for (i = 0; i < 32; i++)
		EXPECT_EQ(0, s.smram[PVCLOCK_OFF + i]);
	version = *(volatile uint32_t *)(s.decoy + PVCLOCK_OFF);
	EXPECT_NE(0, version);
	EXPECT_EQ(0, version & 1);
	smm_free(&s);
}

TEST(close_in_smm)
{
	struct smm_vm s;
	struct ucall uc;

	TEST_REQUIRE_SMM();
	smm_guest(&s, host_entry);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(s.vcpu, &uc));
	raise_kvm_smi(s.vcpu);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(s.vcpu, &uc));
	EXPECT_EQ(KVM_RUN_X86_SMM, s.vcpu->run->flags & KVM_RUN_X86_SMM);
	/* An SMI latched in SMM stays pending; the VM goes with it. */
	raise_kvm_smi(s.vcpu);
	smm_free(&s);
	/*
	 * A guest that runs its IRET_TO_SELF, for the tests after this one (in
	 * the rig: the next test binaries): keep this case last.
	 */
	smm_guest(&s, host_entry);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(s.vcpu, &uc));
	smm_free(&s);
}

TEST_HARNESS_MAIN
