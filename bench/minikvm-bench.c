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
 *     touches the same (now mapped) pages again and is subtracted.
 *
 * Output: "BENCH <key> <value> <unit>" lines (bench/run.sh turns them into the table),
 * "BENCH-TRACE" sections of function_graph output, and a one-result TAP plan so the
 * rig's parser knows the program finished. It measures; it does not judge: the only
 * failure is a KVM call that does not do what the KVM API says.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
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
#define L2_APPEND	"console=ttyS0 earlyprintk=serial,ttyS0,115200 noapic nolapic " \
			"tsc=reliable panic=-1 quiet"
#define L2_MARKER	"L2-MARKER sum=500500"

/* The l2boot_test run of minikvm-run; times to the first line, the marker, the exit. */
static void l2_boot(void)
{
	uint64_t t0, first = 0, marker = 0, end;
	char line[512];
	int pipefd[2], status;
	FILE *out;
	pid_t pid;

	if (access(RUNNER, X_OK) || access(L2_KERNEL, R_OK) || access(L2_INITRD, R_OK)) {
		printf("# no %s or %s: L2 boot not measured\n", RUNNER, L2_KERNEL);
		return;
	}
	if (pipe(pipefd))
		die("pipe");
	t0 = now_ns();
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execl(RUNNER, RUNNER, "--kernel", L2_KERNEL, "--initrd", L2_INITRD,
		      "--append", L2_APPEND, "--memory", "256", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	out = fdopen(pipefd[0], "r");
	while (out && fgets(line, sizeof(line), out)) {
		if (!first)
			first = now_ns();
		if (!marker && strstr(line, L2_MARKER))
			marker = now_ns();
		line[strcspn(line, "\r\n")] = '\0';
		printf("# L2| %s\n", line);
	}
	if (out)
		fclose(out);
	waitpid(pid, &status, 0);
	end = now_ns();
	printf("# minikvm-run exit status 0x%x\n", status);
	if (!marker) {
		printf("# no \"%s\" from the nested guest: L2 boot not measured\n", L2_MARKER);
		return;
	}
	report("l2_first_output", (double)(first - t0), "ns");
	report("l2_boot_to_marker", (double)(marker - t0), "ns");
	report("l2_boot_to_exit", (double)(end - t0), "ns");
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
 *   quick    only the per-exit figures (no VM lifecycle, memory, profile, L2)
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
	if (cmdline_opt("quick")) {
		printf("ok 1 bench\n");
		return 0;
	}
	lifecycle("vm_cold", 0, N_LIFE);
	lifecycle("vm_warm", 1, N_LIFE);
	memory();
	profile();
	/*
	 * A nested Linux boot: about a minute of wall time under QEMU TCG,
	 * about 30 guest seconds (6-7 wall minutes) under Bochs.
	 */
	if (do_l2)
		l2_boot();
	printf("ok 1 bench\n");
	return 0;
}
