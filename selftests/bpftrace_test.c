// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpftrace_test: the bpftrace one-liners printed in Documentation/tracing.rst
 * (and README.md) run unchanged, with Debian's bpftrace 0.17, and count exactly
 * what the guest of include/exit_mix.h did.
 *
 * Each one-liner runs as the documentation shows it, on the whole machine, until
 * SIGINT (the Ctrl-C of a user), and prints its maps then. In between, the test
 * runs the guest once in a process of its own ("<this test> --guest"). The rig
 * runs nothing else that enters a guest, so:
 *
 *   exits_by_reason  @[isa, exit_reason] = count() of every kvm_exit: the OUTs
 *                    and the DONE ucall's OUT, MIX_OUT + 1; MIX_CPUID; MIX_HLT
 *   latency_hist     a histogram of exit -> next entry per reason: each exit that
 *                    has an entry after it, MIX_OUT (the ucall's OUT is the last
 *                    exit), MIX_CPUID, MIX_HLT
 *
 * The rig packs bpftrace (with LLVM and clang, about 200 MB) only for this test
 * (scripts/rig.sh --tools, or --test bpftrace); without it the test skips.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "exit_mix.h"
#include "kselftest_harness.h"

#define BPFTRACE	"/usr/bin/bpftrace"
/*
 * Rig seconds bpftrace may take to compile and attach a program, and to print
 * its maps.
 */
#define BPFTRACE_LIMIT_S	300
/* Seconds it may take to print its maps after SIGINT (a second or two here). */
#define BPFTRACE_EXIT_S		60

/* The one-liners, character for character as Documentation/tracing.rst prints them. */
#define EXITS_BY_REASON \
	"tracepoint:kvm:kvm_exit { @[args->isa, args->exit_reason] = count(); }"
#define LATENCY_HIST \
	"tracepoint:kvm:kvm_exit { @t[tid] = nsecs; @r[tid] = args->exit_reason; }\n" \
	"  tracepoint:kvm:kvm_entry /@t[tid]/ { @ns[@r[tid]] = hist(nsecs - @t[tid]); delete(@t[tid]); }"

static char text[1 << 17];

/* The harness's default limit (30 s) is too short for bpftrace in the rigs. */
FIXTURE(bpftrace) {};
FIXTURE_SETUP(bpftrace) {}
FIXTURE_TEARDOWN(bpftrace) {}

/*
 * How many perf events (anon_inode:[perf_event]) process @pid has open:
 * bpftrace opens one per tracepoint it attaches a program to.
 */
static int perf_event_fds(pid_t pid)
{
	char dir[64], path[320], target[64];
	struct dirent *d;
	int n = 0;
	DIR *dp;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	dp = opendir(dir);
	if (!dp)
		return -1;
	while ((d = readdir(dp))) {
		ssize_t len;

		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		n += !strcmp(target, "anon_inode:[perf_event]");
	}
	closedir(dp);
	return n;
}

/*
 * bpftrace -e @prog while the guest runs once; its whole stdout into text.
 * Returns false (after reporting why) if something went wrong.
 */
static bool trace_guest(struct __test_metadata *_metadata, const char *prog, int nprobes)
{
	char *argv[] = { BPFTRACE, "-e", (char *)prog, NULL };
	char *guest[] = { (char *)self_exe(), "--guest", NULL };
	double deadline = now_s() + BPFTRACE_LIMIT_S;
	char line[1024], out[1024];
	size_t used = 0;
	struct child c;
	bool killed;
	int r, status;

	text[0] = '\0';
	if (child_start(&c, argv, "bpftrace", false)) {
		TH_LOG("cannot start " BPFTRACE);
		return false;
	}
	/* "Attaching 1 probe..." once the program is loaded and attached. */
	while ((r = child_read_line(&c, line, sizeof(line), deadline)) == 1 &&
	       !strstr(line, "Attaching"))
		;
	if (r != 1) {
		child_stop(&c, now_s(), NULL);
		print_file("/tmp/bpftrace.err", "bpftrace");
		TH_LOG("bpftrace did not attach (%s)", r ? "it exited" : "time limit");
		return false;
	}
	printf("# bpftrace| %s\n", line);
	/*
	 * bpftrace prints that line before it loads and attaches the programs
	 * (seconds under an emulator): wait for its perf events, one per probe,
	 * and a moment more for the ioctls that enable them.
	 */
	while (perf_event_fds(c.pid) < nprobes && now_s() < deadline &&
	       waitpid(c.pid, &status, WNOHANG) == 0)
		usleep(100000);
	sleep(1);

	status = tool_run(guest, "bpftrace-guest", BPFTRACE_LIMIT_S, out, sizeof(out), &killed);
	print_text(out, "guest");
	EXPECT_EQ(0, status);

	/*
	 * SIGINT makes bpftrace print its maps and exit. Once, in a
	 * fresh-clone make check on minikvm (2026-12-03), it went on
	 * sleeping in epoll_wait() after taking the signal, the maps unprinted
	 * for 60 s: a signal that comes before it starts waiting can be lost
	 * there. Ask again every 5 s; the maps it prints are the same.
	 */
	kill(c.pid, SIGINT);
	deadline = now_s() + BPFTRACE_EXIT_S;
	for (;;) {
		double ask = now_s() + 5;

		r = child_read_line(&c, line, sizeof(line), ask < deadline ? ask : deadline);
		if (r == 1) {
			if (used < sizeof(text))
				used += snprintf(text + used, sizeof(text) - used, "%s\n", line);
			continue;
		}
		if (r != 0 || now_s() >= deadline)
			break;
		kill(c.pid, SIGINT);
	}
	if (r == 0) {
		/* Still there: where it waits, for the report. */
		char path[64];

		TH_LOG("bpftrace still running %d s after SIGINT", BPFTRACE_EXIT_S);
		snprintf(path, sizeof(path), "/proc/%d/stack", (int)c.pid);
		print_file(path, "bpftrace-stack");
		snprintf(path, sizeof(path), "/proc/%d/status", (int)c.pid);
		print_file(path, "bpftrace-status");
	}
	status = child_stop(&c, r == 0 ? now_s() : deadline, &killed);
	print_text(text, "bpftrace");
	print_file("/tmp/bpftrace.err", "bpftrace-stderr");
	EXPECT_FALSE(killed);
	EXPECT_EQ(0, status);
	return true;
}

/* The count of "@[isa, code]: N". */
static long map_count(unsigned int isa, unsigned int code)
{
	char pat[48];
	const char *p;

	snprintf(pat, sizeof(pat), "@[%u, %u]: ", isa, code);
	p = strstr(text, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

/*
 * The total of the histogram "@ns[code]:": the sum of its bucket lines,
 * "[4K, 8K)   123 |@@@@   |", up to the blank line after it.
 */
static long hist_total(unsigned int code)
{
	char pat[32];
	const char *p;
	long sum = 0;

	snprintf(pat, sizeof(pat), "@ns[%u]:", code);
	p = strstr(text, pat);
	if (!p || !strchr(p, '\n'))
		return -1;
	for (p = strchr(p, '\n') + 1; *p == '[' || *p == '('; p = strchr(p, '\n') + 1) {
		const char *close = strpbrk(p, ")]");

		if (!close || !strchr(p, '\n'))
			break;
		sum += strtol(close + 1, NULL, 10);
	}
	return sum;
}

TEST_F_TIMEOUT(bpftrace, exits_by_reason, 3 * BPFTRACE_LIMIT_S)
{
	struct mix_codes code = mix_codes();
	unsigned int isa = host_virt() == HOST_VIRT_VMX ? 1 : 2;

	TEST_REQUIRE_KVM();
	if (access(BPFTRACE, X_OK))
		SKIP(return, BPFTRACE " not in this rig (rig.sh --tools)");
	ASSERT_TRUE(trace_guest(_metadata, EXITS_BY_REASON, 1));

	EXPECT_EQ(MIX_OUT + 1, map_count(isa, code.io));
	EXPECT_EQ(MIX_CPUID, map_count(isa, code.cpuid));
	EXPECT_EQ(MIX_HLT, map_count(isa, code.hlt));
}

TEST_F_TIMEOUT(bpftrace, latency_hist, 3 * BPFTRACE_LIMIT_S)
{
	struct mix_codes code = mix_codes();

	TEST_REQUIRE_KVM();
	if (access(BPFTRACE, X_OK))
		SKIP(return, BPFTRACE " not in this rig (rig.sh --tools)");
	ASSERT_TRUE(trace_guest(_metadata, LATENCY_HIST, 2));

	EXPECT_EQ(MIX_OUT, hist_total(code.io));
	EXPECT_EQ(MIX_CPUID, hist_total(code.cpuid));
	EXPECT_EQ(MIX_HLT, hist_total(code.hlt));
}

EXIT_MIX_MAIN
