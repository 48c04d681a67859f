/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * exit_mix.h: a guest with a known mix of exits, run in a process of its own, for
 * the tests of the tracing tools users run on KVM (perf_test: perf kvm stat;
 * bpftrace_test: the bpftrace one-liners of Documentation/tracing.rst;
 * kvmstat_test: Linux's kvm_stat).
 *
 * The test binary is its own guest program: run as "<test> --guest" (main()
 * below), it runs the guest once and exits 0 if every exit was the expected one.
 * A tool then watches that process from the outside: perf records it as its
 * workload, bpftrace and "perf kvm stat live" watch the whole machine while the
 * test forks it. In the guest, in this order:
 *
 *   MIX_OUT    OUTs to MIX_PORT      each an exit to userspace (KVM_EXIT_IO)
 *   MIX_CPUID  CPUIDs                answered in the kernel
 *   MIX_HLT    HLTs                  KVM_EXIT_HLT (no in-kernel irqchip)
 *   MIX_MMIO   byte writes to MIX_MMIO_GPA, mapped by the guest's page tables, in
 *              no memslot: each a KVM_EXIT_MMIO
 *   one ucall DONE (one more OUT, to UCALL_PORT), the last exit of the run.
 *
 * The exits of the hardware for those (APM Vol.2 App.C, SDM Vol.3 App.C):
 * IOIO 0x7b / IO_INSTRUCTION 30, CPUID 0x72 / 10, HLT 0x78 / 12. The MMIO writes
 * exit as NPF 0x400 (SVM) or EPT violation 48 / EPT misconfiguration 49 (VMX),
 * counted together with the nested page faults of the first touch of each guest
 * page, which differ between modules (kvm_amd may map 2 MiB at once); and host
 * interrupts (INTR 0x60 / 1) come when they come. Neither is counted exactly.
 */
#ifndef SELFTESTS_EXIT_MIX_H
#define SELFTESTS_EXIT_MIX_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "vm.h"

#define MIX_OUT		300
#define MIX_CPUID	200
#define MIX_HLT		50
#define MIX_MMIO	40
#define MIX_PORT	0x99
#define MIX_MMIO_GPA	0x80000000

/* R8-R11: loop counters and the MMIO address (CPUID clobbers EAX-EDX). */
GUEST_ASM(exit_mix_guest, 64,
	"mov $" GSTR(MIX_OUT) ", %r8d\n\t"
	"1: out %al, $" GSTR(MIX_PORT) "\n\t"
	"dec %r8d\n\t"
	"jnz 1b\n\t"
	"mov $" GSTR(MIX_CPUID) ", %r9d\n\t"
	"2: xor %eax, %eax\n\t"
	"xor %ecx, %ecx\n\t"
	"cpuid\n\t"
	"dec %r9d\n\t"
	"jnz 2b\n\t"
	"mov $" GSTR(MIX_HLT) ", %r9d\n\t"
	"3: hlt\n\t"
	"dec %r9d\n\t"
	"jnz 3b\n\t"
	"mov $" GSTR(MIX_MMIO) ", %r10d\n\t"
	"mov $" GSTR(MIX_MMIO_GPA) ", %r11d\n\t"
	"4: movb %al, (%r11)\n\t"
	"dec %r10d\n\t"
	"jnz 4b\n\t"
	GUEST_DONE);

/*
 * Run the guest of @vcpu to its DONE, checking each exit to userspace against the mix.
 * Prints one line, "exit_mix: pid P out N hlt N mmio N", and returns 0 if the
 * counts are the mix's, 1 if not.
 */
static int exit_mix_loop(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	int outs = 0, hlts = 0, mmios = 0, other = 0;
	struct ucall uc;

	for (;;) {
		vcpu_run(vcpu);
		if (vcpu_get_ucall(vcpu, &uc) == UCALL_DONE)
			break;
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == MIX_PORT &&
		    run->io.direction == KVM_EXIT_IO_OUT && !hlts)
			outs++;
		else if (run->exit_reason == KVM_EXIT_HLT && !mmios)
			hlts++;
		else if (run->exit_reason == KVM_EXIT_MMIO && run->mmio.is_write &&
			 run->mmio.phys_addr == MIX_MMIO_GPA)
			mmios++;
		else if (++other > 10)
			break;
	}
	printf("exit_mix: pid %d out %d hlt %d mmio %d other %d\n", (int)getpid(),
	       outs, hlts, mmios, other);
	fflush(stdout);
	return outs == MIX_OUT && hlts == MIX_HLT && mmios == MIX_MMIO && !other ? 0 : 1;
}

/* The same in a VM of its own, freed at the end. */
static int exit_mix_run(void)
{
	struct vcpu *vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(exit_mix_guest));
	int r = exit_mix_loop(vcpu);

	vm_free(vcpu->vm);
	return r;
}

/* A guest that does nothing but its DONE ucall (perf_test's "--idle"). */
GUEST_ASM(exit_mix_idle, 64, GUEST_DONE);

static int exit_mix_idle_run(void)
{
	struct vcpu *vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(exit_mix_idle));
	struct ucall uc;
	int done;

	vcpu_run(vcpu);
	done = vcpu_get_ucall(vcpu, &uc) == UCALL_DONE;
	vm_free(vcpu->vm);
	return done ? 0 : 1;
}

/* The exit codes of OUT, CPUID and HLT on this host's vendor. */
struct mix_codes {
	unsigned int io, cpuid, hlt;
};

static inline struct mix_codes mix_codes(void)
{
	if (host_virt() == HOST_VIRT_VMX)
		return (struct mix_codes){ .io = 30, .cpuid = 10, .hlt = 12 };
	return (struct mix_codes){ .io = 0x7b, .cpuid = 0x72, .hlt = 0x78 };
}

/* ---------------------------------------------------------------- the tools */

/* The path of this binary, for the tools to run as "<it> --guest". */
static inline const char *self_exe(void)
{
	static char path[256];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	path[n > 0 ? n : 0] = '\0';
	return path;
}

/* A whole file into buf[len] (NUL-terminated); returns buf, or NULL. */
static inline char *read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Print text as TAP comments, each line "# prefix| line". */
static inline void print_text(const char *text, const char *prefix)
{
	const char *p = text, *nl;

	while (p && *p) {
		nl = strchr(p, '\n');
		printf("# %s| %.*s\n", prefix, nl ? (int)(nl - p) : (int)strlen(p), p);
		p = nl ? nl + 1 : NULL;
	}
	fflush(stdout);
}

/*
 * Run argv to its end (at most limit_s seconds), its stdout into out[len]; its
 * stderr is in /tmp/<tag>.err. Returns the wait status, or -1 if it could not
 * start; *killed says whether it had to be stopped.
 */
static inline int tool_run(char *const argv[], const char *tag, double limit_s,
			   char *out, size_t len, bool *killed)
{
	double deadline = now_s() + limit_s;
	struct child c;
	size_t used = 0;
	char line[1024];
	int r;

	out[0] = '\0';
	if (child_start(&c, argv, tag, false))
		return -1;
	while ((r = child_read_line(&c, line, sizeof(line), deadline)) == 1)
		if (used < len)
			used += snprintf(out + used, len - used, "%s\n", line);
	return child_stop(&c, r == 0 ? now_s() : deadline, killed);
}

/* main() of a test built on the mix: "--guest" runs the guest, else the tests. */
#define EXIT_MIX_MAIN							\
int main(int argc, char **argv)						\
{									\
	if (argc > 1 && !strcmp(argv[1], "--guest"))			\
		return exit_mix_run();					\
	if (argc > 1 && !strcmp(argv[1], "--idle"))			\
		return exit_mix_idle_run();				\
	return test_harness_run(argc, argv);				\
}

#endif
