/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * child.h: real KVM clients (QEMU, libvirt's virsh and virt-qemu-run) as child
 * processes of a selftest, for qemu_test, migrate_test and libvirt_test.
 *
 * A client runs with its stdout on a pipe that the test reads line by line with
 * a deadline (QEMU's serial console with -serial stdio, or virsh's answers), its
 * stderr in a file that is printed as "# qemu| ..." TAP comments when something
 * went wrong, and optionally its stdin on a pipe (commands for virsh). It dies
 * with the test (PR_SET_PDEATHSIG), and child_stop() ends one that overstays.
 *
 * Times are seconds of CLOCK_MONOTONIC: in the rig that is the L1 guest's clock,
 * which under QEMU TCG runs at about wall-clock speed.
 */
#ifndef SELFTESTS_CHILD_H
#define SELFTESTS_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct child {
	pid_t pid;
	int out;		/* read end of the child's stdout, -1 once at EOF */
	int in;			/* write end of its stdin, or -1 (stdin is /dev/null) */
	char errfile[64];	/* its stderr */
	char part[1024];	/* a line read only in part so far */
	size_t len;
	int status;		/* wait status once reaped */
	bool reaped;
};

double now_s(void);

/*
 * Start argv[0] with argv; with_stdin gives it a stdin pipe (c->in). The stderr
 * file is /tmp/<tag>.err. Returns 0, or -1 with errno.
 */
int child_start(struct child *c, char *const argv[], const char *tag, bool with_stdin);

/*
 * The next line of the child's stdout (without its newline, '\r' dropped) into
 * line[len], waiting until the absolute time deadline (now_s()). Returns 1 for a
 * line, 0 at the deadline, -1 at EOF (a last unterminated line is returned first).
 */
int child_read_line(struct child *c, char *line, size_t len, double deadline);

/* Write a string to the child's stdin. Returns 0 or -1. */
int child_write(struct child *c, const char *s);

/*
 * Wait for the child to exit until deadline; after it, SIGTERM, then SIGKILL
 * two seconds later. Returns the wait status; *killed tells whether it had
 * to be stopped (may be NULL).
 */
int child_stop(struct child *c, double deadline, bool *killed);

/* Print the child's stderr file (or a file) as TAP comments, lines prefixed "# <prefix>| ". */
void child_print_stderr(const struct child *c, const char *prefix);
void print_file(const char *path, const char *prefix);

/* Does the child's stderr file contain s? Does the file at path (a line of it)? */
bool child_stderr_has(const struct child *c, const char *s);
bool file_has(const char *path, const char *s);

/* A wait status in words: "exit status N", "signal N". */
const char *wait_status_str(int status, char *buf, size_t len);

/*
 * QMP, QEMU's JSON monitor, on a unix socket (-qmp unix:PATH,server=on,wait=off):
 * qmp_open() connects (retrying until deadline while QEMU c starts, or until it
 * exits; c may be NULL), reads the
 * greeting and negotiates capabilities; qmp_cmd() sends one command, e.g.
 * "{\"execute\": \"query-status\"}", and copies its reply line ("return" or
 * "error"; asynchronous events are skipped) into reply[len]. Both return -1 on
 * failure (a message is printed as a TAP comment).
 */
int qmp_open(struct child *c, const char *path, double deadline);
int qmp_cmd(int fd, const char *cmd, char *reply, size_t len, double deadline);

/*
 * Tiny readers of QEMU's JSON, good for its flat replies: the string value of
 * "key" into buf (returns buf, or NULL if absent), and the number value of "key"
 * (returns -1 if absent).
 */
char *json_str(const char *json, const char *key, char *buf, size_t len);
long long json_num(const char *json, const char *key);

#endif
