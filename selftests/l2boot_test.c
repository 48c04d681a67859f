// SPDX-License-Identifier: GPL-2.0-only
/*
 * l2boot_test: boot a whole Linux guest with minikvm-run, the project's own VMM,
 * on the KVM under test.
 *
 * The rig's initramfs carries /bin/minikvm-run (user/runner/), the rig's own
 * kernel as /l2/vmlinuz and a busybox initramfs /l2/initrd.gz (made by
 * user/runner/l2/mkinitrd.sh) whose /init prints "L2-MARKER sum=500500" and runs
 * `reboot -f`. Passing means: the nested Linux got to userspace, computed, and
 * reset the machine, after which minikvm-run exits 0.
 *
 * Kernel command line, and why:
 *   console=ttyS0          the only console is COM1 (minikvm-run's stdout)
 *   earlyprintk=serial     messages before the 8250 driver runs, for debugging
 *   noapic nolapic         no APIC in the machine: the 8259 PIC and the PIT
 *   tsc=reliable           no clocksource watchdog against the slow PIT
 *   panic=-1               a panic resets at once, and shows up as a missing marker
 *   quiet                  every console byte is a VM exit; keep it short
 * Output of the nested guest is echoed as "# L2| ..." TAP comments, so that its
 * kernel messages are not taken for the rig kernel's.
 *
 * Exit status 3 of minikvm-run means the KVM below lacks an ioctl the VMM needs
 * (KVM_SET_CPUID2, KVM_INTERRUPT...): reported as a skip, the feature is absent.
 * Under QEMU TCG the nested boot takes minutes: give the rig TIMEOUT=900.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define RUNNER		"/bin/minikvm-run"
#define L2_KERNEL	"/l2/vmlinuz"
#define L2_INITRD	"/l2/initrd.gz"
#define L2_APPEND	"console=ttyS0 earlyprintk=serial,ttyS0,115200 noapic nolapic " \
			"tsc=reliable panic=-1 quiet"
#define MARKER		"L2-MARKER sum=500500"

FIXTURE(l2) {
	int unused;
};

FIXTURE_SETUP(l2)
{
	if (access(RUNNER, X_OK) || access(L2_KERNEL, R_OK) || access(L2_INITRD, R_OK))
		SKIP(return, "no " RUNNER " or " L2_KERNEL " in this initramfs");
}

FIXTURE_TEARDOWN(l2)
{
}

/* Run minikvm-run, echo its output; returns its wait status, sets *marker. */
static int run_l2(bool *marker)
{
	char line[512];
	int pipefd[2], status;
	FILE *out;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		/* If the test is killed (timeout), the VMM goes with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execl(RUNNER, RUNNER, "--kernel", L2_KERNEL, "--initrd", L2_INITRD,
		      "--append", L2_APPEND, "--memory", "256", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	out = fdopen(pipefd[0], "r");
	*marker = false;
	while (out && fgets(line, sizeof(line), out)) {
		line[strcspn(line, "\r\n")] = '\0';
		printf("# L2| %s\n", line);
		fflush(stdout);
		if (strstr(line, MARKER))
			*marker = true;
	}
	if (out)
		fclose(out);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

TEST_F_TIMEOUT(l2, linux_boot_and_reboot, 850)
{
	bool marker;
	int status = run_l2(&marker);

	ASSERT_NE(-1, status);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		SKIP(return, "this KVM lacks an ioctl minikvm-run needs (see above)");
	EXPECT_TRUE(marker) TH_LOG("no \"%s\" from the nested guest", MARKER);
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("minikvm-run died: status 0x%x", status);
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
