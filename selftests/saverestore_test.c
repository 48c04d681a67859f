// SPDX-License-Identifier: GPL-2.0-only
/*
 * saverestore_test: a running guest moves to a new VM through the state ioctls,
 * as a live migration or a snapshot moves it, and goes on as if nothing happened.
 *
 * The guest (long mode, in-kernel irqchip) fills its state with values it can
 * check later: general-purpose registers, the x87 stack, the SSE registers and
 * MXCSR, debug registers, a dozen MSRs (syscall, sysenter, PAT, FS/GS bases),
 * and starts its LAPIC timer in periodic mode with a handler that counts ticks.
 * Then it reports SYNC. The host finishes that exit with a KVM_RUN that has
 * immediate_exit set, as a VMM must before it reads the state, and saves
 * everything a VMM must carry:
 *
 *   VM     guest memory, KVM_GET_IRQCHIP (PIC x2, IOAPIC), KVM_GET_CLOCK
 *   vCPU   KVM_GET_REGS, _SREGS, _XSAVE (or _XSAVE2), _XCRS, _MSRS (every MSR
 *          of KVM_GET_MSR_INDEX_LIST that reads), _VCPU_EVENTS, _LAPIC,
 *          _DEBUGREGS, _MP_STATE
 *
 * and destroys the VM. A new VM gets the memory and every SET, in the order
 * QEMU uses; the host reads back what it wrote and compares. The guest then
 * checks its registers, MSRs and debug registers against the values it set,
 * that its TSC did not go backwards, and that the timer still ticks (three more
 * interrupts); it stores the x87 and SSE registers for the host to compare.
 * Runs on kvm.ko too (the rigs run it on both modules).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "irqchip.h"
#include "vm.h"
#include "x86.h"

#define VEC_TIMER	0x41
#define TICKS_GPA	(GUEST_DATA_GPA + 0x000)	/* timer interrupts taken */
#define TSC_GPA		(GUEST_DATA_GPA + 0x008)	/* the TSC before SYNC */
#define MXCSR_GPA	(GUEST_DATA_GPA + 0x010)	/* MXCSR, in and out */
#define X87_GPA		(GUEST_DATA_GPA + 0x040)	/* three 80-bit values */
#define XMM_GPA		(GUEST_DATA_GPA + 0x100)	/* xmm0-15, 16 bytes each */
#define MXCSR_VALUE	0x5f80				/* round up, masked */
#define SPIN_LIMIT	50000000			/* loop turns for 3 ticks */

/* The MSRs the guest writes, and the values it writes. */
#define MSR_LIST(X)						\
	X(0xc0000081, 0x0023001000000000ULL)	/* STAR */		\
	X(0xc0000082, 0xffffffff81000000ULL)	/* LSTAR */		\
	X(0xc0000083, 0xffffffff81000040ULL)	/* CSTAR */		\
	X(0xc0000084, 0x0000000000047700ULL)	/* SFMASK */		\
	X(0xc0000100, 0x00007f0012345000ULL)	/* FS_BASE */		\
	X(0xc0000102, 0xffff888012345000ULL)	/* KERNEL_GS_BASE */	\
	X(0x00000174, 0x0000000000000010ULL)	/* SYSENTER_CS */	\
	X(0x00000175, 0x0000000012345678ULL)	/* SYSENTER_ESP */	\
	X(0x00000176, 0x000000009abcdef0ULL)	/* SYSENTER_EIP */	\
	X(0x00000277, 0x0007050600070106ULL)	/* PAT */

#define WRMSR(msr, val)							\
	"mov $" GSTR(msr) ", %ecx\n\t"					\
	"mov $" GSTR(val) ", %rax\n\t"					\
	"mov %rax, %rdx\n\t"						\
	"shr $32, %rdx\n\t"						\
	"wrmsr\n\t"
#define CHECK_MSR(msr, val)						\
	"mov $" GSTR(msr) ", %ecx\n\t"					\
	"rdmsr\n\t"							\
	"shl $32, %rdx\n\t"						\
	"mov %eax, %eax\n\t"						\
	"or %rdx, %rax\n\t"						\
	"mov $" GSTR(val) ", %rdx\n\t"					\
	"mov %ecx, %edi\n\t"		/* failure id: the MSR */	\
	"cmp %rdx, %rax\n\t"						\
	"jne sr_fail\n\t"

/* Fill xmmN with the byte N + 1 repeated (SSE2 only). */
#define SET_XMM(n)							\
	"mov $" GSTR(0x0101010101010101 * (n + 1)) ", %rax\n\t"	\
	"movq %rax, %xmm" #n "\n\t"					\
	"pshufd $0x44, %xmm" #n ", %xmm" #n "\n\t"
#define SAVE_XMM(n)	"movdqu %xmm" #n ", " GSTR(XMM_GPA + 16 * n) "\n\t"

/* A GPR the ucall leaves alone, and the value it must keep. */
#define SET_GPR(r, v, id)	"mov $" GSTR(v) ", %" #r "\n\t"
#define CHECK_GPR(r, v, id)						\
	"mov $" GSTR(v) ", %rax\n\t"					\
	"mov $" GSTR(id) ", %edi\n\t"					\
	"cmp %rax, %" #r "\n\t"						\
	"jne sr_fail\n\t"
#define GPR_LIST(X)							\
	X(rbp, 0x1111222233334444, 1)					\
	X(r8, 0x8888000000000008, 2)					\
	X(r9, 0x9999000000000009, 3)					\
	X(r10, 0x1010101010101010, 4)					\
	X(r11, 0x1111111111111111, 5)					\
	X(r12, 0x1212121212121212, 6)					\
	X(r13, 0x1313131313131313, 7)					\
	X(r14, 0x1414141414141414, 8)					\
	X(r15, 0x1515151515151515, 9)

/* Four exec breakpoints (never hit: no code there) and their enables. */
#define DR_LIST(X)							\
	X(0, 0x1000, 10) X(1, 0x1008, 11) X(2, 0x1010, 12) X(3, 0x1018, 13)
#define SET_DR(n, v, id)	"mov $" GSTR(v) ", %rax\n\tmov %rax, %dr" #n "\n\t"
#define CHECK_DR(n, v, id)						\
	"mov %dr" #n ", %rax\n\t"					\
	"mov $" GSTR(id) ", %edi\n\t"					\
	"cmp $" GSTR(v) ", %rax\n\t"					\
	"jne sr_fail\n\t"
#define DR7_VALUE	0x455		/* L0-L3, and bit 10 that reads as 1 */

GUEST_ASM(sr_guest, 64,
	"mov %cr4, %rax\n\t"
	"or $0x600, %rax\n\t"			/* OSFXSR, OSXMMEXCPT: SSE */
	"mov %rax, %cr4\n\t"
	"mov $0xfee00000, %ebx\n\t"
	"movl $0x1ff, 0xf0(%rbx)\n\t"		/* SVR: APIC on */
	MSR_LIST(WRMSR)
	DR_LIST(SET_DR)
	"mov $" GSTR(DR7_VALUE) ", %rax\n\t"
	"mov %rax, %dr7\n\t"
	"fninit\n\t"
	"fldpi\n\t"
	"fld1\n\t"
	"fldl2e\n\t"
	"movl $" GSTR(MXCSR_VALUE) ", " GSTR(MXCSR_GPA) "\n\t"
	"ldmxcsr " GSTR(MXCSR_GPA) "\n\t"
	SET_XMM(0) SET_XMM(1) SET_XMM(2) SET_XMM(3)
	SET_XMM(4) SET_XMM(5) SET_XMM(6) SET_XMM(7)
	SET_XMM(8) SET_XMM(9) SET_XMM(10) SET_XMM(11)
	SET_XMM(12) SET_XMM(13) SET_XMM(14) SET_XMM(15)
	GPR_LIST(SET_GPR)
	/* The timer: periodic, divide by 1, then wait for three ticks. */
	"movl $0xb, 0x3e0(%rbx)\n\t"
	"movl $" GSTR(0x20000 | VEC_TIMER) ", 0x320(%rbx)\n\t"
	"movl $200000, 0x380(%rbx)\n\t"
	"sti\n\t"
	"mov $" GSTR(SPIN_LIMIT) ", %esi\n"
	"1: cmpq $3, " GSTR(TICKS_GPA) "\n\t"
	"jae 2f\n\t"
	"dec %esi\n\t"
	"jnz 1b\n\t"
	"mov $20, %edi\n\t"
	"jmp sr_fail\n"
	"2: rdtsc\n\t"
	"shl $32, %rdx\n\t"
	"mov %eax, %eax\n\t"
	"or %rdx, %rax\n\t"
	"mov %rax, " GSTR(TSC_GPA) "\n\t"
	/* The host moves the guest to a new VM here. */
	GUEST_SYNC
	/* Everything as it was? */
	GPR_LIST(CHECK_GPR)
	"mov $21, %edi\n\t"
	"mov $0xfee00000, %eax\n\t"
	"cmp %rax, %rbx\n\t"
	"jne sr_fail\n\t"
	DR_LIST(CHECK_DR)
	"mov %dr7, %rax\n\t"
	"mov $14, %edi\n\t"
	"cmp $" GSTR(DR7_VALUE) ", %rax\n\t"
	"jne sr_fail\n\t"
	MSR_LIST(CHECK_MSR)
	/* The TSC goes on from where it was. */
	"rdtsc\n\t"
	"shl $32, %rdx\n\t"
	"mov %eax, %eax\n\t"
	"or %rdx, %rax\n\t"
	"mov $22, %edi\n\t"
	"cmp " GSTR(TSC_GPA) ", %rax\n\t"
	"jb sr_fail\n\t"
	/* For the host: x87, SSE, MXCSR as they are now. */
	"fstpt " GSTR(X87_GPA) "\n\t"
	"fstpt " GSTR(X87_GPA + 16) "\n\t"
	"fstpt " GSTR(X87_GPA + 32) "\n\t"
	"stmxcsr " GSTR(MXCSR_GPA) "\n\t"
	SAVE_XMM(0) SAVE_XMM(1) SAVE_XMM(2) SAVE_XMM(3)
	SAVE_XMM(4) SAVE_XMM(5) SAVE_XMM(6) SAVE_XMM(7)
	SAVE_XMM(8) SAVE_XMM(9) SAVE_XMM(10) SAVE_XMM(11)
	SAVE_XMM(12) SAVE_XMM(13) SAVE_XMM(14) SAVE_XMM(15)
	/* The timer still runs: three more ticks. */
	"mov " GSTR(TICKS_GPA) ", %rcx\n\t"
	"add $3, %rcx\n\t"
	"mov $" GSTR(SPIN_LIMIT) ", %esi\n"
	"3: cmp " GSTR(TICKS_GPA) ", %rcx\n\t"
	"jbe 4f\n\t"
	"dec %esi\n\t"
	"jnz 3b\n\t"
	"mov $23, %edi\n\t"
	"jmp sr_fail\n"
	"4: cli\n\t"
	GUEST_DONE
	"sr_fail:\n\t"
	"cli\n\t"
	GUEST_FAIL
	"jmp sr_fail\n\t"
	/* The timer's handler: count, EOI; no register changes. */
	"sr_timer:\n\t"
	"incq " GSTR(TICKS_GPA) "\n\t"
	"push %rax\n\t"
	"mov $0xfee000b0, %eax\n\t"
	"movl $0, (%rax)\n\t"
	"pop %rax\n\t"
	"iretq\n\t");
extern const uint8_t sr_timer[];

/* Everything the host keeps of one VM and its vCPU. */
struct saved {
	void *mem;
	struct kvm_irqchip chip[3];
	struct kvm_clock_data clock;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave *xsave;
	int xsave_size;
	struct kvm_xcrs xcrs;
	struct kvm_msrs *msrs;
	struct kvm_vcpu_events events;
	struct kvm_lapic_state lapic;
	struct kvm_debugregs dregs;
	struct kvm_mp_state mp;
	uint64_t tsc_offset;
	bool has_tsc_offset;
};

/*
 * The guest's TSC travels as its offset from the host's (KVM_VCPU_TSC_OFFSET),
 * as QEMU does where it can: both VMs run on the same host. Restored only as
 * the MSR_IA32_TSC value, kvm_intel in the VMX rig let the guest's TSC go
 * backwards (a value within a second of the new vCPU's creation is taken as
 * an attempt to synchronize with it, x86.c: kvm_synchronize_tsc).
 */
static bool tsc_offset_attr(int fd, uint64_t *val, bool set)
{
	struct kvm_device_attr a = {
		.group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uint64_t)(uintptr_t)val,
	};

	if (kvm_check_cap(KVM_CAP_VCPU_ATTRIBUTES) <= 0 ||
	    ioctl(fd, KVM_HAS_DEVICE_ATTR, &a))
		return false;
	return !ioctl(fd, set ? KVM_SET_DEVICE_ATTR : KVM_GET_DEVICE_ATTR, &a);
}

static void xioctl(int fd, unsigned long req, void *arg, const char *name)
{
	if (ioctl(fd, req, arg) < 0)
		test_fail("%s: %s", name, strerror(errno));
}
#define IOCTL(fd, req, arg)	xioctl(fd, req, arg, #req)

/* Every MSR of KVM_GET_MSR_INDEX_LIST that KVM_GET_MSRS can read. */
static struct kvm_msrs *save_msrs(struct vcpu *vcpu)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *list;
	struct kvm_msrs *msrs;
	uint32_t i, n = 0;

	ioctl(vcpu->vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe);	/* E2BIG */
	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(uint32_t));
	msrs = calloc(1, sizeof(*msrs) + probe.nmsrs * sizeof(msrs->entries[0]));
	if (!list || !msrs)
		test_fail("out of memory");
	list->nmsrs = probe.nmsrs;
	IOCTL(vcpu->vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, list);
	for (i = 0; i < list->nmsrs; i++) {
		struct {
			struct kvm_msrs hdr;
			struct kvm_msr_entry e;
		} one = { .hdr.nmsrs = 1, .e.index = list->indices[i] };

		if (ioctl(vcpu->fd, KVM_GET_MSRS, &one) == 1)
			msrs->entries[n++] = one.e;
	}
	msrs->nmsrs = n;
	free(list);
	return msrs;
}

static void save_state(struct vcpu *vcpu, struct saved *s)
{
	struct vm *vm = vcpu->vm;
	int i, cap = kvm_check_cap(KVM_CAP_XSAVE2);

	s->mem = malloc(GUEST_MEM_SIZE);
	if (!s->mem)
		test_fail("out of memory");
	memcpy(s->mem, gpa_to_hva(vm, 0), GUEST_MEM_SIZE);
	for (i = 0; i < 3; i++)
		irqchip_get(vm, i, &s->chip[i]);
	IOCTL(vm->fd, KVM_GET_CLOCK, &s->clock);

	IOCTL(vcpu->fd, KVM_GET_MP_STATE, &s->mp);
	IOCTL(vcpu->fd, KVM_GET_REGS, &s->regs);
	IOCTL(vcpu->fd, KVM_GET_SREGS, &s->sregs);
	s->xsave_size = cap > (int)sizeof(struct kvm_xsave) ? cap :
			(int)sizeof(struct kvm_xsave);
	s->xsave = calloc(1, s->xsave_size);
	if (!s->xsave)
		test_fail("out of memory");
	if (cap > 0)
		IOCTL(vcpu->fd, KVM_GET_XSAVE2, s->xsave);
	else
		IOCTL(vcpu->fd, KVM_GET_XSAVE, s->xsave);
	if (kvm_check_cap(KVM_CAP_XCRS) > 0)
		IOCTL(vcpu->fd, KVM_GET_XCRS, &s->xcrs);
	s->msrs = save_msrs(vcpu);
	IOCTL(vcpu->fd, KVM_GET_VCPU_EVENTS, &s->events);
	IOCTL(vcpu->fd, KVM_GET_LAPIC, &s->lapic);
	IOCTL(vcpu->fd, KVM_GET_DEBUGREGS, &s->dregs);
	s->has_tsc_offset = tsc_offset_attr(vcpu->fd, &s->tsc_offset, false);
}

/* A new VM with the old one's memory, and its vCPU with the old one's state. */
static struct vcpu *restore_state(struct __test_metadata *_metadata,
				  struct saved *s, const struct kvm_cpuid2 *cpuid)
{
	struct kvm_clock_data clock = { .clock = s->clock.clock };
	struct kvm_vcpu_events events = s->events;
	struct vm *vm = irqchip_vm();
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct vcpu *vcpu;
	int i, r;

	memcpy(vm_add_memory(vm, 0, 0, GUEST_MEM_SIZE, 0), s->mem,
	       GUEST_MEM_SIZE);
	for (i = 0; i < 3; i++)
		IOCTL(vm->fd, KVM_SET_IRQCHIP, &s->chip[i]);
	IOCTL(vm->fd, KVM_SET_CLOCK, &clock);

	vcpu = vcpu_add(vm, 0);
	vcpu_set_cpuid(vcpu, cpuid);
	IOCTL(vcpu->fd, KVM_SET_SREGS, &s->sregs);
	IOCTL(vcpu->fd, KVM_SET_REGS, &s->regs);
	IOCTL(vcpu->fd, KVM_SET_XSAVE, s->xsave);
	if (kvm_check_cap(KVM_CAP_XCRS) > 0)
		IOCTL(vcpu->fd, KVM_SET_XCRS, &s->xcrs);
	r = ioctl(vcpu->fd, KVM_SET_MSRS, s->msrs);
	EXPECT_EQ((int)s->msrs->nmsrs, r) {
		TH_LOG("KVM_SET_MSRS stopped at MSR %#x (entry %d of %u)",
		       r >= 0 && r < (int)s->msrs->nmsrs ?
		       s->msrs->entries[r].index : 0, r, s->msrs->nmsrs);
	}
	events.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
	IOCTL(vcpu->fd, KVM_SET_VCPU_EVENTS, &events);
	IOCTL(vcpu->fd, KVM_SET_MP_STATE, &s->mp);
	IOCTL(vcpu->fd, KVM_SET_LAPIC, &s->lapic);
	IOCTL(vcpu->fd, KVM_SET_DEBUGREGS, &s->dregs);
	if (s->has_tsc_offset)
		EXPECT_TRUE(tsc_offset_attr(vcpu->fd, &s->tsc_offset, true));

	/* What was written reads back the same. */
	vcpu_get_regs(vcpu, &regs);
	EXPECT_EQ(0, memcmp(&regs, &s->regs, sizeof(regs)));
	vcpu_get_sregs(vcpu, &sregs);
	EXPECT_EQ(0, memcmp(&sregs, &s->sregs, sizeof(sregs)));
	{
		struct kvm_debugregs d;

		IOCTL(vcpu->fd, KVM_GET_DEBUGREGS, &d);
		EXPECT_EQ(0, memcmp(d.db, s->dregs.db, sizeof(d.db)));
		EXPECT_EQ(s->dregs.dr7, d.dr7);
	}
	return vcpu;
}

/* The three values the guest loaded, as this CPU's x87 stores them. */
static void expected_x87(uint8_t out[48])
{
	memset(out, 0, 48);
	asm volatile("fninit\n\t"
		     "fldpi\n\t"
		     "fld1\n\t"
		     "fldl2e\n\t"
		     "fstpt (%0)\n\t"
		     "fstpt 16(%0)\n\t"
		     "fstpt 32(%0)\n\t"
		     "fninit" : : "r"(out) : "memory");
}

TEST(migrate_running_guest)
{
	struct kvm_cpuid2 *cpuid;
	struct vcpu *vcpu;
	struct saved s;
	struct vm *vm;
	struct ucall uc;
	uint8_t x87[48];
	uint8_t *data;
	uint64_t ticks;
	int i;

	TEST_REQUIRE_CAP(KVM_CAP_IRQCHIP);
	TEST_REQUIRE_CAP(KVM_CAP_VCPU_EVENTS);
	TEST_REQUIRE_CAP(KVM_CAP_DEBUGREGS);
	TEST_REQUIRE_CAP(KVM_CAP_XSAVE);
	memset(&s, 0, sizeof(s));
	cpuid = kvm_get_supported_cpuid();

	vm = irqchip_vm();
	vm_add_memory(vm, 0, 0, GUEST_MEM_SIZE, 0);
	vm_init_tables(vm);
	vm_load_code(vm, GUEST_CODE(sr_guest));
	vm_set_idt_gate(vm, MODE_LONG64, VEC_TIMER, guest_code_gpa(vm, sr_timer));
	vcpu = vcpu_add(vm, 0);
	vcpu_set_cpuid(vcpu, cpuid);
	vcpu_init_mode(vcpu, MODE_LONG64, GUEST_CODE_GPA);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	/*
	 * The OUT of the ucall is finished only by the next KVM_RUN (api.rst,
	 * KVM_EXIT_IO): with immediate_exit that run completes it and returns
	 * EINTR at once, and the state is consistent to save.
	 */
	vcpu->run->immediate_exit = 1;
	ASSERT_EQ(-1, ioctl(vcpu->fd, KVM_RUN, 0));
	ASSERT_EQ(EINTR, errno);
	vcpu->run->immediate_exit = 0;

	save_state(vcpu, &s);
	ticks = *(uint64_t *)((char *)s.mem + TICKS_GPA);
	TH_LOG("saved at %llu ticks: %u MSRs, XSAVE %d bytes",
	       (unsigned long long)ticks, s.msrs->nmsrs, s.xsave_size);
	vm_free(vcpu->vm);		/* the old VM is gone for good */

	vcpu = restore_state(_metadata, &s, cpuid);
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));

	data = gpa_to_hva(vcpu->vm, GUEST_DATA_GPA);
	EXPECT_LE(ticks + 3, *(uint64_t *)(data + TICKS_GPA - GUEST_DATA_GPA));
	EXPECT_EQ(MXCSR_VALUE, *(uint32_t *)(data + MXCSR_GPA - GUEST_DATA_GPA));
	expected_x87(x87);
	EXPECT_EQ(0, memcmp(x87, data + X87_GPA - GUEST_DATA_GPA, sizeof(x87)));
	for (i = 0; i < 16; i++) {
		uint8_t want[16];

		memset(want, i + 1, sizeof(want));
		EXPECT_EQ(0, memcmp(want, data + XMM_GPA - GUEST_DATA_GPA + 16 * i,
				    16)) {
			TH_LOG("xmm%d differs", i);
		}
	}
	vm_free(vcpu->vm);
	free(s.mem);
	free(s.xsave);
	free(s.msrs);
	free(cpuid);
}

TEST_HARNESS_MAIN
