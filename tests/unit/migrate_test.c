// SPDX-License-Identifier: GPL-2.0-only
/*
 * migrate_test: the receiving side of minikvm-run's live migration
 * (user/runner/migrate.c) with the stream as untrusted input, and its URI
 * parser. The destination writes pages into guest memory as they come, so
 * every address and length must be checked first: a page outside guest
 * memory, an unknown record, a stream cut anywhere, a state record of an
 * impossible size must each be refused with a message, never written past
 * the end of guest memory. Pages that are well-formed land where they say.
 *
 * The machine is a stub (1 MiB of RAM, one vCPU, no KVM: every fd -1), so
 * the state record, the last one, is refused by snapshot.c's parser (a
 * garbage one) or fails at its first SET ioctl; the l2boot "migrate" boot
 * migrates a real guest in the rigs.
 */
#include "../../user/runner/migrate.c"

#include "tap.h"

/* The sending side pauses and resumes the machine; not tested here. */
void vm__pause(struct vm *v)
{
	(void)v;
}

void vm__resume(struct vm *v)
{
	(void)v;
}

static struct vm vm;
static char *buf;
static size_t len;
static FILE *out;

/* A stream in memory: the header (edited by the caller), then words. */
static void begin(uint32_t nr_vcpus, uint64_t mem_size, const char *magic)
{
	struct mig_header h = { .nr_vcpus = nr_vcpus, .mem_size = mem_size };

	memcpy(h.magic, magic, 8);
	free(buf);
	buf = NULL;
	out = open_memstream(&buf, &len);
	fwrite(&h, sizeof(h), 1, out);
}

static void word(uint64_t w)
{
	fwrite(&w, sizeof(w), 1, out);
}

static void page(uint64_t gpa, uint8_t fill)
{
	uint8_t p[MIG_PAGE_SIZE];

	memset(p, fill, sizeof(p));
	word(gpa | MIG_PAGE);
	fwrite(p, sizeof(p), 1, out);
}

/* Load the stream (cut to @keep bytes if non-zero); the return value. */
static int load(size_t keep, char *why, bool *touched, int *rounds)
{
	uint64_t pages;
	FILE *in;
	int r;

	fclose(out);
	in = fmemopen(buf, keep ? keep : len, "rb");
	why[0] = '\0';
	r = migrate__load_stream(&vm, in, why, 256, touched, rounds, &pages);
	fclose(in);
	return r;
}

static bool all(uint64_t gpa, uint8_t v)
{
	for (uint64_t i = 0; i < MIG_PAGE_SIZE; i++)
		if (vm.mem[gpa + i] != v)
			return false;
	return true;
}

int main(void)
{
	char host[64], port[16], why[256];
	bool touched;
	int rounds, r;
	size_t full;

	vm.mem_size = 1 << 20;
	vm.mem = calloc(1, vm.mem_size + MIG_PAGE_SIZE);	/* a guard page */
	memset(vm.mem + vm.mem_size, 0x5a, MIG_PAGE_SIZE);
	vm.nr_vcpus = 1;
	vm.kernel_irqchip = true;
	vm.vm_fd = vm.kvm_fd = -1;
	pthread_mutex_init(&vm.lock, NULL);

	/* The URI. */
	tap_ok(!migrate__parse_uri("tcp:127.0.0.1:4444", host, sizeof(host), port, sizeof(port)) &&
	       !strcmp(host, "127.0.0.1") && !strcmp(port, "4444"), "tcp:127.0.0.1:4444");
	tap_ok(!migrate__parse_uri("tcp::4444", host, sizeof(host), port, sizeof(port)) &&
	       !host[0], "tcp::4444: any address (the destination)");
	tap_ok(migrate__parse_uri("unix:/tmp/s", host, sizeof(host), port, sizeof(port)) &&
	       migrate__parse_uri("tcp:127.0.0.1", host, sizeof(host), port, sizeof(port)) &&
	       migrate__parse_uri("tcp:127.0.0.1:", host, sizeof(host), port, sizeof(port)) &&
	       migrate__parse_uri("tcp:127.0.0.1:44x", host, sizeof(host), port, sizeof(port)),
	       "not a tcp:HOST:PORT: refused");

	/* Pages and zero pages land where they say; rounds are counted. */
	memset(vm.mem, 0x11, 2 * MIG_PAGE_SIZE);
	begin(1, vm.mem_size, MIG_MAGIC);
	page(0x3000, 0xab);
	word(0x0000 | MIG_ZERO);
	word(0 | MIG_ROUND);
	page(vm.mem_size - MIG_PAGE_SIZE, 0xcd);	/* the last page */
	word(1 * MIG_PAGE_SIZE | MIG_ROUND);
	word(MIG_STATE);
	word(16);
	word(0x1234);
	word(0x5678);
	r = load(0, why, &touched, &rounds);
	tap_ok(r == -EINVAL && strstr(why, "not a minikvm-run snapshot") && touched,
	       "pages, then a state record that is not one: refused (%s), memory touched", why);
	tap_ok(all(0x3000, 0xab) && all(0, 0) && all(0x1000, 0x11) &&
	       all(vm.mem_size - MIG_PAGE_SIZE, 0xcd), "each page where it says, the others kept");
	tap_ok(rounds == 3, "two round ends and the last round: %d", rounds);

	/* What must be refused before memory is written. */
	begin(1, vm.mem_size, "MKVMSNAP");
	r = load(0, why, &touched, &rounds);
	tap_ok(r == -EINVAL && strstr(why, "not a minikvm-run migration") && !touched,
	       "another magic: %s", why);
	begin(2, vm.mem_size, MIG_MAGIC);
	r = load(0, why, &touched, &rounds);
	tap_ok(r == -EINVAL && strstr(why, "--cpus 2") && !touched, "another vCPU count: %s", why);
	begin(1, vm.mem_size * 2, MIG_MAGIC);
	r = load(0, why, &touched, &rounds);
	tap_ok(r == -EINVAL && strstr(why, "--memory 2") && !touched, "another memory size: %s", why);
	begin(1, vm.mem_size, MIG_MAGIC);
	page(vm.mem_size, 0xee);
	r = load(0, why, &touched, &rounds);
	tap_ok(r == -EINVAL && strstr(why, "outside guest memory") && all(vm.mem_size, 0x5a),
	       "a page just past the end: %s, nothing written there", why);
	begin(1, vm.mem_size, MIG_MAGIC);
	word((~0ull & ~MIG_TYPE_MASK) | MIG_ZERO);
	r = load(0, why, &touched, &rounds);
	tap_ok(r == -EINVAL && strstr(why, "outside guest memory"), "a zero page at 2^64 - 4096: %s", why);
	begin(1, vm.mem_size, MIG_MAGIC);
	word(0x2000 | 9);
	r = load(0, why, &touched, &rounds);
	tap_ok(r == -EINVAL && strstr(why, "unknown type"), "an unknown record: %s", why);
	begin(1, vm.mem_size, MIG_MAGIC);
	word(0x1000 | MIG_STATE);
	r = load(0, why, &touched, &rounds);
	tap_ok(r == -EINVAL && strstr(why, "bad state record"), "a state record with an address: %s", why);
	begin(1, vm.mem_size, MIG_MAGIC);
	word(MIG_STATE);
	word(0);
	r = load(0, why, &touched, &rounds);
	tap_ok(r == -EINVAL && strstr(why, "impossible size"), "a state record of 0 bytes: %s", why);
	begin(1, vm.mem_size, MIG_MAGIC);
	word(MIG_STATE);
	word(1ull << 40);
	r = load(0, why, &touched, &rounds);
	tap_ok(r == -EINVAL && strstr(why, "impossible size"), "a state record of 1 TiB: %s", why);

	/* A stream cut anywhere: an error, never a hang or a read past it. */
	begin(1, vm.mem_size, MIG_MAGIC);
	page(0x4000, 0x77);
	word(0 | MIG_ROUND);
	word(MIG_STATE);
	word(64);
	fflush(out);
	full = len;
	for (size_t keep = 1; keep < full; keep += 97) {
		FILE *in = fmemopen(buf, keep, "rb");
		uint64_t pages;

		r = migrate__load_stream(&vm, in, why, sizeof(why), &touched, &rounds, &pages);
		fclose(in);
		if (r != -EINVAL || !strstr(why, keep < sizeof(struct mig_header) ?
					    "not a minikvm-run migration" : "ended early")) {
			tap_ok(false, "cut at %zu of %zu bytes: %d %s", keep, full, r, why);
			break;
		}
		if (keep + 97 >= full)
			tap_ok(true, "cut at every 97th byte of %zu: refused, \"the stream ended early\"",
			       full);
	}
	fclose(out);
	tap_ok(all(vm.mem_size, 0x5a), "the guard page after guest memory is untouched");
	free(buf);
	free(vm.mem);
	return tap_done();
}
