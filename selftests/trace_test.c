// SPDX-License-Identifier: GPL-2.0-only
/*
 * trace_test: the kvm tracepoints count exactly what the guest did.
 *
 * The guest executes exactly NR_OUT port writes (to OUT_PORT: no device there, so
 * each one exits to userspace as KVM_EXIT_IO) and exactly NR_CPUID CPUIDs (answered
 * in the kernel), then one ucall DONE (one more OUT, to UCALL_PORT). So, for this
 * process:
 *
 *   kvm_pio                          NR_OUT + 1
 *   kvm_cpuid                        NR_CPUID
 *   kvm_exit, reason IOIO / IO_INSTRUCTION (SVM 0x7b, VMX 30)   NR_OUT + 1
 *   kvm_exit, reason CPUID           (SVM 0x72, VMX 10)          NR_CPUID
 *   kvm_userspace_exit, KVM_EXIT_IO  NR_OUT + 1
 *
 * Other exits (host interrupts, nested page faults on first touch) come and go with
 * the host and are not counted. The same numbers hold on kvm.ko (REF=kvm): that is
 * what proves minikvm's events are kvm.ko's, fields included, since both counters
 * below key on fields, not on the printed text (the two modules print kvm_exit
 * differently: kvm.ko names the reason, minikvm prints the number).
 *
 * Two independent counters:
 *   ftrace_hist    the kernel's own "hist" triggers in tracefs, keyed by a field
 *                  and filtered on our pid: no BPF at all;
 *   minikvm_stat   /bin/minikvm-stat --json -p PID (user/stat/), which counts in
 *                  BPF maps from tracepoint programs.
 * Each skips when its means are missing (no tracefs; no tool).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vm.h"

#define NR_OUT		1000
#define NR_CPUID	500
#define OUT_PORT	0x99

#define TRACEFS		"/sys/kernel/tracing"
#define STAT_TOOL	"/bin/minikvm-stat"

/* R8/R9 are the loop counters: CPUID clobbers EAX, EBX, ECX and EDX. */
GUEST_ASM(trace_guest, 64,
	"mov $" GSTR(NR_OUT) ", %r8d\n\t"
	"1: out %al, $" GSTR(OUT_PORT) "\n\t"
	"dec %r8d\n\t"
	"jnz 1b\n\t"
	"mov $" GSTR(NR_CPUID) ", %r9d\n\t"
	"2: xor %eax, %eax\n\t"
	"xor %ecx, %ecx\n\t"
	"cpuid\n\t"
	"dec %r9d\n\t"
	"jnz 2b\n\t"
	GUEST_DONE);

/* Hardware exit codes of the two instructions, per vendor (APM App.C, SDM App.C). */
static void io_cpuid_codes(unsigned int *io, unsigned int *cpuid)
{
	if (host_virt() == HOST_VIRT_VMX) {
		*io = 30;	/* EXIT_REASON_IO_INSTRUCTION */
		*cpuid = 10;	/* EXIT_REASON_CPUID */
	} else {
		*io = 0x7b;	/* SVM_EXIT_IOIO */
		*cpuid = 0x72;	/* SVM_EXIT_CPUID */
	}
}

/* Run the guest to its DONE; every other exit must be an OUT to OUT_PORT. */
static void run_guest(struct __test_metadata *_metadata)
{
	struct vcpu *vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(trace_guest));
	struct kvm_run *run = vcpu->run;
	struct ucall uc;
	int outs = 0;

	for (;;) {
		vcpu_run(vcpu);
		if (vcpu_get_ucall(vcpu, &uc) == UCALL_DONE)
			break;
		ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
		ASSERT_EQ(OUT_PORT, run->io.port);
		ASSERT_EQ(KVM_EXIT_IO_OUT, run->io.direction);
		outs++;
	}
	ASSERT_EQ(NR_OUT, outs);
	vm_free(vcpu->vm);
}

/* ------------------------------------------------------------ ftrace hist */

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC), r;

	if (fd < 0)
		return -1;
	r = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
	close(fd);
	return r;
}

static char *read_file(const char *path)
{
	static char buf[65536];
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return buf;
}

/* The hist triggers we install: event, key field. */
static const struct {
	const char *event, *key;
} hists[] = {
	{ "kvm_exit", "exit_reason" },
	{ "kvm_pio", "port" },
	{ "kvm_cpuid", "function" },
	{ "kvm_userspace_exit", "reason" },
};

static void hist_trigger(const char *event, const char *key, pid_t pid, bool on,
			 char *err, size_t errlen)
{
	char path[128], cmd[128];

	snprintf(path, sizeof(path), TRACEFS "/events/kvm/%s/trigger", event);
	snprintf(cmd, sizeof(cmd), "%shist:keys=%s if common_pid == %d",
		 on ? "" : "!", key, (int)pid);
	if (write_file(path, cmd) && err)
		snprintf(err, errlen, "%s: %s: %s", path, cmd, strerror(errno));
}

/*
 * The hitcount of key @value in a hist file, whose lines read
 * "{ exit_reason:        123 } hitcount:       1001".
 */
static long hist_count(const char *event, const char *key, unsigned long value)
{
	char path[128], pat[64];
	const char *text, *p;
	unsigned long v;
	long hits;

	snprintf(path, sizeof(path), TRACEFS "/events/kvm/%s/hist", event);
	text = read_file(path);
	if (!text)
		return -1;
	snprintf(pat, sizeof(pat), "{ %s:", key);
	for (p = strstr(text, pat); p; p = strstr(p + 1, pat))
		if (sscanf(p + strlen(pat), " %lu } hitcount: %ld", &v, &hits) == 2 &&
		    v == value)
			return hits;
	return 0;
}

TEST(ftrace_hist)
{
	unsigned int io, cpuid, i;
	char err[256] = "";
	pid_t pid = getpid();

	TEST_REQUIRE_KVM();
	if (access(TRACEFS "/events/kvm/kvm_exit/trigger", W_OK))
		SKIP(return, "no " TRACEFS "/events/kvm (tracefs or kvm events missing)");
	io_cpuid_codes(&io, &cpuid);

	for (i = 0; i < ARRAY_SIZE(hists); i++)
		hist_trigger(hists[i].event, hists[i].key, pid, true, err, sizeof(err));
	if (err[0]) {
		for (i = 0; i < ARRAY_SIZE(hists); i++)
			hist_trigger(hists[i].event, hists[i].key, pid, false, NULL, 0);
		SKIP(return, "hist trigger refused (%s)", err);
	}

	run_guest(_metadata);

	TH_LOG("%s", read_file(TRACEFS "/events/kvm/kvm_exit/hist"));
	EXPECT_EQ(NR_OUT + 1, hist_count("kvm_exit", "exit_reason", io));
	EXPECT_EQ(NR_CPUID, hist_count("kvm_exit", "exit_reason", cpuid));
	EXPECT_EQ(NR_OUT, hist_count("kvm_pio", "port", OUT_PORT));
	EXPECT_EQ(1, hist_count("kvm_pio", "port", UCALL_PORT));
	EXPECT_EQ(NR_CPUID, hist_count("kvm_cpuid", "function", 0));
	EXPECT_EQ(NR_OUT + 1, hist_count("kvm_userspace_exit", "reason", KVM_EXIT_IO));

	for (i = 0; i < ARRAY_SIZE(hists); i++)
		hist_trigger(hists[i].event, hists[i].key, pid, false, NULL, 0);
}

/* ------------------------------------------------------------ minikvm-stat */

/*
 * The number after "key": in the JSON text starting at @from (the tool prints
 * compact JSON, one object per exit row, so a search from the row's start works).
 */
static long json_num(const char *from, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = from ? strstr(from, pat) : NULL;
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

/* The "count" of the exit row with "code":@code. */
static long json_exit_count(const char *json, unsigned int code)
{
	char pat[32];

	snprintf(pat, sizeof(pat), "\"code\":%u,", code);
	return json_num(strstr(json, pat), "count");
}

TEST(minikvm_stat)
{
	static char json[1 << 16];
	int out[2], errp[2], status;
	unsigned int io, cpuid;
	char pidstr[16], line[256];
	ssize_t n, len = 0;
	FILE *err;
	pid_t tool;

	TEST_REQUIRE_KVM();
	if (access(STAT_TOOL, X_OK))
		SKIP(return, STAT_TOOL " not installed");
	io_cpuid_codes(&io, &cpuid);

	/* The tool, watching only us, until we send SIGINT (--duration is a backstop). */
	snprintf(pidstr, sizeof(pidstr), "%d", (int)getpid());
	ASSERT_EQ(0, pipe(out));
	ASSERT_EQ(0, pipe(errp));
	tool = fork();
	ASSERT_LE(0, tool);
	if (tool == 0) {
		dup2(out[1], 1);
		dup2(errp[1], 2);
		execl(STAT_TOOL, STAT_TOOL, "--json", "--duration", "100", "-p", pidstr,
		      (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	close(errp[1]);

	/* Start the guest only once its programs are attached. */
	err = fdopen(errp[0], "r");
	ASSERT_NE(NULL, err);
	line[0] = 0;
	while (fgets(line, sizeof(line), err) && !strstr(line, "attached"))
		TH_LOG("minikvm-stat: %s", line);
	if (!strstr(line, "attached")) {
		waitpid(tool, &status, 0);
		SKIP(return, "minikvm-stat did not attach (no BPF in this kernel?)");
	}

	run_guest(_metadata);

	kill(tool, SIGINT);
	while ((n = read(out[0], json + len, sizeof(json) - 1 - len)) > 0)
		len += n;
	json[len] = 0;
	ASSERT_EQ(tool, waitpid(tool, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fclose(err);
	close(out[0]);
	TH_LOG("%s", json);

	EXPECT_EQ(NR_OUT + 1, json_num(json, "kvm_pio"));
	EXPECT_EQ(NR_CPUID, json_num(json, "kvm_cpuid"));
	EXPECT_EQ(NR_OUT + 1, json_num(strstr(json, "\"userspace_exits\""), "IO"));
	EXPECT_EQ(NR_OUT + 1, json_exit_count(json, io));
	EXPECT_EQ(NR_CPUID, json_exit_count(json, cpuid));
}

TEST_HARNESS_MAIN
