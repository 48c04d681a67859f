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
 * Three machines, one variant each:
 *   user    --irqchip=user: minikvm-run's own 8259 and 8254, KVM_INTERRUPT
 *   kernel  --irqchip=kernel: KVM's PIC, IOAPIC, LAPIC and PIT, one vCPU
 *   smp4    --irqchip=kernel --cpus 4: the guest must start the three APs
 *           (INIT/SIPI through the in-kernel LAPICs), count 4 CPUs online, and
 *           run a pinned shell on each (user/runner/l2/mkinitrd.sh prints
 *           "L2-ONCPU cpu=K ran_on=K sum=500500" for each K)
 *   sigterm the same with l2mode=counter (the init counts forever): at the
 *           second count minikvm-run gets SIGTERM and must stop all four vCPU
 *           threads (some asleep in the kernel in HLT) within SIGTERM_S, exit
 *           status 1, "terminated by a signal"
 *   virtio  --irqchip=kernel --cpus 2 with minikvm-run's virtio-mmio devices:
 *           --disk (a copy of /l2/disk.img, an ext4 image rig.sh made with
 *           mkfs.ext4 -d), --disk-ro (another copy), --rng, and the initramfs
 *           /l2/initrd-virtio.gz that carries the virtio and ext4 modules
 *           (l2mode=virtio, user/runner/l2/mkinitrd.sh). The guest must see
 *           /known.bin with the sha256 of /l2/known.sha256, write /written.txt
 *           with this run's nonce (l2nonce=), find /dev/vdb read-only and
 *           /dev/hwrng served by virtio_rng, and write "L2-HVC hello nonce=N"
 *           to /dev/hvc0 (--virtio-console: it reaches minikvm-run's stdout),
 *           to which this test answers "ping-N" on minikvm-run's stdin and the
 *           guest must read that line from /dev/hvc0; after minikvm-run exits,
 *           L1 reads /written.txt out of the image with debugfs, and the
 *           read-only image must be byte for byte the original.
 *   monitor --irqchip=kernel --cpus 2, l2mode=counter, --monitor (a QMP-like
 *           socket, user/runner/monitor.c): at "L2-COUNT 1" a thread of this test
 *           connects, gets the greeting, is refused a command before
 *           qmp_capabilities, then: query-status (running), stop (a STOP event;
 *           the guest must not count for the next 3 s), query-status (paused),
 *           system_powerdown (an error: no ACPI), cont (a RESUME event; the
 *           count must go on), quit (minikvm-run exits 0, "quit (monitor)")
 *   snapshot the monitor's machine again: at "L2-COUNT 2", snapshot-save to a
 *           file (user/runner/snapshot.c), a few more counts, quit. Then a new
 *           minikvm-run with the same options and --restore FILE: no boot (no
 *           "L2: init running", no marker), the first count it prints is one
 *           after the count at the save, not 0, and the guest counts on (both
 *           vCPUs and the in-kernel timers came back); there, snapshot-load
 *           of the same file takes the count back again. A copy of the file
 *           cut in half must be refused: exit status 1, "truncated", no run
 *   migrate live migration (user/runner/migrate.c): a second minikvm-run with
 *           the same options and --incoming tcp:127.0.0.1:MIG_PORT waits; the
 *           guest (l2mode=memcount) rewrites 256 KiB of a 4 MiB buffer each
 *           second and checks its md5 ("L2-COUNT N mem=ok"). At a count of 2
 *           the monitor's migrate to a closed port must fail and leave the
 *           guest counting; then migrate moves it: the answer must say "completed",
 *           with the total time, downtime and pages per round; the source must
 *           then be "postmigrate" and refuse cont. The destination must not
 *           boot, must go on counting from where the source stopped (the next
 *           count, not 0), and every count on either side must say mem=ok
 * Each must print the marker, report its number of CPUs ("L2: init running,
 * kernel ..., N cpu") and reset.
 *
 * Where the real KVM cannot be the oracle: in the VMX rig (Bochs) the real
 * kvm_intel gets stuck in smp4 (and so in sigterm): Bochs blocks the host's
 * interrupts while a guest entered with IF=0 keeps IF=0, an AP spins so until
 * jiffies move, and the rig has one CPU. minikvm bounds such entries with the
 * VMX-preemption timer (kmod/vmx/vmx.c:vmx_setup_preemption_timer); kvm_intel
 * does not, so make check boots only "user" on it (scripts/check.sh, with the
 * run that showed it).
 *
 * Kernel command line, and why:
 *   console=ttyS0          the only console is COM1 (minikvm-run's stdout)
 *   earlyprintk=serial     messages before the 8250 driver runs, for debugging
 *   noapic nolapic         user only: no APIC in that machine, the 8259 and the PIT
 *   tsc=reliable           no clocksource watchdog against the slow PIT
 *   panic=-1               a panic resets at once, and shows up as a missing marker
 *   quiet                  every console byte is a VM exit; keep it short
 * Output of the nested guest is echoed as "# L2| ..." TAP comments, so that its
 * kernel messages are not taken for the rig kernel's.
 *
 * Exit status 3 of minikvm-run means the KVM below lacks an ioctl or capability
 * the VMM needs (KVM_SET_CPUID2, KVM_INTERRUPT, KVM_CAP_IRQCHIP...): reported as
 * a skip, the feature is absent.
 * Under QEMU TCG the nested boot takes minutes: give the rig TIMEOUT=900.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define RUNNER		"/bin/minikvm-run"
#define L2_KERNEL	"/l2/vmlinuz"
#define L2_INITRD	"/l2/initrd.gz"
#define L2_INITRD_VIRTIO "/l2/initrd-virtio.gz"
#define L2_DISK		"/l2/disk.img"		/* pristine ext4 image */
#define L2_DISK_SHA	"/l2/known.sha256"	/* sha256 of its /known.bin */
#define DEBUGFS		"/usr/sbin/debugfs"
#define DISK_RW		"/tmp/l2-disk.img"	/* the copies minikvm-run gets */
#define DISK_RO		"/tmp/l2-disk-ro.img"
#define L2_APPEND	"console=ttyS0 earlyprintk=serial,ttyS0,115200 " \
			"tsc=reliable panic=-1 quiet"
#define MARKER		"L2-MARKER sum=500500"
#define MAX_CPUS	64

FIXTURE(l2) {
	int unused;
};

FIXTURE_VARIANT(l2) {
	const char *name;	/* for L2BOOT_VARIANTS */
	const char *irqchip;	/* --irqchip= */
	int cpus;		/* --cpus */
	const char *append;	/* more kernel command line */
	bool sigterm;		/* stop it with SIGTERM at "L2-COUNT 1" */
	bool virtio;		/* --disk, --disk-ro, --rng; l2mode=virtio */
	bool monitor;		/* --monitor: stop, cont, quit at "L2-COUNT 1" */
	bool snapshot;		/* --monitor: snapshot-save, --restore, snapshot-load */
	bool migrate;		/* --monitor: migrate to an --incoming minikvm-run */
};

FIXTURE_VARIANT_ADD(l2, user) {
	.name = "user", .irqchip = "user", .cpus = 1, .append = "noapic nolapic",
};

FIXTURE_VARIANT_ADD(l2, kernel) {
	.name = "kernel", .irqchip = "kernel", .cpus = 1, .append = "",
};

FIXTURE_VARIANT_ADD(l2, smp4) {
	.name = "smp4", .irqchip = "kernel", .cpus = 4, .append = "",
};

FIXTURE_VARIANT_ADD(l2, sigterm) {
	.name = "sigterm", .irqchip = "kernel", .cpus = 4, .append = "l2mode=counter",
	.sigterm = true,
};

FIXTURE_VARIANT_ADD(l2, monitor) {
	.name = "monitor", .irqchip = "kernel", .cpus = 2, .append = "l2mode=counter",
	.monitor = true,
};

FIXTURE_VARIANT_ADD(l2, snapshot) {
	.name = "snapshot", .irqchip = "kernel", .cpus = 2, .append = "l2mode=counter",
	.monitor = true, .snapshot = true,
};

FIXTURE_VARIANT_ADD(l2, migrate) {
	.name = "migrate", .irqchip = "kernel", .cpus = 2, .append = "l2mode=memcount",
	.monitor = true, .migrate = true,
};

FIXTURE_VARIANT_ADD(l2, virtio) {
	.name = "virtio", .irqchip = "kernel", .cpus = 2, .append = "l2mode=virtio",
	.virtio = true,
};

/* Guest seconds minikvm-run may take to stop after SIGTERM. */
#define SIGTERM_S	30

/* What the nested guest said, from its lines. */
struct l2_seen {
	bool marker;
	int cpus;			/* from "L2: init running, ..., N cpu"; -1 */
	char online[32];		/* from "L2-CPUS online=..." */
	uint64_t ran_on;		/* bit K: "L2-ONCPU cpu=K ran_on=K sum=500500" */
	uint64_t ran_wrong;		/* bit K: cpu=K reported another CPU or sum */
	char trouble[160];		/* the first line of an oops, WARN, panic */
	bool count1;			/* "L2-COUNT 1" (l2mode=counter) */
	int last_count;			/* the last "L2-COUNT n"; -1 (atomic) */
	int first_count;		/* the first "L2-COUNT n"; -1 */
	int counts;			/* "L2-COUNT" lines so far (atomic) */
	int mem_bad;			/* "L2-COUNT n mem=BAD" lines */
	bool init_ran;			/* "L2: init running" (a boot) */
	bool quit;			/* "minikvm-run: quit (monitor)" */
	bool terminated;		/* "minikvm-run: terminated by a signal" */
	/* l2mode=virtio: the "L2-VIRTIO ..." lines */
	char sha256[65];		/* of /known.bin on /dev/vda */
	char wrote[40];			/* nonce of /written.txt, after umount */
	int vdb_ro;			/* /sys/block/vdb/ro; -1 */
	bool vdb_refused;		/* dd to /dev/vdb failed */
	char hwrng[40];			/* rng_current */
	int hwrng_bytes;		/* read from /dev/hwrng; -1 */
	bool virtio_trouble;		/* "insmod ... failed", "no modules" */
	char hvc_hello[40];		/* nonce of "L2-HVC hello", written to hvc0 */
	char hvc_got[48];		/* the line L2 read from hvc0 */
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

/*
 * Lines of a nested kernel in trouble. panic=-1 makes a panicking guest reset,
 * and minikvm-run exits 0 after a reset: without this check a guest that
 * panicked after the marker would pass. (WARNINGs are KERN_WARNING, which
 * "quiet" keeps off the console; with L2BOOT_APPEND=loglevel=7 the rig's
 * kernel shows one at every boot, on kvm_amd too: "XSAVE consistency
 * problem", a CPUID 0xd matter of the emulated CPU, after which Linux uses
 * FXSAVE. So they are not counted here.)
 */
static const char *const l2_trouble[] = {
	"Kernel panic", "Oops", "BUG:", "stack guard page", "soft lockup",
};

/* Echo one line of the VMM's output; note what it tells. */
static void echo_line(char *line, struct l2_seen *seen)
{
	const char *p;
	int k, on, sum;

	line[strcspn(line, "\r\n")] = '\0';
	printf("# L2| %s\n", line);
	fflush(stdout);
	if (strstr(line, MARKER))
		seen->marker = true;
	for (size_t i = 0; i < sizeof(l2_trouble) / sizeof(l2_trouble[0]); i++)
		if (!seen->trouble[0] && strstr(line, l2_trouble[i]))
			snprintf(seen->trouble, sizeof(seen->trouble), "%s", line);
	if ((p = strstr(line, "L2: init running, kernel ")) && (p = strrchr(p, ',')))
		sscanf(p, ", %d cpu", &seen->cpus);
	if (strstr(line, "L2-COUNT 1"))
		seen->count1 = true;
	if ((p = strstr(line, "L2-COUNT ")) && sscanf(p, "L2-COUNT %d", &k) == 1) {
		if (seen->first_count < 0)
			seen->first_count = k;
		__atomic_store_n(&seen->last_count, k, __ATOMIC_RELAXED);
		__atomic_add_fetch(&seen->counts, 1, __ATOMIC_RELAXED);
		if (strstr(p, " mem=BAD"))
			seen->mem_bad++;
	}
	if (strstr(line, "L2: init running"))
		seen->init_ran = true;
	if (strstr(line, "minikvm-run: quit (monitor)"))
		seen->quit = true;
	if (strstr(line, "minikvm-run: terminated by a signal"))
		seen->terminated = true;
	if ((p = strstr(line, "L2-VIRTIO "))) {
		sscanf(p, "L2-VIRTIO sha256=%64s", seen->sha256);
		sscanf(p, "L2-VIRTIO wrote nonce=%39s", seen->wrote);
		sscanf(p, "L2-VIRTIO vdb ro=%d", &seen->vdb_ro);
		sscanf(p, "L2-VIRTIO hwrng=%39s bytes=%d", seen->hwrng, &seen->hwrng_bytes);
		if (strstr(p, "vdb write refused"))
			seen->vdb_refused = true;
		if (!strncmp(p, "L2-VIRTIO insmod ", 17) || strstr(p, "L2-VIRTIO no modules"))
			seen->virtio_trouble = true;
	}
	if ((p = strstr(line, "L2-HVC hello nonce=")))
		sscanf(p, "L2-HVC hello nonce=%39s", seen->hvc_hello);
	if ((p = strstr(line, "L2-HVC got=")))
		sscanf(p, "L2-HVC got=%47s", seen->hvc_got);
	if ((p = strstr(line, "L2-CPUS online=")))
		sscanf(p, "L2-CPUS online=%31s", seen->online);
	if ((p = strstr(line, "L2-ONCPU ")) &&
	    sscanf(p, "L2-ONCPU cpu=%d ran_on=%d sum=%d", &k, &on, &sum) == 3 &&
	    k >= 0 && k < MAX_CPUS) {
		if (on == k && sum == 500500)
			seen->ran_on |= 1ull << k;
		else
			seen->ran_wrong |= 1ull << k;
	}
}

/*
 * The monitor variant: a QMP-like session with minikvm-run (--monitor,
 * user/runner/monitor.c) while the guest counts, from a thread of its own,
 * so that run_l2() goes on echoing the guest's lines.
 */
#define MON_SOCK	"/tmp/l2-monitor.sock"

struct qmp_session {
	struct l2_seen *seen;
	pthread_t thread;
	int fd;
	char failed[200];	/* the first step that went wrong; "" */
	int paused_from, paused_to;	/* last count 1 s and 4 s after "stop" */
	int resumed;		/* a count seen after "cont"; -1 */
	/* The snapshot variant. */
	bool restored;		/* this run is the --restore one */
	int saved_before, saved_after;	/* the last count before and after the save */
	int loaded_at, after_load;	/* the count at snapshot-load, the next one */
	/* The migrate variant. */
	int migrated_at;		/* the last count before "migrate"; -1 */
	char mig_reply[512];		/* its answer */
};

#define SNAP_FILE	"/tmp/l2.snap"
#define SNAP_BAD	"/tmp/l2-cut.snap"

/* One line from the monitor (without CR LF), within @ms; false on timeout. */
static bool qmp_line(struct qmp_session *q, char *buf, size_t size, int ms)
{
	size_t n = 0;

	while (n < size - 1) {
		struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
		char c;

		if (poll(&pfd, 1, ms) <= 0 || read(q->fd, &c, 1) != 1)
			return false;
		if (c == '\n')
			break;
		if (c != '\r')
			buf[n++] = c;
	}
	buf[n] = '\0';
	printf("# qmp <- %s\n", buf);
	fflush(stdout);
	return true;
}

/*
 * Send @json; read lines up to the answer ("return" or "error"). True if
 * @want is in the answer and @event (if any) in a line before it.
 */
static bool qmp_cmd(struct qmp_session *q, const char *json, const char *want,
		    const char *event)
{
	bool event_seen = !event;
	char buf[512];

	printf("# qmp -> %s\n", json);
	if (write(q->fd, json, strlen(json)) != (ssize_t)strlen(json) || write(q->fd, "\n", 1) != 1)
		return false;
	while (qmp_line(q, buf, sizeof(buf), 30000)) {
		if (event && strstr(buf, event))
			event_seen = true;
		if (strstr(buf, "\"return\"") || strstr(buf, "\"error\""))
			return event_seen && strstr(buf, want);
	}
	return false;
}

static int qmp_count(struct qmp_session *q)
{
	return __atomic_load_n(&q->seen->last_count, __ATOMIC_RELAXED);
}

#define QMP_STEP(q, ok, what) do {						\
	if (!(ok)) {								\
		snprintf((q)->failed, sizeof((q)->failed), "%s", what);		\
		return NULL;							\
	}									\
} while (0)

/* Connect to the monitor and read its greeting; the failed step or NULL. */
static const char *qmp_open(struct qmp_session *q)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[512];

	strcpy(addr.sun_path, MON_SOCK);
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0 || connect(q->fd, (struct sockaddr *)&addr, sizeof(addr)))
		return "connect to " MON_SOCK;
	if (!qmp_line(q, buf, sizeof(buf), 30000) || !strstr(buf, "{\"QMP\""))
		return "the greeting";
	return NULL;
}

static void *qmp_thread(void *arg)
{
	struct qmp_session *q = arg;
	const char *step = qmp_open(q);
	int i;

	QMP_STEP(q, !step, step);
	QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"query-status\"}", "CommandNotFound", NULL),
		 "a command before qmp_capabilities is refused");
	QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"qmp_capabilities\"}", "{\"return\": {}}", NULL),
		 "qmp_capabilities");
	QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"query-status\"}", "\"running\": true", NULL),
		 "query-status: running");
	QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"stop\"}", "{\"return\": {}}", "\"STOP\""),
		 "stop, with a STOP event");
	sleep(1);
	q->paused_from = qmp_count(q);
	sleep(3);
	q->paused_to = qmp_count(q);
	QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"query-status\"}", "\"status\": \"paused\"", NULL),
		 "query-status: paused");
	QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"system_powerdown\"}", "GenericError", NULL),
		 "system_powerdown: an error (no ACPI)");
	QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"cont\"}", "{\"return\": {}}", "\"RESUME\""),
		 "cont, with a RESUME event");
	for (i = 0; i < 120 && q->resumed < 0; i++) {
		if (qmp_count(q) > q->paused_to)
			q->resumed = qmp_count(q);
		else
			usleep(500000);
	}
	QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"quit\"}", "{\"return\": {}}", NULL), "quit");
	return NULL;
}

static int qmp_seen_counts(struct qmp_session *q)
{
	return __atomic_load_n(&q->seen->counts, __ATOMIC_RELAXED);
}

/* Wait (up to @s seconds) until the guest has printed @n more counts. */
static bool qmp_wait_counts(struct qmp_session *q, int n, int s)
{
	int want = qmp_seen_counts(q) + n;

	for (int i = 0; i < s * 10; i++) {
		if (qmp_seen_counts(q) >= want)
			return true;
		usleep(100000);
	}
	return false;
}

/*
 * The snapshot variant's session. First run: snapshot-save at a count of
 * 2 or more, two more counts, quit. The --restore run: two counts, then
 * snapshot-load of the same file, the next count, quit.
 */
static void *snap_thread(void *arg)
{
	struct qmp_session *q = arg;
	const char *step = qmp_open(q);

	QMP_STEP(q, !step, step);
	QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"qmp_capabilities\"}", "{\"return\": {}}", NULL),
		 "qmp_capabilities");
	if (!q->restored) {
		for (int i = 0; i < 600 && qmp_count(q) < 2; i++)
			usleep(100000);
		q->saved_before = qmp_count(q);
		QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"snapshot-save\", \"arguments\": "
				    "{\"file\": \"" SNAP_FILE "\"}}", "{\"return\": {}}", NULL),
			 "snapshot-save");
		q->saved_after = qmp_count(q);
		QMP_STEP(q, qmp_wait_counts(q, 2, 60), "two counts after snapshot-save");
	} else {
		QMP_STEP(q, qmp_wait_counts(q, 2, 60), "two counts after --restore");
		q->loaded_at = qmp_count(q);
		QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"snapshot-load\", \"arguments\": "
				    "{\"file\": \"" SNAP_FILE "\"}}", "{\"return\": {}}", NULL),
			 "snapshot-load");
		/* A count printed before the load may still be in the pipe: wait
		 * for the count to go back (up to 60 s). */
		for (int i = 0; i < 600 && qmp_count(q) >= q->loaded_at; i++)
			usleep(100000);
		q->after_load = qmp_count(q);
		QMP_STEP(q, q->after_load < q->loaded_at, "the count went back after snapshot-load");
	}
	QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"quit\"}", "{\"return\": {}}", NULL), "quit");
	return NULL;
}

/*
 * The migrate variant's session, on the source: at a count of 2, migrate
 * to the --incoming minikvm-run; then the source must say "postmigrate"
 * and refuse cont; quit.
 */
#define MIG_PORT	"4445"
#define MIG_URI		"tcp:127.0.0.1:" MIG_PORT
#define MIG_OUT		"/tmp/l2-incoming.out"

static void *mig_thread(void *arg)
{
	struct qmp_session *q = arg;
	const char *mig_cmd = "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \""
			      MIG_URI "\"}}\n";
	const char *step = qmp_open(q);
	char buf[512];

	QMP_STEP(q, !step, step);
	QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"qmp_capabilities\"}", "{\"return\": {}}", NULL),
		 "qmp_capabilities");
	for (int i = 0; i < 600 && qmp_count(q) < 2; i++)
		usleep(100000);
	/* Nobody listens there: an error, and the guest runs on here. */
	QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"migrate\", \"arguments\": {\"uri\": "
			    "\"tcp:127.0.0.1:1\"}}", "Connection refused", NULL),
		 "migrate to a closed port: Connection refused");
	QMP_STEP(q, qmp_wait_counts(q, 1, 60), "a count after the failed migrate");
	q->migrated_at = qmp_count(q);
	printf("# qmp -> migrate to " MIG_URI " (at count %d)\n", q->migrated_at);
	QMP_STEP(q, write(q->fd, mig_cmd, strlen(mig_cmd)) == (ssize_t)strlen(mig_cmd),
		 "migrate: write");
	while (qmp_line(q, buf, sizeof(buf), 300000) && !strstr(buf, "\"return\"") &&
	       !strstr(buf, "\"error\""))
		;
	snprintf(q->mig_reply, sizeof(q->mig_reply), "%s", buf);
	QMP_STEP(q, strstr(buf, "\"status\": \"completed\"") && strstr(buf, "\"downtime\": ") &&
		 strstr(buf, "\"round-pages\": ["), "migrate: completed, with its figures");
	QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"query-status\"}", "\"status\": \"postmigrate\"",
			    NULL), "query-status: postmigrate");
	QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"cont\"}", "GenericError", NULL),
		 "cont after the migration: refused");
	QMP_STEP(q, qmp_cmd(q, "{\"execute\": \"quit\"}", "{\"return\": {}}", NULL), "quit");
	return NULL;
}

/*
 * Run minikvm-run for variant @var, echo its output; returns its wait status,
 * fills *seen, sets *stuck if the silence watchdog had to stop it.
 */
static int run_l2(const FIXTURE_VARIANT(l2) *var, const char *nonce,
		  struct l2_seen *seen, bool *stuck, struct qmp_session *qmp,
		  const char *restore)
{
	const char *extra = getenv("L2BOOT_APPEND");
	char line[512], buf[256], append[512], irqchip[32], cpus[16];
	const char *argv[24];
	int argc = 0;
	int pipefd[2], inpipe[2] = { -1, -1 }, status;
	bool pinged = false;
	size_t used = 0;
	int waited = 0;
	bool termed = false;
	pid_t pid;

	/* L2BOOT_APPEND: more L2 command line, e.g. "nokaslr+l2sym=ADDR,ADDR". */
	snprintf(append, sizeof(append), "%s%s%s%s%s%s%s", L2_APPEND,
		 *var->append ? " " : "", var->append, extra ? " " : "", extra ? extra : "",
		 var->virtio ? " l2nonce=" : "", var->virtio ? nonce : "");
	/* The rig's command line cannot carry spaces inside a value: '+' stands for one. */
	for (char *c = append; *c; c++)
		if (*c == '+')
			*c = ' ';
	snprintf(irqchip, sizeof(irqchip), "--irqchip=%s", var->irqchip);
	snprintf(cpus, sizeof(cpus), "%d", var->cpus);
	argv[argc++] = RUNNER;
	argv[argc++] = "--kernel";
	argv[argc++] = L2_KERNEL;
	argv[argc++] = "--initrd";
	argv[argc++] = var->virtio ? L2_INITRD_VIRTIO : L2_INITRD;
	argv[argc++] = "--append";
	argv[argc++] = append;
	argv[argc++] = "--memory";
	argv[argc++] = "256";
	argv[argc++] = irqchip;
	argv[argc++] = "--cpus";
	argv[argc++] = cpus;
	if (var->virtio) {
		argv[argc++] = "--disk";
		argv[argc++] = DISK_RW;
		argv[argc++] = "--disk-ro";
		argv[argc++] = DISK_RO;
		argv[argc++] = "--rng";
		argv[argc++] = "--virtio-console";
	}
	if (var->monitor) {
		argv[argc++] = "--monitor";
		argv[argc++] = MON_SOCK;
		unlink(MON_SOCK);	/* minikvm-run binds a new socket */
	}
	if (restore) {
		argv[argc++] = "--restore";
		argv[argc++] = restore;
	}
	argv[argc] = NULL;
	printf("# minikvm-run %s --cpus %s%s%s%s%s --append '%s'\n", irqchip, cpus,
	       var->virtio ? " --initrd " L2_INITRD_VIRTIO " --disk " DISK_RW " --disk-ro "
	       DISK_RO " --rng --virtio-console" : "", var->monitor ? " --monitor " MON_SOCK : "",
	       restore ? " --restore " : "", restore ? restore : "", append);
	*seen = (struct l2_seen){ .cpus = -1, .vdb_ro = -1, .hwrng_bytes = -1,
				  .last_count = -1, .first_count = -1 };
	*qmp = (struct qmp_session){ .seen = seen, .fd = -1, .resumed = -1,
				     .restored = restore != NULL, .saved_before = -1,
				     .saved_after = -1, .loaded_at = -1, .after_load = -1,
				     .migrated_at = -1 };
	*stuck = false;
	if (pipe(pipefd) || (var->virtio && pipe(inpipe)))
		return -1;
	pid = fork();
	if (pid == 0) {
		/* If the test is killed (timeout), the VMM goes with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		/* The virtio boot: stdin is hvc0's input (--virtio-console). */
		if (inpipe[0] >= 0) {
			dup2(inpipe[0], 0);
			close(inpipe[1]);
		}
		execv(RUNNER, (char **)argv);
		_exit(127);
	}
	close(pipefd[1]);
	if (inpipe[0] >= 0)
		close(inpipe[0]);
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		ssize_t n;
		int r = poll(&pfd, 1, 1000);

		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0) {
			/* The rig's kernel is alive (slow, or stuck?). */
			if (++waited % 30 == 0 && waited < SILENCE_S) {
				printf("# L2 silent for %d s\n", waited);
				fflush(stdout);
			}
			if (waited == SILENCE_S) {
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
		/* After SIGTERM the watchdog counts from the signal, output or not. */
		if (!*stuck && !termed)
			waited = 0;
		for (ssize_t i = 0; i < n; i++) {
			if (used < sizeof(line) - 1)
				line[used++] = buf[i];
			if (buf[i] == '\n' || used == sizeof(line) - 1) {
				line[used] = '\0';
				echo_line(line, seen);
				used = 0;
			}
		}
		/* hvc0 said hello (through the transmitq): answer on its receiveq. */
		if (inpipe[1] >= 0 && seen->hvc_hello[0] && !pinged) {
			char ping[64];
			int len = snprintf(ping, sizeof(ping), "ping-%s\n", seen->hvc_hello);

			printf("# writing '%.*s' to minikvm-run's stdin\n", len - 1, ping);
			pinged = write(inpipe[1], ping, len) == len;
		}
		/* The guest counts: talk to the monitor (once). */
		if (var->monitor && (seen->count1 || (restore && seen->first_count >= 0)) &&
		    !qmp->thread &&
		    pthread_create(&qmp->thread, NULL, var->snapshot ? snap_thread :
				   var->migrate ? mig_thread : qmp_thread, qmp))
			snprintf(qmp->failed, sizeof(qmp->failed), "pthread_create");
		/* A monitor session that failed: end the run (the guest would
		 * count on, and the silence watchdog never fire). */
		if (var->monitor && __atomic_load_n(&qmp->failed[0], __ATOMIC_ACQUIRE) && !termed) {
			printf("# the monitor session failed: SIGTERM to minikvm-run\n");
			kill(pid, SIGTERM);
			termed = true;
			waited = SILENCE_S - SIGTERM_S;
		}
		if (var->sigterm && seen->count1 && !termed) {
			printf("# L2 is counting: SIGTERM to minikvm-run\n");
			kill(pid, SIGTERM);
			termed = true;
			waited = SILENCE_S - SIGTERM_S;
		}
	}
	if (used) {
		line[used] = '\0';
		echo_line(line, seen);
	}
	close(pipefd[0]);
	if (inpipe[1] >= 0)
		close(inpipe[1]);
	if (qmp->thread) {
		pthread_join(qmp->thread, NULL);
		if (qmp->fd >= 0)
			close(qmp->fd);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/* The virtio boot's files: its own initramfs, the image, debugfs to look inside. */
static bool l2_virtio_files_missing(void)
{
	return access(L2_INITRD_VIRTIO, R_OK) || access(L2_DISK, R_OK) ||
	       access(L2_DISK_SHA, R_OK) || access(DEBUGFS, X_OK);
}

/* Copy (cmp == false) or compare (cmp == true) two files; 0 when done/equal. */
static int file_copy_or_cmp(const char *a, const char *b, bool cmp)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, cmp ? "rb" : "wb");
	char x[65536], y[65536];
	size_t n;
	int ret = fa && fb ? 0 : -1;

	while (!ret && (n = fread(x, 1, sizeof(x), fa)) > 0)
		if (cmp ? fread(y, 1, n, fb) != n || memcmp(x, y, n) : fwrite(x, 1, n, fb) != n)
			ret = -1;
	if (!ret && cmp && fread(y, 1, 1, fb) != 0)
		ret = -1;			/* b is longer */
	if (fa)
		fclose(fa);
	if (fb && fclose(fb))
		ret = -1;
	return ret;
}

/* The first line of `cmd`'s output that contains @what into buf ("" if none). */
static void first_line_matching(const char *cmd, const char *what, char *buf, size_t len)
{
	FILE *f = popen(cmd, "r");
	char line[512];

	buf[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!buf[0] && strstr(line, what)) {
			line[strcspn(line, "\r\n")] = '\0';
			snprintf(buf, len, "%.*s", (int)len - 1, line);
		}
	pclose(f);
}

/* The first line of `cmd`'s output into buf, without its newline. */
static void first_line(const char *cmd, char *buf, size_t len)
{
	FILE *f = popen(cmd, "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\r\n")] = '\0';
	pclose(f);
}

static void check_virtio(struct __test_metadata *_metadata, const struct l2_seen *seen,
			 const char *nonce);

/*
 * The snapshot variant after its first run (@first: its session): the
 * save worked; then the --restore run and the cut file.
 */
static void check_snapshot(struct __test_metadata *_metadata, const FIXTURE_VARIANT(l2) *var,
			   const struct qmp_session *first)
{
	struct qmp_session qmp;
	struct l2_seen seen;
	char cmd[256], out[256];
	bool stuck;
	int status;

	ASSERT_STREQ("", first->failed) TH_LOG("the monitor step that failed (first run)");
	printf("# saved between counts %d and %d\n", first->saved_before, first->saved_after);
	ASSERT_LE(2, first->saved_before);

	status = run_l2(var, "0", &seen, &stuck, &qmp, SNAP_FILE);
	ASSERT_NE(-1, status);
	ASSERT_FALSE(stuck) TH_LOG("the restored guest stopped making progress");
	EXPECT_STREQ("", qmp.failed) TH_LOG("the monitor step that failed (--restore run)");
	EXPECT_STREQ("", seen.trouble) TH_LOG("the restored kernel reported a problem");
	EXPECT_FALSE(seen.init_ran) TH_LOG("the restored machine booted instead");
	EXPECT_FALSE(seen.marker) TH_LOG("the restored machine booted instead");
	printf("# restored: first count %d; snapshot-load at %d, then %d\n",
	       seen.first_count, qmp.loaded_at, qmp.after_load);
	/* The guest goes on from the save: the count after it, not 0. */
	EXPECT_LE(first->saved_before, seen.first_count);
	EXPECT_GE(first->saved_after + 1, seen.first_count);
	/* snapshot-load: back to the same point, behind where it was. */
	EXPECT_LT(qmp.after_load, qmp.loaded_at);
	EXPECT_LE(first->saved_before, qmp.after_load);
	EXPECT_GE(first->saved_after + 1, qmp.after_load);
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("minikvm-run died: status 0x%x", status);
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(seen.quit) TH_LOG("no \"minikvm-run: quit (monitor)\"");

	/* A file cut in half: refused before anything runs. */
	snprintf(cmd, sizeof(cmd), "head -c $(($(stat -c %%s %s) / 2)) %s > %s", SNAP_FILE,
		 SNAP_FILE, SNAP_BAD);
	ASSERT_EQ(0, system(cmd));
	/* Under a time limit: a minikvm-run that took the file would run on. */
	snprintf(cmd, sizeof(cmd), "timeout 120 " RUNNER " --kernel " L2_KERNEL " --initrd "
		 L2_INITRD " --memory 256 --irqchip=kernel --cpus %d --restore " SNAP_BAD
		 " > /tmp/l2-cut.out 2>&1; echo status=$? >> /tmp/l2-cut.out", var->cpus);
	ASSERT_EQ(0, system(cmd));
	first_line_matching("cat /tmp/l2-cut.out", "truncated", out, sizeof(out));
	printf("# cut file: %s\n", out);
	EXPECT_NE(NULL, strstr(out, "truncated"));
	first_line_matching("cat /tmp/l2-cut.out", "status=", out, sizeof(out));
	EXPECT_STREQ("status=1", out);
	unlink("/tmp/l2-cut.out");
	unlink(SNAP_BAD);
	unlink(SNAP_FILE);
}

/*
 * The migrate variant's destination: minikvm-run with the machine options of
 * the source and --incoming, its output into MIG_OUT. It waits for the
 * source's migrate.
 */
static pid_t spawn_incoming(const FIXTURE_VARIANT(l2) *var)
{
	char irqchip[32], cpus[16];
	pid_t pid;

	snprintf(irqchip, sizeof(irqchip), "--irqchip=%s", var->irqchip);
	snprintf(cpus, sizeof(cpus), "%d", var->cpus);
	printf("# minikvm-run %s --cpus %s --incoming " MIG_URI " > " MIG_OUT "\n", irqchip, cpus);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int fd = open(MIG_OUT, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd < 0)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(RUNNER, RUNNER, "--kernel", L2_KERNEL, "--initrd", L2_INITRD, "--append",
		      L2_APPEND " " "l2mode=memcount", "--memory", "256", irqchip, "--cpus", cpus,
		      "--incoming", MIG_URI, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/*
 * After the source quit: the destination must have taken the guest and go
 * on counting from where the source stopped, memory intact. Reads MIG_OUT
 * as it grows (up to 120 s, until 3 counts), then stops the destination.
 */
static void check_migrate(struct __test_metadata *_metadata, const struct qmp_session *q,
			  const struct l2_seen *src, pid_t dest)
{
	char line[512], took[200] = "";
	struct l2_seen seen = { .cpus = -1, .last_count = -1, .first_count = -1 };
	FILE *f = NULL;
	int status = -1;

	printf("# migrate's answer: %s\n", q->mig_reply);
	EXPECT_STREQ("", q->failed) TH_LOG("the monitor step that failed (source)");
	for (int i = 0; i < 1200 && seen.counts < 3; i++) {
		if (!f)
			f = fopen(MIG_OUT, "r");
		if (f && !i)
			printf("# the destination's output:\n");
		while (f && fgets(line, sizeof(line), f)) {
			if (strstr(line, "minikvm-run: incoming migration:"))
				snprintf(took, sizeof(took), "%.*s", (int)strcspn(line, "\r\n"), line);
			echo_line(line, &seen);
		}
		if (f)
			clearerr(f);
		if (seen.counts < 3)
			usleep(100000);
	}
	if (seen.counts < 3) {
		printf("# the destination does not count: SIGUSR2 for its state\n");
		kill(dest, SIGUSR2);
		sleep(2);
	}
	kill(dest, SIGTERM);
	waitpid(dest, &status, 0);
	while (f && fgets(line, sizeof(line), f))
		echo_line(line, &seen);
	if (f)
		fclose(f);
	printf("# source: last count %d (migrate at %d); destination: first count %d, %d counts\n",
	       src->last_count, q->migrated_at, seen.first_count, seen.counts);
	EXPECT_NE(0, took[0]) TH_LOG("no \"incoming migration: ...\" from the destination");
	EXPECT_FALSE(seen.init_ran) TH_LOG("the destination booted instead");
	EXPECT_FALSE(seen.marker) TH_LOG("the destination booted instead");
	EXPECT_STREQ("", seen.trouble) TH_LOG("the migrated kernel reported a problem");
	EXPECT_LE(3, seen.counts) TH_LOG("the migrated guest did not count on");
	/* The next count (a line cut by the pause may be lost on both sides). */
	EXPECT_LT(src->last_count, seen.first_count);
	EXPECT_GE(src->last_count + 2, seen.first_count);
	EXPECT_LE(q->migrated_at, src->last_count);
	EXPECT_EQ(0, src->mem_bad) TH_LOG("the source's guest found its memory changed");
	EXPECT_EQ(0, seen.mem_bad) TH_LOG("the migrated guest found its memory changed");
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1 && seen.terminated)
		TH_LOG("the destination did not stop on SIGTERM: status 0x%x", status);
	unlink(MIG_OUT);
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
	/*
	 * L2BOOT_VARIANTS=kernel,smp4: boot only those (for quicker rig runs).
	 * make check boots only "user" on kvm_amd: with the in-kernel irqchip
	 * the nested Linux got stuck there in some boots (scripts/check.sh).
	 */
	if (getenv("L2BOOT_VARIANTS") && !strstr(getenv("L2BOOT_VARIANTS"), variant->name))
		SKIP(return, "not in L2BOOT_VARIANTS");
	if (variant->virtio && l2_virtio_files_missing())
		SKIP(return, "no " L2_INITRD_VIRTIO ", " L2_DISK " or " DEBUGFS " (rig.sh packs "
		     "them when this host has mkfs.ext4 and debugfs)");

	for (int i = 0; i < (runs > 0 ? runs : 1); i++) {
		uint64_t all = (variant->cpus == 64 ? 0 : 1ull << variant->cpus) - 1;
		struct qmp_session qmp;
		struct l2_seen seen;
		char nonce[24];
		bool stuck;
		int status;

		if (runs > 1)
			printf("# boot %d of %d\n", i + 1, runs);
		snprintf(nonce, sizeof(nonce), "%x%x", (unsigned int)getpid(), i);
		if (variant->virtio) {
			ASSERT_EQ(0, file_copy_or_cmp(L2_DISK, DISK_RW, false));
			ASSERT_EQ(0, file_copy_or_cmp(L2_DISK, DISK_RO, false));
		}
		pid_t dest = variant->migrate ? spawn_incoming(variant) : 0;

		ASSERT_NE(-1, dest);
		status = run_l2(variant, nonce, &seen, &stuck, &qmp, NULL);
		ASSERT_NE(-1, status);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
			SKIP(return, "this KVM lacks an ioctl minikvm-run needs (see above)");
		ASSERT_FALSE(stuck) TH_LOG("the nested guest stopped making progress");
		EXPECT_STREQ("", seen.trouble) TH_LOG("the nested kernel reported a problem");
		ASSERT_TRUE(seen.marker) TH_LOG("no \"%s\" from the nested guest", MARKER);
		ASSERT_EQ(variant->cpus, seen.cpus) TH_LOG("CPUs in the guest's /proc/cpuinfo");
		if (variant->cpus > 1) {
			char want[32];

			snprintf(want, sizeof(want), "0-%d", variant->cpus - 1);
			EXPECT_STREQ(want, seen.online) TH_LOG("/sys/devices/system/cpu/online");
			EXPECT_EQ(0, seen.ran_wrong) TH_LOG("CPUs that ran elsewhere or miscounted");
			EXPECT_EQ(all, seen.ran_on) TH_LOG("CPUs that ran their pinned shell");
		}
		ASSERT_TRUE(WIFEXITED(status)) TH_LOG("minikvm-run died: status 0x%x", status);
		if (variant->sigterm) {
			ASSERT_TRUE(seen.terminated) TH_LOG("no \"terminated by a signal\"");
			ASSERT_EQ(1, WEXITSTATUS(status));
			continue;
		}
		ASSERT_EQ(0, WEXITSTATUS(status));
		if (variant->virtio)
			check_virtio(_metadata, &seen, nonce);
		if (variant->snapshot) {
			check_snapshot(_metadata, variant, &qmp);
		} else if (variant->migrate) {
			EXPECT_TRUE(seen.quit) TH_LOG("no \"minikvm-run: quit (monitor)\"");
			check_migrate(_metadata, &qmp, &seen, dest);
		} else if (variant->monitor) {
			EXPECT_STREQ("", qmp.failed) TH_LOG("the monitor step that failed");
			EXPECT_EQ(qmp.paused_from, qmp.paused_to)
				TH_LOG("the guest counted on while stopped");
			EXPECT_LT(qmp.paused_to, qmp.resumed) TH_LOG("no count after cont");
			EXPECT_TRUE(seen.quit) TH_LOG("no \"minikvm-run: quit (monitor)\"");
		}
	}
}

/* What the virtio boot must have shown, in the guest and in the image after. */
static void check_virtio(struct __test_metadata *_metadata, const struct l2_seen *seen,
			 const char *nonce)
{
	char want[128], got[128], sha[80];

	first_line("cat " L2_DISK_SHA, sha, sizeof(sha));
	EXPECT_FALSE(seen->virtio_trouble) TH_LOG("a module did not load (see the L2 lines)");
	EXPECT_STREQ(sha, seen->sha256) TH_LOG("sha256 of /known.bin read through virtio-blk");
	EXPECT_STREQ(nonce, seen->wrote) TH_LOG("the guest wrote and unmounted /written.txt");
	EXPECT_EQ(1, seen->vdb_ro) TH_LOG("/dev/vdb (--disk-ro) is read-only in the guest");
	EXPECT_TRUE(seen->vdb_refused) TH_LOG("a write to /dev/vdb failed");
	EXPECT_STREQ("virtio_rng.0", seen->hwrng) TH_LOG("/dev/hwrng is virtio-rng");
	EXPECT_EQ(32, seen->hwrng_bytes) TH_LOG("bytes read from /dev/hwrng");
	EXPECT_STREQ(nonce, seen->hvc_hello) TH_LOG("L2 wrote to /dev/hvc0 (virtio-console)");
	snprintf(want, sizeof(want), "ping-%s", nonce);
	EXPECT_STREQ(want, seen->hvc_got) TH_LOG("L2 read minikvm-run's stdin from /dev/hvc0");
	/* After minikvm-run exited: what the guest wrote is in the image file. */
	snprintf(want, sizeof(want), "written by L2 through virtio-blk nonce=%s sum=500500", nonce);
	first_line(DEBUGFS " -R 'cat /written.txt' " DISK_RW " 2>/dev/null", got, sizeof(got));
	printf("# debugfs -R 'cat /written.txt' %s: %s\n", DISK_RW, got);
	EXPECT_STREQ(want, got) TH_LOG("/written.txt read back in L1");
	EXPECT_EQ(0, file_copy_or_cmp(L2_DISK, DISK_RO, true))
		TH_LOG("the read-only image changed");
}

/* Bad input: a disk image that is not there is a message and exit status 1, no VM. */
TEST(missing_disk)
{
	char out[256];
	int status;

	if (access(RUNNER, X_OK))
		SKIP(return, "no " RUNNER);
	first_line(RUNNER " --kernel /l2/vmlinuz --disk /nonexistent.img 2>&1; echo rc=$?",
		   out, sizeof(out));
	printf("# %s\n", out);
	EXPECT_NE(NULL, strstr(out, "--disk /nonexistent.img: No such file or directory"));
	status = system(RUNNER " --kernel /l2/vmlinuz --disk /nonexistent.img 2>/dev/null");
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(1, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
