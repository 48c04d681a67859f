// SPDX-License-Identifier: GPL-2.0-only
/*
 * runner_test: minikvm-run (user/runner/) running raw teaching guests on the KVM
 * under test, one per CPU mode it can start in.
 *
 * Each guest is a few bytes written to a file: print a letter and a newline on
 * COM1 (port 0x3f8) and on the debug port 0xe9, then HLT. minikvm-run must print
 * them on its stdout and exit 0 ("guest halted").
 *
 * Exit status 3 of minikvm-run means the KVM below lacks an ioctl the VMM needs:
 * reported as a skip.
 *
 * bad_arguments: command lines minikvm-run must refuse before it touches
 * /dev/kvm, with exit status 2 and a message naming the option.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define RUNNER	"/bin/minikvm-run"

struct raw_guest {
	const char *mode;
	unsigned char code[32];
	int len;
	const char *expect;	/* stdout of the run */
};

/*
 * mov dx, 0x3f8 / mov al, c / out dx, al / mov al, '\n' / out dx, al /
 * out 0xe9, al / hlt. The 0x66 prefix makes "mov dx, imm16" in 32/64-bit code.
 */
#define CODE16(c)	{ 0xba, 0xf8, 0x03, 0xb0, c, 0xee, 0xb0, '\n', 0xee, 0xe6, 0xe9, 0xf4 }, 12
#define CODE32(c)	{ 0x66, 0xba, 0xf8, 0x03, 0xb0, c, 0xee, 0xb0, '\n', 0xee, 0xe6, 0xe9, 0xf4 }, 13

static const struct raw_guest guests[] = {
	{ "real", CODE16('R'), "R\n\n" },
	{ "prot", CODE32('P'), "P\n\n" },
	{ "long", CODE32('L'), "L\n\n" },
};

/* Run one raw guest; returns the wait status, its stdout in out. */
static int run_raw(const struct raw_guest *g, char *out, size_t size)
{
	char path[] = "/tmp/raw-XXXXXX";
	int fd = mkstemp(path), pipefd[2], status;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	if (fd < 0 || write(fd, g->code, g->len) != g->len || pipe(pipefd))
		return -1;
	close(fd);
	pid = fork();
	if (pid == 0) {
		/* If the test is killed (timeout), the VMM goes with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execl(RUNNER, RUNNER, "--image", path, "--mode", g->mode,
		      "--memory", "16", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	while (n < size - 1 && (r = read(pipefd[0], out + n, size - 1 - n)) > 0)
		n += r;
	out[n] = '\0';
	close(pipefd[0]);
	unlink(path);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

TEST(raw_guests)
{
	char out[256];
	int status;

	if (access(RUNNER, X_OK))
		SKIP(return, "no " RUNNER " in this initramfs");
	for (size_t i = 0; i < sizeof(guests) / sizeof(guests[0]); i++) {
		status = run_raw(&guests[i], out, sizeof(out));
		ASSERT_NE(-1, status);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
			SKIP(return, "this KVM lacks an ioctl minikvm-run needs");
		EXPECT_STREQ(guests[i].expect, out) TH_LOG("--mode %s", guests[i].mode);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("--mode %s: status 0x%x", guests[i].mode, status);
	}
}

struct bad_args {
	const char *args[6];
	const char *expect;	/* in stderr */
};

static const struct bad_args bad[] = {
	{ { "--cpus", "0" },			"--cpus 0: give 1 to 64" },
	{ { "--cpus", "65" },			"--cpus 65: give 1 to 64" },
	{ { "--cpus", "many" },			"--cpus: not a number: many" },
	{ { "--cpus", "-2" },			"--cpus: not a number: -2" },
	{ { "--cpus", "4294967297" },		"--cpus 4294967297: give 1 to 64" },
	{ { "--cpus", "4", "--irqchip=user" },	"--cpus 4 needs --irqchip=kernel" },
	{ { "--irqchip=both" },			"--irqchip must be kernel or user" },
};

/* Run minikvm-run --kernel /l2/vmlinuz ARGS; its wait status, stderr in err. */
static int run_bad(const struct bad_args *b, char *err, size_t size)
{
	const char *argv[16] = { RUNNER, "--kernel", "/l2/vmlinuz" };
	int pipefd[2], status, n = 3;
	size_t len = 0;
	ssize_t r;
	pid_t pid;

	for (int i = 0; b->args[i]; i++)
		argv[n++] = b->args[i];
	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execv(RUNNER, (char **)argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (len < size - 1 && (r = read(pipefd[0], err + len, size - 1 - len)) > 0)
		len += r;
	err[len] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

TEST(bad_arguments)
{
	char err[1024];
	int status;

	if (access(RUNNER, X_OK))
		SKIP(return, "no " RUNNER " in this initramfs");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		status = run_bad(&bad[i], err, sizeof(err));
		ASSERT_NE(-1, status);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2)
			TH_LOG("%s %s: status 0x%x", bad[i].args[0], bad[i].args[1] ?: "", status);
		EXPECT_NE(NULL, strstr(err, bad[i].expect))
			TH_LOG("stderr \"%s\", expected \"%s\"", err, bad[i].expect);
	}
}

TEST_HARNESS_MAIN
