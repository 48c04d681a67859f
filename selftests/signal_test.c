// SPDX-License-Identifier: GPL-2.0-only
/*
 * signal_test: leaving KVM_RUN without a guest exit.
 *
 * A vCPU thread spends its life inside the KVM_RUN ioctl, and a guest spinning in a
 * loop never exits on its own. Userspace gets control back with a signal: KVM checks
 * for pending signals before every entry, and a signal (a timer, or another thread's
 * pthread_kill()) makes the host interrupt take the CPU out of the guest. KVM_RUN then
 * returns -1 with errno EINTR and run->exit_reason = KVM_EXIT_INTR (api.rst). KVM
 * returns EINTR, not ERESTARTSYS, so this happens with SA_RESTART too: the VMM's run
 * loop decides what to do next.
 *
 * run->immediate_exit = 1 (KVM_CAP_IMMEDIATE_EXIT) asks KVM_RUN to return EINTR
 * before entering the guest at all: how a VMM closes the race between "check for
 * work" and "enter KVM_RUN" without signals.
 *
 * KVM_SET_SIGNAL_MASK sets the signal mask in force while the vCPU is in the guest:
 * a VMM blocks its "kick" signal in the thread and unblocks it only inside KVM_RUN.
 * The signal interrupts KVM_RUN, but KVM restores the thread's mask before
 * returning, so the signal is still pending (not handled) when ioctl() returns: the
 * VMM collects it with sigtimedwait() or by unblocking it.
 *
 * The guest counts its loop iterations at GUEST_DATA_GPA, so the host can tell
 * whether it ran and whether it goes on where it was. It runs with RFLAGS.IF=1:
 * that changes nothing for KVM (without an in-kernel irqchip nothing is injected),
 * but the emulated VMX CPU of the test rig (Bochs) takes the external-interrupt VM
 * exit only while the guest has IF set, where real CPUs exit whatever IF is; with
 * IF=0 the host's timer interrupt would never get the CPU back.
 */
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

GUEST_ASM(spin_guest, 64,
	"sti\n\t"
	"1: incq " GSTR(GUEST_DATA_GPA) "\n\t"
	"jmp 1b\n\t");

static volatile sig_atomic_t signals;

static void on_signal(int sig)
{
	(void)sig;
	signals++;
}

static void install_handler(int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		test_fail("sigaction: %s", strerror(errno));
}

/* A one-shot timer that sends SIGUSR1 to this (single-threaded) process. */
static timer_t arm_timer(long ms)
{
	struct sigevent sev = {
		.sigev_notify = SIGEV_SIGNAL,
		.sigev_signo = SIGUSR1,
	};
	struct itimerspec its = {
		.it_value = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 },
	};
	timer_t timer;

	if (timer_create(CLOCK_MONOTONIC, &sev, &timer))
		test_fail("timer_create: %s", strerror(errno));
	if (timer_settime(timer, 0, &its, NULL))
		test_fail("timer_settime: %s", strerror(errno));
	return timer;
}

/* KVM_RUN until a timer signal; @handled: the handler has run when ioctl() returns. */
static void run_until_signal(struct __test_metadata *_metadata, struct vcpu *vcpu,
			     bool handled)
{
	timer_t timer = arm_timer(50);
	int before = signals;

	errno = 0;
	EXPECT_EQ(-1, __vcpu_run(vcpu));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(KVM_EXIT_INTR, vcpu->run->exit_reason);
	EXPECT_EQ(before + handled, signals);
	timer_delete(timer);
}

static uint64_t counter(struct vcpu *vcpu)
{
	return *(volatile uint64_t *)gpa_to_hva(vcpu->vm, GUEST_DATA_GPA);
}

/* A timer signal (no SA_RESTART) interrupts a spinning guest; it resumes after. */
TEST(timer_signal)
{
	struct vcpu *vcpu;
	uint64_t first;

	TEST_REQUIRE_KVM();
	install_handler(0);
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(spin_guest));

	run_until_signal(_metadata, vcpu, true);
	first = counter(vcpu);
	EXPECT_GT(first, 0);

	run_until_signal(_metadata, vcpu, true);
	EXPECT_GT(counter(vcpu), first);
	vm_free(vcpu->vm);
}

/* SA_RESTART does not make the kernel restart KVM_RUN: it still returns EINTR. */
TEST(timer_signal_sa_restart)
{
	struct vcpu *vcpu;

	TEST_REQUIRE_KVM();
	install_handler(SA_RESTART);
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(spin_guest));
	run_until_signal(_metadata, vcpu, true);
	EXPECT_GT(counter(vcpu), 0);
	vm_free(vcpu->vm);
}

/* immediate_exit: EINTR without entering; cleared again, the guest runs. */
TEST(immediate_exit)
{
	struct vcpu *vcpu;

	TEST_REQUIRE_CAP(KVM_CAP_IMMEDIATE_EXIT);
	install_handler(0);
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(spin_guest));

	vcpu->run->immediate_exit = 1;
	errno = 0;
	EXPECT_EQ(-1, __vcpu_run(vcpu));
	EXPECT_EQ(EINTR, errno);
	errno = 0;
	EXPECT_EQ(-1, __vcpu_run(vcpu));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(0, counter(vcpu));		/* the guest never ran */

	vcpu->run->immediate_exit = 0;
	run_until_signal(_metadata, vcpu, true);
	EXPECT_GT(counter(vcpu), 0);
	vm_free(vcpu->vm);
}

/*
 * KVM_SET_SIGNAL_MASK: SIGUSR1 is blocked in the thread but not in the mask given
 * to KVM, so it is taken only while the vCPU runs, and interrupts it.
 */
TEST(signal_mask)
{
	struct {
		struct kvm_signal_mask hdr;
		uint8_t set[8];		/* the kernel's sigset_t is 8 bytes on x86-64 */
	} mask = { .hdr.len = 8 };
	sigset_t block, pending;
	struct vcpu *vcpu;

	TEST_REQUIRE_KVM();
	install_handler(0);
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(spin_guest));
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_SET_SIGNAL_MASK, &mask));

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &block, NULL));
	run_until_signal(_metadata, vcpu, false);
	EXPECT_GT(counter(vcpu), 0);

	/* Still pending, blocked again; unblocking it runs the handler. */
	ASSERT_EQ(0, sigpending(&pending));
	EXPECT_TRUE(sigismember(&pending, SIGUSR1));
	ASSERT_EQ(0, sigprocmask(SIG_UNBLOCK, &block, NULL));
	EXPECT_EQ(1, signals);
	vm_free(vcpu->vm);
}

/*
 * The same with a guest that was entered with IF=1 and then turns interrupts
 * off itself (CLI) and spins: the host's interrupts still exit it, on real
 * CPUs (SDM Vol.3 26.2, "external-interrupt exiting"; APM Vol.2 15.21.1,
 * V_INTR_MASKING). minikvm in both rigs: "KVM_RUN ended 0.05 s after the
 * entry". kvm_intel under Bochs did not come back: the rig printed nothing
 * more until its 300 s limit (2026-12-03, "cli-vmx-kvm"), so the case skips
 * there; why kvm_intel's entries differ from minikvm's there is not known.
 */
GUEST_ASM(cli_spin_guest, 64,
	"cli\n\t"
	"1: incq " GSTR(GUEST_DATA_GPA) "\n\t"
	"jmp 1b\n\t");

TEST(timer_signal_after_cli)
{
	struct kvm_regs regs;
	struct timespec t0, t1;
	struct vcpu *vcpu;
	double secs;

	TEST_REQUIRE_KVM();
	if (host_virt() == HOST_VIRT_VMX && !kvm_is_minikvm())
		SKIP(return, "kvm_intel under Bochs: this spin held the rig's CPU (see above)");
	install_handler(0);
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(cli_spin_guest));
	vcpu_get_regs(vcpu, &regs);
	regs.rflags |= X86_RFLAGS_IF;
	vcpu_set_regs(vcpu, &regs);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_until_signal(_metadata, vcpu, true);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	TH_LOG("KVM_RUN ended %.2f s after the entry (the signal came at 0.05 s)", secs);
	EXPECT_GT(counter(vcpu), 0);
	EXPECT_LT(secs, 5.0) TH_LOG("the guest kept the CPU from the host's interrupts");
	vm_free(vcpu->vm);
}

TEST_HARNESS_MAIN
