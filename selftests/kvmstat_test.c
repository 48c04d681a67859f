// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmstat_test: Linux's kvm_stat (tools/kvm/kvm_stat of Debian's linux-source-6.1,
 * unmodified, under Debian's python3.11) counts exactly what the guest of
 * include/exit_mix.h did, from both of its sources:
 *
 *   debugfs      /sys/kernel/debug/kvm (kmod/debugfs.c): per-VM counters, the
 *                names kvm.ko uses. For the mix, io_exits = MIX_OUT + 1 (the
 *                DONE ucall is an OUT too), halt_exits = MIX_HLT, mmio_exits =
 *                MIX_MMIO. "exits" counts nested page faults and host
 *                interrupts too: only its lower bound is checked.
 *   tracepoints  kvm:* events through perf_event_open(), kvm_exit and
 *                kvm_userspace_exit split by kvm_stat's own filters on
 *                exit_reason / reason: kvm_exit(IOIO) = MIX_OUT + 1,
 *                kvm_exit(CPUID) = MIX_CPUID, kvm_exit(HLT) = MIX_HLT (SVM
 *                names; IO_INSTRUCTION for VMX), kvm_userspace_exit(IO) =
 *                MIX_OUT + 1, (HLT) = MIX_HLT, (MMIO) = MIX_MMIO, and so
 *                kvm_userspace_exit = their sum; kvm_pio = MIX_OUT + 1,
 *                kvm_mmio = MIX_MMIO. kvm_exit alone: a lower bound.
 *
 * The guest runs in a process of its own ("<this test> --hold"): it makes its
 * VM, says "ready", runs the mix when told "go", and keeps the VM until its
 * stdin closes. kvm_stat's debugfs source reads only the VMs alive when it
 * reads, and takes a VM's counts at first sight as its baseline, as it does on
 * kvm.ko: hence a VM that outlives the reading, and one made before it starts.
 *
 *   debugfs_once     kvm_stat -1 -d -i (-i: counts since the VM began) after the
 *                    mix, and with -p PID; the files themselves; a VM's
 *                    directory goes with it
 *   open_file_holds_vm  (no kvm_stat) a VM's debugfs file open while the VM's
 *                    fds close keeps the VM and its directory until it closes
 *   debugfs_log      kvm_stat -l -d -s 0.5 started before "go", stopped with
 *                    SIGINT (a user's Ctrl-C) two lines after the mix: the
 *                    deltas of its lines summed
 *   tracepoint_log   the same with -t
 *   fields           kvm_stat -f help lists the debugfs files and the events
 *
 * Not here: "kvm_stat -1 -t" counts for one second from the moment it opened
 * its events, and nothing tells another process when that is; -g (a guest by
 * name) runs "ps -A --format", which busybox's ps does not have; the curses
 * display needs a terminal. See Documentation/tracing.rst.
 *
 * The rig packs kvm_stat and Python only for this test (scripts/rig.sh --tools,
 * or --test kvmstat); without /usr/bin/kvm_stat it skips.
 */
#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "exit_mix.h"
#include "kselftest_harness.h"

#define KVM_STAT	"/usr/bin/kvm_stat"
#define DEBUGFS_KVM	"/sys/kernel/debug/kvm"
/* Rig seconds one kvm_stat run, or the guest, may take (Python starts in 1-2 s). */
#define LIMIT_S		120
/* kvm_stat's columns in log mode: few, thanks to -f. */
#define MAX_COLS	16

static char text[1 << 16];

FIXTURE(kvmstat) {};
FIXTURE_SETUP(kvmstat) {}
FIXTURE_TEARDOWN(kvmstat) {}

/* ------------------------------------------------------------ the guest */

/*
 * "--hold": the mix in a VM that lives until stdin closes. Prints "ready PID
 * VMFD", then on "go" the mix and its "exit_mix: ..." line. Exits 0 if the
 * mix was right or never asked for.
 */
static int hold_run(void)
{
	struct vcpu *vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(exit_mix_guest));
	char line[64];
	int r = 0;	/* no "go": no mix to judge */

	printf("ready %d %d\n", (int)getpid(), vcpu->vm->fd);
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) && !strncmp(line, "go", 2))
		r = exit_mix_loop(vcpu);
	while (fgets(line, sizeof(line), stdin))
		;
	vm_free(vcpu->vm);
	return r;
}

struct guest {
	struct child c;
	int pid, vm_fd;
};

static int guest_start(struct guest *g)
{
	char *argv[] = { (char *)self_exe(), "--hold", NULL };
	char line[256];

	if (child_start(&g->c, argv, "kvmstat-guest", true))
		return -1;
	if (child_read_line(&g->c, line, sizeof(line), now_s() + LIMIT_S) != 1 ||
	    sscanf(line, "ready %d %d", &g->pid, &g->vm_fd) != 2)
		return -1;
	return 0;
}

/* "go", then the guest's "exit_mix:" line: 0 if it saw the mix it expected. */
static int guest_go(struct guest *g)
{
	char line[256];

	if (child_write(&g->c, "go\n"))
		return -1;
	while (child_read_line(&g->c, line, sizeof(line), now_s() + LIMIT_S) == 1) {
		printf("# guest| %s\n", line);
		if (!strncmp(line, "exit_mix: ", 10))
			return strstr(line, " other 0") ? 0 : -1;
	}
	return -1;
}

/* Close its stdin: it frees the VM and exits; its status. */
static int guest_end(struct guest *g)
{
	bool killed;
	int status = child_stop(&g->c, now_s() + LIMIT_S, &killed);

	return killed ? -1 : status;
}

/* ------------------------------------------------------------ kvm_stat's output */

/*
 * Batch mode (-1) prints "<name> <value> <delta>" per field: @name's value, or
 * -1 if no line names it.
 */
static long long once_value(const char *out, const char *name)
{
	const char *p = out;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		char line[256], first[64];
		long long value, delta;

		snprintf(line, sizeof(line), "%.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
		if (sscanf(line, "%63s %lld %lld", first, &value, &delta) == 3 &&
		    !strcmp(first, name))
			return value;
		p = nl ? nl + 1 : NULL;
	}
	return -1;
}

/* kvm_stat ARGS... to its end: its stdout in text[]. */
static int kvm_stat(struct __test_metadata *_metadata, char *const argv[])
{
	char cmd[256] = "";
	bool killed;
	int i, status;

	for (i = 0; argv[i]; i++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i ? " " : "", argv[i]);
	status = tool_run(argv, "kvm-stat", LIMIT_S, text, sizeof(text), &killed);
	printf("# %s\n", cmd);
	print_text(text, "kvm_stat");
	print_file("/tmp/kvm-stat.err", "stderr");
	EXPECT_FALSE(killed);
	EXPECT_EQ(0, status);
	return status;
}

/*
 * Log mode (-l) prints a banner of field names, then one line per interval:
 * date, time and each field's change in that interval. The banner comes again
 * every 20 lines.
 */
struct log_sum {
	char names[MAX_COLS][64];
	long long sum[MAX_COLS];
	int cols, lines;
};

static void log_line(struct log_sum *s, const char *line)
{
	char copy[1024], *tok, *save;
	int col = 0;

	snprintf(copy, sizeof(copy), "%s", line);
	if (!isdigit((unsigned char)line[0])) {
		/* The banner (again). */
		s->cols = 0;
		for (tok = strtok_r(copy, " ", &save); tok && s->cols < MAX_COLS;
		     tok = strtok_r(NULL, " ", &save))
			snprintf(s->names[s->cols++], sizeof(s->names[0]), "%s", tok);
		return;
	}
	/* "YYYY-MM-DD HH:MM:SS v1 v2 ..." */
	tok = strtok_r(copy, " ", &save);
	tok = tok ? strtok_r(NULL, " ", &save) : NULL;
	while (tok && (tok = strtok_r(NULL, " ", &save)) && col < s->cols)
		s->sum[col++] += strtoll(tok, NULL, 10);
	s->lines++;
}

static long long log_total(const struct log_sum *s, const char *name)
{
	int i;

	for (i = 0; i < s->cols; i++)
		if (!strcmp(s->names[i], name))
			return s->sum[i];
	return -1;
}

/*
 * kvm_stat in log mode around the mix: started after the guest's VM exists,
 * its banner awaited (kvm_stat has its baseline then), "go", then two more
 * lines (the second one was counted after the mix ended), then SIGINT. The
 * deltas of every line summed into @s.
 */
static void log_mix(struct __test_metadata *_metadata, char *const argv[],
		    struct log_sum *s)
{
	double deadline = now_s() + LIMIT_S;
	char line[1024];
	struct guest g;
	struct child ks;
	bool killed;
	int r, after = 0, status;

	memset(s, 0, sizeof(*s));
	ASSERT_EQ(0, guest_start(&g));
	ASSERT_EQ(0, child_start(&ks, argv, "kvm-stat", false));
	r = child_read_line(&ks, line, sizeof(line), deadline);
	ASSERT_EQ(1, r) {
		print_file("/tmp/kvm-stat.err", "stderr");
		kill(ks.pid, SIGKILL);
	}
	printf("# kvm_stat| %s\n", line);
	log_line(s, line);
	ASSERT_LT(0, s->cols);

	EXPECT_EQ(0, guest_go(&g));
	while (after < 2 && (r = child_read_line(&ks, line, sizeof(line), deadline)) == 1) {
		printf("# kvm_stat| %s\n", line);
		log_line(s, line);
		after++;
	}
	EXPECT_EQ(2, after);

	/* Ctrl-C: kvm_stat ends its loop and exits 0. */
	kill(ks.pid, SIGINT);
	while (child_read_line(&ks, line, sizeof(line), deadline) == 1) {
		printf("# kvm_stat| %s\n", line);
		log_line(s, line);
	}
	status = child_stop(&ks, deadline, &killed);
	print_file("/tmp/kvm-stat.err", "stderr");
	EXPECT_FALSE(killed);
	EXPECT_EQ(0, status);
	EXPECT_EQ(0, guest_end(&g));
	printf("# %d lines summed\n", s->lines);
}

/* A debugfs file as a number, or -1. */
static long long file_value(const char *path)
{
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static bool kvm_stat_here(void)
{
	return !access(KVM_STAT, X_OK);
}

/* ------------------------------------------------------------ the tests */

TEST_F_TIMEOUT(kvmstat, debugfs_once, 6 * LIMIT_S)
{
	char *once_i[] = { KVM_STAT, "-1", "-d", "-i", NULL };
	char *once[] = { KVM_STAT, "-1", "-d", NULL };
	char pid[16], *once_p[] = { KVM_STAT, "-1", "-d", "-i", "-p", pid, NULL };
	char dir[128], path[192];
	long long exits;
	struct guest g;
	struct stat st;

	TEST_REQUIRE_KVM();
	if (!kvm_stat_here())
		SKIP(return, KVM_STAT " not in this rig (rig.sh --tools)");
	ASSERT_EQ(0, guest_start(&g));
	ASSERT_EQ(0, guest_go(&g));

	/* What kvm_stat reads: the top-level sums and the VM's directory. */
	snprintf(dir, sizeof(dir), DEBUGFS_KVM "/%d-%d", g.pid, g.vm_fd);
	EXPECT_EQ(0, stat(dir, &st));
	snprintf(path, sizeof(path), "%s/io_exits", dir);
	EXPECT_EQ(MIX_OUT + 1, file_value(path));
	EXPECT_EQ(MIX_OUT + 1, file_value(DEBUGFS_KVM "/io_exits"));
	EXPECT_EQ(MIX_HLT, file_value(DEBUGFS_KVM "/halt_exits"));
	EXPECT_EQ(MIX_MMIO, file_value(DEBUGFS_KVM "/mmio_exits"));

	/* -i: everything since the VM began; it is idle while kvm_stat looks. */
	kvm_stat(_metadata, once_i);
	EXPECT_EQ(MIX_OUT + 1, once_value(text, "io_exits"));
	EXPECT_EQ(MIX_HLT, once_value(text, "halt_exits"));
	EXPECT_EQ(MIX_MMIO, once_value(text, "mmio_exits"));
	exits = once_value(text, "exits");
	EXPECT_LE(MIX_OUT + 1 + MIX_CPUID + MIX_HLT + MIX_MMIO, exits);

	/* The same for this guest's pid alone (its "<pid>-<fd>" directory). */
	snprintf(pid, sizeof(pid), "%d", g.pid);
	kvm_stat(_metadata, once_p);
	EXPECT_EQ(MIX_OUT + 1, once_value(text, "io_exits"));
	EXPECT_EQ(MIX_HLT, once_value(text, "halt_exits"));
	EXPECT_EQ(MIX_MMIO, once_value(text, "mmio_exits"));

	/* Without -i: only what happens from its start, nothing here. */
	kvm_stat(_metadata, once);
	EXPECT_EQ(0, once_value(text, "io_exits"));
	EXPECT_EQ(0, once_value(text, "halt_exits"));

	/* The VM gone, its directory goes, and the sums fall back to 0. */
	EXPECT_EQ(0, guest_end(&g));
	EXPECT_NE(0, stat(dir, &st));
	EXPECT_EQ(0, file_value(DEBUGFS_KVM "/io_exits"));
	EXPECT_EQ(0, file_value(DEBUGFS_KVM "/halt_exits"));
}

/*
 * No kvm_stat here: a file of a VM's directory open while the VM's fds close.
 * The open file holds the VM (kvm.ko's rule, and kmod/debugfs.c's): the
 * directory stays and the file reads the VM's counts until it is closed.
 */
TEST_F_TIMEOUT(kvmstat, open_file_holds_vm, LIMIT_S)
{
	struct vcpu *vcpu;
	char dir[128], path[192], buf[32];
	struct stat st;
	ssize_t n;
	int fd;

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(exit_mix_guest));
	snprintf(dir, sizeof(dir), DEBUGFS_KVM "/%d-%d", (int)getpid(), vcpu->vm->fd);
	snprintf(path, sizeof(path), "%s/io_exits", dir);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd) {
		vm_free(vcpu->vm);
	}
	ASSERT_EQ(0, exit_mix_loop(vcpu));
	vm_free(vcpu->vm);

	EXPECT_EQ(0, stat(dir, &st));
	/* read(), not pread(): kvm.ko's files are not seekable. */
	n = read(fd, buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	EXPECT_EQ(MIX_OUT + 1, strtoll(buf, NULL, 10));
	EXPECT_EQ(MIX_OUT + 1, file_value(DEBUGFS_KVM "/io_exits"));

	/* The last reference goes with the file, and the directory with it. */
	close(fd);
	EXPECT_NE(0, stat(dir, &st));
	EXPECT_EQ(0, file_value(DEBUGFS_KVM "/io_exits"));
}

TEST_F_TIMEOUT(kvmstat, debugfs_log, 3 * LIMIT_S)
{
	char *argv[] = { KVM_STAT, "-l", "-d", "-s", "0.5", "-f", "(io|halt|mmio)_exits$", NULL };
	struct log_sum s;

	TEST_REQUIRE_KVM();
	if (!kvm_stat_here())
		SKIP(return, KVM_STAT " not in this rig (rig.sh --tools)");
	log_mix(_metadata, argv, &s);
	EXPECT_EQ(MIX_OUT + 1, log_total(&s, "io_exits"));
	EXPECT_EQ(MIX_HLT, log_total(&s, "halt_exits"));
	EXPECT_EQ(MIX_MMIO, log_total(&s, "mmio_exits"));
}

TEST_F_TIMEOUT(kvmstat, tracepoint_log, 3 * LIMIT_S)
{
	char *argv[] = { KVM_STAT, "-l", "-t", "-s", "0.5", "-f",
			 "kvm_exit\\((IOIO|IO_INSTRUCTION|CPUID|HLT)\\)$|"
			 "kvm_userspace_exit\\((IO|HLT|MMIO)\\)$|kvm_(pio|mmio)$", NULL };
	bool vmx = host_virt() == HOST_VIRT_VMX;
	struct log_sum s;
	int i;

	TEST_REQUIRE_KVM();
	if (!kvm_stat_here())
		SKIP(return, KVM_STAT " not in this rig (rig.sh --tools)");
	log_mix(_metadata, argv, &s);
	for (i = 0; i < s.cols; i++)
		printf("# total %s %lld\n", s.names[i], s.sum[i]);
	EXPECT_EQ(MIX_OUT + 1, log_total(&s, vmx ? "kvm_exit(IO_INSTRUCTION)" : "kvm_exit(IOIO)"));
	EXPECT_EQ(MIX_CPUID, log_total(&s, "kvm_exit(CPUID)"));
	EXPECT_EQ(MIX_HLT, log_total(&s, "kvm_exit(HLT)"));
	EXPECT_EQ(MIX_OUT + 1, log_total(&s, "kvm_userspace_exit(IO)"));
	EXPECT_EQ(MIX_HLT, log_total(&s, "kvm_userspace_exit(HLT)"));
	EXPECT_EQ(MIX_MMIO, log_total(&s, "kvm_userspace_exit(MMIO)"));
	/* Every return to userspace was one of those. */
	EXPECT_EQ(MIX_OUT + 1 + MIX_HLT + MIX_MMIO, log_total(&s, "kvm_userspace_exit"));
	EXPECT_EQ(MIX_OUT + 1, log_total(&s, "kvm_pio"));
	EXPECT_EQ(MIX_MMIO, log_total(&s, "kvm_mmio"));
	/* kvm_exit counts nested page faults and host interrupts too. */
	EXPECT_LE(MIX_OUT + 1 + MIX_CPUID + MIX_HLT + MIX_MMIO, log_total(&s, "kvm_exit"));
}

TEST_F_TIMEOUT(kvmstat, fields, 3 * LIMIT_S)
{
	char *help_d[] = { KVM_STAT, "-d", "-f", "help", NULL };
	char *help_t[] = { KVM_STAT, "-t", "-f", "help", NULL };
	struct guest g;

	TEST_REQUIRE_KVM();
	if (!kvm_stat_here())
		SKIP(return, KVM_STAT " not in this rig (rig.sh --tools)");
	/*
	 * The debugfs source lists the fields it read from the VMs there are:
	 * none without a VM (it printed only a blank line then, here).
	 */
	ASSERT_EQ(0, guest_start(&g));
	kvm_stat(_metadata, help_d);
	EXPECT_NE(NULL, strstr(text, "  io_exits\n"));
	EXPECT_NE(NULL, strstr(text, "  halt_exits\n"));
	EXPECT_NE(NULL, strstr(text, "  mmio_exits\n"));
	EXPECT_NE(NULL, strstr(text, "  exits\n"));
	EXPECT_EQ(0, guest_end(&g));
	kvm_stat(_metadata, help_t);
	EXPECT_NE(NULL, strstr(text, "  kvm_exit\n"));
	EXPECT_NE(NULL, strstr(text, "  kvm_entry\n"));
	EXPECT_NE(NULL, strstr(text, "  kvm_userspace_exit\n"));
}

int main(int argc, char **argv)
{
	/*
	 * kvm_stat starts with "#!/usr/bin/env python3": the rig's PATH is
	 * /bin alone. Unbuffered: its log lines reach the pipe as printed.
	 */
	setenv("PATH", "/usr/bin:/bin", 1);
	setenv("PYTHONUNBUFFERED", "1", 1);
	if (argc > 1 && !strcmp(argv[1], "--hold"))
		return hold_run();
	if (argc > 1 && !strcmp(argv[1], "--guest"))
		return exit_mix_run();
	if (argc > 1 && !strcmp(argv[1], "--idle"))
		return exit_mix_idle_run();
	return test_harness_run(argc, argv);
}
