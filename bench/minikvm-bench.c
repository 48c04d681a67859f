// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm-bench: micro-benchmarks of a KVM implementation, through the plain KVM API.
 *
 * Runs inside a test rig (bench/run.sh packs it as /tests/bench_test), on whatever
 * module owns /dev/kvm there: minikvm.ko or the real kvm + kvm_amd / kvm_intel. All
 * times are CLOCK_MONOTONIC of the rig's kernel. In the SVM rig (QEMU -icount
 * shift=0) that clock counts instructions: 1 ns = 1 instruction. In the VMX rig
 * (Bochs, clock: sync=none, ips=200M) it is virtual time: 1 ns = 0.2 instructions.
 * Either way the figures repeat from run to run; the host's wall clock is not used.
 *
 * Every guest is a few lines of 16-bit real-mode code (the asm blocks below) in a
 * 768 KiB memslot at GPA 0. Costs per iteration have their loop overhead removed:
 *   - exits to userspace (OUT, MMIO, HLT): one KVM_RUN per iteration; an empty
 *     userspace loop of the same count is subtracted;
 *   - in-kernel exits (CPUID, INVD): the guest loops N times inside one KVM_RUN;
 *     the same loop with a 2-byte NOP in place of the instruction is subtracted;
 *   - first touch of a page: one KVM_RUN touches N fresh pages, a second KVM_RUN
 *     touches the same (now mapped) pages again and is subtracted;
 *   - the in-kernel irqchip (KVM_CREATE_IRQCHIP; FS based at the xAPIC page,
 *     the real-mode IVT at GPA 0): the guest loops N times inside one KVM_RUN,
 *     each time raising one interrupt (LAPIC timer, self-IPI, or an IPI to a
 *     second vCPU halted on a thread of its own) and spinning until a handler
 *     has counted it; the same loop in which the guest counts by itself is
 *     subtracted. EOI writes alone: like CPUID, against a NOP.
 *
 * Output: "BENCH <key> <value> <unit>" lines (bench/run.sh turns them into the table),
 * "BENCH-TRACE" sections of function_graph output, and a one-result TAP plan so the
 * rig's parser knows the program finished. It measures; it does not judge: the only
 * failure is a KVM call that does not do what the KVM API says.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"

#define HOST_MEM	0x100000UL	/* host mapping behind slot 0 */
#define SLOT_SIZE	0xC0000UL	/* slot 0: GPA 0 - 768 KiB */
#define CODE_GPA	0x1000UL	/* guest code */
#define STACK_GPA	0x1000UL	/* real-mode SP (nothing pushes; kept in the code page) */
#define TOUCH_PAGES	128		/* GPA 0x20000 - 0xA0000, never touched by userspace */

#define N_USER		1000		/* KVM_RUN round trips per exit-to-userspace metric */
#define N_KERNEL	2000		/* guest loop count per in-kernel exit metric */
#define N_LIFE		8		/* VM create/run/destroy cycles */
#define N_MEM_VMS	100		/* VMs for the memory figures */
#define WARMUP		16

/* ------------------------------------------------------------ guest code */

/* A real-mode guest program: name[] .. name_end[] in .rodata. */
#define GUEST(name, body)						\
	extern const uint8_t name[], name##_end[];			\
	asm(".pushsection .rodata\n.code16\n" #name ":\n" body		\
	    "\n" #name "_end:\n.code64\n.popsection\n")

/* OUT to port 0x10 forever: every KVM_RUN returns KVM_EXIT_IO. */
GUEST(g_pio, "1: outb %al, $0x10\n jmp 1b");
/* HLT forever (no in-kernel irqchip: KVM_EXIT_HLT). */
GUEST(g_hlt, "1: hlt\n jmp 1b");
/* A byte store to GPA 0xD0000, above the slot: KVM_EXIT_MMIO. */
GUEST(g_mmio, "mov $0xD000, %bx\n mov %bx, %ds\n 1: movb %al, 0\n jmp 1b");
/* ESI times CPUID leaf 0, then OUT forever. */
GUEST(g_cpuid, "1: xor %eax, %eax\n cpuid\n dec %esi\n jnz 1b\n 2: outb %al, $0x10\n jmp 2b");
/* The same loop with a 2-byte NOP (66 90) instead of CPUID (0F A2). */
GUEST(g_cpuid0, "1: xor %eax, %eax\n .byte 0x66, 0x90\n dec %esi\n jnz 1b\n 2: outb %al, $0x10\n jmp 2b");
/* ESI times INVD (0F 08): intercepted on both vendors, the handler only skips it. */
GUEST(g_invd, "1: invd\n dec %esi\n jnz 1b\n 2: outb %al, $0x10\n jmp 2b");
GUEST(g_invd0, "1: .byte 0x66, 0x90\n dec %esi\n jnz 1b\n 2: outb %al, $0x10\n jmp 2b");
/*
 * OUT 0x10 once (code page now mapped), then forever: write one byte to each of SI
 * pages from GPA 0x20000 up, OUT 0x11.
 */
GUEST(g_touch,
      "outb %al, $0x10\n"
      "2: mov %si, %cx\n mov $0x2000, %ax\n"
      "1: mov %ax, %es\n movb $1, %es:0\n add $0x100, %ax\n loop 1b\n"
      "outb %al, $0x11\n jmp 2b");

/*
 * The in-kernel irqchip's guests. Segments: DS (and SS, CS) based at 0, FS at
 * the xAPIC page (vcpu_apic()), so that "%fs:0xb0" is the EOI register (SDM
 * Vol.3 Table 10-1). Interrupts go through the real-mode IVT at GPA 0, which
 * userspace fills (apic_vm()); the handler's 6 bytes of stack are below SP.
 */
#define APIC_GPA	0xfee00000UL
#define COUNT_GPA	0x800		/* interrupts the handler counted */
#define READY_GPA	0x804		/* vCPU 1's APIC is on */
#define AP_SP		0xf00		/* vCPU 1's stack (vCPU 0 keeps STACK_GPA) */
#define VEC		0x40		/* every measured interrupt */
#define VEC_STOP	0x41		/* ends vCPU 1's KVM_RUN */
#define STR_(x)		#x
#define STR(x)		STR_(x)

/* SVR (0xf0): APIC software-enabled, spurious vector 0xff (SDM Vol.3 10.9). */
#define APIC_ON		"movl $0x1ff, %fs:0xf0\n"

/*
 * An irqchip guest: `setup` once from CODE_GPA; then, from name_loop, `pre`
 * and ESI times: `action` (one instruction that raises one interrupt), spin
 * until the handler name_h has counted it (it counts, writes EOI, IRETs),
 * then OUT 0x10 forever. KVM_SET_REGS zeroes what `pre` sets up, so the
 * measured KVM_RUN, which starts at name_loop, runs it again. `more`: code
 * of the guest's own after the handler.
 */
#define APIC_GUEST(name, setup, pre, action, more)				\
	GUEST(name, setup							\
	      #name "_loop:\n sti\n xor %edi, %edi\n mov %edi, " STR(COUNT_GPA)	\
	      "\n" pre "1: inc %edi\n" action "\n"				\
	      "2: cmp %edi, " STR(COUNT_GPA) "\n jne 2b\n dec %esi\n jnz 1b\n"	\
	      "3: outb %al, $0x10\n jmp 3b\n"					\
	      #name "_h:\n incl " STR(COUNT_GPA) "\n movl $0, %fs:0xb0\n iret\n"	\
	      more);								\
	extern const uint8_t name##_loop[], name##_h[]

/* The loop overhead: the guest counts by itself. */
APIC_GUEST(g_count0, "", "", "incl " STR(COUNT_GPA), "");
/* One-shot LAPIC timer (LVTT 0x320) of 1 tick at divide-by-1 (TDCR 0x3e0 = 0xb). */
APIC_GUEST(g_oneshot,
	   APIC_ON "movl $0xb, %fs:0x3e0\n movl $" STR(VEC) ", %fs:0x320\n", "",
	   "movl $1, %fs:0x380", "");
/* TSC-deadline mode (LVTT bits 18:17 = 10b): WRMSR 0x6e0 with deadline 1, long past. */
APIC_GUEST(g_deadline,
	   APIC_ON "movl $(0x40000 | " STR(VEC) "), %fs:0x320\n",
	   "mov $0x6e0, %ecx\n xor %edx, %edx\n mov $1, %eax\n", "wrmsr", "");
/* ICR (0x300): fixed, shorthand self (bits 19:18 = 01b). */
APIC_GUEST(g_self_ipi, APIC_ON, "", "movl $(0x40000 | " STR(VEC) "), %fs:0x300", "");
/*
 * vCPU 0 sends a fixed IPI to APIC id 1 (ICR2 0x310 written once); vCPU 1
 * (g_ipi_ap, its own thread) waits in HLT and runs g_ipi_h. g_ipi_done sends
 * VEC_STOP, whose handler g_ipi_stop makes vCPU 1 exit with OUT 0x12.
 */
APIC_GUEST(g_ipi, APIC_ON "movl $0x01000000, %fs:0x310\n", "",
	   "movl $" STR(VEC) ", %fs:0x300",
	   "g_ipi_ap:\n mov $" STR(AP_SP) ", %sp\n" APIC_ON
	   "movl $1, " STR(READY_GPA) "\n sti\n 4: hlt\n jmp 4b\n"
	   "g_ipi_stop:\n outb %al, $0x12\n jmp g_ipi_stop\n"
	   "g_ipi_done:\n movl $" STR(VEC_STOP) ", %fs:0x300\n 5: outb %al, $0x11\n jmp 5b");
extern const uint8_t g_ipi_ap[], g_ipi_stop[], g_ipi_done[];
/* EOI (0xb0) written with nothing in service, against a NOP. */
GUEST(g_eoi, APIC_ON "g_eoi_loop:\n"
      "1: movl $0, %fs:0xb0\n dec %esi\n jnz 1b\n 2: outb %al, $0x10\n jmp 2b");
GUEST(g_eoi0, APIC_ON "g_eoi0_loop:\n"
      "1: nop\n dec %esi\n jnz 1b\n 2: outb %al, $0x10\n jmp 2b");
extern const uint8_t g_eoi_loop[], g_eoi0_loop[];

/* ------------------------------------------------------------ helpers */

static int kvm_fd;
static size_t run_size;
static const char *vendor = "?";

static void die(const char *fmt, ...)
{
	va_list ap;

	printf("not ok 1 bench # ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (errno %d: %s)\n", errno, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void report(const char *key, double value, const char *unit)
{
	printf("BENCH %s %.0f %s\n", key, value, unit);
	fflush(stdout);
}

struct bvm {
	int fd;
	int vcpu[4];
	struct kvm_run *run[4];
	void *mem;
	int own_mem;
};

/* Fresh guest memory (not touched by userspace except the code): 4 KiB pages only. */
static void *guest_mem(const uint8_t *code, const uint8_t *end)
{
	void *mem = mmap(NULL, HOST_MEM, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (mem == MAP_FAILED)
		die("mmap guest memory");
	madvise(mem, HOST_MEM, MADV_NOHUGEPAGE);
	memcpy((char *)mem + CODE_GPA, code, end - code);
	return mem;
}

static void vm_new(struct bvm *v, void *mem, uint64_t slot_size)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = slot_size,
		.userspace_addr = (uintptr_t)mem,
	};

	v->fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (v->fd < 0)
		die("KVM_CREATE_VM");
	v->mem = mem;
	if (ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &r))
		die("KVM_SET_USER_MEMORY_REGION");
}

/* Point vCPU i at real-mode code at rip, all segments based at 0. */
static void vcpu_set(struct bvm *v, int i, uint64_t rip, uint64_t rsi)
{
	struct kvm_regs regs = { .rip = rip, .rsi = rsi, .rsp = STACK_GPA, .rflags = 2 };

	if (ioctl(v->vcpu[i], KVM_SET_REGS, &regs))
		die("KVM_SET_REGS");
}

static void vcpu_new(struct bvm *v, int i, uint64_t rip, uint64_t rsi)
{
	struct kvm_segment *segs[6];
	struct kvm_sregs sregs;
	int s;

	v->vcpu[i] = ioctl(v->fd, KVM_CREATE_VCPU, i);
	if (v->vcpu[i] < 0)
		die("KVM_CREATE_VCPU %d", i);
	v->run[i] = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu[i], 0);
	if (v->run[i] == MAP_FAILED)
		die("mmap kvm_run");
	if (ioctl(v->vcpu[i], KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	segs[0] = &sregs.cs; segs[1] = &sregs.ds; segs[2] = &sregs.es;
	segs[3] = &sregs.fs; segs[4] = &sregs.gs; segs[5] = &sregs.ss;
	for (s = 0; s < 6; s++) {
		segs[s]->base = 0;
		segs[s]->selector = 0;
	}
	if (ioctl(v->vcpu[i], KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS");
	vcpu_set(v, i, rip, rsi);
}

static void vm_free(struct bvm *v, int nr_vcpus)
{
	int i;

	for (i = 0; i < nr_vcpus; i++) {
		munmap(v->run[i], run_size);
		close(v->vcpu[i]);
	}
	close(v->fd);
	if (v->own_mem)
		munmap(v->mem, HOST_MEM);
}

/* A VM with one vCPU running `code` from CODE_GPA, in its own fresh memory. */
static void vm_with_code(struct bvm *v, const uint8_t *code, const uint8_t *end, uint64_t rsi)
{
	vm_new(v, guest_mem(code, end), SLOT_SIZE);
	v->own_mem = 1;
	vcpu_new(v, 0, CODE_GPA, rsi);
}

static void run_expect(struct bvm *v, int i, uint32_t reason)
{
	if (ioctl(v->vcpu[i], KVM_RUN, 0))
		die("KVM_RUN");
	if (v->run[i]->exit_reason != reason)
		die("KVM_RUN: exit reason %u, expected %u", v->run[i]->exit_reason, reason);
}

/* ------------------------------------------------------------ metrics */

/* Cost of an empty userspace loop of n iterations that reads kvm_run like the real ones. */
static double user_loop_ns(struct kvm_run *run, int n)
{
	volatile uint32_t sink = 0;
	uint64_t t0 = now_ns();
	int i;

	for (i = 0; i < n; i++)
		sink += *(volatile uint32_t *)&run->exit_reason;
	(void)sink;
	return (double)(now_ns() - t0);
}

/* One KVM_RUN per iteration, each returning `reason`: ns per round trip. */
static double exit_to_user(const uint8_t *code, const uint8_t *end, uint32_t reason)
{
	struct bvm v = { 0 };
	uint64_t t0, t1;
	double loop;
	int i;

	vm_with_code(&v, code, end, 0);
	for (i = 0; i < WARMUP; i++)
		run_expect(&v, 0, reason);
	t0 = now_ns();
	for (i = 0; i < N_USER; i++)
		run_expect(&v, 0, reason);
	t1 = now_ns();
	loop = user_loop_ns(v.run[0], N_USER);
	vm_free(&v, 1);
	return ((double)(t1 - t0) - loop) / N_USER;
}

/*
 * The syscall floor: KVM_CHECK_EXTENSION on a VM fd, an ioctl the module answers
 * without touching a vCPU. Every exit to userspace pays at least this (syscall
 * entry/exit, fd lookup, the LSM's ioctl hook) on top of the world switch.
 */
static double ioctl_floor(void)
{
	struct bvm v = { 0 };
	uint64_t t0, t1;
	int i;

	vm_with_code(&v, g_pio, g_pio_end, 0);
	for (i = 0; i < WARMUP; i++)
		ioctl(v.fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY);
	t0 = now_ns();
	for (i = 0; i < N_USER; i++)
		if (ioctl(v.fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0)
			die("KVM_CHECK_EXTENSION(KVM_CAP_USER_MEMORY)");
	t1 = now_ns();
	vm_free(&v, 1);
	return (double)(t1 - t0) / N_USER;
}

/* ns of one KVM_RUN in which the guest runs its loop n times (then OUTs). */
static double guest_loop(const uint8_t *code, const uint8_t *end, int n)
{
	struct bvm v = { 0 };
	uint64_t t0, t1;

	vm_with_code(&v, code, end, WARMUP);
	run_expect(&v, 0, KVM_EXIT_IO);		/* code page mapped, paths warm */
	vcpu_set(&v, 0, CODE_GPA, n);
	t0 = now_ns();
	run_expect(&v, 0, KVM_EXIT_IO);
	t1 = now_ns();
	vm_free(&v, 1);
	return (double)(t1 - t0);
}

static double in_kernel(const uint8_t *code, const uint8_t *end,
			const uint8_t *empty, const uint8_t *empty_end)
{
	return (guest_loop(code, end, N_KERNEL) - guest_loop(empty, empty_end, N_KERNEL)) /
	       N_KERNEL;
}

/* First touch of a guest page: ns per page (NPT/EPT violation, host fault-in, map). */
static double first_touch(void)
{
	struct bvm v = { 0 };
	uint64_t t0, t1, t2, t3;

	vm_with_code(&v, g_touch, g_touch_end, TOUCH_PAGES);
	run_expect(&v, 0, KVM_EXIT_IO);		/* OUT 0x10: code page mapped */
	t0 = now_ns();
	run_expect(&v, 0, KVM_EXIT_IO);		/* OUT 0x11: N fresh pages touched */
	t1 = now_ns();
	if (v.run[0]->io.port != 0x11)
		die("touch guest: port 0x%x", v.run[0]->io.port);
	t2 = now_ns();
	run_expect(&v, 0, KVM_EXIT_IO);		/* the same pages again, mapped */
	t3 = now_ns();
	vm_free(&v, 1);
	return ((double)(t1 - t0) - (double)(t3 - t2)) / TOUCH_PAGES;
}

/* ------------------------------------------------------------ in-kernel irqchip */

/* The real-mode IP of `label` in guest image `code` (loaded at CODE_GPA, CS base 0). */
static uint16_t guest_ip(const uint8_t *code, const uint8_t *label)
{
	return CODE_GPA + (label - code);
}

/*
 * What an irqchip guest's vCPU needs besides vcpu_new(): CPUID with the
 * TSC-deadline timer (leaf 1 ECX bit 24, which KVM_GET_SUPPORTED_CPUID leaves
 * to the VMM: QEMU sets it when KVM_CAP_TSC_DEADLINE_TIMER is there), FS based
 * at the APIC page, and MP state RUNNABLE (an application processor starts
 * waiting for a SIPI; kvm.ko's KVM_RUN then returns EAGAIN).
 */
static void vcpu_apic(struct bvm *v, int i)
{
	static struct kvm_cpuid2 *cpuid;
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct kvm_sregs sregs;
	uint32_t j;

	if (!cpuid) {
		cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
		if (!cpuid)
			die("calloc");
		cpuid->nent = 256;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid))
			die("KVM_GET_SUPPORTED_CPUID");
		for (j = 0; j < cpuid->nent; j++)
			if (cpuid->entries[j].function == 1)
				cpuid->entries[j].ecx |= 1U << 24;
	}
	if (ioctl(v->vcpu[i], KVM_SET_CPUID2, cpuid))
		die("KVM_SET_CPUID2");
	if (ioctl(v->vcpu[i], KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	sregs.fs.base = APIC_GPA;
	if (ioctl(v->vcpu[i], KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS");
	if (ioctl(v->vcpu[i], KVM_SET_MP_STATE, &mp))
		die("KVM_SET_MP_STATE");
}

/*
 * A VM with the in-kernel irqchip (created before the vCPUs) and `nr` vCPUs
 * running `code` from CODE_GPA, vCPU 0 with ESI = WARMUP. The IVT sends VEC to
 * `handler` and VEC_STOP to `stop` (either may be NULL).
 */
static void apic_vm(struct bvm *v, const uint8_t *code, const uint8_t *end,
		    const uint8_t *handler, const uint8_t *stop, int nr)
{
	uint16_t *ivt;
	int i;

	vm_new(v, guest_mem(code, end), SLOT_SIZE);
	v->own_mem = 1;
	if (ioctl(v->fd, KVM_CREATE_IRQCHIP, 0))
		die("KVM_CREATE_IRQCHIP");
	for (i = 0; i < nr; i++) {
		vcpu_new(v, i, CODE_GPA, WARMUP);
		vcpu_apic(v, i);
	}
	ivt = v->mem;		/* vector n: offset, segment at 4n */
	if (handler)
		ivt[VEC * 2] = guest_ip(code, handler);
	if (stop)
		ivt[VEC_STOP * 2] = guest_ip(code, stop);
}

static uint32_t guest_count(struct bvm *v)
{
	return *(volatile uint32_t *)((char *)v->mem + COUNT_GPA);
}

/* A guest that waits for an interrupt that never comes would hang the rig. */
static void on_alarm(int sig)
{
	(void)sig;	/* only to end KVM_RUN with EINTR */
}

static void alarm_arm(unsigned int s)
{
	struct sigaction sa = { .sa_handler = on_alarm };

	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: KVM_RUN fails */
	alarm(s);
}

/*
 * ns of one KVM_RUN of an APIC_GUEST (or g_eoi*) from `loop` with ESI = n,
 * after a first KVM_RUN from CODE_GPA (setup, WARMUP iterations). With a
 * handler, the guest must have counted n interrupts.
 */
static double apic_loop(const uint8_t *code, const uint8_t *end, const uint8_t *loop,
			const uint8_t *handler, int n)
{
	struct bvm v = { 0 };
	uint64_t t0, t1;

	apic_vm(&v, code, end, handler, NULL, 1);
	alarm_arm(60);
	run_expect(&v, 0, KVM_EXIT_IO);
	vcpu_set(&v, 0, guest_ip(code, loop), n);
	t0 = now_ns();
	run_expect(&v, 0, KVM_EXIT_IO);
	t1 = now_ns();
	alarm(0);
	if (handler && guest_count(&v) != (uint32_t)n)
		die("APIC guest: %u interrupts counted, %d expected", guest_count(&v), n);
	vm_free(&v, 1);
	return (double)(t1 - t0);
}

/* vCPU 1 of g_ipi: halted in KVM_RUN between IPIs, until VEC_STOP. */
static void *ipi_ap(void *arg)
{
	struct bvm *v = arg;

	run_expect(v, 1, KVM_EXIT_IO);
	if (v->run[1]->io.port != 0x12)
		die("IPI guest, vCPU 1: OUT to port 0x%x", v->run[1]->io.port);
	return NULL;
}

/*
 * ns of one KVM_RUN of vCPU 0 in which it sends n IPIs to vCPU 1, each time
 * waiting until vCPU 1's handler has counted it. Both threads share the
 * rig's one CPU: each round trip includes waking vCPU 1's thread and
 * switching to it and back.
 */
static double ipi_loop(int n)
{
	struct bvm v = { 0 };
	volatile uint32_t *ready;
	uint64_t t0, t1;
	pthread_t ap;

	apic_vm(&v, g_ipi, g_ipi_end, g_ipi_h, g_ipi_stop, 2);
	vcpu_set(&v, 1, guest_ip(g_ipi, g_ipi_ap), 0);
	alarm_arm(60);
	if (pthread_create(&ap, NULL, ipi_ap, &v))
		die("pthread_create");
	ready = (volatile uint32_t *)((char *)v.mem + READY_GPA);
	while (!*ready)
		sched_yield();
	run_expect(&v, 0, KVM_EXIT_IO);
	vcpu_set(&v, 0, guest_ip(g_ipi, g_ipi_loop), n);
	t0 = now_ns();
	run_expect(&v, 0, KVM_EXIT_IO);
	t1 = now_ns();
	if (guest_count(&v) != (uint32_t)n)
		die("IPI guest: %u IPIs counted, %d expected", guest_count(&v), n);
	vcpu_set(&v, 0, guest_ip(g_ipi, g_ipi_done), 0);
	run_expect(&v, 0, KVM_EXIT_IO);
	pthread_join(ap, NULL);
	alarm(0);
	vm_free(&v, 2);
	return (double)(t1 - t0);
}

/*
 * The in-kernel LAPIC, ns per interrupt with the loop's own cost (the guest
 * counting by itself, g_count0) taken out: timer armed and taken, self-IPI,
 * IPI to another vCPU and its answer; and EOI writes alone, against a NOP.
 */
static void apic_figures(void)
{
	double base;

	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0) {
		printf("# no KVM_CAP_IRQCHIP: APIC figures not measured\n");
		return;
	}
	base = apic_loop(g_count0, g_count0_end, g_count0_loop, g_count0_h, N_KERNEL);
	report("apic_timer_oneshot",
	       (apic_loop(g_oneshot, g_oneshot_end, g_oneshot_loop, g_oneshot_h,
			  N_KERNEL) - base) / N_KERNEL, "ns");
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
		report("apic_timer_deadline",
		       (apic_loop(g_deadline, g_deadline_end, g_deadline_loop,
				  g_deadline_h, N_KERNEL) - base) / N_KERNEL, "ns");
	else
		printf("# no KVM_CAP_TSC_DEADLINE_TIMER: TSC-deadline figure not measured\n");
	report("apic_self_ipi",
	       (apic_loop(g_self_ipi, g_self_ipi_end, g_self_ipi_loop, g_self_ipi_h,
			  N_KERNEL) - base) / N_KERNEL, "ns");
	report("apic_eoi",
	       (apic_loop(g_eoi, g_eoi_end, g_eoi_loop, NULL, N_KERNEL) -
		apic_loop(g_eoi0, g_eoi0_end, g_eoi0_loop, NULL, N_KERNEL)) / N_KERNEL, "ns");
	report("apic_ipi_round_trip", (ipi_loop(N_KERNEL) - base) / N_KERNEL, "ns");
}

/*
 * KVM_CREATE_VM + memslot + KVM_CREATE_VCPU + mmap + KVM_RUN to the first OUT, then
 * close everything. `keeper`: another VM stays open meanwhile, so that enabling
 * SVM/VMX on the first VM (and disabling it on the last) is not counted.
 */
static void lifecycle(const char *key, int keeper, int cycles)
{
	void *mem = guest_mem(g_pio, g_pio_end);
	struct bvm keep = { 0 };
	uint64_t create = 0, destroy = 0, t0, t1, t2;
	char name[64];
	int i;

	if (keeper)
		vm_new(&keep, mem, SLOT_SIZE);
	for (i = 0; i < cycles + 1; i++) {
		struct bvm v = { 0 };

		t0 = now_ns();
		vm_new(&v, mem, SLOT_SIZE);
		vcpu_new(&v, 0, CODE_GPA, 0);
		run_expect(&v, 0, KVM_EXIT_IO);
		t1 = now_ns();
		vm_free(&v, 1);
		t2 = now_ns();
		if (i == 0)
			continue;	/* the first cycle also faults in userspace's memory */
		create += t1 - t0;
		destroy += t2 - t1;
	}
	if (keeper)
		close(keep.fd);
	munmap(mem, HOST_MEM);
	snprintf(name, sizeof(name), "%s_create_run", key);
	report(name, (double)create / cycles, "ns");
	snprintf(name, sizeof(name), "%s_destroy", key);
	report(name, (double)destroy / cycles, "ns");
}

/* ------------------------------------------------------------ memory */

/* A /proc/meminfo or /proc/vmstat field (vmstat: "name value", meminfo: "name: value kB"). */
static long proc_field(const char *file, const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long v = 0;
	FILE *f = fopen(file, "r");

	if (!f)
		die("%s", file);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && (line[len] == ':' || line[len] == ' '))
			v = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

/*
 * Pages the kernel handed out and not taken back, since boot: the page allocator's
 * event counters, exact and independent of the per-CPU free lists (which make
 * MemFree lag by hundreds of KiB).
 */
static long pages_in_use(void)
{
	static const char *const zones[] = { "pgalloc_dma", "pgalloc_dma32",
					     "pgalloc_normal", "pgalloc_movable" };
	long n = -proc_field("/proc/vmstat", "pgfree");
	size_t i;

	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		n += proc_field("/proc/vmstat", zones[i]);
	return n;
}

struct memsnap {
	long pages, slab, kstack;
};

static void memsnap(struct memsnap *m)
{
	m->pages = pages_in_use();
	m->slab = proc_field("/proc/meminfo", "Slab");
	m->kstack = proc_field("/proc/meminfo", "KernelStack");
}

static int nr_mem_vms = N_MEM_VMS;	/* fewer if the module cannot hold that many */

/*
 * nr_mem_vms VMs with `vcpus` vCPUs each, every vCPU run once to HLT, all sharing one
 * 4 KiB page of guest memory (so that userspace's own memory does not grow). Returns
 * the KiB of pages they took (kernel memory plus this process's page tables for the
 * kvm_run mappings); slab and kernel-stack deltas in *d.
 */
static long mem_vms(void *page, int vcpus, struct memsnap *d)
{
	static struct bvm vms[N_MEM_VMS];
	struct memsnap a, b;
	int i, j;

	memsnap(&a);
	for (i = 0; i < nr_mem_vms; i++) {
		vm_new(&vms[i], page, 4096);
		for (j = 0; j < vcpus; j++) {
			vcpu_new(&vms[i], j, 0, 0);
			run_expect(&vms[i], j, KVM_EXIT_HLT);
		}
	}
	memsnap(&b);
	for (i = 0; i < nr_mem_vms; i++)
		vm_free(&vms[i], vcpus);
	d->slab = b.slab - a.slab;
	d->kstack = b.kstack - a.kstack;
	return (b.pages - a.pages) * 4;
}

/* How many VMs can exist at once (up to N_MEM_VMS): minikvm's SVM side gives each its own ASID. */
static int max_vms(void)
{
	static int fds[N_MEM_VMS];
	int n, i;

	for (n = 0; n < N_MEM_VMS; n++) {
		fds[n] = ioctl(kvm_fd, KVM_CREATE_VM, 0);
		if (fds[n] < 0)
			break;
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	return n;
}

/*
 * Per vCPU: (VMs with 4 vCPUs - VMs with 1 vCPU) / (3 x VMs); per VM: the 1-vCPU
 * figure minus one vCPU. A warm-up round first, so that slab caches and one-time
 * allocations are not counted.
 */
static void memory(void)
{
	struct rlimit nofile = { 4096, 4096 };
	struct memsnap d1, d4;
	long m1, m4;
	void *page;
	double per_vcpu, slab_vcpu;

	setrlimit(RLIMIT_NOFILE, &nofile);
	nr_mem_vms = max_vms();
	report("max_vms", nr_mem_vms, "VMs");
	if (nr_mem_vms < 2) {
		printf("# fewer than 2 VMs at once: memory not measured\n");
		return;
	}
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		die("mmap");
	memset(page, 0xf4, 4096);	/* HLT everywhere */
	mem_vms(page, 4, &d1);
	m1 = mem_vms(page, 1, &d1);
	m4 = mem_vms(page, 4, &d4);
	per_vcpu = (double)(m4 - m1) / (3 * nr_mem_vms);
	slab_vcpu = (double)(d4.slab - d1.slab) / (3 * nr_mem_vms);
	report("mem_per_vcpu", per_vcpu, "KiB");
	report("mem_per_vm", (double)m1 / nr_mem_vms - per_vcpu, "KiB");
	report("slab_per_vcpu", slab_vcpu, "KiB");
	report("slab_per_vm", (double)d1.slab / nr_mem_vms - slab_vcpu, "KiB");
	report("kstack_per_vm", (double)d1.kstack / nr_mem_vms, "KiB");
	munmap(page, 4096);
}

/* ------------------------------------------------------------ L2 Linux boot */

#define RUNNER		"/bin/minikvm-run"
#define L2_KERNEL	"/l2/vmlinuz"
#define L2_INITRD	"/l2/initrd.gz"
#define L2_APPEND	"console=ttyS0 earlyprintk=serial,ttyS0,115200 " \
			"tsc=reliable panic=-1 quiet"
#define L2_MARKER	"L2-MARKER sum=500500"
#define L2_LIMIT_S	900	/* rig seconds for one boot (Bochs: a few hundred) */

/*
 * The nested Linux boots of selftests/l2boot_test.c (and one more), timed from minikvm-run's
 * start to the marker line, one per interrupt-controller set-up:
 *   user    --irqchip=user: minikvm-run's 8259 and 8254 in userspace, every
 *           tick and EOI a trip out of the kernel (the guest: noapic nolapic)
 *   kpic    --irqchip=kernel, the same guest (noapic nolapic): it sees only
 *           the 8259s, now in the module; the same guest work as "user"
 *   kernel  --irqchip=kernel: PIC, IOAPIC, LAPIC (and PIT) in the module
 *   smp4    --irqchip=kernel --cpus 4: the three APs started by INIT/SIPI
 * The rig's L1 has one CPU in -icount runs, so the four vCPU threads of smp4
 * share it: the figure is the cost of bringing up SMP, not a speed-up.
 * minikvm_bench=...,nol2smp4 leaves the last one out.
 */
struct l2_variant {
	const char *key, *irqchip, *cpus, *append;
};

static const struct l2_variant l2_variants[] = {
	{ "l2_boot_user_to_marker", "--irqchip=user", "1", L2_APPEND " noapic nolapic" },
	{ "l2_boot_kpic_to_marker", "--irqchip=kernel", "1", L2_APPEND " noapic nolapic" },
	{ "l2_boot_to_marker", "--irqchip=kernel", "1", L2_APPEND },
	{ "l2_boot_smp4_to_marker", "--irqchip=kernel", "4", L2_APPEND },
};

static void l2_boot(const struct l2_variant *v)
{
	char *argv[] = { RUNNER, "--kernel", L2_KERNEL, "--initrd", L2_INITRD,
			 "--append", (char *)v->append, "--memory", "256",
			 (char *)v->irqchip, "--cpus", (char *)v->cpus, NULL };
	uint64_t t0, marker = 0;
	struct child c;
	char line[512], st[64];
	bool killed;
	int r, status;

	if (access(RUNNER, X_OK) || access(L2_KERNEL, R_OK) || access(L2_INITRD, R_OK)) {
		printf("# no %s or %s: L2 boot not measured\n", RUNNER, L2_KERNEL);
		return;
	}
	printf("# %s: %s --cpus %s --append '%s'\n", v->key, v->irqchip, v->cpus, v->append);
	t0 = now_ns();
	if (child_start(&c, argv, "l2-boot", false)) {
		printf("# could not start %s: L2 boot not measured\n", RUNNER);
		return;
	}
	while ((r = child_read_line(&c, line, sizeof(line), now_s() + L2_LIMIT_S)) > 0) {
		if (!marker && strstr(line, L2_MARKER))
			marker = now_ns();
		printf("# L2| %s\n", line);
	}
	status = child_stop(&c, r == 0 ? now_s() : now_s() + 10, &killed);
	printf("# minikvm-run: %s%s\n", wait_status_str(status, st, sizeof(st)),
	       killed ? " (stopped)" : "");
	if (!marker) {
		child_print_stderr(&c, "minikvm-run");
		printf("# no \"%s\" from the nested guest: %s not measured\n", L2_MARKER, v->key);
		return;
	}
	report(v->key, (double)(marker - t0), "ns");
}

static int cmdline_opt(const char *opt);

static void l2_boots(void)
{
	for (size_t i = 0; i < sizeof(l2_variants) / sizeof(l2_variants[0]); i++) {
		if (!strcmp(l2_variants[i].cpus, "4") && cmdline_opt("nol2smp4"))
			continue;
		l2_boot(&l2_variants[i]);
	}
}

/* ------------------------------------------------------------ QEMU 7.2 */

/*
 * The real, unmodified QEMU as a client of the module (scripts/rig.sh packs it,
 * its libraries and firmware for the "bench" test, as for selftests/qemu_test.c):
 *   - the nested Linux boot of qemu_test's default_machine: QEMU's default
 *     command line with -accel kvm, from QEMU's start to the marker line;
 *   - the live migration of selftests/migrate_test.c (tcp over the rig's
 *     loopback): total time and downtime as QEMU itself reports them.
 * Both are times of the rig's clock, like every figure here. QEMU asks for
 * KVM_CAP_IRQCHIP and, when the module has it (kvm.ko), keeps the PIC, IOAPIC
 * and LAPIC in the kernel; without it (minikvm) it falls back on its own, in
 * userspace. The "BENCH-INFO kvm_cap_irqchip" and "BENCH-INFO qemu_irqchip"
 * lines say which it was; bench/run.sh puts it in the table.
 */
static int cmdline_opt(const char *opt);

#define QEMU		"/usr/bin/qemu-system-x86_64"
#define QEMU_APPEND	"console=ttyS0 panic=-1 quiet"
#define QEMU_LIMIT_S	600	/* rig seconds for a boot, a migration */
#define MIG_SRC_QMP	"/tmp/bench-src.qmp"
#define MIG_DST_QMP	"/tmp/bench-dst.qmp"
#define MIG_URI		"tcp:127.0.0.1:4444"
#define MIG_COUNT	3	/* the source's "L2-COUNT" before it is migrated */

static int qemu_missing(void)
{
	return access(QEMU, X_OK) || access(L2_KERNEL, R_OK) || access(L2_INITRD, R_OK);
}

/* qemu_test's default_machine, timed: QEMU's start to the marker, and to its exit. */
static void qemu_boot(void)
{
	char *argv[] = { QEMU, "-accel", "kvm", "-m", "256", "-no-reboot",
			 "-display", "none", "-kernel", L2_KERNEL, "-initrd", L2_INITRD,
			 "-append", QEMU_APPEND, "-serial", "stdio", NULL };
	uint64_t t0, marker = 0, end;
	struct child c;
	char line[512], st[64];
	bool killed;
	int r, status;

	printf("BENCH-INFO kvm_cap_irqchip %d\n",
	       ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP));
	printf("#");
	for (int i = 0; argv[i]; i++)
		printf(strchr(argv[i], ' ') ? " '%s'" : " %s", argv[i]);
	printf("\n");
	t0 = now_ns();
	if (child_start(&c, argv, "qemu-boot", false)) {
		printf("# could not start %s: QEMU boot not measured\n", QEMU);
		return;
	}
	while ((r = child_read_line(&c, line, sizeof(line), now_s() + QEMU_LIMIT_S)) > 0) {
		if (!marker && strstr(line, L2_MARKER))
			marker = now_ns();
		printf("# L2| %s\n", line);
	}
	status = child_stop(&c, r == 0 ? now_s() : now_s() + 10, &killed);
	end = now_ns();
	printf("# QEMU: %s%s\n", wait_status_str(status, st, sizeof(st)),
	       killed ? " (stopped)" : "");
	if (!marker) {
		child_print_stderr(&c, "qemu");
		printf("# no \"%s\" from the nested guest: QEMU boot not measured\n", L2_MARKER);
		return;
	}
	report("qemu_boot_to_marker", (double)(marker - t0), "ns");
	if (!killed && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		report("qemu_boot_to_exit", (double)(end - t0), "ns");
}

/* One QEMU of the migration: migrate_test's command line, a QMP socket, incoming. */
static int mig_start(struct child *c, const char *tag, const char *qmp, const char *incoming)
{
	char qmparg[128];
	char *argv[] = { QEMU, "-accel", "kvm", "-m", "256", "-no-reboot",
			 "-display", "none", "-vga", "none", "-nodefaults",
			 "-kernel", L2_KERNEL, "-initrd", L2_INITRD,
			 "-append", QEMU_APPEND " l2mode=counter", "-serial", "stdio",
			 "-qmp", qmparg, incoming ? "-incoming" : NULL, (char *)incoming, NULL };

	snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off", qmp);
	unlink(qmp);
	printf("# %s:", tag);
	for (int i = 0; argv[i]; i++)
		printf(strchr(argv[i], ' ') ? " '%s'" : " %s", argv[i]);
	printf("\n");
	return child_start(c, argv, tag, false);
}

/*
 * Echo a QEMU's console until its guest has counted to at least `until`
 * (returns its last count) or the deadline passes (returns the last count too;
 * -1 if none). until < 0: read until the deadline.
 */
static long mig_follow(struct child *c, const char *tag, long last, long until, double deadline)
{
	char line[512];
	const char *p;

	while (until < 0 || last < until) {
		if (child_read_line(c, line, sizeof(line), deadline) <= 0)
			break;
		printf("# %s| %s\n", tag, line);
		p = strstr(line, "L2-COUNT ");
		if (p)
			last = atol(p + strlen("L2-COUNT "));
	}
	return last;
}

/* A QMP command whose reply must be a "return" (left in reply). */
static int mig_qmp(int fd, const char *cmd, char *reply, size_t len)
{
	if (fd < 0 || qmp_cmd(fd, cmd, reply, len, now_s() + 60))
		return -1;
	if (!strstr(reply, "\"return\"")) {
		printf("# qmp: %s -> %s\n", cmd, reply);
		return -1;
	}
	return 0;
}

/* The QOM type of the source's LAPIC and IOAPIC: "kvm-apic" = in the kernel. */
static void mig_irqchip(int qmp)
{
	static const char *const what[][2] = {
		{ "lapic", "/machine/unattached/device[0]/lapic" },
		{ "ioapic", "/machine/i440fx/ioapic" },
	};
	char cmd[256], reply[1024], type[64];

	printf("BENCH-INFO qemu_irqchip");
	for (size_t i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		snprintf(cmd, sizeof(cmd), "{\"execute\": \"qom-get\", \"arguments\": "
			 "{\"path\": \"%s\", \"property\": \"type\"}}", what[i][1]);
		if (mig_qmp(qmp, cmd, reply, sizeof(reply)) ||
		    !json_str(reply, "return", type, sizeof(type)))
			snprintf(type, sizeof(type), "?");
		printf(" %s %s", what[i][0], type);
	}
	printf("\n");
}

/*
 * migrate_test's tcp case, timed by QEMU: the destination waits with -incoming,
 * the source boots to its MIG_COUNT-th count and is migrated at up to 1 GiB/s
 * (QEMU 7.2's default is 32 MiB/s). The figures count only if the destination
 * then goes on counting from where the source stopped.
 */
static void qemu_migrate(void)
{
	struct child src, dst;
	char reply[4096], status[64] = "", st[64];
	long long total = -1, down = -1, setup = -1, bytes = -1;
	long last, dlast;
	int sq = -1, dq = -1;
	double deadline;
	bool ok = false;

	if (mig_start(&dst, "dst", MIG_DST_QMP, MIG_URI)) {
		printf("# could not start the destination QEMU: migration not measured\n");
		return;
	}
	dq = qmp_open(&dst, MIG_DST_QMP, now_s() + 60);
	if (mig_start(&src, "src", MIG_SRC_QMP, NULL)) {
		printf("# could not start the source QEMU: migration not measured\n");
		goto out_dst;
	}
	sq = qmp_open(&src, MIG_SRC_QMP, now_s() + 60);
	if (sq < 0 || dq < 0)
		goto out;
	last = mig_follow(&src, "src", -1, MIG_COUNT, now_s() + QEMU_LIMIT_S);
	if (last < MIG_COUNT) {
		printf("# the source did not count to %d\n", MIG_COUNT);
		goto out;
	}
	mig_irqchip(sq);
	if (mig_qmp(sq, "{\"execute\": \"migrate-set-parameters\", \"arguments\": "
			"{\"max-bandwidth\": 1073741824}}", reply, sizeof(reply)) ||
	    mig_qmp(sq, "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"" MIG_URI "\"}}",
		    reply, sizeof(reply)))
		goto out;
	deadline = now_s() + QEMU_LIMIT_S;
	while (now_s() < deadline) {
		last = mig_follow(&src, "src", last, -1, now_s() + 0.5);
		if (mig_qmp(sq, "{\"execute\": \"query-migrate\"}", reply, sizeof(reply)))
			goto out;
		json_str(reply, "status", status, sizeof(status));
		if (!strcmp(status, "completed") || !strcmp(status, "failed") ||
		    !strcmp(status, "cancelled"))
			break;
	}
	if (strcmp(status, "completed")) {
		printf("# migration: %s; query-migrate: %s\n", status[0] ? status : "no end", reply);
		goto out;
	}
	total = json_num(reply, "total-time");
	down = json_num(reply, "downtime");
	setup = json_num(reply, "setup-time");
	bytes = json_num(reply, "transferred");
	printf("# QEMU reports: total-time %lld ms, downtime %lld ms, setup-time %lld ms, "
	       "%lld bytes transferred\n", total, down, setup, bytes);
	/* What the source still printed; then the destination must count on. */
	last = mig_follow(&src, "src", last, -1, now_s() + 1);
	dlast = mig_follow(&dst, "dst", -1, last + 2, now_s() + 60);
	ok = dlast >= last + 2;
	printf("# source's last count %ld, destination counted to %ld\n", last, dlast);
	if (!ok)
		printf("# the destination does not go on: migration figures not reported\n");
out:
	if (!ok) {
		child_print_stderr(&src, "qemu-src");
		child_print_stderr(&dst, "qemu-dst");
	}
	if (sq >= 0)
		close(sq);
	child_stop(&src, now_s(), NULL);
out_dst:
	if (dq >= 0)
		close(dq);
	printf("# destination QEMU: %s\n",
	       wait_status_str(child_stop(&dst, now_s(), NULL), st, sizeof(st)));
	if (!ok)
		return;
	report("migrate_total_time", (double)total, "ms");
	report("migrate_downtime", (double)down, "ms");
	report("migrate_setup_time", (double)setup, "ms");
	report("migrate_transferred", (double)bytes / 1024, "KiB");
}

/*
 * A QEMU boot takes about as long as minikvm-run's, and on SVM a migration comes
 * on top: about 3 wall minutes under QEMU TCG together; the boot about 3 under
 * Bochs, where the migration runs only when asked for.
 */
static void qemu_figures(void)
{
	if (qemu_missing()) {
		printf("# no %s or %s: QEMU not measured\n", QEMU, L2_KERNEL);
		return;
	}
	qemu_boot();
	if (!strcmp(vendor, "svm") || cmdline_opt("migrate"))
		qemu_migrate();
	else
		printf("# QEMU live migration: SVM rig only (minikvm_bench=migrate: here too)\n");
}

/* ------------------------------------------------------------ profile */

#define TRACING "/sys/kernel/tracing/"

static int trace_write(const char *file, const char *val)
{
	char path[128];
	int fd, ok;

	snprintf(path, sizeof(path), TRACING "%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

static void trace_dump(const char *what)
{
	char line[512];
	FILE *f = fopen(TRACING "trace", "r");

	printf("BENCH-TRACE begin %s\n", what);
	while (f && fgets(line, sizeof(line), f))
		if (line[0] != '#')
			printf("T| %s", line);
	if (f)
		fclose(f);
	printf("BENCH-TRACE end %s\n", what);
	fflush(stdout);
}

/*
 * function_graph of a few exits of this process (its pid only, no interrupts):
 * 3 OUT round trips, and one KVM_RUN in which the guest does CPUID 3 times. The
 * durations are instructions under -icount, inflated by the tracer's own work.
 */
static void profile(void)
{
	struct bvm v = { 0 };
	char pid[32];
	uint64_t t0;
	int i;

	if (trace_write("current_tracer", "function_graph")) {
		printf("# no function_graph tracer: no profile\n");
		return;
	}
	snprintf(pid, sizeof(pid), "%d", getpid());
	trace_write("tracing_on", "0");
	trace_write("set_ftrace_pid", pid);
	trace_write("options/funcgraph-irqs", "0");
	trace_write("options/funcgraph-tail", "1");
	trace_write("options/funcgraph-proc", "0");
	trace_write("buffer_size_kb", "8192");

	vm_with_code(&v, g_pio, g_pio_end, 0);
	for (i = 0; i < WARMUP; i++)
		run_expect(&v, 0, KVM_EXIT_IO);
	trace_write("trace", "");
	trace_write("tracing_on", "1");
	t0 = now_ns();
	for (i = 0; i < 3; i++)
		run_expect(&v, 0, KVM_EXIT_IO);
	report("traced_pio_x3", (double)(now_ns() - t0), "ns");
	trace_write("tracing_on", "0");
	vm_free(&v, 1);
	trace_dump("pio");

	vm_with_code(&v, g_cpuid, g_cpuid_end, WARMUP);
	run_expect(&v, 0, KVM_EXIT_IO);
	vcpu_set(&v, 0, CODE_GPA, 3);
	trace_write("trace", "");
	trace_write("tracing_on", "1");
	t0 = now_ns();
	run_expect(&v, 0, KVM_EXIT_IO);
	report("traced_cpuid_x3_run", (double)(now_ns() - t0), "ns");
	trace_write("tracing_on", "0");
	vm_free(&v, 1);
	trace_dump("cpuid");

	/*
	 * Depth-limited passes: a function at the deepest traced level is a leaf, its
	 * duration its true inclusive cost plus one fixed tracer cost (that of a
	 * trivial leaf such as __cond_resched). Depth 1 is the syscall's first
	 * traced function; bench/profile-depth.awk assembles the per-function figures.
	 */
	for (i = 3; i <= 9; i++) {
		char depth[8], what[32];
		int j;

		snprintf(depth, sizeof(depth), "%d", i);
		trace_write("max_graph_depth", depth);
		vm_with_code(&v, g_pio, g_pio_end, 0);
		for (j = 0; j < WARMUP; j++)
			run_expect(&v, 0, KVM_EXIT_IO);
		trace_write("trace", "");
		trace_write("tracing_on", "1");
		for (j = 0; j < 3; j++)
			run_expect(&v, 0, KVM_EXIT_IO);
		trace_write("tracing_on", "0");
		vm_free(&v, 1);
		snprintf(what, sizeof(what), "pio-d%d", i);
		trace_dump(what);
	}
	trace_write("max_graph_depth", "0");

	/* One VM's life, call depth 5 only: the coarse split of a 10^6..10^7 cost. */
	trace_write("max_graph_depth", "5");
	trace_write("trace", "");
	trace_write("tracing_on", "1");
	lifecycle("traced_vm", 1, 1);
	trace_write("tracing_on", "0");
	trace_dump("vm");
	trace_write("max_graph_depth", "0");

	trace_write("current_tracer", "nop");
	trace_write("set_ftrace_pid", "");
}

/* ------------------------------------------------------------ main */

/*
 * Options from the kernel command line (the rig runs us without arguments;
 * bench/run.sh --trace-cost sets them with APPEND): "minikvm_bench=" followed by
 * a comma list of
 *   quick    only the per-exit figures (no VM lifecycle, memory, profile, L2, QEMU)
 *   noqemu   no QEMU boot and no QEMU migration
 *   qemu     only the QEMU figures (boot, migration)
 *   migrate  the QEMU migration in the VMX rig too (Bochs: many wall minutes)
 *   nol2smp4 no 4-vCPU nested boot (bench/run.sh sets it for kvm_intel under Bochs)
 *   events   enable every kvm:* event before measuring (ftrace records them)
 */
static int cmdline_opt(const char *opt)
{
	char line[4096], *p, *tok, *save;
	size_t n;
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f)
		return 0;
	n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = 0;
	p = strstr(line, "minikvm_bench=");
	if (!p)
		return 0;
	p += strlen("minikvm_bench=");
	p[strcspn(p, " \n")] = 0;
	for (tok = strtok_r(p, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!strcmp(tok, opt))
			return 1;
	return 0;
}

static void identify(void)
{
	char line[1024], module[64] = "?";
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		if (strstr(line, " svm"))
			vendor = "svm";
		else if (strstr(line, " vmx"))
			vendor = "vmx";
		break;
	}
	if (f)
		fclose(f);
	f = fopen("/proc/modules", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "minikvm ", 8) || !strncmp(line, "kvm_amd ", 8) ||
		    !strncmp(line, "kvm_intel ", 10)) {
			sscanf(line, "%63s", module);
			break;
		}
	}
	if (f)
		fclose(f);
	printf("BENCH-INFO vendor %s module %s\n", vendor, module);
}

int main(int argc, char **argv)
{
	int do_l2 = 1;

	if (argc > 1 && !strcmp(argv[1], "--no-l2"))
		do_l2 = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..1\n");
	identify();
	kvm_fd = open("/dev/kvm", O_RDWR);
	if (kvm_fd < 0)
		die("/dev/kvm");
	run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if ((long)run_size <= 0)
		die("KVM_GET_VCPU_MMAP_SIZE");

	if (cmdline_opt("qemu") && !cmdline_opt("noqemu")) {
		qemu_figures();
		printf("ok 1 bench\n");
		return 0;
	}
	if (cmdline_opt("events")) {
		int on = !trace_write("events/kvm/enable", "1");

		printf("BENCH-INFO kvm events %s\n", on ? "enabled" : "could not be enabled");
	}
	report("pio_round_trip", exit_to_user(g_pio, g_pio_end, KVM_EXIT_IO), "ns");
	report("mmio_round_trip", exit_to_user(g_mmio, g_mmio_end, KVM_EXIT_MMIO), "ns");
	report("hlt_exit", exit_to_user(g_hlt, g_hlt_end, KVM_EXIT_HLT), "ns");
	report("cpuid_in_kernel", in_kernel(g_cpuid, g_cpuid_end, g_cpuid0, g_cpuid0_end), "ns");
	report("invd_floor", in_kernel(g_invd, g_invd_end, g_invd0, g_invd0_end), "ns");
	report("ioctl_floor", ioctl_floor(), "ns");
	report("page_first_touch", first_touch(), "ns");
	apic_figures();
	if (cmdline_opt("quick")) {
		printf("ok 1 bench\n");
		return 0;
	}
	lifecycle("vm_cold", 0, N_LIFE);
	lifecycle("vm_warm", 1, N_LIFE);
	memory();
	profile();
	/*
	 * Nested Linux boots (three set-ups): about a minute of wall time each
	 * under QEMU TCG, about 30 guest seconds (6-7 wall minutes) under Bochs.
	 */
	if (do_l2)
		l2_boots();
	if (!cmdline_opt("noqemu"))
		qemu_figures();
	printf("ok 1 bench\n");
	return 0;
}
