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
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static bool l2_files_missing(void)
{
	return access(RUNNER, X_OK) || access(L2_KERNEL, R_OK) || access(L2_INITRD, R_OK);
}

FIXTURE_SETUP(l2)
{
	if (l2_files_missing())
		SKIP(return, "no " RUNNER " or " L2_KERNEL " in this initramfs");
}

FIXTURE_TEARDOWN(l2)
{
}

/*
 * A nested boot that prints nothing for this long (guest seconds) is stuck:
 * minikvm-run gets SIGUSR2 (it prints its interrupt state: vCPU handshake
 * fields, PIC and UART registers), then SIGKILL. Quiet stretches of a good
 * boot are a few seconds under QEMU and under a minute under Bochs.
 */
#define SILENCE_S	150

/* Echo one line of the VMM's output; note the marker. */
static void echo_line(char *line, bool *marker)
{
	line[strcspn(line, "\r\n")] = '\0';
	printf("# L2| %s\n", line);
	fflush(stdout);
	if (strstr(line, MARKER))
		*marker = true;
}

/*
 * Run minikvm-run, echo its output; returns its wait status, sets *marker,
 * and *stuck if the silence watchdog had to stop it.
 */
static int run_l2(bool *marker, bool *stuck)
{
	const char *extra = getenv("L2BOOT_APPEND");
	char line[512], buf[256], append[512];
	int pipefd[2], status;
	size_t used = 0;
	int waited = 0;
	pid_t pid;

	/* L2BOOT_APPEND: more L2 command line, e.g. "nokaslr+l2sym=ADDR,ADDR". */
	snprintf(append, sizeof(append), "%s%s%s", L2_APPEND, extra ? " " : "",
		 extra ? extra : "");
	/* The rig's command line cannot carry spaces inside a value: '+' stands for one. */
	for (char *c = append; *c; c++)
		if (*c == '+')
			*c = ' ';
	*marker = *stuck = false;
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
		      "--append", append, "--memory", "256", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		ssize_t n;
		int r = poll(&pfd, 1, 1000);

		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0) {
			if (++waited == SILENCE_S) {
				printf("# L2 silent for %d s: asking minikvm-run for its state\n",
				       SILENCE_S);
				*stuck = true;
				kill(pid, SIGUSR2);
			} else if (waited == SILENCE_S + 2) {
				kill(pid, SIGUSR2);	/* again: did anything move? */
			} else if (waited == SILENCE_S + 4) {
				kill(pid, SIGKILL);
			}
			continue;
		}
		n = read(pipefd[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		if (!*stuck)
			waited = 0;
		for (ssize_t i = 0; i < n; i++) {
			if (used < sizeof(line) - 1)
				line[used++] = buf[i];
			if (buf[i] == '\n' || used == sizeof(line) - 1) {
				line[used] = '\0';
				echo_line(line, marker);
				used = 0;
			}
		}
	}
	if (used) {
		line[used] = '\0';
		echo_line(line, marker);
	}
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/*
 * L2BOOT_RUNS=N in the environment (the rig passes APPEND="L2BOOT_RUNS=N"
 * through the kernel command line to /init) boots N times in a row: a
 * stress mode for intermittent failures, not used by `make check`.
 */
TEST_F_TIMEOUT(l2, linux_boot_and_reboot, 3000)
{
	const char *env = getenv("L2BOOT_RUNS");
	int runs = env ? atoi(env) : 1;

	/* This harness runs the body even after a SKIP in FIXTURE_SETUP. */
	if (l2_files_missing())
		return;

	for (int i = 0; i < (runs > 0 ? runs : 1); i++) {
		bool marker, stuck;
		int status;

		if (runs > 1)
			printf("# boot %d of %d\n", i + 1, runs);
		status = run_l2(&marker, &stuck);
		ASSERT_NE(-1, status);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
			SKIP(return, "this KVM lacks an ioctl minikvm-run needs (see above)");
		ASSERT_FALSE(stuck) TH_LOG("the nested guest stopped making progress");
		ASSERT_TRUE(marker) TH_LOG("no \"%s\" from the nested guest", MARKER);
		ASSERT_TRUE(WIFEXITED(status)) TH_LOG("minikvm-run died: status 0x%x", status);
		ASSERT_EQ(0, WEXITSTATUS(status));
	}
}

TEST_HARNESS_MAIN
