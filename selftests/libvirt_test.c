// SPDX-License-Identifier: GPL-2.0-only
/*
 * libvirt_test: libvirt 9.0 (Debian's) runs a type='kvm' domain on the KVM
 * under test, through its QEMU driver embedded in the client process (URI
 * qemu:///embed?root=DIR: no libvirtd, no virtlogd), with the real QEMU 7.2.
 *
 * The rig packs virsh, virt-qemu-run, virt-host-validate, the QEMU driver module
 * libvirt_driver_qemu.so, their libraries, libvirt's CPU map and passwd/group
 * entries for root and libvirt-qemu (scripts/rig.sh --qemu). The domain boots
 * the rig's nested Linux (/l2/vmlinuz, /l2/initrd.gz) by direct kernel boot,
 * its serial console into a file. Each test writes its own driver root with an
 * etc/qemu.conf: user and group root, stdio_handler "file" (no virtlogd).
 *
 *   virsh_lifecycle  one virsh process fed commands on its stdin: define, start,
 *                    dominfo says running, the console shows the guest's marker and
 *                    its counter (l2mode=counter), destroy, dominfo says shut off,
 *                    undefine. Starting also makes libvirt probe QEMU's
 *                    capabilities with -accel kvm: that is where a KVM that
 *                    QEMU cannot use shows up first.
 *   virt_qemu_run    virt-qemu-run boots the marker guest (reboot -f, and
 *                    on_reboot destroy); libvirt stops the domain, and the
 *                    program exits 0 (with a nudge: see the test)
 *   host_validate    virt-host-validate qemu: its /dev/kvm checks must pass (its
 *                    other lines, cgroups, IOMMU, are printed, not judged)
 *
 * virsh's and virt-qemu-run's stderr is printed as "# virsh| ..." and so on
 * when a test fails; the guest's console as "# L2| ...".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "kselftest_harness.h"

#define VIRSH		"/usr/bin/virsh"
#define QEMU_RUN	"/usr/bin/virt-qemu-run"
#define HOST_VALIDATE	"/usr/bin/virt-host-validate"
#define QEMU		"/usr/bin/qemu-system-x86_64"
#define DRIVER		"/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so"
#define L2_KERNEL	"/l2/vmlinuz"
#define L2_INITRD	"/l2/initrd.gz"
#define MARKER		"L2-MARKER sum=500500"
/* Rig seconds: libvirt's probe of QEMU plus the start; the guest's boot. */
#define START_LIMIT_S	120
#define BOOT_LIMIT_S	150
/* The domain type; "qemu" (TCG) runs these tests where there is no /dev/kvm. */
#ifndef VIRT_TYPE
#define VIRT_TYPE	"kvm"
#endif

static bool files_missing(void)
{
	return access(VIRSH, X_OK) || access(QEMU_RUN, X_OK) || access(QEMU, X_OK) ||
	       access(DRIVER, R_OK) || access(L2_KERNEL, R_OK) || access(L2_INITRD, R_OK);
}

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return false;
	fputs(text, f);
	return !fclose(f);
}

/* A fresh driver root: ROOT/etc/qemu.conf and nothing else. */
static bool make_root(const char *root)
{
	char cmd[128], path[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s/etc", root, root);
	if (system(cmd))
		return false;
	snprintf(path, sizeof(path), "%s/etc/qemu.conf", root);
	return write_file(path, "user = \"root\"\n"
				"group = \"root\"\n"
				"stdio_handler = \"file\"\n");
}

/* The domain: the nested Linux with kernel command line extra, console to console. */
static bool write_domain(const char *xml, const char *extra, const char *console)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "<domain type='" VIRT_TYPE "'>\n"
		 "  <name>l2</name>\n"
		 "  <memory unit='MiB'>256</memory>\n"
		 "  <vcpu>1</vcpu>\n"
		 "  <os>\n"
		 "    <type arch='x86_64'>hvm</type>\n"
		 "    <kernel>" L2_KERNEL "</kernel>\n"
		 "    <initrd>" L2_INITRD "</initrd>\n"
		 "    <cmdline>console=ttyS0 panic=-1 quiet%s</cmdline>\n"
		 "  </os>\n"
		 "  <features><acpi/><apic/></features>\n"
		 "  <on_reboot>destroy</on_reboot>\n"
		 "  <devices>\n"
		 "    <emulator>" QEMU "</emulator>\n"
		 "    <serial type='file'><source path='%s'/></serial>\n"
		 "  </devices>\n"
		 "</domain>\n", extra, console);
	unlink(console);
	return write_file(xml, text);
}

/*
 * Print the console file's lines from line number *seen on, as "# L2| ...";
 * returns whether it holds s (anywhere).
 */
static bool console_has(const char *console, int *seen, const char *s)
{
	char line[512];
	bool found = false;
	int n = 0;
	FILE *f = fopen(console, "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strchr(line, '\n'))
			break;	/* a line still being written: next time */
		line[strcspn(line, "\r\n")] = '\0';
		if (n++ >= *seen) {
			printf("# L2| %s\n", line);
			(*seen)++;
		}
		if (strstr(line, s))
			found = true;
	}
	fclose(f);
	fflush(stdout);
	return found;
}

/* Wait until the console holds s, echoing it; false at the deadline. */
static bool console_wait(const char *console, int *seen, const char *s, double deadline)
{
	while (!console_has(console, seen, s)) {
		if (now_s() >= deadline)
			return false;
		usleep(250000);
	}
	return true;
}

/*
 * Send virsh commands (each followed by "echo @@DONE"), and collect its answers up
 * to that line into out[len]. Returns false if virsh did not get there by deadline.
 */
static bool virsh_do(struct child *v, const char *cmds, char *out, size_t len, double deadline)
{
	char line[512];
	size_t used = 0;

	out[0] = '\0';
	if (child_write(v, cmds) || child_write(v, "echo @@DONE\n"))
		return false;
	while (child_read_line(v, line, sizeof(line), deadline) > 0) {
		/* Without a terminal, virsh still prints its prompt and echoes the command. */
		const char *l = strncmp(line, "virsh # ", 8) ? line : line + 8;

		if (!strcmp(l, "@@DONE"))
			return true;
		printf("# virsh> %s\n", l);
		used += snprintf(out + used, used < len ? len - used : 0, "%s\n", l);
	}
	printf("# virsh: no answer by the deadline\n");
	return false;
}

/* Is s one of the lines of out? */
static bool has_line(const char *out, const char *s)
{
	size_t n = strlen(s);

	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, s, n) && (p[n] == '\n' || !p[n]))
			return true;
	return false;
}

/* Does a dominfo answer say "State: <state>"? */
static bool state_is(const char *out, const char *state)
{
	const char *p = strstr(out, "State:");

	if (!p)
		return false;
	p += strlen("State:");
	while (*p == ' ')
		p++;
	return !strncmp(p, state, strlen(state)) && p[strlen(state)] == '\n';
}

FIXTURE(libvirt) {
	struct child c;
	const char *root;	/* the driver root, for the teardown */
};

FIXTURE_SETUP(libvirt)
{
	if (files_missing())
		SKIP(return, "no libvirt, QEMU or " L2_KERNEL " in this initramfs (rig.sh --qemu)");
	/* libvirt looks for QEMU in PATH; the rig's own is /bin only. */
	setenv("PATH", "/usr/bin:/bin", 1);
	setenv("HOME", "/tmp", 1);
}

/* A QEMU that libvirt left running (a failed test) would keep /dev/kvm busy. */
FIXTURE_TEARDOWN(libvirt)
{
	char path[128];
	FILE *f;
	int pid;

	if (!self->root)
		return;
	snprintf(path, sizeof(path), "%s/run/qemu/l2.pid", self->root);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fscanf(f, "%d", &pid) == 1 && pid > 0 && !kill(pid, SIGKILL)) {
		printf("# killed QEMU %d, left running by libvirt\n", pid);
		/* Not our child: wait until it is gone or a zombie (its files closed). */
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		for (int i = 0; i < 100; i++) {
			char state = 0;
			FILE *st = fopen(path, "r");

			if (st && fscanf(st, "%*d %*s %c", &state) != 1)
				state = 0;
			if (st)
				fclose(st);
			if (!st || state == 'Z')
				break;
			usleep(100000);
		}
	}
	fclose(f);
}

#define CHECK_FILES() do { if (files_missing()) return; } while (0)

/*
 * On a failed step: the client's stderr and the domain's log (libvirt writes
 * QEMU's command line and stderr there), then the assertion.
 */
#define STEP(cond, tag, ...) do {						\
	bool __ok = (cond);							\
										\
	if (!__ok) {								\
		char __log[64];							\
										\
		child_print_stderr(&self->c, tag);				\
		if (self->root) {						\
			snprintf(__log, sizeof(__log), "%s/log/qemu/l2.log",	\
				 self->root);					\
			print_file(__log, "l2.log");				\
		}								\
	}									\
	ASSERT_TRUE(__ok) TH_LOG(__VA_ARGS__);					\
} while (0)

TEST_F_TIMEOUT(libvirt, virsh_lifecycle, START_LIMIT_S + BOOT_LIMIT_S + 90)
{
	const char *root = "/tmp/lv", *xml = "/tmp/lv-counter.xml";
	const char *console = "/tmp/lv-counter.console";
	char *argv[] = { VIRSH, "-c", "qemu:///embed?root=/tmp/lv", NULL };
	double start = now_s(), t;
	static char out[8192];
	int seen = 0;
	bool ok;

	CHECK_FILES();
	self->root = root;
	ASSERT_TRUE(make_root(root));
	ASSERT_TRUE(write_domain(xml, " l2mode=counter", console));
	ASSERT_EQ(0, child_start(&self->c, argv, "virsh", true));

	ok = virsh_do(&self->c, "define /tmp/lv-counter.xml\nstart l2\ndominfo l2\n",
		      out, sizeof(out), start + START_LIMIT_S);
	t = now_s();
	printf("# define, start, dominfo: %.1f s (rig clock)\n", t - start);
	STEP(ok && strstr(out, "Domain 'l2' started") && state_is(out, "running"), "virsh",
	     "the domain is not running after start");

	ok = console_wait(console, &seen, "L2-COUNT 2", t + BOOT_LIMIT_S);
	printf("# console: %s, %scounting, %.1f s after start\n",
	       console_has(console, &seen, MARKER) ? "marker" : "no marker", ok ? "" : "not ",
	       now_s() - t);
	/* Where a guest that does not get on is (a diagnosis, not a check). */
	if (!ok)
		virsh_do(&self->c, "domstate l2 --reason\n"
			 "qemu-monitor-command l2 --hmp 'info registers'\n",
			 out, sizeof(out), now_s() + 30);
	STEP(ok && console_has(console, &seen, MARKER), "virsh",
	     "no \"%s\" and counter on the console", MARKER);

	ok = virsh_do(&self->c, "destroy l2\ndominfo l2\nundefine l2\nlist --all --name\n",
		      out, sizeof(out), now_s() + 60);
	STEP(ok && strstr(out, "Domain 'l2' destroyed") && state_is(out, "shut off") &&
	     strstr(out, "Domain 'l2' has been undefined") && !has_line(out, "l2"), "virsh",
	     "destroy or undefine did not happen");
	STEP(!child_stderr_has(&self->c, "error:"), "virsh", "virsh reported an error");
	child_write(&self->c, "quit\n");
	child_stop(&self->c, now_s() + 30, NULL);
	printf("# virsh_lifecycle: %.1f s (rig clock)\n", now_s() - start);
}

/*
 * virt-qemu-run "blocks until the guest OS shuts down", says its manual. In
 * libvirt 9.0 (src/qemu/qemu_shim.c) it does not return by itself here, on the
 * real kvm_amd and with TCG on a plain host alike: the STOPPED event sets the
 * quit flag inside one iteration of its event loop, and the loop then runs one
 * more blocking iteration before it looks at the flag again, waiting for an
 * event that no longer comes. So the test waits until libvirt has stopped the
 * domain (its log says "shutting down, reason=shutdown"), gives the program a
 * few seconds, and then ends it as a user would, with SIGTERM (Ctrl-C), which
 * wakes the loop: it must then exit with status 0.
 */
TEST_F_TIMEOUT(libvirt, virt_qemu_run, START_LIMIT_S + BOOT_LIMIT_S + 60)
{
	const char *xml = "/tmp/lvrun-marker.xml", *console = "/tmp/lvrun-marker.console";
	const char *log = "/tmp/lvrun/log/qemu/l2.log";
	char *argv[] = { QEMU_RUN, "--verbose", "-r", "/tmp/lvrun", (char *)xml, NULL };
	double start = now_s(), stopped = 0, deadline = start + START_LIMIT_S + BOOT_LIMIT_S;
	char line[512], st[64];
	bool exited = false, killed;
	int status, seen = 0;

	CHECK_FILES();
	self->root = "/tmp/lvrun";
	ASSERT_TRUE(make_root(self->root));
	ASSERT_TRUE(write_domain(xml, "", console));
	ASSERT_EQ(0, child_start(&self->c, argv, "virt-qemu-run", false));
	/* Its stdout stays silent: a line or EOF (exit) ends the wait for this poll. */
	while (now_s() < deadline) {
		int r = child_read_line(&self->c, line, sizeof(line), now_s() + 0.5);

		if (r > 0)
			printf("# virt-qemu-run> %s\n", line);
		if (r < 0) {
			exited = true;
			break;
		}
		if (!stopped && file_has(log, "shutting down, reason=")) {
			stopped = now_s();
			printf("# domain stopped %.1f s after virt-qemu-run started\n",
			       stopped - start);
		}
		if (stopped && now_s() > stopped + 5)
			break;
	}
	if (!exited && stopped) {
		printf("# virt-qemu-run still running 5 s after the domain stopped: SIGTERM\n");
		kill(self->c.pid, SIGTERM);
	}
	status = child_stop(&self->c, now_s() + 20, &killed);
	printf("# virt-qemu-run: %s%s after %.1f s (rig clock)\n",
	       wait_status_str(status, st, sizeof(st)), killed ? " (killed)" : "",
	       now_s() - start);
	console_has(console, &seen, "");
	STEP(console_has(console, &seen, MARKER), "virt-qemu-run", "no \"%s\" on the console",
	     MARKER);
	STEP(stopped, "virt-qemu-run", "libvirt did not stop the domain after the guest's reboot");
	STEP(!killed && WIFEXITED(status) && WEXITSTATUS(status) == 0, "virt-qemu-run",
	     "virt-qemu-run did not exit with status 0");
}

TEST_F_TIMEOUT(libvirt, host_validate, 60)
{
	char *argv[] = { HOST_VALIDATE, "qemu", NULL };
	char line[512];
	int kvm_lines = 0, kvm_pass = 0;

	CHECK_FILES();
	if (access(HOST_VALIDATE, X_OK))
		SKIP(return, "no " HOST_VALIDATE " in this initramfs");
	ASSERT_EQ(0, child_start(&self->c, argv, "virt-host-validate", false));
	while (child_read_line(&self->c, line, sizeof(line), now_s() + 50) > 0) {
		printf("# virt-host-validate> %s\n", line);
		if (strstr(line, "/dev/kvm")) {
			kvm_lines++;
			kvm_pass += !!strstr(line, ": PASS");
		}
	}
	/* Its exit status counts the warnings about cgroups and IOMMU too: not judged. */
	child_stop(&self->c, now_s() + 5, NULL);
	STEP(kvm_lines > 0 && kvm_pass == kvm_lines, "virt-host-validate",
	     "%d of %d /dev/kvm checks passed", kvm_pass, kvm_lines);
}

TEST_HARNESS_MAIN
