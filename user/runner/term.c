// SPDX-License-Identifier: GPL-2.0-only
/*
 * term.c: the host terminal as the guest's serial console.
 *
 * When stdin is a terminal it is put in raw mode, so every key (Ctrl-C too)
 * goes to the guest and the guest's own line discipline does the echoing;
 * the original settings come back at exit. When stdin is a pipe or a file,
 * bytes pass through untouched.
 */
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "runner.h"

static struct termios saved;
static bool raw_mode;

bool term__is_tty(void)
{
	return raw_mode;
}

void term__restore(void)
{
	if (raw_mode)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	raw_mode = false;
}

void term__raw(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) < 0)
		return;
	t = saved;
	cfmakeraw(&t);
	/* Keep output post-processing off: the guest sends its own "\r\n". */
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
		raw_mode = true;
		atexit(term__restore);
	}
}

/* A byte from the guest (COM1 or the 0xe9 debug port) to stdout. */
void term__tx(void *opaque, uint8_t byte)
{
	(void)opaque;
	/* Unbuffered on purpose: output must be there even if the guest hangs. */
	(void)!write(STDOUT_FILENO, &byte, 1);
}
