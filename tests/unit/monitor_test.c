// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-side test of minikvm-run's monitor (user/runner/monitor.c): the QMP-like
 * conversation over its UNIX socket, with the machine replaced by stubs (pause,
 * resume and stop only flip flags here; vcpu.c and vm.c do the real work, and
 * l2boot_test's "monitor" boot checks them in the rigs). Checks: the greeting,
 * capabilities negotiation first, query-status, stop/cont with their events,
 * errors for unknown commands, bad JSON and an overlong line, one client at a
 * time, quit, and that the socket file is gone afterwards.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "runner.h"
#include "tap.h"

static struct vm vm;
static int pauses, resumes;

/* The stubs monitor.c calls. */
void vm__pause(struct vm *v)
{
	pauses++;
	atomic_store(&v->paused, true);
}

void vm__resume(struct vm *v)
{
	resumes++;
	atomic_store(&v->paused, false);
}

void vm__stop(struct vm *v, int code, const char *fmt, ...)
{
	uint64_t one = 1;
	va_list ap;

	v->exit_code = code;
	va_start(ap, fmt);
	vsnprintf(v->exit_reason, sizeof(v->exit_reason), fmt, ap);
	va_end(ap);
	atomic_store(&v->stopping, true);
	(void)!write(v->stop_fd, &one, sizeof(one));
}

/* snapshot.c's two, stubbed: they record what they were asked and answer
 * what the test sets. */
static char snap_file[1100];
static int snap_saves, snap_loads, snap_ret;
static bool snap_touched;
static bool snap_paused;	/* the machine was paused when they ran */

int snapshot__save(struct vm *v, const char *path, char *why, size_t why_len)
{
	snap_saves++;
	snap_paused = atomic_load(&v->paused);
	snprintf(snap_file, sizeof(snap_file), "%s", path);
	if (snap_ret)
		snprintf(why, why_len, "snapshot: \"%s\": No space left on device", path);
	return snap_ret;
}

int snapshot__load(struct vm *v, const char *path, char *why, size_t why_len,
		   bool *touched)
{
	snap_loads++;
	snap_paused = atomic_load(&v->paused);
	snprintf(snap_file, sizeof(snap_file), "%s", path);
	*touched = snap_touched;
	if (snap_ret)
		snprintf(why, why_len, "snapshot %s: truncated", path);
	return snap_ret;
}

/* migrate.c's migrate__send, stubbed: on success the machine stays paused,
 * migrated, as the real one leaves it. */
static char mig_uri[300];
static int mig_calls, mig_ret;

int migrate__send(struct vm *v, const char *uri, char *report, size_t report_len,
		  char *why, size_t why_len)
{
	mig_calls++;
	snprintf(mig_uri, sizeof(mig_uri), "%s", uri);
	if (mig_ret) {
		snprintf(why, why_len, "migrate: connecting to %s: Connection \"refused\"", uri);
		return mig_ret;
	}
	atomic_store(&v->paused, true);
	v->migrated = true;
	snprintf(report, report_len, "\"total-time\": 812, \"downtime\": 41, \"rounds\": 3");
	return 0;
}

static int client(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(addr.sun_path, path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -1;
	return fd;
}

/* One line from the monitor, CR LF dropped; "" after 2 s of silence. */
static const char *line(int fd)
{
	static char buf[1024];
	size_t n = 0;

	while (n < sizeof(buf) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char c;

		if (poll(&p, 1, 2000) <= 0 || read(fd, &c, 1) != 1)
			break;
		if (c == '\n')
			break;
		if (c != '\r')
			buf[n++] = c;
	}
	buf[n] = '\0';
	return buf;
}

static const char *ask(int fd, const char *json)
{
	(void)!write(fd, json, strlen(json));
	return line(fd);
}

int main(void)
{
	char path[] = "/tmp/monitor_test.XXXXXX", sock[64], big[5000];
	const char *r;
	int fd, other;

	if (!mkdtemp(path))
		return 1;
	snprintf(sock, sizeof(sock), "%s/qmp.sock", path);
	vm.stop_fd = eventfd(0, EFD_CLOEXEC);
	tap_ok(monitor__start(&vm, sock) == 0, "monitor__start on a new socket");
	tap_ok(monitor__start(&vm, sock) != 0, "a second monitor is an error");

	fd = client(sock);
	r = line(fd);
	tap_ok(fd >= 0 && strstr(r, "{\"QMP\": {\"version\"") && strstr(r, "\"capabilities\": []"),
	       "the greeting: %s", r);
	other = client(sock);
	tap_ok(other >= 0 && !*line(other), "a second client gets no greeting (one at a time)");
	close(other);
	r = ask(fd, "{\"execute\": \"stop\"}\n");
	tap_ok(strstr(r, "CommandNotFound") && strstr(r, "qmp_capabilities") && !pauses,
	       "a command before qmp_capabilities is refused: %s", r);
	r = ask(fd, "{ \"execute\" : \"qmp_capabilities\", \"id\": 1 }\r\n");
	tap_ok(!strcmp(r, "{\"return\": {}}"), "qmp_capabilities (extra members, CR LF): %s", r);
	r = ask(fd, "{\"execute\": \"query-status\"}\n");
	tap_ok(strstr(r, "\"status\": \"running\"") && strstr(r, "\"running\": true"),
	       "query-status while running: %s", r);
	r = ask(fd, "{\"execute\": \"stop\"}\n");
	tap_ok(strstr(r, "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": ") != NULL,
	       "stop: the STOP event first: %s", r);
	r = line(fd);
	tap_ok(!strcmp(r, "{\"return\": {}}") && pauses == 1, "then the answer, one pause");
	r = ask(fd, "{\"execute\": \"stop\"}\n");
	tap_ok(!strcmp(r, "{\"return\": {}}") && pauses == 1, "stop when stopped: no event, no pause");
	r = ask(fd, "{\"execute\": \"query-status\"}\n");
	tap_ok(strstr(r, "\"status\": \"paused\"") && strstr(r, "\"running\": false"),
	       "query-status while paused: %s", r);
	r = ask(fd, "{\"execute\": \"cont\"}\n");
	tap_ok(strstr(r, "\"RESUME\"") && !strcmp(line(fd), "{\"return\": {}}") && resumes == 1,
	       "cont: the RESUME event, the answer, one resume");
	r = ask(fd, "{\"execute\": \"snapshot-save\"}\n");
	tap_ok(strstr(r, "GenericError") && strstr(r, "file") && !snap_saves,
	       "snapshot-save without a file: %s", r);
	r = ask(fd, "{\"execute\": \"snapshot-save\", \"arguments\": {\"file\": \"a\\\\b\"}}\n");
	tap_ok(strstr(r, "GenericError") && !snap_saves, "a file name with an escape: %s", r);
	r = ask(fd, "{\"execute\": \"snapshot-save\", \"arguments\": { \"file\" : \"/tmp/s.snap\" }}\n");
	tap_ok(!strcmp(r, "{\"return\": {}}") && snap_saves == 1 && snap_paused &&
	       !strcmp(snap_file, "/tmp/s.snap") && pauses == 2 && resumes == 2 &&
	       !atomic_load(&vm.paused),
	       "snapshot-save: paused around the save, running again: %s", r);
	snap_ret = -ENOSPC;
	r = ask(fd, "{\"execute\": \"snapshot-save\", \"arguments\": {\"file\": \"/tmp/s.snap\"}}\n");
	tap_ok(strstr(r, "GenericError") && strstr(r, "No space left") && !strstr(r, "\\\"") &&
	       !atomic_load(&vm.paused) && !atomic_load(&vm.stopping),
	       "a failed save: an error (quotes made JSON-safe), the guest runs on: %s", r);
	snap_ret = -EINVAL;
	r = ask(fd, "{\"execute\": \"snapshot-load\", \"arguments\": {\"file\": \"/tmp/t.snap\"}}\n");
	tap_ok(strstr(r, "GenericError") && strstr(r, "truncated") && snap_loads == 1 &&
	       !atomic_load(&vm.paused) && !atomic_load(&vm.stopping),
	       "a bad file to load, nothing changed: an error, the guest runs on: %s", r);
	snap_ret = 0;
	r = ask(fd, "{\"execute\": \"snapshot-load\", \"arguments\": {\"file\": \"/tmp/s.snap\"}}\n");
	tap_ok(!strcmp(r, "{\"return\": {}}") && snap_loads == 2 && snap_paused &&
	       !atomic_load(&vm.paused), "snapshot-load: paused around the load: %s", r);
	r = ask(fd, "{\"execute\": \"system_powerdown\"}\n");
	tap_ok(strstr(r, "GenericError") && strstr(r, "ACPI"), "system_powerdown: %s", r);
	r = ask(fd, "{\"execute\": \"human-monitor-command\"}\n");
	tap_ok(strstr(r, "CommandNotFound") && strstr(r, "human-monitor-command"),
	       "an unknown command: %s", r);
	r = ask(fd, "execute stop\n");
	tap_ok(strstr(r, "GenericError") && strstr(r, "Invalid JSON"), "not JSON: %s", r);
	r = ask(fd, "{\"execute\": 7}\n");
	tap_ok(strstr(r, "Invalid JSON") != NULL, "a name that is not a string: %s", r);
	memset(big, 'x', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	r = ask(fd, big);
	tap_ok(strstr(r, "too long") != NULL, "an overlong line: %s", r);
	r = ask(fd, "{\"execute\": \"query-status\"}\n");
	tap_ok(strstr(r, "\"running\": true") != NULL, "the connection survives it: %s", r);
	r = ask(fd, "{\"execute\": \"migrate\"}\n");
	tap_ok(strstr(r, "GenericError") && strstr(r, "uri") && !mig_calls,
	       "migrate without a uri: %s", r);
	mig_ret = -ECONNREFUSED;
	r = ask(fd, "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:127.0.0.1:1\"}}\n");
	tap_ok(strstr(r, "GenericError") && strstr(r, "'refused'") &&
	       mig_calls == 1 && !strcmp(mig_uri, "tcp:127.0.0.1:1") && !atomic_load(&vm.paused),
	       "a failed migrate: an error, the guest runs on: %s", r);
	mig_ret = 0;
	r = ask(fd, "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:127.0.0.1:4444\"}}\n");
	tap_ok(strstr(r, "\"STOP\"") != NULL, "migrate: the STOP event first: %s", r);
	r = line(fd);
	tap_ok(strstr(r, "\"status\": \"completed\"") && strstr(r, "\"downtime\": 41") &&
	       mig_calls == 2, "migrate: completed, with its figures: %s", r);
	r = ask(fd, "{\"execute\": \"query-status\"}\n");
	tap_ok(strstr(r, "\"status\": \"postmigrate\"") && strstr(r, "\"running\": false"),
	       "query-status after it: %s", r);
	r = ask(fd, "{\"execute\": \"cont\"}\n");
	tap_ok(strstr(r, "GenericError") && atomic_load(&vm.paused),
	       "cont after a migration: refused, no second copy of the guest: %s", r);
	r = ask(fd, "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:127.0.0.1:4444\"}}\n");
	tap_ok(strstr(r, "migrated already") && mig_calls == 2, "a second migrate: %s", r);
	r = ask(fd, "{\"execute\": \"quit\"}\n");
	tap_ok(!strcmp(r, "{\"return\": {}}") && strstr(line(fd), "\"SHUTDOWN\"") &&
	       atomic_load(&vm.stopping) && !strcmp(vm.exit_reason, "quit (monitor)") &&
	       vm.exit_code == EXIT_GUEST_DONE, "quit: the answer, SHUTDOWN, the machine stops");
	monitor__stop(&vm);
	tap_ok(access(sock, F_OK) < 0 && errno == ENOENT, "the socket file is removed at the end");
	close(fd);

	/* A new machine's monitor: a load that fails half way stops the machine. */
	atomic_store(&vm.stopping, false);
	vm.exit_reason[0] = '\0';
	vm.exit_code = 0;
	close(vm.stop_fd);
	vm.stop_fd = eventfd(0, EFD_CLOEXEC);
	snap_ret = -EINVAL;
	snap_touched = true;
	fd = monitor__start(&vm, sock) == 0 ? client(sock) : -1;
	line(fd);
	ask(fd, "{\"execute\": \"qmp_capabilities\"}\n");
	r = ask(fd, "{\"execute\": \"snapshot-load\", \"arguments\": {\"file\": \"/tmp/s.snap\"}}\n");
	tap_ok(strstr(r, "GenericError") && atomic_load(&vm.stopping) && vm.exit_code == EXIT_ERROR &&
	       strstr(vm.exit_reason, "half loaded"),
	       "a load that failed after changing the machine stops it: %s", vm.exit_reason);
	monitor__stop(&vm);
	close(fd);
	rmdir(path);
	return tap_done();
}
