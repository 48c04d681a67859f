// SPDX-License-Identifier: GPL-2.0-only
/*
 * host_state_test: the vCPU thread's own segment registers survive KVM_RUN.
 *
 * On Intel, a VM exit loads DS, ES, FS and GS with the selectors of the VMCS
 * host-state area (null ones, for a kernel) and sets the GDT limit to 0xffff
 * (SDM Vol.3 28.5.2). Like KVM, minikvm gives the thread its own values back
 * only when KVM_RUN returns or when the thread is scheduled out in the middle
 * of it (the preempt notifier's sched_out), not after each exit it handles in
 * the kernel. On AMD, VMRUN and #VMEXIT switch these registers themselves
 * (APM Vol.2 15.5.1) and the test is a plain regression check.
 *
 * Each test gives the thread selectors or bases userspace can see, lets the
 * guest make thousands of in-kernel exits (CPUID) while a second thread spins
 * on the same CPU (so the scheduler takes the vCPU thread off the CPU inside
 * KVM_RUN), and checks them after every KVM_RUN.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <asm/ldt.h>
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

/* Linux's flat user data segment: GDT entry 5, RPL 3. */
#define USER_DS		0x2b

#define ROUNDS		20
#define CPUIDS		"5000"	/* in-kernel exits per round */

/* CPUID (an exit the kernel handles) CPUIDS times, a ucall, and again. */
GUEST_ASM(cpuid_spin, 64,
	"1:\n\t"
	"mov $" CPUIDS ", %r12d\n"
	"2:\n\t"
	"xor %eax, %eax\n\t"
	"cpuid\n\t"
	"dec %r12d\n\t"
	"jnz 2b\n\t"
	GUEST_SYNC
	"jmp 1b\n\t");

static __thread unsigned long tls_marker = 0x5eed;
static unsigned long gs_marker = 0x6a6a6a6a;

#define read_sel(seg) ({						\
	uint16_t __v;							\
	asm volatile("mov %%" #seg ", %0" : "=r" (__v));		\
	__v; })
#define load_sel(seg, v)						\
	asm volatile("mov %0, %%" #seg :: "r" ((uint16_t)(v)))

static unsigned long arch_get(int code)
{
	unsigned long v = 0;

	syscall(SYS_arch_prctl, code, &v);
	return v;
}

/* A thread that spins on the vCPU thread's CPU until told to stop. */
struct spinner {
	pthread_t thread;
	cpu_set_t cpu;
	volatile int stop;
};

static void *spin(void *arg)
{
	struct spinner *s = arg;

	sched_setaffinity(0, sizeof(s->cpu), &s->cpu);
	while (!s->stop)
		;
	return NULL;
}

static void spinner_start(struct spinner *s)
{
	CPU_ZERO(&s->cpu);
	CPU_SET(sched_getcpu(), &s->cpu);
	sched_setaffinity(0, sizeof(s->cpu), &s->cpu);
	s->stop = 0;
	pthread_create(&s->thread, NULL, spin, s);
}

static void spinner_stop(struct spinner *s)
{
	s->stop = 1;
	pthread_join(s->thread, NULL);
}

/* Involuntary context switches of this thread so far (/proc). */
static long nonvoluntary_switches(void)
{
	char path[64], line[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/status",
		 (long)syscall(SYS_gettid));
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "nonvoluntary_ctxt_switches: %ld", &n);
	if (f)
		fclose(f);
	return n;
}

/* DS, ES, GS hold a user data selector; FS base is the thread's TLS. */
TEST(selectors)
{
	unsigned long fs_base = arch_get(ARCH_GET_FS);
	struct spinner s;
	struct vcpu *vcpu;
	struct ucall uc;
	long sw0;
	int i;

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(cpuid_spin));
	load_sel(ds, USER_DS);
	load_sel(es, USER_DS);
	load_sel(gs, USER_DS);
	spinner_start(&s);
	sw0 = nonvoluntary_switches();

	for (i = 0; i < ROUNDS; i++) {
		ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
		ASSERT_EQ(USER_DS, read_sel(ds));
		ASSERT_EQ(USER_DS, read_sel(es));
		ASSERT_EQ(USER_DS, read_sel(gs));
		ASSERT_EQ(fs_base, arch_get(ARCH_GET_FS));
		ASSERT_EQ(0x5eed, tls_marker);
	}
	spinner_stop(&s);
	TH_LOG("%ld involuntary context switches during KVM_RUN",
	       nonvoluntary_switches() - sw0);
	load_sel(gs, 0);
	vm_free(vcpu->vm);
}

/* GS selector 0 and a GS base of our own (the kernel's KERNEL_GS_BASE). */
TEST(gs_base)
{
	struct spinner s;
	struct vcpu *vcpu;
	struct ucall uc;
	unsigned long v;
	int i;

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(cpuid_spin));
	ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_SET_GS,
			     (unsigned long)&gs_marker));
	spinner_start(&s);

	for (i = 0; i < ROUNDS; i++) {
		ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
		ASSERT_EQ((unsigned long)&gs_marker, arch_get(ARCH_GET_GS));
		asm volatile("mov %%gs:0, %0" : "=r" (v));
		ASSERT_EQ(gs_marker, v);
	}
	spinner_stop(&s);
	ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_SET_GS, 0UL));
	vm_free(vcpu->vm);
}

/*
 * An LDT of the thread's own (modify_ldt(2), as Wine and some VMMs use). A VM exit
 * on Intel leaves LDTR unusable (SDM Vol.3 28.5.2): unless the module loads the
 * thread's LDT again, the next load of an LDT selector faults (SIGSEGV), and ES,
 * restored to one, reads 0.
 */
#define LDT_SEL		0x7	/* LDT entry 0, TI = 1, RPL 3 */

TEST(ldt)
{
	struct user_desc d = {
		.entry_number = 0, .base_addr = 0, .limit = 0xfffff,
		.seg_32bit = 1, .contents = 0 /* data */, .read_exec_only = 0,
		.limit_in_pages = 1, .seg_not_present = 0, .useable = 1,
	};
	struct spinner s;
	struct vcpu *vcpu;
	struct ucall uc;
	int i;

	TEST_REQUIRE_KVM();
	ASSERT_EQ(0, syscall(SYS_modify_ldt, 1, &d, sizeof(d)));
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(cpuid_spin));
	load_sel(es, LDT_SEL);
	spinner_start(&s);

	for (i = 0; i < ROUNDS; i++) {
		ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
		ASSERT_EQ(LDT_SEL, read_sel(es));
		/* Loading the selector reads the LDT: a #GP here if LDTR is null. */
		load_sel(ds, LDT_SEL);
		load_sel(ds, USER_DS);
	}
	spinner_stop(&s);
	load_sel(es, USER_DS);
	vm_free(vcpu->vm);
}

TEST_HARNESS_MAIN
