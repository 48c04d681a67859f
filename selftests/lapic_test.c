// SPDX-License-Identifier: GPL-2.0-only
/*
 * lapic_test: the in-kernel local APIC (KVM_CREATE_IRQCHIP).
 *
 * With KVM_CREATE_IRQCHIP every vCPU gets a local APIC in the kernel (SDM Vol.3
 * chapter 10): the guest programs it at 0xfee00000 (xAPIC) or through MSRs
 * 0x800-0x8ff (x2APIC), and interrupts, timers and IPIs between vCPUs never leave
 * the kernel. HLT no longer exits to userspace: the vCPU sleeps in KVM_RUN until an
 * interrupt (or a signal) wakes it. The cases:
 *
 *   self_ipi        ICR self-IPIs arrive once each; TPR holds one back until
 *                   lowered; PPR reads the class in service inside the handler
 *   timer           one-shot then periodic LVT timer, the guest waiting in HLT
 *   tsc_deadline    TSC-deadline mode: WRMSR 0x6e0, HLT, one interrupt, MSR reads 0
 *   deadline_far    a deadline of 2^64 - 1 (about 2,900 years at 200 MHz, Bochs' TSC):
 *                   armed and read back, no interrupt, disarmed; the host's
 *                   TSC-to-ns conversion must not overflow (a #DE in the host)
 *   x2apic          EXTD on: id and logical id by MSR, SELF IPI, EOI by MSR
 *   ipi             fixed IPIs from vCPU 0 to vCPU 1 (its own thread, halted
 *                   between them); a signal ends vCPU 1's KVM_RUN with EINTR
 *   init_sipi       vCPU 0 starts vCPU 1 with INIT and SIPI: it begins in real
 *                   mode at vector * 4096, as a PC's application processor
 *   state           KVM_GET/SET_LAPIC, MP state, KVM_CREATE_IRQCHIP's errors
 *   stress          8 vCPUs pass IPIs round a ring while the VMM keeps
 *                   interrupting them with signals; then the VM is destroyed with
 *                   every vCPU asleep or running; five times
 *   split           KVM_CAP_SPLIT_IRQCHIP: LAPIC in the kernel, the PIC in the
 *                   VMM, whose vector (KVM_INTERRUPT) arrives through LVT0 ExtINT
 *
 * Every case passes on kvm.ko too (the rigs run it on both). LAPIC_TEST_CASES=a,b
 * in the environment runs only the cases named (scripts/rig.sh --env).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

#define APIC_GPA	0xfee00000UL
#define COUNT_GPA	(GUEST_DATA_GPA + 0x00)	/* interrupts the guest took */
#define PPR_GPA		(GUEST_DATA_GPA + 0x08)	/* PPR the handler read */
#define FLAG_GPA	(GUEST_DATA_GPA + 0x10)	/* set by the started AP */
#define AP_COUNT_GPA	(GUEST_DATA_GPA + 0x18)	/* IPIs vCPU 1 took */
#define AP_START_GPA	0x20000			/* SIPI vector 0x20 */

#define VEC_IPI		0x40
#define VEC_TIMER	0x41
#define VEC_DEADLINE	0x42
#define VEC_X2		0x43
#define VEC_AP		0x44
#define NR_IPIS		50
#define VEC_RING	0x45
#define RING_VCPUS	8			/* a power of two */
#define RING_COUNT_GPA	(GUEST_DATA_GPA + 0x100)	/* IPIs each vCPU took */

/* rbx = the APIC page; EOI = write 0 to offset 0xb0. */
#define XAPIC_ON	"mov $0xfee00000, %ebx\n\t"				\
			"movl $0x1ff, 0xf0(%rbx)\n\t"	/* SVR: on, 0xff */

GUEST_ASM(lapic_guest, 64,
	/* ---- self_ipi ---- */
	"self_ipi_entry:\n\t"
	XAPIC_ON
	"sti\n\t"
	"xor %ecx, %ecx\n"
	"1: movl $" GSTR(0x40000 | VEC_IPI) ", 0x300(%rbx)\n\t"	/* self */
	"inc %ecx\n\t"
	"nop\n\t"
	"cmp " GSTR(COUNT_GPA) ", %rcx\n\t"
	"jne lapic_fail\n\t"
	"cmp $" GSTR(NR_IPIS) ", %ecx\n\t"
	"jne 1b\n\t"
	/* TPR class 5 holds vector 0x40 (class 4) back ... */
	"movl $0x50, 0x80(%rbx)\n\t"
	"movl $" GSTR(0x40000 | VEC_IPI) ", 0x300(%rbx)\n\t"
	"nop\n\t"
	"cmpq $" GSTR(NR_IPIS) ", " GSTR(COUNT_GPA) "\n\t"
	"jne lapic_fail\n\t"
	"mov 0xa0(%rbx), %esi\n\t"		/* PPR = TPR = 0x50 */
	"cmp $0x50, %esi\n\t"
	"jne lapic_fail\n\t"
	/* ... until it drops. */
	"movl $0, 0x80(%rbx)\n\t"
	"nop\n\t"
	"cmpq $" GSTR(NR_IPIS + 1) ", " GSTR(COUNT_GPA) "\n\t"
	"jne lapic_fail\n\t"
	GUEST_DONE

	/* ---- timer: one-shot 1 ms, then periodic 0.5 ms ---- */
	"timer_entry:\n\t"
	XAPIC_ON
	"movl $0xb, 0x3e0(%rbx)\n\t"		/* divide by 1 */
	"movl $" GSTR(VEC_TIMER) ", 0x320(%rbx)\n\t"	/* one-shot */
	"movl $1000000, 0x380(%rbx)\n"
	/* STI; HLT: no interrupt can slip in between and be waited for. */
	"2: sti\n\t"
	"hlt\n\t"
	"cli\n\t"
	"cmpq $0, " GSTR(COUNT_GPA) "\n\t"
	"je 2b\n\t"
	"mov 0x390(%rbx), %esi\n\t"		/* expired: current count 0 */
	"test %esi, %esi\n\t"
	"jnz lapic_fail\n\t"
	"cmpq $1, " GSTR(COUNT_GPA) "\n\t"
	"jne lapic_fail\n\t"
	"movl $" GSTR(0x20000 | VEC_TIMER) ", 0x320(%rbx)\n\t"	/* periodic */
	"movl $500000, 0x380(%rbx)\n"
	"3: sti\n\t"
	"hlt\n\t"
	"cli\n\t"
	"cmpq $6, " GSTR(COUNT_GPA) "\n\t"
	"jb 3b\n\t"
	"movl $0, 0x380(%rbx)\n\t"		/* stop */
	GUEST_DONE

	/* ---- deadline_far: the farthest deadline, then disarmed ---- */
	"deadline_far_entry:\n\t"
	XAPIC_ON
	"movl $" GSTR(0x40000 | VEC_DEADLINE) ", 0x320(%rbx)\n\t"
	"mov $0xffffffff, %eax\n\t"
	"mov $0xffffffff, %edx\n\t"
	"mov $0x6e0, %ecx\n\t"
	"wrmsr\n\t"
	"sti\n\t"
	"nop\n\t"
	"cli\n\t"
	"rdmsr\n\t"
	"and %edx, %eax\n\t"
	"cmp $0xffffffff, %eax\n\t"
	"jne lapic_fail\n\t"
	"xor %eax, %eax\n\t"
	"xor %edx, %edx\n\t"
	"wrmsr\n\t"
	"cmpq $0, " GSTR(COUNT_GPA) "\n\t"
	"jne lapic_fail\n\t"
	GUEST_DONE

	/* ---- tsc_deadline: 2M TSC ticks ahead ---- */
	"deadline_entry:\n\t"
	XAPIC_ON
	"movl $" GSTR(0x40000 | VEC_DEADLINE) ", 0x320(%rbx)\n\t"
	"rdtsc\n\t"
	"shl $32, %rdx\n\t"
	"or %rdx, %rax\n\t"
	"add $2000000, %rax\n\t"
	"mov %rax, %rdx\n\t"
	"shr $32, %rdx\n\t"
	"mov $0x6e0, %ecx\n\t"
	"wrmsr\n"
	"4: sti\n\t"
	"hlt\n\t"
	"cli\n\t"
	"cmpq $0, " GSTR(COUNT_GPA) "\n\t"
	"je 4b\n\t"
	"mov $0x6e0, %ecx\n\t"			/* fired: the MSR reads 0 */
	"rdmsr\n\t"
	"or %eax, %edx\n\t"
	"jnz lapic_fail\n\t"
	GUEST_DONE

	/* ---- x2apic ---- */
	"x2apic_entry:\n\t"
	"mov $0x1b, %ecx\n\t"
	"rdmsr\n\t"
	"or $0xc00, %eax\n\t"			/* EN | EXTD */
	"wrmsr\n\t"
	"mov $0x80f, %ecx\n\t"			/* SVR */
	"mov $0x1ff, %eax\n\t"
	"xor %edx, %edx\n\t"
	"wrmsr\n\t"
	"mov $0x802, %ecx\n\t"			/* ID */
	"rdmsr\n\t"
	"mov %eax, %esi\n\t"
	"mov $0x80d, %ecx\n\t"			/* LDR */
	"rdmsr\n\t"
	"mov %eax, %edx\n\t"
	GUEST_SYNC
	"sti\n\t"
	"mov $0x83f, %ecx\n\t"			/* SELF IPI */
	"mov $" GSTR(VEC_X2) ", %eax\n\t"
	"xor %edx, %edx\n\t"
	"wrmsr\n\t"
	"nop\n\t"
	"cmpq $1, " GSTR(COUNT_GPA) "\n\t"
	"jne lapic_fail\n\t"
	GUEST_DONE

	/* ---- ipi, vCPU 0: NR_IPIS fixed IPIs to APIC id 1, one at a time ---- */
	"ipi_bsp_entry:\n\t"
	XAPIC_ON
	"9: pause\n\t"				/* until vCPU 1's APIC is on */
	"cmpq $1, " GSTR(FLAG_GPA) "\n\t"
	"jne 9b\n\t"
	"xor %ecx, %ecx\n"
	"5: inc %ecx\n\t"
	"movl $0x01000000, 0x310(%rbx)\n\t"
	"movl $" GSTR(VEC_AP) ", 0x300(%rbx)\n"
	"6: pause\n\t"
	"cmp " GSTR(AP_COUNT_GPA) ", %rcx\n\t"
	"jne 6b\n\t"
	"cmp $" GSTR(NR_IPIS) ", %ecx\n\t"
	"jne 5b\n\t"
	GUEST_DONE

	/* ---- ipi, vCPU 1: wait in HLT ---- */
	"ipi_ap_entry:\n\t"
	XAPIC_ON
	"movq $1, " GSTR(FLAG_GPA) "\n\t"
	"sti\n"
	"7: hlt\n\t"
	"jmp 7b\n\t"

	/* ---- init_sipi, vCPU 0 ---- */
	"sipi_bsp_entry:\n\t"
	XAPIC_ON
	"movl $0x01000000, 0x310(%rbx)\n\t"
	"movl $0x4500, 0x300(%rbx)\n\t"		/* INIT, assert */
	"movl $0x01000000, 0x310(%rbx)\n\t"
	"movl $" GSTR(0x4600 | (AP_START_GPA >> 12)) ", 0x300(%rbx)\n"	/* SIPI */
	"8: pause\n\t"
	"cmpq $1, " GSTR(FLAG_GPA) "\n\t"
	"jne 8b\n\t"
	GUEST_DONE

	/* ---- split: idle with IF=1, reporting ---- */
	"split_entry:\n\t"
	XAPIC_ON
	"sti\n"
	"10: " GUEST_SYNC
	"jmp 10b\n\t"

	/* ---- stress: each vCPU IPIs the next (id + 1 mod 8), then halts ---- */
	"ring_entry:\n\t"
	XAPIC_ON
	"mov 0x20(%rbx), %edi\n\t"
	"shr $24, %edi\n\t"
	"inc %edi\n\t"
	"and $" GSTR(RING_VCPUS - 1) ", %edi\n\t"
	"shl $24, %edi\n"
	/* Send with IF=0, then STI; HLT: an IPI never slips in before HLT. */
	"11: movl %edi, 0x310(%rbx)\n\t"
	"movl $" GSTR(VEC_RING) ", 0x300(%rbx)\n\t"
	"sti\n\t"
	"hlt\n\t"
	"cli\n\t"
	"jmp 11b\n\t"
	"ring_handler:\n\t"
	"push %rax\n\t"
	"push %rbx\n\t"
	"mov $0xfee00000, %ebx\n\t"
	"mov 0x20(%rbx), %eax\n\t"
	"shr $24, %eax\n\t"
	"lock incq " GSTR(RING_COUNT_GPA) "(,%rax,8)\n\t"
	"movl $0, 0xb0(%rbx)\n\t"
	"pop %rbx\n\t"
	"pop %rax\n\t"
	"iretq\n\t"

	/* Handlers: count, note PPR, EOI. */
	"xapic_handler:\n\t"
	"push %rax\n\t"
	"incq " GSTR(COUNT_GPA) "\n\t"
	"mov $0xfee00000, %eax\n\t"
	"mov 0xa0(%rax), %eax\n\t"
	"mov %rax, " GSTR(PPR_GPA) "\n\t"
	"mov $0xfee00000, %eax\n\t"
	"movl $0, 0xb0(%rax)\n\t"
	"pop %rax\n\t"
	"iretq\n\t"
	"ap_handler:\n\t"
	"push %rax\n\t"
	"incq " GSTR(AP_COUNT_GPA) "\n\t"
	"mov $0xfee00000, %eax\n\t"
	"movl $0, 0xb0(%rax)\n\t"
	"pop %rax\n\t"
	"iretq\n\t"
	"x2_handler:\n\t"
	"push %rax\n\t"
	"push %rcx\n\t"
	"push %rdx\n\t"
	"incq " GSTR(COUNT_GPA) "\n\t"
	"mov $0x80b, %ecx\n\t"
	"xor %eax, %eax\n\t"
	"xor %edx, %edx\n\t"
	"wrmsr\n\t"
	"pop %rdx\n\t"
	"pop %rcx\n\t"
	"pop %rax\n\t"
	"iretq\n\t"
	"lapic_fail:\n\t"
	"mov %ecx, %edi\n\t"
	GUEST_FAIL
	"hlt\n\t");
extern const uint8_t self_ipi_entry[], timer_entry[], deadline_entry[], deadline_far_entry[],
	x2apic_entry[],
	ipi_bsp_entry[], ipi_ap_entry[], sipi_bsp_entry[], xapic_handler[], ap_handler[],
	x2_handler[], split_entry[], ring_entry[], ring_handler[];

/* The AP's first code after the SIPI: real mode, CS = 0x2000, DS = 0. */
GUEST_ASM(ap_real, 16,
	"movw $1, " GSTR(FLAG_GPA) "\n\t"
	GUEST_DONE);

/* Guest memory, tables and handlers, for a VM that has its irqchip. */
static void irqchip_vm_setup(struct vm *vm)
{
	vm_add_memory(vm, 0, 0, GUEST_MEM_SIZE, 0);
	vm_init_tables(vm);
	vm_load_code(vm, GUEST_CODE(lapic_guest));
	vm_set_idt_gate(vm, MODE_LONG64, VEC_IPI, guest_code_gpa(vm, xapic_handler));
	vm_set_idt_gate(vm, MODE_LONG64, VEC_TIMER, guest_code_gpa(vm, xapic_handler));
	vm_set_idt_gate(vm, MODE_LONG64, VEC_DEADLINE, guest_code_gpa(vm, xapic_handler));
	vm_set_idt_gate(vm, MODE_LONG64, VEC_X2, guest_code_gpa(vm, x2_handler));
	vm_set_idt_gate(vm, MODE_LONG64, VEC_AP, guest_code_gpa(vm, ap_handler));
	vm_set_idt_gate(vm, MODE_LONG64, VEC_RING, guest_code_gpa(vm, ring_handler));
}

/* A VM with the in-kernel irqchip, guest memory and tables, no vCPU yet. */
static struct vm *irqchip_vm(void)
{
	struct vm *vm = vm_create();

	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0))
		test_fail("KVM_CREATE_IRQCHIP: %s", strerror(errno));
	irqchip_vm_setup(vm);
	return vm;
}

/*
 * A vCPU in long mode at @entry, with the supported CPUID plus TSC-deadline (which
 * KVM offers through KVM_CAP_TSC_DEADLINE_TIMER, not in the supported table), and
 * runnable: a vCPU other than the BSP starts waiting for INIT/SIPI otherwise.
 */
static struct vcpu *irqchip_vcpu(struct vm *vm, uint32_t id, const void *entry)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct kvm_cpuid2 *cpuid = kvm_get_supported_cpuid();
	struct vcpu *vcpu = vcpu_add(vm, id);
	uint32_t i;

	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 1)
			cpuid->entries[i].ecx |= 1u << 24;
	vcpu_set_cpuid(vcpu, cpuid);
	free(cpuid);
	vcpu_init_mode(vcpu, MODE_LONG64, guest_code_gpa(vm, entry));
	if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp))
		test_fail("KVM_SET_MP_STATE: %s", strerror(errno));
	return vcpu;
}

/* LAPIC_TEST_CASES: a comma-separated list of the cases to run; all if unset. */
static bool case_wanted(const char *name)
{
	const char *list = getenv("LAPIC_TEST_CASES");
	size_t n = strlen(name);
	const char *p;

	if (!list || !*list)
		return true;
	for (p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

#define TEST_REQUIRE_CASE(name) do {						\
	if (!case_wanted(name))							\
		SKIP(return, "not in LAPIC_TEST_CASES");			\
} while (0)

static uint64_t guest_u64(struct vm *vm, uint64_t gpa)
{
	return *(volatile uint64_t *)gpa_to_hva(vm, gpa);
}

TEST(self_ipi)
{
	struct vcpu *vcpu;
	struct vm *vm;

	TEST_REQUIRE_CASE("self_ipi");
	TEST_REQUIRE_CAP(KVM_CAP_IRQCHIP);
	vm = irqchip_vm();
	vcpu = irqchip_vcpu(vm, 0, self_ipi_entry);
	vcpu_run_until_done(vcpu);
	EXPECT_EQ(NR_IPIS + 1, guest_u64(vm, COUNT_GPA));
	/* In the handler the vector's class is in service. */
	EXPECT_EQ(VEC_IPI & 0xf0, guest_u64(vm, PPR_GPA));
	vm_free(vm);
}

TEST(timer)
{
	struct vcpu *vcpu;
	struct vm *vm;

	TEST_REQUIRE_CASE("timer");
	TEST_REQUIRE_CAP(KVM_CAP_IRQCHIP);
	vm = irqchip_vm();
	vcpu = irqchip_vcpu(vm, 0, timer_entry);
	vcpu_run_until_done(vcpu);
	/* More ticks may come between the guest's check and its stop. */
	EXPECT_LE(6, guest_u64(vm, COUNT_GPA));
	/*
	 * The HLTs slept in the kernel: no KVM_EXIT_HLT came out (the run would
	 * have failed on it). Not every tick finds the guest halted.
	 */
	EXPECT_LE(1, vcpu_stat(vcpu, "halt_exits"));
	vm_free(vm);
}

TEST(tsc_deadline)
{
	struct vcpu *vcpu;
	struct vm *vm;

	TEST_REQUIRE_CASE("tsc_deadline");
	TEST_REQUIRE_CAP(KVM_CAP_TSC_DEADLINE_TIMER);
	vm = irqchip_vm();
	vcpu = irqchip_vcpu(vm, 0, deadline_entry);
	vcpu_run_until_done(vcpu);
	EXPECT_EQ(1, guest_u64(vm, COUNT_GPA));
	vm_free(vm);
}

TEST(deadline_far)
{
	struct vcpu *vcpu;
	struct vm *vm;

	TEST_REQUIRE_CASE("deadline_far");
	TEST_REQUIRE_CAP(KVM_CAP_TSC_DEADLINE_TIMER);
	vm = irqchip_vm();
	vcpu = irqchip_vcpu(vm, 0, deadline_far_entry);
	vcpu_run_until_done(vcpu);
	EXPECT_EQ(0, guest_u64(vm, COUNT_GPA));
	vm_free(vm);
}

TEST(x2apic)
{
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	TEST_REQUIRE_CASE("x2apic");
	TEST_REQUIRE_CAP(KVM_CAP_IRQCHIP);
	vm = irqchip_vm();
	vcpu_add(vm, 0);	/* ids 0..2: x2APIC id 2, cluster 0, bit 2 */
	vcpu_add(vm, 1);
	vcpu = irqchip_vcpu(vm, 2, x2apic_entry);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(2, uc.args[1]);		/* RSI: x2APIC id = vCPU id */
	EXPECT_EQ(1u << 2, uc.args[2]);		/* RDX: logical id (10.12.10.2) */
	vcpu_run_until_done(vcpu);
	EXPECT_EQ(1, guest_u64(vm, COUNT_GPA));
	vm_free(vm);
}

/* vCPU 1 runs on a thread of its own until a signal stops it. */
struct ap_thread {
	struct vcpu *vcpu;
	pthread_t thread;
	int ret, err;		/* the last KVM_RUN */
	bool done;		/* it reported UCALL_DONE */
};

static void on_sigusr1(int sig)
{
	(void)sig;
}

static void *ap_run(void *arg)
{
	struct ap_thread *t = arg;
	struct ucall uc;

	for (;;) {
		t->ret = __vcpu_run(t->vcpu);
		t->err = errno;
		/* kvm.ko: an AP waiting for INIT/SIPI returns EAGAIN on each event. */
		if (t->ret && t->err == EAGAIN)
			continue;
		if (t->ret)
			return NULL;
		if (vcpu_get_ucall(t->vcpu, &uc) == UCALL_DONE) {
			t->done = true;
			return NULL;
		}
		if (uc.cmd != UCALL_SYNC)
			return NULL;
	}
}

static void ap_start(struct ap_thread *t, struct vcpu *vcpu)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };

	sigaction(SIGUSR1, &sa, NULL);
	t->vcpu = vcpu;
	pthread_create(&t->thread, NULL, ap_run, t);
}

TEST(ipi)
{
	struct vcpu *bsp, *ap;
	struct ap_thread t = {};
	struct kvm_mp_state mp;
	struct vm *vm;

	TEST_REQUIRE_CASE("ipi");
	TEST_REQUIRE_CAP(KVM_CAP_IRQCHIP);
	vm = irqchip_vm();
	bsp = irqchip_vcpu(vm, 0, ipi_bsp_entry);
	ap = irqchip_vcpu(vm, 1, ipi_ap_entry);
	ap_start(&t, ap);
	vcpu_run_until_done(bsp);
	EXPECT_EQ(NR_IPIS, guest_u64(vm, AP_COUNT_GPA));

	/*
	 * vCPU 1 is asleep in HLT inside KVM_RUN, or about to be: after the
	 * last IPI it counts and halts again. Give it the time to get there
	 * (on the debug kernel it had not, once: mp_state RUNNABLE in a
	 * fresh-clone make check, 2026-12-03), then a signal ends the sleep.
	 */
	usleep(200 * 1000);
	pthread_kill(t.thread, SIGUSR1);
	pthread_join(t.thread, NULL);
	EXPECT_EQ(-1, t.ret);
	EXPECT_EQ(EINTR, t.err);
	EXPECT_EQ(KVM_EXIT_INTR, ap->run->exit_reason);
	ASSERT_EQ(0, ioctl(ap->fd, KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_HALTED, mp.mp_state);
	/*
	 * It slept in HLT between IPIs: for most of them. The BSP sends the
	 * next one as soon as it sees the count move, and that IPI may come
	 * before the AP is back in HLT (kvm_amd: 47 halts for 50 IPIs once).
	 */
	EXPECT_LE(NR_IPIS / 2, vcpu_stat(ap, "halt_exits"));
	vm_free(vm);
}

TEST(init_sipi)
{
	struct kvm_mp_state mp;
	struct kvm_sregs sregs;
	struct ap_thread t = {};
	struct vcpu *bsp, *ap;
	struct vm *vm;

	TEST_REQUIRE_CASE("init_sipi");
	TEST_REQUIRE_CAP(KVM_CAP_IRQCHIP);
	vm = irqchip_vm();
	memcpy(gpa_to_hva(vm, AP_START_GPA), ap_real_start, ap_real_end - ap_real_start);
	bsp = irqchip_vcpu(vm, 0, sipi_bsp_entry);
	ap = vcpu_add(vm, 1);
	/* An AP starts out waiting for INIT and SIPI. */
	ASSERT_EQ(0, ioctl(ap->fd, KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_UNINITIALIZED, mp.mp_state);

	ap_start(&t, ap);
	vcpu_run_until_done(bsp);
	pthread_join(t.thread, NULL);
	ASSERT_TRUE(t.done) {
		TH_LOG("vCPU 1: KVM_RUN %d (%s)", t.ret, strerror(t.err));
	}
	EXPECT_EQ(1, guest_u64(vm, FLAG_GPA));
	vcpu_get_sregs(ap, &sregs);
	EXPECT_EQ(AP_START_GPA >> 4, sregs.cs.selector);
	EXPECT_EQ(AP_START_GPA, sregs.cs.base);
	EXPECT_EQ(0, sregs.cr0 & 1);		/* real mode */
	ASSERT_EQ(0, ioctl(ap->fd, KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, mp.mp_state);
	vm_free(vm);
}

TEST(state)
{
	struct kvm_lapic_state st, st2;
	struct kvm_mp_state mp;
	struct vcpu *vcpu;
	struct vm *vm;

	TEST_REQUIRE_CASE("state");
	TEST_REQUIRE_CAP(KVM_CAP_IRQCHIP);

	/* Without KVM_CREATE_IRQCHIP there is no LAPIC to get. */
	vm = vm_create();
	vcpu = vcpu_add(vm, 0);
	EXPECT_EQ(-1, ioctl(vcpu->fd, KVM_GET_LAPIC, &st));
	EXPECT_EQ(EINVAL, errno);
	/* The irqchip must come before the vCPUs. */
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0));
	EXPECT_EQ(EINVAL, errno);
	vm_free(vm);

	vm = irqchip_vm();
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0));
	EXPECT_EQ(EEXIST, errno);
	vcpu = vcpu_add(vm, 0);
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_GET_LAPIC, &st));
	/* Power-on state (SDM Vol.3 10.4.7.1): id 0, version 0x14, SVR 0xff. */
	EXPECT_EQ(0, *(uint32_t *)&st.regs[0x20]);
	EXPECT_EQ(0x14, *(uint32_t *)&st.regs[0x30] & 0xff);
	EXPECT_EQ(0xff, *(uint32_t *)&st.regs[0xf0]);
	EXPECT_EQ(0xffffffff, *(uint32_t *)&st.regs[0xe0]);
	EXPECT_EQ(1u << 16, *(uint32_t *)&st.regs[0x320]);	/* timer masked */
	/* The BSP is runnable. */
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, mp.mp_state);

	/* A round trip: TPR, SVR, an IRR bit and an LVT come back as set. */
	*(uint32_t *)&st.regs[0x80] = 0x30;
	*(uint32_t *)&st.regs[0xf0] = 0x1ff;
	*(uint32_t *)&st.regs[0x200 + 0x10 * 2] = 1u << 3;	/* vector 0x43 */
	*(uint32_t *)&st.regs[0x350] = 0x700;			/* LINT0 ExtINT */
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_SET_LAPIC, &st));
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_GET_LAPIC, &st2));
	EXPECT_EQ(0x30, *(uint32_t *)&st2.regs[0x80]);
	EXPECT_EQ(0x1ff, *(uint32_t *)&st2.regs[0xf0]);
	EXPECT_EQ(1u << 3, *(uint32_t *)&st2.regs[0x220]);
	EXPECT_EQ(0x700, *(uint32_t *)&st2.regs[0x350]);
	EXPECT_EQ(0x30, *(uint32_t *)&st2.regs[0xa0]);		/* PPR = TPR */

	/* MP states a VMM may set, and one it may not. */
	mp.mp_state = KVM_MP_STATE_HALTED;
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp));
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_HALTED, mp.mp_state);
	mp.mp_state = 1000;
	EXPECT_EQ(-1, ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp));
	EXPECT_EQ(EINVAL, errno);
	vm_free(vm);
}

struct ring_thread {
	struct vcpu *vcpu;
	pthread_t thread;
	volatile bool *stop;
	int bad_errno;		/* KVM_RUN failed with something else than EINTR */
	int exits;		/* returns to userspace */
};

static void *ring_run(void *arg)
{
	struct ring_thread *t = arg;

	while (!*t->stop) {
		t->exits++;
		if (__vcpu_run(t->vcpu) == 0) {
			t->bad_errno = -1;	/* the ring never exits */
			return NULL;
		}
		if (errno != EINTR) {
			t->bad_errno = errno;
			return NULL;
		}
	}
	return NULL;
}

TEST(stress)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	struct ring_thread t[RING_VCPUS];
	volatile bool stop;
	struct timespec ts = { 0, 2000000 };	/* 2 ms between signals */
	int round, i, k;
	struct vm *vm;

	TEST_REQUIRE_CASE("stress");
	TEST_REQUIRE_CAP(KVM_CAP_IRQCHIP);
	sigaction(SIGUSR1, &sa, NULL);
	for (round = 0; round < 5; round++) {
		vm = irqchip_vm();
		stop = false;
		for (i = 0; i < RING_VCPUS; i++) {
			t[i] = (struct ring_thread){ .stop = &stop };
			t[i].vcpu = irqchip_vcpu(vm, i, ring_entry);
		}
		for (i = 0; i < RING_VCPUS; i++)
			pthread_create(&t[i].thread, NULL, ring_run, &t[i]);
		/*
		 * Signals every 2 ms, at least 100 of them, until every vCPU
		 * took an IPI (a loaded host may not run a thread for a while),
		 * for at most 4 s a round.
		 */
		for (k = 0; k < 2000; k++) {
			nanosleep(&ts, NULL);
			pthread_kill(t[k % RING_VCPUS].thread, SIGUSR1);
			if (k < 100)
				continue;
			for (i = 0; i < RING_VCPUS; i++)
				if (!guest_u64(vm, RING_COUNT_GPA + 8 * i))
					break;
			if (i == RING_VCPUS)
				break;
		}
		stop = true;
		for (i = 0; i < RING_VCPUS; i++) {
			/* Until it is out: a signal may come before its KVM_RUN. */
			while (pthread_tryjoin_np(t[i].thread, NULL)) {
				pthread_kill(t[i].thread, SIGUSR1);
				nanosleep(&ts, NULL);
			}
			EXPECT_EQ(0, t[i].bad_errno) {
				TH_LOG("round %d, vCPU %d: KVM_RUN %s", round, i,
				       t[i].bad_errno < 0 ? "exited to userspace" :
				       strerror(t[i].bad_errno));
			}
			EXPECT_LT(0, guest_u64(vm, RING_COUNT_GPA + 8 * i)) {
				TH_LOG("round %d: vCPU %d took no IPI", round, i);
			}
		}
		vm_free(vm);
	}
}

TEST(split)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 } };
	struct kvm_interrupt irq = { .irq = VEC_IPI };
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	struct vcpu *vcpu;
	struct ucall uc;
	struct vm *vm;

	TEST_REQUIRE_CASE("split");
	TEST_REQUIRE_CAP(KVM_CAP_SPLIT_IRQCHIP);
	vm = vm_create();
	cap.flags = 1;
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EINVAL, errno);
	cap.flags = 0;
	ASSERT_EQ(0, ioctl(vm->fd, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0));
	EXPECT_EQ(EEXIST, errno);
	/* The IOAPIC and PIC are the VMM's: none to get. */
	EXPECT_EQ(-1, ioctl(vm->fd, KVM_GET_IRQCHIP, &chip));
	EXPECT_EQ(ENXIO, errno);

	irqchip_vm_setup(vm);
	vcpu = irqchip_vcpu(vm, 0, split_entry);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(1, vcpu->run->ready_for_interrupt_injection);
	/* The VMM's PIC raises a vector: it arrives through LINT0 (ExtINT). */
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_INTERRUPT, &irq));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(1, guest_u64(vm, COUNT_GPA));
	vm_free(vm);
}

TEST_HARNESS_MAIN
