/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal TAP-like reporter for the host-side unit tests: one
 * "ok N - what" or "not ok N - what" line per check, then a summary line
 * "P passed, F failed". tap_done() returns the exit status for main().
 */
#ifndef MINIKVM_TAP_H
#define MINIKVM_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_passed, tap_failed;

static inline __attribute__((format(printf, 2, 3)))
bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok",
	       tap_passed + tap_failed + 1);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (cond)
		tap_passed++;
	else
		tap_failed++;
	return cond;
}

/* Extra detail for the check just reported, as a TAP comment. */
static inline __attribute__((format(printf, 1, 2)))
void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("#   ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static inline int tap_done(void)
{
	printf("%d passed, %d failed\n", tap_passed, tap_failed);
	return tap_failed ? 1 : 0;
}

#endif /* MINIKVM_TAP_H */
