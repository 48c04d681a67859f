// SPDX-License-Identifier: GPL-2.0-only
/*
 * migrate_test: live migration of a running guest between two real QEMU 7.2
 * processes on the KVM under test.
 *
 * The guest is the rig's nested Linux (/l2/vmlinuz, /l2/initrd.gz from
 * user/runner/l2/mkinitrd.sh) with l2mode=counter: its /init prints
 * "L2-COUNT N" once a second, forever. Migration moves the guest's memory (dirty
 * page logging: KVM_MEM_LOG_DIRTY_PAGES, KVM_GET_DIRTY_LOG), its vCPU state
 * (registers, MSRs, FPU/XSAVE, events), the in-kernel irqchip and PIT, and the
 * kvmclock (KVM_GET_CLOCK/KVM_SET_CLOCK). Passing means: the source ends
 * "paused (postmigrate)", the destination runs, and its serial console goes on
 * counting from the number after the source's last one, without booting again
 * (no second "L2: init running").
 *
 *   tcp   destination started with -incoming tcp:127.0.0.1:PORT (over the rig's
 *         loopback, which scripts/guest-init.sh brings up), then QMP "migrate"
 *         on the source
 *   exec  the source migrates into a file ("exec:cat > FILE"), is stopped, and a
 *         third QEMU starts from it (-incoming "exec:cat FILE")
 *
 * Both QEMUs talk QMP on unix sockets. The times QEMU reports for the migration
 * (total, downtime, setup) are printed as TAP comments, with the rig-clock time
 * of each step. The guest's console is echoed as "# src| ..." / "# dst| ...";
 * QEMU's stderr as "# qemu-src| ..." / "# qemu-dst| ..." on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "kselftest_harness.h"

#define QEMU		"/usr/bin/qemu-system-x86_64"
#define L2_KERNEL	"/l2/vmlinuz"
#define L2_INITRD	"/l2/initrd.gz"
#define L2_APPEND	"console=ttyS0 panic=-1 quiet l2mode=counter"
#define SRC_QMP		"/tmp/migrate-src.qmp"
#define DST_QMP		"/tmp/migrate-dst.qmp"
#define STATE_FILE	"/tmp/migrate.state"
#define TCP_URI		"tcp:127.0.0.1:4444"
/* Rig seconds: a boot to the third count; a whole migration. */
#define BOOT_LIMIT_S	150
#define MIGRATE_LIMIT_S	120
/* The count the source reaches before it is migrated. */
#define COUNT_BEFORE	3

struct console {
	const char *tag;	/* "src" or "dst" */
	long last;		/* last "L2-COUNT N" seen, -1 before the first */
	long first;		/* first one seen */
	int inits;		/* "L2: init running" lines */
};

static bool files_missing(void)
{
	return access(QEMU, X_OK) || access(L2_KERNEL, R_OK) || access(L2_INITRD, R_OK);
}

/* Start a QEMU with the guest, its QMP socket at qmp, and incoming (or NULL). */
static int start_qemu(struct child *c, const char *tag, const char *qmp, const char *incoming)
{
	char qmparg[128];
	char *argv[40];
	int n = 0;

	snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off", qmp);
	unlink(qmp);
	argv[n++] = QEMU;
	argv[n++] = "-accel";
	argv[n++] = "kvm";
	argv[n++] = "-m";
	argv[n++] = "256";
	argv[n++] = "-no-reboot";
	argv[n++] = "-display";
	argv[n++] = "none";
	argv[n++] = "-vga";
	argv[n++] = "none";
	argv[n++] = "-nodefaults";
	argv[n++] = "-kernel";
	argv[n++] = L2_KERNEL;
	argv[n++] = "-initrd";
	argv[n++] = L2_INITRD;
	argv[n++] = "-append";
	argv[n++] = L2_APPEND;
	argv[n++] = "-serial";
	argv[n++] = "stdio";
	argv[n++] = "-qmp";
	argv[n++] = qmparg;
	if (incoming) {
		argv[n++] = "-incoming";
		argv[n++] = (char *)incoming;
	}
	argv[n] = NULL;

	printf("# %s:", tag);
	for (int i = 0; i < n; i++)
		printf(strchr(argv[i], ' ') ? " '%s'" : " %s", argv[i]);
	printf("\n");
	return child_start(c, argv, tag, false);
}

/* Note one console line: echo it, count inits, follow the counter. */
static void console_line(struct console *con, const char *line)
{
	const char *p = strstr(line, "L2-COUNT ");

	printf("# %s| %s\n", con->tag, line);
	fflush(stdout);
	if (strstr(line, "L2: init running"))
		con->inits++;
	if (p) {
		con->last = atol(p + strlen("L2-COUNT "));
		if (con->first < 0)
			con->first = con->last;
	}
}

/*
 * Read the console until the counter reaches at least `until` (returns true)
 * or the deadline passes (false). until < 0: just drain until the deadline.
 */
static bool follow(struct child *c, struct console *con, long until, double deadline)
{
	char line[512];

	for (;;) {
		int r;

		if (until >= 0 && con->last >= until)
			return true;
		r = child_read_line(c, line, sizeof(line), deadline);
		if (r <= 0)
			return false;
		console_line(con, line);
	}
}

/* QMP command whose reply must be a "return"; the reply stays in buf. */
static bool qmp_ok(int fd, const char *cmd, char *buf, size_t len)
{
	if (qmp_cmd(fd, cmd, buf, len, now_s() + 30))
		return false;
	if (!strstr(buf, "\"return\"")) {
		printf("# qmp: %s -> %s\n", cmd, buf);
		return false;
	}
	return true;
}

/* The VM's run state by query-status, e.g. "running", "postmigrate". */
static const char *vm_status(int fd, char *buf, size_t len)
{
	char reply[1024];

	if (!qmp_ok(fd, "{\"execute\": \"query-status\"}", reply, sizeof(reply)) ||
	    !json_str(reply, "status", buf, len))
		snprintf(buf, len, "(no answer)");
	return buf;
}

/*
 * Migrate the source to uri and wait for the end: returns true when QEMU says
 * "completed", and prints its times.
 */
static bool migrate(int qmp, const char *uri, struct child *src, struct console *con)
{
	char cmd[256], reply[4096], status[64] = "";
	double start = now_s(), deadline = start + MIGRATE_LIMIT_S;

	/* 7.2's default is 32 MiB/s; the loopback and a pipe take more. */
	if (!qmp_ok(qmp, "{\"execute\": \"migrate-set-parameters\", \"arguments\": "
			 "{\"max-bandwidth\": 1073741824}}", reply, sizeof(reply)))
		return false;
	snprintf(cmd, sizeof(cmd),
		 "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"%s\"}}", uri);
	if (!qmp_ok(qmp, cmd, reply, sizeof(reply)))
		return false;
	while (now_s() < deadline) {
		/* Half a second between polls, reading the source's console meanwhile. */
		follow(src, con, -1, now_s() + 0.5);
		if (!qmp_ok(qmp, "{\"execute\": \"query-migrate\"}", reply, sizeof(reply)))
			return false;
		json_str(reply, "status", status, sizeof(status));
		if (!strcmp(status, "completed") || !strcmp(status, "failed") ||
		    !strcmp(status, "cancelled"))
			break;
	}
	printf("# migration to %s: %s after %.1f s (rig clock)\n", uri, status, now_s() - start);
	if (strcmp(status, "completed")) {
		printf("# query-migrate: %s\n", reply);
		return false;
	}
	printf("# QEMU reports: total-time %lld ms, downtime %lld ms, setup-time %lld ms, "
	       "%lld bytes transferred, %lld zero pages\n",
	       json_num(reply, "total-time"), json_num(reply, "downtime"),
	       json_num(reply, "setup-time"), json_num(reply, "transferred"),
	       json_num(reply, "duplicate"));
	return true;
}

/*
 * The source after migration: paused in postmigrate. Then stop it and read the
 * rest of its console; the last, maybe unterminated, bytes it printed go in
 * front of the destination's first line (the guest may have been stopped in the
 * middle of a line).
 */
static bool source_done(int qmp, struct child *src, struct console *con, char *tail, size_t len)
{
	char status[64];
	bool ok;

	vm_status(qmp, status, sizeof(status));
	printf("# source status: %s\n", status);
	ok = !strcmp(status, "postmigrate");
	/* Anything the UART still had to send before the pause. */
	follow(src, con, -1, now_s() + 1);
	snprintf(tail, len, "%.*s", (int)src->len, src->part);
	src->len = 0;
	child_stop(src, now_s(), NULL);
	printf("# source: last count %ld%s%s\n", con->last, *tail ? ", then unterminated: " : "",
	       tail);
	return ok;
}

/*
 * The destination: running, and counting on from `last` without a new boot.
 * Its first line is read with the source's unterminated tail in front.
 */
static bool destination_goes_on(int qmp, struct child *dst, struct console *con, long last,
				const char *tail)
{
	char line[512], joined[1024], status[64];
	double start = now_s();
	int r;

	r = child_read_line(dst, line, sizeof(line), start + 30);
	if (r <= 0) {
		printf("# destination: no console output\n");
		return false;
	}
	snprintf(joined, sizeof(joined), "%s%s", tail, line);
	console_line(con, joined);
	follow(dst, con, con->first >= 0 ? con->first + 1 : last + 2, start + 30);
	vm_status(qmp, status, sizeof(status));
	printf("# destination status: %s; counts %ld..%ld after the source's %ld, "
	       "%d boot lines\n", status, con->first, con->last, last, con->inits);
	return !strcmp(status, "running") && con->first == last + 1 && con->last > con->first &&
	       con->inits == 0;
}

FIXTURE(migrate) {
	struct child src, dst;
	int src_qmp, dst_qmp;
};

FIXTURE_SETUP(migrate)
{
	self->src_qmp = self->dst_qmp = -1;
	if (files_missing())
		SKIP(return, "no " QEMU " or " L2_KERNEL " in this initramfs (rig.sh --qemu)");
}

/* QEMUs still running after a failure: gone before the next test, /dev/kvm free. */
FIXTURE_TEARDOWN(migrate)
{
	if (self->src_qmp >= 0)
		close(self->src_qmp);
	if (self->dst_qmp >= 0)
		close(self->dst_qmp);
	if (self->src.pid && !self->src.reaped)
		child_stop(&self->src, now_s(), NULL);
	if (self->dst.pid && !self->dst.reaped)
		child_stop(&self->dst, now_s(), NULL);
}

/* On a failed step: both QEMUs' stderr, then the assertion. */
#define STEP(cond, ...) do {							\
	bool __ok = (cond);							\
										\
	if (!__ok) {								\
		if (self->src.pid)						\
			child_print_stderr(&self->src, "qemu-src");		\
		if (self->dst.pid)						\
			child_print_stderr(&self->dst, "qemu-dst");		\
	}									\
	ASSERT_TRUE(__ok) TH_LOG(__VA_ARGS__);					\
} while (0)

/*
 * Where a guest that does not get on is: its run state and vCPU registers
 * (HMP "info registers" through QMP), printed as TAP comments.
 */
static void show_stuck(int qmp)
{
	static char reply[16384];
	char status[64], line[256];
	const char *p;
	size_t n = 0;

	printf("# status: %s\n", vm_status(qmp, status, sizeof(status)));
	if (qmp_cmd(qmp, "{\"execute\": \"human-monitor-command\", \"arguments\": "
			 "{\"command-line\": \"info registers\"}}", reply, sizeof(reply),
		    now_s() + 10))
		return;
	p = strstr(reply, "\"return\": \"");
	if (!p)
		return;
	/* The JSON string, unescaped: one comment per line. */
	for (p += strlen("\"return\": \""); *p && *p != '"'; p++) {
		char ch = *p;

		if (ch == '\\' && p[1]) {
			ch = *++p;
			if (ch == 'r')
				continue;
			if (ch == 'n')
				ch = '\n';
		}
		if (ch == '\n' || n == sizeof(line) - 1) {
			printf("# info registers| %.*s\n", (int)n, line);
			n = 0;
			continue;
		}
		line[n++] = ch;
	}
	fflush(stdout);
}

/* Boot the source to COUNT_BEFORE and connect to its QMP. */
static bool boot_source(struct child *src, struct console *con, int *qmp)
{
	double start = now_s();

	if (start_qemu(src, "src", SRC_QMP, NULL))
		return false;
	*qmp = qmp_open(src, SRC_QMP, start + 30);
	if (*qmp < 0)
		return false;
	if (!follow(src, con, COUNT_BEFORE, start + BOOT_LIMIT_S)) {
		printf("# source: no \"L2-COUNT %d\" after %.1f s\n", COUNT_BEFORE,
		       now_s() - start);
		show_stuck(*qmp);
		return false;
	}
	printf("# source counting after %.1f s (rig clock)\n", now_s() - start);
	return true;
}

TEST_F_TIMEOUT(migrate, tcp, BOOT_LIMIT_S + MIGRATE_LIMIT_S + 90)
{
	struct console sc = { "src", -1, -1, 0 }, dc = { "dst", -1, -1, 0 };
	double start = now_s();
	char tail[256];
	bool ok;

	if (files_missing())
		return;
	ASSERT_EQ(0, start_qemu(&self->dst, "dst", DST_QMP, TCP_URI));
	self->dst_qmp = qmp_open(&self->dst, DST_QMP, now_s() + 30);
	STEP(self->dst_qmp >= 0, "no QMP from the destination");
	STEP(boot_source(&self->src, &sc, &self->src_qmp), "the source did not boot to its counter");
	STEP(migrate(self->src_qmp, TCP_URI, &self->src, &sc), "migration did not complete");
	ok = source_done(self->src_qmp, &self->src, &sc, tail, sizeof(tail));
	STEP(ok, "the source is not paused (postmigrate)");
	ok = destination_goes_on(self->dst_qmp, &self->dst, &dc, sc.last, tail);
	child_stop(&self->dst, now_s(), NULL);
	STEP(ok, "the destination does not go on counting from %ld", sc.last + 1);
	printf("# migrate.tcp: %.1f s (rig clock)\n", now_s() - start);
}

TEST_F_TIMEOUT(migrate, exec_file, BOOT_LIMIT_S + MIGRATE_LIMIT_S + 90)
{
	struct console sc = { "src", -1, -1, 0 }, dc = { "dst", -1, -1, 0 };
	double start = now_s();
	char tail[256];
	bool ok;

	if (files_missing())
		return;
	unlink(STATE_FILE);
	STEP(boot_source(&self->src, &sc, &self->src_qmp), "the source did not boot to its counter");
	STEP(migrate(self->src_qmp, "exec:cat > " STATE_FILE, &self->src, &sc),
	     "migration to a file did not complete");
	ok = source_done(self->src_qmp, &self->src, &sc, tail, sizeof(tail));
	STEP(ok, "the source is not paused (postmigrate)");
	ASSERT_EQ(0, start_qemu(&self->dst, "dst", DST_QMP, "exec:cat " STATE_FILE));
	self->dst_qmp = qmp_open(&self->dst, DST_QMP, now_s() + 30);
	STEP(self->dst_qmp >= 0, "no QMP from the destination");
	ok = destination_goes_on(self->dst_qmp, &self->dst, &dc, sc.last, tail);
	child_stop(&self->dst, now_s(), NULL);
	STEP(ok, "the destination does not go on counting from %ld", sc.last + 1);
	unlink(STATE_FILE);
	printf("# migrate.exec_file: %.1f s (rig clock)\n", now_s() - start);
}

TEST_HARNESS_MAIN
