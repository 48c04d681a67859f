// SPDX-License-Identifier: GPL-2.0-only
/*
 * snapshot_test: minikvm-run's snapshot files (user/runner/snapshot.c) as
 * untrusted input. A snapshot is a file like any other: a cut, doubled or
 * hand-edited one must be refused with a message before the machine is
 * touched (guest memory, a SET ioctl), never crash or write out of bounds.
 *
 * The file is built here with snapshot.c's own record writer (the source is
 * included, for its static put() and struct layouts), for a stub machine:
 * one vCPU, 1 MiB of RAM, no KVM (every fd -1). A well-formed file gets
 * through the checks and fails at its first SET ioctl (EBADF) with the
 * machine "touched"; every bad one must come back untouched.
 */
#include "../../user/runner/snapshot.c"

#include <sys/stat.h>

#include "tap.h"

static struct vm vm;
static char path[64];

/* Which records the file gets, and how they are bent. */
struct file_spec {
	bool drop_end, twice_regs, no_lapic, xsave_without_xcrs, extra_type;
	bool bad_chip_id, second_vcpu, wrong_size;
	uint8_t rtc_index;
	unsigned int rx_head, q_count;
	unsigned char bad_bool;
	long cut;		/* bytes to keep (0: all) */
	uint32_t nr_vcpus, version;
};

static void write_file(const struct file_spec *f)
{
	struct snap_header h = { .magic = SNAP_MAGIC,
				 .version = f->version ? f->version : SNAP_VERSION,
				 .nr_vcpus = f->nr_vcpus ? f->nr_vcpus : 1,
				 .mem_size = vm.mem_size, .layout = snap_layout() };
	struct snap_out o = { .f = fopen(path, "wb") };
	static struct kvm_xsave xs;
	struct kvm_regs regs = { .rip = 0x1000 };
	struct kvm_sregs sregs = { 0 };
	struct kvm_xcrs xcrs = { 0 };
	struct kvm_lapic_state lapic = { 0 };
	struct kvm_mp_state mp = { 0 };
	struct kvm_vcpu_events ev = { 0 };
	struct kvm_debugregs dr = { 0 };
	struct snap_msrs msrs = { .nmsrs = 1, .e = { { .index = 0x10, .data = 5 } } };
	struct kvm_clock_data clock = { .clock = 123 };
	struct snap_devices dev = { 0 };
	struct kvm_irqchip chip;
	uint64_t bitmap[(1 << 20) / 4096 / 64] = { 1 };	/* page 0 only */
	uint8_t page[4096];

	fwrite(&h, sizeof(h), 1, o.f);
	put(&o, REC_MSRS, 0, &msrs, offsetof(struct snap_msrs, e) + sizeof(msrs.e[0]));
	put(&o, REC_REGS, 0, &regs, sizeof(regs) - (f->wrong_size ? 8 : 0));
	if (f->twice_regs)
		put(&o, REC_REGS, 0, &regs, sizeof(regs));
	if (f->second_vcpu)
		put(&o, REC_REGS, 1, &regs, sizeof(regs));
	put(&o, REC_SREGS, 0, &sregs, sizeof(sregs));
	put(&o, REC_XSAVE, 0, &xs, sizeof(xs));
	if (!f->xsave_without_xcrs)
		put(&o, REC_XCRS, 0, &xcrs, sizeof(xcrs));
	if (!f->no_lapic)
		put(&o, REC_LAPIC, 0, &lapic, sizeof(lapic));
	put(&o, REC_MP_STATE, 0, &mp, sizeof(mp));
	put(&o, REC_EVENTS, 0, &ev, sizeof(ev));
	put(&o, REC_DEBUGREGS, 0, &dr, sizeof(dr));
	for (uint32_t c = 0; c < 3; c++) {
		chip = (struct kvm_irqchip){ .chip_id = f->bad_chip_id && c == 2 ? 0 : c };
		put(&o, REC_IRQCHIP, c, &chip, sizeof(chip));
	}
	dev.rtc.index = f->rtc_index;
	dev.com1.rx_head = f->rx_head;
	dev.kbd.q_count = f->q_count;
	if (f->bad_bool)
		memcpy(&dev.kbd.queue_aux[3], &f->bad_bool, 1);
	put(&o, REC_DEVICES, 0, &dev, sizeof(dev));
	put(&o, REC_CLOCK, 0, &clock, sizeof(clock));
	if (f->extra_type)
		put(&o, 40, 0, &clock, sizeof(clock));
	memset(page, 0xab, sizeof(page));
	{
		struct snap_rec_hdr rh = { .type = REC_RAM, .len = sizeof(bitmap) + 4096 };

		fwrite(&rh, sizeof(rh), 1, o.f);
		fwrite(bitmap, sizeof(bitmap), 1, o.f);
		fwrite(page, sizeof(page), 1, o.f);
	}
	if (!f->drop_end)
		put(&o, REC_END, 0, NULL, 0);
	fclose(o.f);
	if (f->cut)
		(void)!truncate(path, f->cut);
}

/* Load @f's file: the error and the message; *touched as the loader says. */
static int load(const struct file_spec *f, char *why, size_t len, bool *touched)
{
	write_file(f);
	why[0] = '\0';
	*touched = false;
	memset(vm.mem, 0x11, vm.mem_size);
	return snapshot__load(&vm, path, why, len, touched);
}

static void refused(const struct file_spec *f, const char *want, const char *what)
{
	char why[512];
	bool touched;
	int r = load(f, why, sizeof(why), &touched);

	tap_ok(r == -EINVAL && !touched && strstr(why, want) && vm.mem[0] == 0x11,
	       "%s: refused, machine untouched (%d, \"%s\")", what, r, why);
}

int main(void)
{
	struct stat st;
	char why[512];
	bool touched;
	int r;

	snprintf(path, sizeof(path), "/tmp/snapshot_test.%d", (int)getpid());
	vm.mem_size = 1 << 20;
	vm.mem = calloc(1, vm.mem_size);
	vm.nr_vcpus = 1;
	vm.vcpu[0].fd = -1;
	vm.vm_fd = vm.kvm_fd = -1;
	vm.kernel_irqchip = true;
	pthread_mutex_init(&vm.lock, NULL);

	/* The well-formed file passes every check: RAM loaded, then the first
	 * SET ioctl fails on the stub's fd. */
	r = load(&(struct file_spec){ 0 }, why, sizeof(why), &touched);
	tap_ok(touched && r == -EBADF && strstr(why, "KVM_SET_IRQCHIP") &&
	       vm.mem[0] == 0xab && vm.mem[4096] == 0,
	       "a good file passes the checks, RAM loaded (page 0 data, page 1 zeroed): %d \"%s\"",
	       r, why);

	write_file(&(struct file_spec){ 0 });
	stat(path, &st);
	refused(&(struct file_spec){ .cut = st.st_size / 2 }, "truncated", "cut in half");
	refused(&(struct file_spec){ .cut = st.st_size - 1 }, "truncated", "one byte short");
	refused(&(struct file_spec){ .cut = 20 }, "not a minikvm-run snapshot", "a cut header");
	refused(&(struct file_spec){ .drop_end = true }, "truncated", "no end record");
	refused(&(struct file_spec){ .version = 99 }, "another minikvm-run build", "another version");
	refused(&(struct file_spec){ .nr_vcpus = 2 }, "--cpus 2", "another machine");
	refused(&(struct file_spec){ .twice_regs = true }, "twice", "a record twice");
	refused(&(struct file_spec){ .second_vcpu = true }, "does not have", "a vCPU too many");
	refused(&(struct file_spec){ .no_lapic = true }, "missing", "a vCPU record missing");
	refused(&(struct file_spec){ .xsave_without_xcrs = true }, "missing", "XSAVE without XCRS");
	refused(&(struct file_spec){ .extra_type = true }, "unknown type", "a record type from nowhere");
	refused(&(struct file_spec){ .wrong_size = true }, "wrong size", "a record of the wrong size");
	refused(&(struct file_spec){ .bad_chip_id = true }, "wrong chip", "an irqchip record of another chip");
	refused(&(struct file_spec){ .rtc_index = 200 }, "out of range", "the RTC's index past its RAM");
	refused(&(struct file_spec){ .rx_head = 1000 }, "out of range", "COM1's FIFO head past its end");
	refused(&(struct file_spec){ .q_count = 17 }, "out of range", "more bytes in the i8042 than fit");
	refused(&(struct file_spec){ .bad_bool = 7 }, "out of range", "a bool that is 7");

	r = snapshot__load(&vm, "/nonexistent/snap", why, sizeof(why), &touched);
	tap_ok(r == -ENOENT && !touched && strstr(why, "No such file"), "a missing file: \"%s\"", why);
	vm.nr_virtio = 1;
	r = snapshot__load(&vm, path, why, sizeof(why), &touched);
	tap_ok(r == -EOPNOTSUPP && !touched && strstr(why, "virtio"), "a virtio machine: \"%s\"", why);
	r = snapshot__save(&vm, path, why, sizeof(why));
	tap_ok(r == -EOPNOTSUPP && strstr(why, "virtio"), "saving one: \"%s\"", why);
	vm.nr_virtio = 0;
	vm.kernel_irqchip = false;
	r = snapshot__save(&vm, path, why, sizeof(why));
	tap_ok(r == -EOPNOTSUPP && strstr(why, "--irqchip=kernel"), "--irqchip=user: \"%s\"", why);

	/* A save that fails (no KVM here) leaves neither FILE nor FILE.tmp. */
	vm.kernel_irqchip = true;
	unlink(path);
	r = snapshot__save(&vm, path, why, sizeof(why));
	{
		char tmp[80];

		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		tap_ok(r < 0 && access(path, F_OK) && access(tmp, F_OK),
		       "a failed save leaves no file behind (%d)", r);
	}
	unlink(path);
	return tap_done();
}
