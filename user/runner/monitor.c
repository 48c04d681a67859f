// SPDX-License-Identifier: GPL-2.0-only
/*
 * monitor.c: a QMP-like monitor on a UNIX socket (--monitor PATH).
 *
 * QEMU's management interface, QMP, is JSON over a socket: libvirt talks to
 * every QEMU it starts that way ("virsh suspend" is QMP's "stop"). This is
 * the same conversation, small:
 *
 *   <- {"QMP": {"version": {...}, "capabilities": []}}       greeting
 *   -> {"execute": "qmp_capabilities"}                       first, as in QMP
 *   <- {"return": {}}
 *   -> {"execute": "stop"}
 *   <- {"event": "STOP", "timestamp": {...}}                 then the answer
 *   <- {"return": {}}
 *
 * Commands: qmp_capabilities, query-status, stop, cont, quit,
 * snapshot-save and snapshot-load (with {"arguments": {"file": PATH}}:
 * snapshot.c), migrate (with {"arguments": {"uri": "tcp:ADDR:PORT"}}:
 * migrate.c; it answers when the guest runs at the destination, with the
 * figures: total time, downtime, pages per round), and system_powerdown, which answers an error (the machine
 * has no ACPI, so no power button). One client at a time, one command per line; the thread
 * below serves it. "stop" parks every vCPU thread outside KVM_RUN
 * (vm__pause(), vcpu.c): the guest's state stays in KVM, nothing runs, and
 * "cont" lets the threads go on from there.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

#define MONITOR_LINE	4096

struct monitor {
	struct vm *vm;
	int listen_fd, client_fd;
	bool negotiated;		/* qmp_capabilities seen */
	bool discarding;		/* the rest of a line too long to keep */
	char path[108];
	char line[MONITOR_LINE];
	size_t used;
	pthread_t thread;
};

static struct monitor mon = { .listen_fd = -1, .client_fd = -1 };

static void monitor__send(struct monitor *m, const char *json)
{
	size_t len = strlen(json);

	/* A client that went away is noticed by the next read. */
	if (send(m->client_fd, json, len, MSG_NOSIGNAL) == (ssize_t)len)
		send(m->client_fd, "\r\n", 2, MSG_NOSIGNAL);
}

static void monitor__event(struct monitor *m, const char *name)
{
	struct timespec ts;
	char buf[160];

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, sizeof(buf),
		 "{\"event\": \"%s\", \"timestamp\": {\"seconds\": %lld, \"microseconds\": %ld}}",
		 name, (long long)ts.tv_sec, ts.tv_nsec / 1000);
	monitor__send(m, buf);
}

static void monitor__error(struct monitor *m, const char *class, const char *desc)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "{\"error\": {\"class\": \"%s\", \"desc\": \"%s\"}}",
		 class, desc);
	monitor__send(m, buf);
}

/*
 * The string after the member name @key in @p (the first one from there):
 * @key "value" with a colon between, into @out. Not a general JSON parser:
 * a value with an escape (a backslash) is refused, since it would have to
 * be undone. Returns false for anything else.
 */
static bool monitor__string(const char *p, const char *key, char *out, size_t size)
{
	const char *end;
	char quoted[64];
	size_t len;

	snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	if (!p || !(p = strstr(p, quoted)))
		return false;
	p += strlen(quoted);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != ':')
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != '"')
		return false;
	end = strchr(p, '"');
	len = end ? (size_t)(end - p) : 0;
	if (!end || !len || len >= size || memchr(p, '\\', len))
		return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

/*
 * The value of "execute" in one JSON object, into @cmd: enough for
 * {"execute": "name"} with optional "arguments" or "id" members.
 */
static bool monitor__command(const char *line, char *cmd, size_t size)
{
	const char *p = line;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '{' || !strrchr(p, '}'))
		return false;
	return monitor__string(p, "execute", cmd, size);
}

/* The string value of "arguments": {..., "@key": "value"} in @line. */
static bool monitor__arg(const char *line, const char *key, char *out, size_t size)
{
	return monitor__string(strstr(line, "\"arguments\""), key, out, size);
}

/*
 * snapshot-save / snapshot-load: pause (if running), save or load, and run
 * again if it was running. A failed load stops the machine: its memory and
 * some of its vCPUs may already be the snapshot's.
 */
static void monitor__snapshot(struct monitor *m, const char *line, bool save)
{
	struct vm *vm = m->vm;
	bool was_running = !atomic_load(&vm->paused), touched = false;
	char file[1024], why[512], buf[400];
	int r;

	if (!monitor__arg(line, "file", file, sizeof(file))) {
		monitor__error(m, "GenericError",
			       "expected {\\\"arguments\\\": {\\\"file\\\": \\\"PATH\\\"}}");
		return;
	}
	if (was_running)
		vm__pause(vm);
	/* vm__pause() gives up when the machine stops: its vCPUs may still run. */
	if (atomic_load(&vm->stopping)) {
		monitor__error(m, "GenericError", "the machine is stopping");
		return;
	}
	why[0] = '\0';
	r = save ? snapshot__save(vm, file, why, sizeof(why)) :
		   snapshot__load(vm, file, why, sizeof(why), &touched);
	if (r) {
		/* JSON: the message must not carry a quote or a backslash. */
		for (char *c = why; *c; c++)
			if (*c == '"' || *c == '\\' || (unsigned char)*c < ' ')
				*c = '\'';
		snprintf(buf, sizeof(buf), "%s", why[0] ? why : strerror(-r));
		monitor__error(m, "GenericError", buf);
		if (touched)
			vm__stop(vm, EXIT_ERROR, "%s (the machine is half loaded)", why);
		else if (was_running)
			vm__resume(vm);
		return;
	}
	if (was_running)
		vm__resume(vm);
	monitor__send(m, "{\"return\": {}}");
}

/* migrate: the monitor is busy until the destination runs the guest. */
static void monitor__migrate(struct monitor *m, const char *line)
{
	char uri[256], why[512], report[1024], buf[1200];
	int r;

	if (!monitor__arg(line, "uri", uri, sizeof(uri))) {
		monitor__error(m, "GenericError",
			       "expected {\\\"arguments\\\": {\\\"uri\\\": \\\"tcp:ADDR:PORT\\\"}}");
		return;
	}
	if (m->vm->migrated) {
		monitor__error(m, "GenericError", "the guest was migrated already");
		return;
	}
	why[0] = '\0';
	r = migrate__send(m->vm, uri, report, sizeof(report), why, sizeof(why));
	if (r) {
		for (char *c = why; *c; c++)
			if (*c == '"' || *c == '\\' || (unsigned char)*c < ' ')
				*c = '\'';
		monitor__error(m, "GenericError", why[0] ? why : strerror(-r));
		return;
	}
	monitor__event(m, "STOP");
	snprintf(buf, sizeof(buf), "{\"return\": {\"status\": \"completed\", %s}}", report);
	monitor__send(m, buf);
}

static void monitor__execute(struct monitor *m, const char *line)
{
	struct vm *vm = m->vm;
	char cmd[64], buf[160];

	if (!monitor__command(line, cmd, sizeof(cmd))) {
		monitor__error(m, "GenericError", "Invalid JSON: expected {\\\"execute\\\": \\\"command\\\"}");
		return;
	}
	if (!strcmp(cmd, "qmp_capabilities")) {
		m->negotiated = true;
		monitor__send(m, "{\"return\": {}}");
	} else if (!m->negotiated) {
		monitor__error(m, "CommandNotFound",
			       "Expecting capabilities negotiation with 'qmp_capabilities'");
	} else if (!strcmp(cmd, "query-status")) {
		bool running = !atomic_load(&vm->paused);

		snprintf(buf, sizeof(buf),
			 "{\"return\": {\"status\": \"%s\", \"singlestep\": false, \"running\": %s}}",
			 running ? "running" : vm->migrated ? "postmigrate" : "paused",
			 running ? "true" : "false");
		monitor__send(m, buf);
	} else if (!strcmp(cmd, "stop")) {
		if (!atomic_load(&vm->paused)) {
			vm__pause(vm);
			monitor__event(m, "STOP");
		}
		monitor__send(m, "{\"return\": {}}");
	} else if (!strcmp(cmd, "cont") && vm->migrated) {
		/* A second copy of the guest would run here: QEMU warns, we refuse. */
		monitor__error(m, "GenericError", "the guest runs at the migration's destination");
	} else if (!strcmp(cmd, "cont")) {
		if (atomic_load(&vm->paused)) {
			vm__resume(vm);
			monitor__event(m, "RESUME");
		}
		monitor__send(m, "{\"return\": {}}");
	} else if (!strcmp(cmd, "quit")) {
		monitor__send(m, "{\"return\": {}}");
		monitor__event(m, "SHUTDOWN");
		vm__stop(vm, EXIT_GUEST_DONE, "quit (monitor)");
	} else if (!strcmp(cmd, "snapshot-save") || !strcmp(cmd, "snapshot-load")) {
		monitor__snapshot(m, line, !strcmp(cmd, "snapshot-save"));
	} else if (!strcmp(cmd, "migrate")) {
		monitor__migrate(m, line);
	} else if (!strcmp(cmd, "system_powerdown")) {
		monitor__error(m, "GenericError",
			       "no power button: this machine has no ACPI (use quit)");
	} else {
		snprintf(buf, sizeof(buf), "The command %s has not been found", cmd);
		monitor__error(m, "CommandNotFound", buf);
	}
}

/* A new client: the greeting; commands must start with qmp_capabilities. */
static void monitor__accept(struct monitor *m)
{
	int fd = accept(m->listen_fd, NULL, NULL);

	if (fd < 0)
		return;
	if (m->client_fd >= 0) {	/* one at a time, as a QMP socket */
		close(fd);
		return;
	}
	m->client_fd = fd;
	m->negotiated = false;
	m->discarding = false;
	m->used = 0;
	monitor__send(m, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, "
		      "\"major\": 0}, \"package\": \"minikvm-run\"}, \"capabilities\": []}}");
}

/* Bytes from the client: run each complete line. */
static void monitor__read(struct monitor *m)
{
	ssize_t n = read(m->client_fd, m->line + m->used, sizeof(m->line) - 1 - m->used);
	char *nl;

	if (n <= 0) {
		close(m->client_fd);
		m->client_fd = -1;
		return;
	}
	m->used += n;
	m->line[m->used] = '\0';
	while ((nl = strchr(m->line, '\n'))) {
		*nl = '\0';
		if (m->discarding) {		/* the end of the overlong line */
			m->discarding = false;
			m->line[0] = '\0';
		}
		if (nl > m->line && nl[-1] == '\r')
			nl[-1] = '\0';
		if (m->line[0])
			monitor__execute(m, m->line);
		m->used -= nl + 1 - m->line;
		memmove(m->line, nl + 1, m->used + 1);
	}
	if (m->used == sizeof(m->line) - 1) {	/* a line too long: drop it all */
		if (!m->discarding)
			monitor__error(m, "GenericError", "command line too long");
		m->discarding = true;
		m->used = 0;
	}
}

static void *monitor__thread(void *arg)
{
	struct monitor *m = arg;
	struct vm *vm = m->vm;

	while (!atomic_load(&vm->stopping)) {
		struct pollfd fds[2] = {
			{ .fd = vm->stop_fd, .events = POLLIN },
			{ .fd = m->client_fd >= 0 ? m->client_fd : m->listen_fd, .events = POLLIN },
		};

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (!(fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (m->client_fd >= 0)
			monitor__read(m);
		else
			monitor__accept(m);
	}
	return NULL;
}

/* Listen at @path (which must not exist yet) and start serving it. */
int monitor__start(struct vm *vm, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct monitor *m = &mon;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		pr_err("--monitor %s: the path is too long for a UNIX socket", path);
		return -EINVAL;
	}
	if (m->listen_fd >= 0) {
		pr_err("--monitor %s: one monitor per machine", path);
		return -EBUSY;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(fd, 1) < 0) {
		int err = errno;

		pr_err("--monitor %s: %s", path, strerror(err));
		if (fd >= 0)
			close(fd);
		return -err;
	}
	m->vm = vm;
	m->listen_fd = fd;
	snprintf(m->path, sizeof(m->path), "%s", path);
	if (pthread_create(&m->thread, NULL, monitor__thread, m)) {
		pr_err("--monitor: cannot start its thread");
		return -EAGAIN;
	}
	return 0;
}

/* After vm->stopping and stop_fd: the thread ends; the socket goes. */
void monitor__stop(struct vm *vm)
{
	struct monitor *m = &mon;

	(void)vm;
	if (m->listen_fd < 0)
		return;
	pthread_join(m->thread, NULL);
	if (m->client_fd >= 0)
		close(m->client_fd);
	close(m->listen_fd);
	unlink(m->path);
	*m = (struct monitor){ .listen_fd = -1, .client_fd = -1 };
}
