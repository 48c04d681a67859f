// SPDX-License-Identifier: GPL-2.0-only
/*
 * child.c: run real KVM clients (QEMU, virsh) from a selftest and talk to them:
 * their output line by line with deadlines, their stderr kept for failure
 * reports, QEMU's QMP monitor on a unix socket. See child.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Milliseconds from now until deadline, for poll(): at least 0. */
static int ms_until(double deadline)
{
	double left = deadline - now_s();

	return left > 0 ? (int)(left * 1000) + 1 : 0;
}

int child_start(struct child *c, char *const argv[], const char *tag, bool with_stdin)
{
	int out[2], in[2] = { -1, -1 };

	memset(c, 0, sizeof(*c));
	c->out = c->in = -1;
	snprintf(c->errfile, sizeof(c->errfile), "/tmp/%s.err", tag);
	if (pipe2(out, O_CLOEXEC))
		return -1;
	if (with_stdin && pipe2(in, O_CLOEXEC)) {
		close(out[0]);
		close(out[1]);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		int err = open(c->errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_RDONLY);

		/* If the test dies (its timeout), the client goes with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(with_stdin ? in[0] : null, 0);
		dup2(out[1], 1);
		dup2(err >= 0 ? err : out[1], 2);
		/* Own process group: a client's helpers (exec: migration) go with it. */
		setpgid(0, 0);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	c->out = out[0];
	if (with_stdin) {
		close(in[0]);
		c->in = in[1];
		/* A client that died must not kill the test with SIGPIPE. */
		signal(SIGPIPE, SIG_IGN);
	}
	return 0;
}

/* Take one line out of c->part, if it holds a complete one. */
static bool take_line(struct child *c, char *line, size_t len, bool at_eof)
{
	char *nl = memchr(c->part, '\n', c->len);
	size_t n, skip;

	if (nl) {
		n = nl - c->part;
		skip = n + 1;
	} else if (at_eof && c->len) {
		n = skip = c->len;
	} else if (c->len == sizeof(c->part)) {
		n = skip = c->len;	/* an overlong line comes in pieces */
	} else {
		return false;
	}
	if (n >= len)
		n = len - 1;
	memcpy(line, c->part, n);
	line[n] = '\0';
	if (n && line[n - 1] == '\r')
		line[n - 1] = '\0';
	memmove(c->part, c->part + skip, c->len - skip);
	c->len -= skip;
	return true;
}

int child_read_line(struct child *c, char *line, size_t len, double deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = c->out, .events = POLLIN };
		ssize_t n;
		int r;

		if (take_line(c, line, len, c->out < 0))
			return 1;
		if (c->out < 0)
			return -1;
		r = poll(&pfd, 1, ms_until(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		n = read(c->out, c->part + c->len, sizeof(c->part) - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(c->out);
			c->out = -1;
			continue;
		}
		c->len += n;
	}
}

int child_write(struct child *c, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = write(c->in, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= n;
	}
	return 0;
}

int child_stop(struct child *c, double deadline, bool *killed)
{
	double kill_at = 0;
	int sig = SIGTERM;

	if (killed)
		*killed = false;
	if (c->in >= 0) {
		close(c->in);
		c->in = -1;
	}
	while (!c->reaped) {
		pid_t r = waitpid(c->pid, &c->status, WNOHANG);

		if (r == c->pid || (r < 0 && errno != EINTR)) {
			c->reaped = true;
			break;
		}
		if (now_s() >= deadline && (!kill_at || now_s() >= kill_at)) {
			if (killed)
				*killed = true;
			kill(-c->pid, sig);
			kill(c->pid, sig);
			sig = SIGKILL;
			kill_at = now_s() + 2;
			deadline = kill_at;
		}
		usleep(20000);
	}
	if (c->out >= 0) {
		close(c->out);
		c->out = -1;
	}
	return c->status;
}

void print_file(const char *path, const char *prefix)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f) {
		printf("# %s| (no file %s)\n", prefix, path);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		printf("# %s| %s\n", prefix, line);
	}
	fclose(f);
	fflush(stdout);
}

void child_print_stderr(const struct child *c, const char *prefix)
{
	print_file(c->errfile, prefix);
}

bool file_has(const char *path, const char *s)
{
	char line[512];
	bool found = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, s);
	fclose(f);
	return found;
}

bool child_stderr_has(const struct child *c, const char *s)
{
	return file_has(c->errfile, s);
}

const char *wait_status_str(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "wait status 0x%x", status);
	return buf;
}

/* ---------------------------------------------------------------- QMP */

/* Read one line (up to '\n') from a socket until deadline; returns its length or -1. */
static int sock_read_line(int fd, char *buf, size_t len, double deadline)
{
	size_t used = 0;

	while (used < len - 1) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r = poll(&pfd, 1, ms_until(deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		n = read(fd, buf + used, 1);
		if (n <= 0)
			return -1;
		if (buf[used] == '\n')
			break;
		used++;
	}
	buf[used] = '\0';
	if (used && buf[used - 1] == '\r')
		buf[--used] = '\0';
	return used;
}

int qmp_cmd(int fd, const char *cmd, char *reply, size_t len, double deadline)
{
	size_t n = strlen(cmd);

	if (write(fd, cmd, n) != (ssize_t)n || write(fd, "\n", 1) != 1) {
		printf("# qmp: write: %s\n", strerror(errno));
		return -1;
	}
	for (;;) {
		if (sock_read_line(fd, reply, len, deadline) < 0) {
			printf("# qmp: no reply to %s\n", cmd);
			return -1;
		}
		if (strstr(reply, "\"return\"") || strstr(reply, "\"error\""))
			return 0;
		/* {"event": ...}: not the reply */
	}
}

int qmp_open(struct child *c, const char *path, double deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[4096];
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		close(fd);
		if (now_s() >= deadline) {
			printf("# qmp: connect %s: %s\n", path, strerror(errno));
			return -1;
		}
		if (c && !c->reaped && waitpid(c->pid, &c->status, WNOHANG) == c->pid) {
			c->reaped = true;
			printf("# qmp: QEMU exited before it opened %s\n", path);
			return -1;
		}
		usleep(100000);
	}
	/* {"QMP": {"version": ...}} */
	if (sock_read_line(fd, line, sizeof(line), deadline) < 0 || !strstr(line, "\"QMP\"") ||
	    qmp_cmd(fd, "{\"execute\": \"qmp_capabilities\"}", line, sizeof(line), deadline) ||
	    !strstr(line, "\"return\"")) {
		printf("# qmp: no greeting or capabilities refused on %s\n", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Where the value of "key" starts in json, or NULL. */
static const char *json_value(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	return p;
}

char *json_str(const char *json, const char *key, char *buf, size_t len)
{
	const char *p = json_value(json, key);
	size_t n = 0;

	if (!p || *p != '"')
		return NULL;
	for (p++; *p && *p != '"' && n < len - 1; p++)
		buf[n++] = *p;
	buf[n] = '\0';
	return buf;
}

long long json_num(const char *json, const char *key)
{
	const char *p = json_value(json, key);

	if (!p || (*p < '0' || *p > '9'))
		return -1;
	return strtoll(p, NULL, 10);
}
