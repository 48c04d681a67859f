// SPDX-License-Identifier: GPL-2.0-only
/*
 * qemu_test: the real, unmodified QEMU (Debian's qemu-system-x86_64 7.2) boots
 * a Linux guest on the KVM under test.
 *
 * The rig packs QEMU, its libraries and firmware (scripts/rig.sh --qemu), the
 * rig's own kernel as /l2/vmlinuz and the busybox initramfs /l2/initrd.gz of
 * user/runner/l2/mkinitrd.sh, whose /init prints "L2-MARKER sum=500500" and runs
 * `reboot -f`. With -no-reboot QEMU then exits 0. Passing means: QEMU accepted
 * the KVM below (its capability checks, vCPU setup and KVM_RUN loop), the guest
 * got to userspace, and the reset reached QEMU.
 *
 * One test per command line:
 *   default_machine  QEMU's defaults: pc machine, cpu qemu64, std VGA, an e1000
 *                    NIC (its option ROM from ipxe-qemu), the in-kernel irqchip
 *                    when KVM offers KVM_CAP_IRQCHIP
 *   nodefaults       -vga none -nodefaults: no VGA, no NIC, no default devices
 *   cpu_host         -cpu host: the vCPU gets what KVM_GET_SUPPORTED_CPUID offers
 *   userspace_irqchip  -accel kvm,kernel-irqchip=off: PIC, IOAPIC and LAPIC in
 *                    QEMU, interrupts by KVM_INTERRUPT
 *   cpu_host_userspace_irqchip  both: QEMU 7.2 does not start on kvm_amd (see
 *                    the test), so that outcome is reported as a skip; and the
 *                    same without the one CPUID bit it trips on, which boots
 *   smp4             -smp 4 with the in-kernel irqchip: the guest must bring up
 *                    4 CPUs (INIT/SIPI through the LAPICs) and run a pinned shell
 *                    on each (the L2 init's "L2-CPUS" and "L2-ONCPU" lines)
 *   ioctl_census     the default boot again under strace: how many times QEMU
 *                    called each KVM ioctl, printed as a table (the numbers the
 *                    documentation quotes), with a few that must hold anywhere
 *
 * The guest's serial console is QEMU's stdout (-serial stdio), echoed as
 * "# L2| ..." TAP comments; QEMU's stderr is printed as "# qemu| ..." when a
 * test fails. Each boot prints its time: seconds of the rig's clock from QEMU's
 * start to its exit, and the L2 guest's own uptime when it rebooted.
 */
#include <signal.h>
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
#define L2_APPEND	"console=ttyS0 panic=-1 quiet"
#define MARKER		"L2-MARKER sum=500500"
/*
 * Rig seconds one boot may take. It took about 15 s on kvm_amd in the SVM
 * rig, and about 100 s of wall time in the VMX rig (Bochs).
 */
#define BOOT_LIMIT_S	300

struct boot {
	bool marker;		/* the guest printed MARKER */
	bool killed;		/* QEMU had to be stopped at BOOT_LIMIT_S */
	int status;		/* QEMU's wait status */
	double secs;		/* from start to exit, rig clock */
	double uptime;		/* the guest's uptime at reboot, -1 if not printed */
	char cpus[64];		/* the L2 init's "L2-CPUS ..." line, if any */
	int oncpu;		/* "L2-ONCPU cpu=K ran_on=K" lines with K = K */
	struct child qemu;
};

static bool files_missing(void)
{
	return access(QEMU, X_OK) || access(L2_KERNEL, R_OK) || access(L2_INITRD, R_OK);
}

/*
 * Boot the L2 guest with QEMU: the common command line (accel first), then
 * extra[] (NULL-terminated), then -serial stdio. Returns -1 if QEMU could not be
 * started at all.
 */
static int boot_wrapped(const char *const wrap[], const char *accel,
			const char *const extra[], struct boot *b)
{
	char *argv[80], line[512], st[64];
	double start, deadline;
	int n = 0, r;

	memset(b, 0, sizeof(*b));
	b->uptime = -1;
	for (int i = 0; wrap && wrap[i]; i++)
		argv[n++] = (char *)wrap[i];
	argv[n++] = QEMU;
	argv[n++] = "-accel";
	argv[n++] = (char *)accel;
	argv[n++] = "-m";
	argv[n++] = "256";
	argv[n++] = "-no-reboot";
	argv[n++] = "-display";
	argv[n++] = "none";
	argv[n++] = "-kernel";
	argv[n++] = L2_KERNEL;
	argv[n++] = "-initrd";
	argv[n++] = L2_INITRD;
	argv[n++] = "-append";
	argv[n++] = L2_APPEND;
	for (int i = 0; extra[i]; i++)
		argv[n++] = (char *)extra[i];
	argv[n++] = "-serial";
	argv[n++] = "stdio";
	argv[n] = NULL;

	printf("# %s", argv[0]);
	for (int i = 1; i < n; i++)
		printf(strchr(argv[i], ' ') ? " '%s'" : " %s", argv[i]);
	printf("\n");

	start = now_s();
	deadline = start + BOOT_LIMIT_S;
	if (child_start(&b->qemu, argv, "qemu", false))
		return -1;
	while ((r = child_read_line(&b->qemu, line, sizeof(line), deadline)) > 0) {
		const char *up = strstr(line, "L2: uptime ");

		printf("# L2| %s\n", line);
		fflush(stdout);
		if (strstr(line, MARKER))
			b->marker = true;
		if (up)
			b->uptime = atof(up + strlen("L2: uptime "));
		if (!strncmp(line, "L2-CPUS ", 8))
			snprintf(b->cpus, sizeof(b->cpus), "%.63s", line + 8);
		if (!strncmp(line, "L2-ONCPU ", 9)) {
			int cpu = -1, on = -2;

			if (sscanf(line, "L2-ONCPU cpu=%d ran_on=%d", &cpu, &on) == 2 &&
			    cpu == on)
				b->oncpu++;
		}
	}
	if (r == 0)
		printf("# no end of QEMU's output after %d s: stopping it\n", BOOT_LIMIT_S);
	b->status = child_stop(&b->qemu, r == 0 ? now_s() : now_s() + 10, &b->killed);
	b->secs = now_s() - start;
	printf("# QEMU ran %.1f s (rig clock), %s%s; the L2 guest's uptime at its reboot: ",
	       b->secs, wait_status_str(b->status, st, sizeof(st)),
	       b->killed ? " (stopped)" : "");
	if (b->uptime >= 0)
		printf("%.2f s\n", b->uptime);
	else
		printf("not printed\n");
	return 0;
}

#define boot(accel, extra, b)	boot_wrapped(NULL, accel, extra, b)

/* Did the boot go all the way: marker, reboot, QEMU exit 0? */
static bool boot_ok(const struct boot *b)
{
	return !b->killed && b->marker && WIFEXITED(b->status) && WEXITSTATUS(b->status) == 0;
}

/* The verdict on one boot, with QEMU's stderr when it failed. */
#define ASSERT_BOOTED(b) do {							\
	if (!boot_ok(b))							\
		child_print_stderr(&(b)->qemu, "qemu");				\
	ASSERT_FALSE((b)->killed) TH_LOG("QEMU still running after %d s", BOOT_LIMIT_S); \
	ASSERT_TRUE((b)->marker) TH_LOG("no \"%s\" from the guest", MARKER);	\
	ASSERT_TRUE(WIFEXITED((b)->status));					\
	ASSERT_EQ(0, WEXITSTATUS((b)->status));				\
} while (0)

/*
 * QEMU_TEST_CASES="name ...": run only these cases (rig.sh --env). The VMX
 * rig boots one, default_machine: under Bochs a boot takes minutes.
 */
static bool case_wanted(const char *name)
{
	const char *only = getenv("QEMU_TEST_CASES");

	return !only || strstr(only, name);
}

FIXTURE(qemu) {
	struct boot b;
};

FIXTURE_SETUP(qemu)
{
	if (files_missing())
		SKIP(return, "no " QEMU " or " L2_KERNEL " in this initramfs (rig.sh --qemu)");
	if (!case_wanted(_metadata->name))
		SKIP(return, "not in QEMU_TEST_CASES=%s", getenv("QEMU_TEST_CASES"));
}

FIXTURE_TEARDOWN(qemu)
{
}

/* The harness runs the body even after a SKIP in FIXTURE_SETUP. */
#define CHECK_FILES() do { if (files_missing() || !case_wanted(_metadata->name)) return; } while (0)

TEST_F_TIMEOUT(qemu, default_machine, BOOT_LIMIT_S + 30)
{
	static const char *const extra[] = { NULL };

	CHECK_FILES();
	ASSERT_EQ(0, boot("kvm", extra, &self->b));
	/* What QEMU says about this KVM (warnings), even when all goes well. */
	child_print_stderr(&self->b.qemu, "qemu");
	ASSERT_BOOTED(&self->b);
}

TEST_F_TIMEOUT(qemu, nodefaults, BOOT_LIMIT_S + 30)
{
	static const char *const extra[] = { "-vga", "none", "-nodefaults", NULL };

	CHECK_FILES();
	ASSERT_EQ(0, boot("kvm", extra, &self->b));
	ASSERT_BOOTED(&self->b);
}

TEST_F_TIMEOUT(qemu, cpu_host, BOOT_LIMIT_S + 30)
{
	static const char *const extra[] = { "-cpu", "host", NULL };

	CHECK_FILES();
	ASSERT_EQ(0, boot("kvm", extra, &self->b));
	ASSERT_BOOTED(&self->b);
}

TEST_F_TIMEOUT(qemu, smp4, BOOT_LIMIT_S + 30)
{
	static const char *const extra[] = { "-smp", "4", NULL };

	CHECK_FILES();
	ASSERT_EQ(0, boot("kvm", extra, &self->b));
	ASSERT_BOOTED(&self->b);
	EXPECT_STREQ("online=0-3 count=4", self->b.cpus);
	EXPECT_EQ(4, self->b.oncpu);
}

TEST_F_TIMEOUT(qemu, userspace_irqchip, BOOT_LIMIT_S + 30)
{
	static const char *const extra[] = { NULL };

	CHECK_FILES();
	ASSERT_EQ(0, boot("kvm,kernel-irqchip=off", extra, &self->b));
	ASSERT_BOOTED(&self->b);
}

/*
 * -cpu host with the userspace irqchip does not start on kvm_amd (6.1):
 *
 *   qemu-system-x86_64: error: failed to set MSR 0x4b564d06 to 0x0
 *   qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs:
 *   Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.
 *
 * 0x4b564d06 is MSR_KVM_ASYNC_PF_INT. KVM_GET_SUPPORTED_CPUID offers
 * KVM_FEATURE_ASYNC_PF_INT, so -cpu host turns it on, and QEMU then writes the
 * MSR's reset value 0 with KVM_SET_MSRS at every vCPU reset. KVM's
 * kvm_pv_enable_async_pf_int() refuses any write, host-initiated ones too, when
 * the LAPIC is not in the kernel (arch/x86/kvm/x86.c). The default cpu model does
 * not have the feature. This outcome is what the real KVM does: a skip, not a
 * failure. The next test shows that it is that feature and nothing else.
 */
#define ASYNC_PF_INT_REFUSED	"failed to set MSR 0x4b564d06"

TEST_F_TIMEOUT(qemu, cpu_host_userspace_irqchip, BOOT_LIMIT_S + 30)
{
	static const char *const extra[] = { "-cpu", "host", NULL };

	CHECK_FILES();
	ASSERT_EQ(0, boot("kvm,kernel-irqchip=off", extra, &self->b));
	if (!boot_ok(&self->b) && child_stderr_has(&self->b.qemu, ASYNC_PF_INT_REFUSED)) {
		child_print_stderr(&self->b.qemu, "qemu");
		SKIP(return, "KVM refuses MSR_KVM_ASYNC_PF_INT without an in-kernel LAPIC, "
			     "as kvm_amd does");
	}
	ASSERT_BOOTED(&self->b);
}

/* The same without KVM_FEATURE_ASYNC_PF_INT in the guest's CPUID: it boots. */
TEST_F_TIMEOUT(qemu, cpu_host_userspace_irqchip_no_asyncpf_int, BOOT_LIMIT_S + 30)
{
	static const char *const extra[] = { "-cpu", "host,kvm-asyncpf-int=off", NULL };

	CHECK_FILES();
	ASSERT_EQ(0, boot("kvm,kernel-irqchip=off", extra, &self->b));
	ASSERT_BOOTED(&self->b);
}

#define STRACE		"/usr/bin/strace"
#define CENSUS_FILE	"/tmp/qemu-ioctls.txt"

struct census {
	char name[48];
	long n;
};

/* The count of ioctl @name in c[0..nr), or 0. */
static long census_count(const struct census *c, int nr, const char *name)
{
	for (int i = 0; i < nr; i++)
		if (!strcmp(c[i].name, name))
			return c[i].n;
	return 0;
}

static int census_cmp(const void *a, const void *b)
{
	const struct census *x = a, *y = b;

	return x->n != y->n ? (y->n > x->n) - (y->n < x->n) : strcmp(x->name, y->name);
}

/*
 * Count the requests in strace's log: every call is one line with
 * "ioctl(FD, NAME, ..." (with -f a call that another thread interrupts is
 * printed "<unfinished ...>" first and "<... ioctl resumed>" later: the
 * first line has the name, the second is not counted).
 */
static int census_read(struct census *c, int max)
{
	char line[1024];
	int nr = 0;
	FILE *f = fopen(CENSUS_FILE, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "ioctl("), *name;
		size_t len;
		int i;

		if (!p || !(p = strchr(p, ',')))
			continue;
		name = p + 2;
		len = strcspn(name, ",) ");
		if (len >= sizeof(c[0].name))
			len = sizeof(c[0].name) - 1;
		for (i = 0; i < nr; i++)
			if (!strncmp(c[i].name, name, len) && !c[i].name[len])
				break;
		if (i == nr) {
			if (nr == max)
				continue;
			memcpy(c[nr].name, name, len);
			c[nr].name[len] = 0;
			c[nr++].n = 0;
		}
		c[i].n++;
	}
	fclose(f);
	qsort(c, nr, sizeof(*c), census_cmp);
	return nr;
}

TEST_F_TIMEOUT(qemu, ioctl_census, 2 * BOOT_LIMIT_S + 30)
{
	static const char *const wrap[] = { STRACE, "-f", "--seccomp-bpf",
		"-e", "trace=ioctl", "-o", CENSUS_FILE, "--", NULL };
	static const char *const extra[] = { NULL };
	struct census c[96];
	long total = 0;
	int nr;

	CHECK_FILES();
	if (access(STRACE, X_OK))
		SKIP(return, "no " STRACE " in this initramfs");
	ASSERT_EQ(0, boot_wrapped(wrap, "kvm", extra, &self->b));
	ASSERT_BOOTED(&self->b);
	nr = census_read(c, 96);
	ASSERT_GT(nr, 0);
	printf("# ioctls of QEMU's default boot, by request (strace -f -e trace=ioctl):\n");
	for (int i = 0; i < nr; i++) {
		/* Only the KVM API's requests (QEMU also issues terminal ioctls). */
		if (strncmp(c[i].name, "KVM_", 4) && strncmp(c[i].name, "_IOC(", 5))
			continue;
		printf("# %10ld  %s\n", c[i].n, c[i].name);
		total += c[i].n;
	}
	printf("# %10ld  in all\n", total);
	/* One VM, one vCPU, its memory set up, and the guest ran. */
	EXPECT_EQ(1, census_count(c, nr, "KVM_CREATE_VM"));
	EXPECT_EQ(1, census_count(c, nr, "KVM_CREATE_VCPU"));
	EXPECT_LT(0, census_count(c, nr, "KVM_SET_USER_MEMORY_REGION"));
	EXPECT_LT(1000, census_count(c, nr, "KVM_RUN"));
}

TEST_HARNESS_MAIN
