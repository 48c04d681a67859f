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
	r = ask(fd, "{\"execute\": \"system_powerdown\"}\n");
	tap_ok(strstr(r, "GenericError") && strstr(r, "ACPI"), "system_powerdown: %s", r);
	r = ask(fd, "{\"execute\": \"migrate\"}\n");
	tap_ok(strstr(r, "CommandNotFound") && strstr(r, "migrate"), "an unknown command: %s", r);
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
	r = ask(fd, "{\"execute\": \"quit\"}\n");
	tap_ok(!strcmp(r, "{\"return\": {}}") && strstr(line(fd), "\"SHUTDOWN\"") &&
	       atomic_load(&vm.stopping) && !strcmp(vm.exit_reason, "quit (monitor)") &&
	       vm.exit_code == EXIT_GUEST_DONE, "quit: the answer, SHUTDOWN, the machine stops");
	monitor__stop(&vm);
	tap_ok(access(sock, F_OK) < 0 && errno == ENOENT, "the socket file is removed at the end");
	close(fd);
	rmdir(path);
	return tap_done();
}
