// SPDX-License-Identifier: GPL-2.0-only
/*
 * migrate.c: live migration of a running guest to another minikvm-run
 * process, over TCP (the monitor's "migrate"; minikvm-run --incoming).
 *
 * A snapshot (snapshot.c) stops the guest, writes everything, and is done.
 * A live migration must stop the guest only for a moment, yet send all of
 * its memory, which the guest keeps changing while it is sent. The answer,
 * as in QEMU ("precopy"), is KVM's dirty log (api.rst, KVM_GET_DIRTY_LOG):
 *
 *   1. Turn logging on for the RAM slot (KVM_MEM_LOG_DIRTY_PAGES): from now
 *      on KVM sets a bit for every page the guest writes (minikvm: it maps
 *      pages read-only and takes the write fault, kmod/tdp.c).
 *   2. Round 0: send every page, while the guest runs.
 *   3. Round N: KVM_GET_DIRTY_LOG gives (and clears) the pages written since
 *      the last round; send those. A guest that writes slowly leaves fewer
 *      each round.
 *   4. When a round finds few dirty pages (MIG_SMALL_PAGES), or after
 *      MIG_MAX_ROUNDS, stop the guest (vm__pause()), send the last dirty
 *      pages and the state of every vCPU and device (snapshot.c's records,
 *      without RAM), and wait for the destination to say it runs the guest.
 *
 * The time from that pause to the destination's answer is the downtime;
 * the guest notices nothing else (its clock is the one KVM_GET_CLOCK gave at
 * the pause). The source stays paused afterwards ("postmigrate", as QEMU
 * says): it must not run a second copy of the guest.
 *
 * The stream: a header, then records of one 64-bit word each, big pages
 * after theirs: the word is a guest-physical page address with the record
 * type in its low 12 bits.
 *
 *   MIG_PAGE   the page's 4096 bytes follow
 *   MIG_ZERO   the page is all zero (nothing follows)
 *   MIG_ROUND  the end of a round (its number in the address bits)
 *   MIG_STATE  a 64-bit length and snapshot__write_state()'s records follow;
 *              the last record
 *
 * and one byte back from the destination: 'R' when the guest runs there.
 * The destination trusts nothing in it: every address and length is checked
 * before it is used. Same limits as snapshots: --irqchip=kernel, no virtio.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "runner.h"

#define MIG_MAGIC		"MKVMMIG1"
#define MIG_PAGE_SIZE		4096ull
#define MIG_PAGE		1
#define MIG_ZERO		2
#define MIG_ROUND		3
#define MIG_STATE		4
#define MIG_TYPE_MASK		0xfffull
#define MIG_SMALL_PAGES		256	/* 1 MiB left: stop and copy */
#define MIG_MAX_ROUNDS		30
#define MIG_MAX_STATE		(64ull << 20)
#define MIG_ACK_TIMEOUT_MS	60000

struct mig_header {
	char magic[8];
	uint32_t nr_vcpus, pad;
	uint64_t mem_size;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

/*
 * "tcp:HOST:PORT" into @host and @port. HOST may be empty on the
 * destination (every address).
 */
int migrate__parse_uri(const char *uri, char *host, size_t host_len,
		       char *port, size_t port_len)
{
	const char *h, *p;

	if (strncmp(uri, "tcp:", 4))
		return -EINVAL;
	h = uri + 4;
	p = strrchr(h, ':');
	if (!p || (size_t)(p - h) >= host_len || !p[1] || strlen(p + 1) >= port_len)
		return -EINVAL;
	for (const char *c = p + 1; *c; c++)
		if (*c < '0' || *c > '9')
			return -EINVAL;
	memcpy(host, h, p - h);
	host[p - h] = '\0';
	strcpy(port, p + 1);
	return 0;
}

/* Slot 0 again, with or without KVM_MEM_LOG_DIRTY_PAGES. */
static int set_dirty_logging(struct vm *vm, bool on)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = 0,
		.memory_size = vm->mem_size,
		.userspace_addr = (uintptr_t)vm->mem,
	};

	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

/* KVM_GET_DIRTY_LOG into @bitmap (which it also clears in KVM). */
static int get_dirty_log(struct vm *vm, uint64_t *bitmap)
{
	struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = bitmap };

	return ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0 ? -errno : 0;
}

static bool page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[MIG_PAGE_SIZE];

	return !memcmp(p, zero, MIG_PAGE_SIZE);
}

struct mig_out {
	FILE *f;
	struct vm *vm;
	int err;
};

static void out_word(struct mig_out *o, uint64_t w)
{
	if (!o->err && fwrite(&w, sizeof(w), 1, o->f) != 1)
		o->err = errno ? errno : EPIPE;
}

static void out_page(struct mig_out *o, uint64_t gfn)
{
	const uint8_t *p = o->vm->mem + gfn * MIG_PAGE_SIZE;

	if (page_is_zero(p)) {
		out_word(o, gfn * MIG_PAGE_SIZE | MIG_ZERO);
		return;
	}
	out_word(o, gfn * MIG_PAGE_SIZE | MIG_PAGE);
	if (!o->err && fwrite(p, MIG_PAGE_SIZE, 1, o->f) != 1)
		o->err = errno ? errno : EPIPE;
}

/* Send the pages set in @bitmap (NULL: all of them); how many. */
static uint64_t out_pages(struct mig_out *o, const uint64_t *bitmap, uint64_t pages)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < pages && !o->err; i++)
		if (!bitmap || bitmap[i / 64] & (1ull << (i % 64))) {
			out_page(o, i);
			n++;
		}
	return n;
}

static uint64_t count_bits(const uint64_t *bitmap, uint64_t words)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < words; i++)
		n += __builtin_popcountll(bitmap[i]);
	return n;
}

/*
 * @uri's address: an IPv4 address ("localhost" is 127.0.0.1; an empty one,
 * on the destination, every address). No name lookup: the binary is static.
 */
static int uri_addr(const char *uri, struct sockaddr_in *sa, bool listening)
{
	char host[64], port[16];
	unsigned long p;

	if (migrate__parse_uri(uri, host, sizeof(host), port, sizeof(port)))
		return -EINVAL;
	p = strtoul(port, NULL, 10);
	if (!p || p > 65535)
		return -EINVAL;
	*sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(p) };
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (!host[0])
		return listening ? 0 : -EINVAL;	/* INADDR_ANY */
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

static int connect_to(const char *uri, char *why, size_t why_len)
{
	struct sockaddr_in sa;
	int fd, r;

	if (uri_addr(uri, &sa, false)) {
		snprintf(why, why_len, "migrate: %s: expected tcp:IPV4-ADDRESS:PORT", uri);
		return -EINVAL;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		r = -errno;
		snprintf(why, why_len, "migrate: connecting to %s: %s", uri, strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}

/* The destination's one byte, within MIG_ACK_TIMEOUT_MS. */
static int wait_ack(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, MIG_ACK_TIMEOUT_MS) != 1)
		return -ETIMEDOUT;
	if (read(fd, &c, 1) != 1)
		return -ECONNRESET;
	return c == 'R' ? 0 : -EPROTO;
}

/*
 * The state records, written to memory first: the stream carries their
 * length before them, so the destination can read them whole and check
 * them before it loads anything.
 */
static void out_state(struct mig_out *o, struct vm *vm)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int r;

	if (!m) {
		o->err = errno;
		return;
	}
	r = snapshot__write_state(vm, m);
	fclose(m);
	if (r) {
		o->err = -r;
	} else {
		out_word(o, MIG_STATE);
		out_word(o, len);
		if (!o->err && fwrite(buf, len, 1, o->f) != 1)
			o->err = errno ? errno : EPIPE;
	}
	free(buf);
}

/**
 * migrate__send() - move the running guest to the minikvm-run at @uri.
 * @vm: a running (or paused) machine
 * @uri: "tcp:HOST:PORT", where a minikvm-run --incoming listens
 * @report: filled with the figures, as JSON members, on success
 * @why: a message on failure
 *
 * On success the machine stays paused: the guest runs at the destination.
 * On failure the guest goes on here, as it was.
 * Return: 0 or a negative errno.
 */
int migrate__send(struct vm *vm, const char *uri, char *report, size_t report_len,
		  char *why, size_t why_len)
{
	uint64_t pages = vm->mem_size / MIG_PAGE_SIZE, words = (pages + 63) / 64;
	uint64_t sent[MIG_MAX_ROUNDS + 2], total = 0, t0, t_pause, t_end;
	struct mig_header h = { .magic = MIG_MAGIC, .nr_vcpus = vm->nr_vcpus,
				.mem_size = vm->mem_size };
	bool was_running = !atomic_load(&vm->paused), paused = false;
	const char *no = snapshot__unsupported(vm);
	struct mig_out o = { .vm = vm };
	uint64_t *bitmap = NULL, *last = NULL;
	int fd, r = 0, round = 0;
	size_t at;

	if (no) {
		snprintf(why, why_len, "migrate: %s", no);
		return -EOPNOTSUPP;
	}
	bitmap = calloc(words, 8);
	last = calloc(words, 8);
	if (!bitmap || !last) {
		free(bitmap);
		free(last);
		snprintf(why, why_len, "migrate: out of memory");
		return -ENOMEM;
	}
	fd = connect_to(uri, why, why_len);
	if (fd < 0) {
		free(bitmap);
		free(last);
		return fd;
	}
	t0 = now_ms();
	o.f = fdopen(fd, "w");
	if (!o.f || setvbuf(o.f, NULL, _IOFBF, 1 << 20)) {
		r = -ENOMEM;
		snprintf(why, why_len, "migrate: out of memory");
		goto out;
	}
	r = set_dirty_logging(vm, true);
	if (r) {
		snprintf(why, why_len, "migrate: KVM_MEM_LOG_DIRTY_PAGES: %s", strerror(-r));
		goto out;
	}
	if (fwrite(&h, sizeof(h), 1, o.f) != 1)
		o.err = EPIPE;

	/* Round 0: everything. Then what the guest wrote meanwhile. */
	sent[0] = out_pages(&o, NULL, pages);
	out_word(&o, 0 | MIG_ROUND);
	fprintf(stderr, "minikvm-run: migrate: round 0: %llu pages\r\n",
		(unsigned long long)sent[0]);
	for (round = 1; !o.err && was_running; round++) {
		r = get_dirty_log(vm, bitmap);
		if (r) {
			snprintf(why, why_len, "migrate: KVM_GET_DIRTY_LOG: %s", strerror(-r));
			goto out;
		}
		if (count_bits(bitmap, words) <= MIG_SMALL_PAGES || round > MIG_MAX_ROUNDS)
			break;	/* few enough: these go after the pause */
		sent[round] = out_pages(&o, bitmap, pages);
		out_word(&o, (uint64_t)round * MIG_PAGE_SIZE | MIG_ROUND);
		fprintf(stderr, "minikvm-run: migrate: round %d: %llu pages\r\n", round,
			(unsigned long long)sent[round]);
	}

	/* Stop and copy: the last dirty pages, and every other piece of state. */
	t_pause = now_ms();
	if (was_running)
		vm__pause(vm);
	paused = true;
	if (atomic_load(&vm->stopping)) {
		r = -ESHUTDOWN;
		snprintf(why, why_len, "migrate: the machine is stopping");
		goto out;
	}
	memcpy(last, was_running ? bitmap : last, words * 8);
	r = get_dirty_log(vm, bitmap);
	if (r) {
		snprintf(why, why_len, "migrate: KVM_GET_DIRTY_LOG: %s", strerror(-r));
		goto out;
	}
	for (uint64_t i = 0; i < words; i++)
		bitmap[i] |= last[i];
	sent[round] = out_pages(&o, bitmap, pages);
	fprintf(stderr, "minikvm-run: migrate: round %d (guest stopped): %llu pages\r\n",
		round, (unsigned long long)sent[round]);
	out_state(&o, vm);
	if (!o.err && fflush(o.f))
		o.err = errno ? errno : EPIPE;
	if (o.err) {
		r = -o.err;
		snprintf(why, why_len, "migrate: sending to %s: %s", uri, strerror(o.err));
		goto out;
	}
	r = wait_ack(fd);
	if (r) {
		snprintf(why, why_len, "migrate: %s did not take the guest: %s", uri,
			 r == -EPROTO ? "it refused the stream (see its messages)" :
			 strerror(-r));
		goto out;
	}
	t_end = now_ms();
	for (int i = 0; i <= round; i++)
		total += sent[i];
	at = snprintf(report, report_len,
		      "\"total-time\": %llu, \"downtime\": %llu, \"rounds\": %d, "
		      "\"pages\": %llu, \"round-pages\": [",
		      (unsigned long long)(t_end - t0), (unsigned long long)(t_end - t_pause),
		      round + 1, (unsigned long long)total);
	for (int i = 0; i <= round && at < report_len; i++)
		at += snprintf(report + at, report_len - at, "%s%llu", i ? ", " : "",
			       (unsigned long long)sent[i]);
	if (at < report_len)
		snprintf(report + at, report_len - at, "]");
	fprintf(stderr, "minikvm-run: migrate: done in %llu ms, downtime %llu ms, "
		"%llu pages in %d rounds\r\n", (unsigned long long)(t_end - t0),
		(unsigned long long)(t_end - t_pause), (unsigned long long)total, round + 1);
	vm->migrated = true;
out:
	if (o.f)
		fclose(o.f);
	else
		close(fd);
	(void)set_dirty_logging(vm, false);
	/* A failed migration leaves the guest where it was, running. */
	if (r && paused && was_running && !atomic_load(&vm->stopping))
		vm__resume(vm);
	free(bitmap);
	free(last);
	return r;
}

/* ------------------------------------------------------------ receiving */

struct mig_in {
	FILE *f;
	char *why;
	size_t why_len;
};

static int in_bad(struct mig_in *in, const char *what)
{
	snprintf(in->why, in->why_len, "incoming migration: %s", what);
	return -EINVAL;
}

static int in_read(struct mig_in *in, void *p, size_t len)
{
	if (fread(p, len, 1, in->f) != 1)
		return in_bad(in, "the stream ended early");
	return 0;
}

/*
 * The records from @f into the stopped machine @vm: pages, then its state.
 * Kept apart from the socket for the unit test (tests/unit/migrate_test.c).
 * @touched: set once guest memory was written (the machine must not run
 * after a failure then).
 */
int migrate__load_stream(struct vm *vm, FILE *f, char *why, size_t why_len,
			 bool *touched, int *rounds, uint64_t *pages_in)
{
	struct mig_in in = { .f = f, .why = why, .why_len = why_len };
	struct mig_header h;
	uint64_t w, len;
	char *state;
	FILE *m;
	int r;

	*touched = false;
	*rounds = 0;
	*pages_in = 0;
	if (fread(&h, sizeof(h), 1, f) != 1 || memcmp(h.magic, MIG_MAGIC, 8))
		return in_bad(&in, "not a minikvm-run migration stream");
	if (h.nr_vcpus != (uint32_t)vm->nr_vcpus || h.mem_size != vm->mem_size) {
		snprintf(why, why_len, "incoming migration: the source has --cpus %u "
			 "--memory %llu, this machine --cpus %d --memory %llu", h.nr_vcpus,
			 (unsigned long long)(h.mem_size >> 20), vm->nr_vcpus,
			 (unsigned long long)(vm->mem_size >> 20));
		return -EINVAL;
	}
	for (;;) {
		uint64_t gpa;

		r = in_read(&in, &w, sizeof(w));
		if (r)
			return r;
		gpa = w & ~MIG_TYPE_MASK;
		switch (w & MIG_TYPE_MASK) {
		case MIG_PAGE:
		case MIG_ZERO:
			if (gpa >= vm->mem_size)
				return in_bad(&in, "a page outside guest memory");
			*touched = true;
			(*pages_in)++;
			if ((w & MIG_TYPE_MASK) == MIG_ZERO) {
				memset(vm->mem + gpa, 0, MIG_PAGE_SIZE);
				break;
			}
			r = in_read(&in, vm->mem + gpa, MIG_PAGE_SIZE);
			if (r)
				return r;
			break;
		case MIG_ROUND:
			(*rounds)++;
			break;
		case MIG_STATE:
			if (gpa)
				return in_bad(&in, "a bad state record");
			r = in_read(&in, &len, sizeof(len));
			if (r)
				return r;
			if (!len || len > MIG_MAX_STATE)
				return in_bad(&in, "a state record of an impossible size");
			state = malloc(len);
			if (!state)
				return in_bad(&in, "out of memory");
			r = in_read(&in, state, len);
			m = r ? NULL : fmemopen(state, len, "rb");
			if (!r && !m)
				r = in_bad(&in, "out of memory");
			if (!r) {
				bool t;

				r = snapshot__read_state(vm, m, "incoming migration", why,
							 why_len, &t);
				*touched = *touched || t;
				fclose(m);
			}
			free(state);
			(*rounds)++;	/* the last round, sent with the state */
			return r;
		default:
			return in_bad(&in, "a record of an unknown type");
		}
	}
}

/**
 * migrate__receive() - wait at @uri for one migration and load it.
 * @vm: a machine built with the source's options, no vCPU started
 *
 * Listens, takes one connection, loads the stream, answers 'R' and
 * returns: the caller starts the vCPUs. Any failure is an error of the
 * whole process: a half-loaded machine must not run.
 * Return: 0 or a negative errno, with @why filled.
 */
int migrate__receive(struct vm *vm, const char *uri, char *why, size_t why_len)
{
	struct sockaddr_in sa;
	int lfd, fd, r, rounds, one = 1;
	uint64_t pages, t0;
	bool touched;
	FILE *f;

	if (snapshot__unsupported(vm)) {
		snprintf(why, why_len, "--incoming: %s", snapshot__unsupported(vm));
		return -EOPNOTSUPP;
	}
	if (uri_addr(uri, &sa, true)) {
		snprintf(why, why_len, "--incoming %s: expected tcp:[IPV4-ADDRESS]:PORT", uri);
		return -EINVAL;
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1)) {
		r = -errno;
		snprintf(why, why_len, "--incoming %s: %s", uri, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return r;
	}
	fprintf(stderr, "minikvm-run: waiting for a migration on %s\r\n", uri);
	fd = accept(lfd, NULL, NULL);
	r = fd < 0 ? -errno : 0;
	close(lfd);
	if (r) {
		snprintf(why, why_len, "--incoming %s: accept: %s", uri, strerror(-r));
		return r;
	}
	t0 = now_ms();
	f = fdopen(fd, "r");
	if (!f || setvbuf(f, NULL, _IOFBF, 1 << 20)) {
		snprintf(why, why_len, "--incoming: out of memory");
		if (f)
			fclose(f);
		else
			close(fd);
		return -ENOMEM;
	}
	r = migrate__load_stream(vm, f, why, why_len, &touched, &rounds, &pages);
	/* The clock as it was at the source's pause (vm__resume() sets it). */
	if (!r && vm->paused_clock_ok) {
		struct kvm_clock_data clock = { .clock = vm->paused_clock.clock };

		if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0) {
			r = -errno;
			snprintf(why, why_len, "incoming migration: KVM_SET_CLOCK: %s",
				 strerror(errno));
		}
		vm->paused_clock_ok = false;
	}
	if (write(fd, r ? "E" : "R", 1) != 1 && !r) {
		r = -errno;
		snprintf(why, why_len, "incoming migration: the source went away");
	}
	fclose(f);
	if (!r)
		fprintf(stderr, "minikvm-run: incoming migration: %llu pages in %d rounds, "
			"%llu ms\r\n", (unsigned long long)pages, rounds,
			(unsigned long long)(now_ms() - t0));
	return r;
}
