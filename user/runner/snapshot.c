// SPDX-License-Identifier: GPL-2.0-only
/*
 * snapshot.c: the whole machine into a file, and back: guest memory, every
 * vCPU's state and the devices', so that a guest saved here goes on from the
 * same instruction in another minikvm-run process (--restore FILE), or in
 * this one later (the monitor's snapshot-load).
 *
 * What a snapshot is: the answer to "what would a new process need to be
 * this machine?". KVM holds most of it, and hands it out through its state
 * ioctls (Documentation/virt/kvm/api.rst); the VMM holds the rest:
 *
 *   guest RAM        our own mmap()ed memory: written page by page, zero
 *                    pages left out (a bitmap says which pages follow)
 *   each vCPU        KVM_GET_REGS, _SREGS, _XSAVE (or _FPU), _XCRS, _LAPIC,
 *                    _MSRS (every MSR of KVM_GET_MSR_INDEX_LIST that reads),
 *                    _MP_STATE, _VCPU_EVENTS, _DEBUGREGS
 *   the VM           KVM_GET_IRQCHIP (master PIC, slave PIC, IOAPIC),
 *                    KVM_GET_PIT2, KVM_GET_CLOCK
 *   our devices      COM1, CMOS/RTC, i8042, the PCI ports, ports 0x80/0x92
 *
 * Loading runs the SET ioctls in an order that respects their
 * dependencies: SREGS (which carries the APIC base) before LAPIC, LAPIC
 * before the MSRs (the TSC deadline is only kept by an APIC in that timer
 * mode), VCPU_EVENTS after MP_STATE, KVM_SET_CLOCK last, as QEMU does.
 *
 * Before saving, every vCPU is parked outside KVM_RUN (vm__pause()), after
 * a last KVM_RUN with immediate_exit that completes any port or MMIO read
 * the VMM answered (api.rst, "immediate_exit"): otherwise RIP and RAX would
 * be saved before that instruction finished.
 *
 * Not covered (a clear error instead): --irqchip=user (minikvm-run's own PIC
 * and PIT) and the virtio devices, whose rings live in guest memory but
 * whose device-side indices and I/O threads do not.
 *
 * The file: "MKVMSNAP", a version, then records {type, id, length, data}.
 * It is written to FILE.tmp and renamed at the end, so a failed save never
 * leaves a half-written FILE; a load checks every record's type and length
 * before it changes anything it cannot take back (the machine it loads into
 * is stopped after a failed load: half a machine must not run).
 * The device records are this build's C structs: a snapshot is for the same
 * minikvm-run build. A layout word in the header (the structs' sizes) catches
 * the plainest mismatch, not every one; and since the file is input like
 * any other, every index and count in those structs is checked before use.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "runner.h"

#define SNAP_MAGIC	"MKVMSNAP"
#define SNAP_VERSION	1
#define PAGE		4096ull
#define MAX_MSRS	256

enum snap_rec {
	REC_END, REC_RAM, REC_REGS, REC_SREGS, REC_XSAVE, REC_FPU, REC_XCRS,
	REC_LAPIC, REC_MSRS, REC_MP_STATE, REC_EVENTS, REC_DEBUGREGS,
	REC_IRQCHIP, REC_PIT2, REC_CLOCK, REC_DEVICES,
};

struct snap_header {
	char magic[8];
	uint32_t version;
	uint32_t nr_vcpus;
	uint64_t mem_size;
	uint64_t layout;	/* sizes of the device structs: same build? */
};

struct snap_rec_hdr {
	uint32_t type, id;
	uint64_t len;
};

/* The VMM's own devices, as this build lays them out. */
struct snap_devices {
	struct serial com1;
	struct rtc rtc;
	struct kbd kbd;
	struct pci pci;
	struct misc misc;
	uint32_t irq_levels;	/* the lines the VMM holds high (irq.c) */
};

struct snap_msrs {
	uint32_t nmsrs, pad;
	struct kvm_msr_entry e[MAX_MSRS];
};

static uint64_t snap_layout(void)
{
	return (uint64_t)sizeof(struct snap_devices) << 32 | sizeof(struct kvm_run);
}

/* --------------------------------------------------------------- writing */

struct snap_out {
	FILE *f;
	int err;	/* the first errno */
};

static void put(struct snap_out *o, uint32_t type, uint32_t id, const void *p, uint64_t len)
{
	struct snap_rec_hdr h = { .type = type, .id = id, .len = len };

	if (o->err)
		return;
	if (fwrite(&h, sizeof(h), 1, o->f) != 1 || (len && fwrite(p, len, 1, o->f) != 1))
		o->err = errno ? errno : EIO;
}

static bool page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[PAGE];

	return !memcmp(p, zero, PAGE);
}

/* RAM: a bitmap of the non-zero pages, then those pages in order. */
static void put_ram(struct snap_out *o, struct vm *vm)
{
	uint64_t pages = vm->mem_size / PAGE, nonzero = 0, i;
	uint64_t *bitmap = calloc((pages + 63) / 64, 8);
	struct snap_rec_hdr h = { .type = REC_RAM };

	if (!bitmap) {
		o->err = ENOMEM;
		return;
	}
	for (i = 0; i < pages; i++)
		if (!page_is_zero(vm->mem + i * PAGE)) {
			bitmap[i / 64] |= 1ull << (i % 64);
			nonzero++;
		}
	h.len = (pages + 63) / 64 * 8 + nonzero * PAGE;
	if (!o->err && (fwrite(&h, sizeof(h), 1, o->f) != 1 ||
			fwrite(bitmap, (pages + 63) / 64 * 8, 1, o->f) != 1))
		o->err = errno ? errno : EIO;
	for (i = 0; i < pages && !o->err; i++)
		if (bitmap[i / 64] & (1ull << (i % 64)) &&
		    fwrite(vm->mem + i * PAGE, PAGE, 1, o->f) != 1)
			o->err = errno ? errno : EIO;
	free(bitmap);
}

/* Every MSR KVM lists that reads back, one at a time (KVM_GET_MSRS stops at
 * the first it cannot read). */
static int get_msrs(struct vm *vm, struct vcpu *v, struct snap_msrs *m)
{
	struct { struct kvm_msr_list l; uint32_t idx[MAX_MSRS]; } list = {
		.l.nmsrs = MAX_MSRS };
	struct { struct kvm_msrs h; struct kvm_msr_entry e; } one;

	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &list) < 0)
		return -errno;
	m->nmsrs = 0;
	for (uint32_t i = 0; i < list.l.nmsrs; i++) {
		one = (typeof(one)){ .h.nmsrs = 1, .e.index = list.idx[i] };
		if (ioctl(v->fd, KVM_GET_MSRS, &one) == 1)
			m->e[m->nmsrs++] = one.e;
	}
	return 0;
}

#define GET(fd, req, what, p) do {						\
	if (ioctl(fd, req, p) < 0) {						\
		int err_ = errno;						\
									\
		pr_err("snapshot: " #req " (%s): %s", what, strerror(err_));	\
		return -err_;							\
	}									\
} while (0)

static int put_vcpu(struct snap_out *o, struct vm *vm, struct vcpu *v, bool xsave)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave xs;
	struct kvm_fpu fpu;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_mp_state mp;
	struct kvm_vcpu_events ev;
	struct kvm_debugregs dr;
	struct snap_msrs *m = calloc(1, sizeof(*m));
	char what[16];
	int r;

	if (!m)
		return -ENOMEM;
	snprintf(what, sizeof(what), "vCPU %d", v->id);
	r = get_msrs(vm, v, m);
	if (r) {
		free(m);
		pr_err("snapshot: KVM_GET_MSR_INDEX_LIST: %s", strerror(-r));
		return r;
	}
	put(o, REC_MSRS, v->id, m, offsetof(struct snap_msrs, e) + m->nmsrs * sizeof(m->e[0]));
	free(m);
	GET(v->fd, KVM_GET_REGS, what, &regs);
	put(o, REC_REGS, v->id, &regs, sizeof(regs));
	GET(v->fd, KVM_GET_SREGS, what, &sregs);
	put(o, REC_SREGS, v->id, &sregs, sizeof(sregs));
	if (xsave) {
		GET(v->fd, KVM_GET_XSAVE, what, &xs);
		put(o, REC_XSAVE, v->id, &xs, sizeof(xs));
		GET(v->fd, KVM_GET_XCRS, what, &xcrs);
		put(o, REC_XCRS, v->id, &xcrs, sizeof(xcrs));
	} else {
		GET(v->fd, KVM_GET_FPU, what, &fpu);
		put(o, REC_FPU, v->id, &fpu, sizeof(fpu));
	}
	GET(v->fd, KVM_GET_LAPIC, what, &lapic);
	put(o, REC_LAPIC, v->id, &lapic, sizeof(lapic));
	GET(v->fd, KVM_GET_MP_STATE, what, &mp);
	put(o, REC_MP_STATE, v->id, &mp, sizeof(mp));
	GET(v->fd, KVM_GET_VCPU_EVENTS, what, &ev);
	put(o, REC_EVENTS, v->id, &ev, sizeof(ev));
	GET(v->fd, KVM_GET_DEBUGREGS, what, &dr);
	put(o, REC_DEBUGREGS, v->id, &dr, sizeof(dr));
	return 0;
}

static int put_vm(struct snap_out *o, struct vm *vm)
{
	struct kvm_irqchip chip;
	struct kvm_pit_state2 pit;
	struct snap_devices dev;

	for (uint32_t c = KVM_IRQCHIP_PIC_MASTER; c <= KVM_IRQCHIP_IOAPIC; c++) {
		chip = (struct kvm_irqchip){ .chip_id = c };
		GET(vm->vm_fd, KVM_GET_IRQCHIP, "VM", &chip);
		put(o, REC_IRQCHIP, c, &chip, sizeof(chip));
	}
	if (vm->kernel_pit) {
		GET(vm->vm_fd, KVM_GET_PIT2, "VM", &pit);
		put(o, REC_PIT2, 0, &pit, sizeof(pit));
	}
	pthread_mutex_lock(&vm->lock);
	dev = (struct snap_devices){ .com1 = vm->com1, .rtc = vm->rtc, .kbd = vm->kbd,
				     .pci = vm->pci, .misc = vm->misc,
				     .irq_levels = vm->irq_levels };
	pthread_mutex_unlock(&vm->lock);
	put(o, REC_DEVICES, 0, &dev, sizeof(dev));
	/* The guest's clock as it was at the pause (vm__pause()). */
	if (!vm->paused_clock_ok) {
		pr_err("snapshot: KVM_GET_CLOCK failed at the pause");
		return -EIO;
	}
	put(o, REC_CLOCK, 0, &vm->paused_clock, sizeof(vm->paused_clock));
	return 0;
}

/* Why this machine cannot be saved, or NULL. */
const char *snapshot__unsupported(struct vm *vm)
{
	if (!vm->kernel_irqchip)
		return "needs --irqchip=kernel (minikvm-run's own PIC and PIT are not saved)";
	if (vm->nr_virtio)
		return "the virtio devices' state is not saved: no --disk, --rng or --virtio-console";
	return NULL;
}

/* Header, every vCPU, the VM, the devices, RAM if @with_ram, the end. */
static int put_all(struct snap_out *o, struct vm *vm, bool with_ram)
{
	struct snap_header h = { .magic = SNAP_MAGIC, .version = SNAP_VERSION,
				 .nr_vcpus = vm->nr_vcpus, .mem_size = vm->mem_size,
				 .layout = snap_layout() };
	bool xsave = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
	int r = 0;

	if (fwrite(&h, sizeof(h), 1, o->f) != 1)
		o->err = errno ? errno : EIO;
	for (int i = 0; i < vm->nr_vcpus && !r; i++)
		r = put_vcpu(o, vm, &vm->vcpu[i], xsave);
	if (!r)
		r = put_vm(o, vm);
	if (!r && with_ram)
		put_ram(o, vm);
	put(o, REC_END, 0, NULL, 0);
	return r;
}

/**
 * snapshot__write_state() - the paused machine without its RAM, into @f.
 * Live migration (migrate.c) sends RAM page by page before and after the
 * pause, then this. Return: 0 or a negative errno.
 */
int snapshot__write_state(struct vm *vm, FILE *f)
{
	struct snap_out o = { .f = f };
	const char *no = snapshot__unsupported(vm);
	int r;

	if (no)
		return -EOPNOTSUPP;
	r = put_all(&o, vm, false);
	if (!r && fflush(f))
		o.err = errno;
	return r ? r : -o.err;
}

/**
 * snapshot__save() - write the paused machine to @path.
 * @vm: a machine whose vCPUs are parked (vm__pause())
 * @path: the file; written as @path.tmp and renamed when complete
 * @why: a message for the caller when it fails
 * Return: 0, or a negative errno with @why filled.
 */
int snapshot__save(struct vm *vm, const char *path, char *why, size_t why_len)
{
	struct snap_out o = { 0 };
	const char *no = snapshot__unsupported(vm);
	char tmp[4096];
	int r = 0;

	if (no) {
		snprintf(why, why_len, "snapshot: %s", no);
		return -EOPNOTSUPP;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(why, why_len, "snapshot: path too long");
		return -ENAMETOOLONG;
	}
	/* A FILE.tmp left by a save that died half way is ours to replace. */
	o.f = fopen(tmp, "wbx");
	if (!o.f && errno == EEXIST && !unlink(tmp))
		o.f = fopen(tmp, "wbx");
	if (!o.f) {
		r = -errno;
		snprintf(why, why_len, "snapshot: %s: %s", tmp, strerror(errno));
		return r;
	}
	r = put_all(&o, vm, true);
	if (fflush(o.f) || fsync(fileno(o.f)))
		o.err = o.err ? o.err : errno;
	if (fclose(o.f) && !o.err)
		o.err = errno;
	if (!r && o.err)
		r = -o.err;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r) {
		unlink(tmp);
		snprintf(why, why_len, "snapshot: writing %s: %s", path, strerror(-r));
	}
	return r;
}

/* --------------------------------------------------------------- reading */

struct snap_in {
	FILE *f;
	bool with_ram;		/* a snapshot file; a migration's state has none */
	const char *path;
	char *why;
	size_t why_len;
};

static int bad(struct snap_in *in, const char *what)
{
	snprintf(in->why, in->why_len, "snapshot %s: %s", in->path, what);
	return -EINVAL;
}

/* The next record's header. */
static int next(struct snap_in *in, struct snap_rec_hdr *h)
{
	if (fread(h, sizeof(*h), 1, in->f) != 1)
		return bad(in, "truncated (no end record)");
	return 0;
}

static int read_exact(struct snap_in *in, void *p, uint64_t len)
{
	if (len && fread(p, len, 1, in->f) != 1)
		return bad(in, "truncated (a record ends early)");
	return 0;
}

/* One parsed snapshot, all in memory, checked before anything is loaded. */
struct snap_vcpu {
	unsigned int have;	/* bit per REC_ type */
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave xsave;
	struct kvm_fpu fpu;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct snap_msrs msrs;
	struct kvm_mp_state mp;
	struct kvm_vcpu_events ev;
	struct kvm_debugregs dr;
};

struct snap {
	struct snap_header h;
	struct snap_vcpu *vcpu;
	struct kvm_irqchip chip[3];
	struct kvm_pit_state2 pit;
	struct snap_devices dev;
	struct kvm_clock_data clock;
	unsigned int have;	/* bit per REC_ type */
	unsigned int chips;	/* bit per KVM_IRQCHIP_ id */
	uint64_t *bitmap;
	long ram_offset;	/* where the pages start in the file */
};

/* A bool read from a file: only 0 and 1 are bools. */
static bool is_bool(const bool *b)
{
	unsigned char c;

	memcpy(&c, b, 1);
	return c <= 1;
}

/*
 * The device state of a file, before it goes into the devices: every index
 * in range (rtc.c writes ram[index]; serial.c and kbd.c index their FIFOs
 * with head and count), every bool a bool.
 */
static bool devices_ok(const struct snap_devices *d)
{
	if (d->rtc.index >= sizeof(d->rtc.ram) ||
	    d->com1.rx_head >= SERIAL_FIFO || d->com1.rx_count > SERIAL_FIFO ||
	    d->kbd.q_head >= KBD_QUEUE || d->kbd.q_count > KBD_QUEUE ||
	    !is_bool(&d->com1.thre_pending))
		return false;
	for (int i = 0; i < KBD_QUEUE; i++)
		if (!is_bool(&d->kbd.queue_aux[i]))
			return false;
	return true;
}

static int parse(struct snap_in *in, struct vm *vm, struct snap *s)
{
	uint64_t pages = vm->mem_size / PAGE, bm_len = (pages + 63) / 64 * 8, nonzero = 0;
	struct snap_rec_hdr h;
	int r;

	if (fread(&s->h, sizeof(s->h), 1, in->f) != 1 ||
	    memcmp(s->h.magic, SNAP_MAGIC, 8))
		return bad(in, "not a minikvm-run snapshot");
	if (s->h.version != SNAP_VERSION || s->h.layout != snap_layout())
		return bad(in, "written by another minikvm-run build");
	if (s->h.nr_vcpus != (uint32_t)vm->nr_vcpus || s->h.mem_size != vm->mem_size) {
		snprintf(in->why, in->why_len,
			 "snapshot %s: taken with --cpus %u --memory %llu; this machine has "
			 "--cpus %d --memory %llu", in->path, s->h.nr_vcpus,
			 (unsigned long long)(s->h.mem_size >> 20), vm->nr_vcpus,
			 (unsigned long long)(vm->mem_size >> 20));
		return -EINVAL;
	}
	s->vcpu = calloc(vm->nr_vcpus, sizeof(*s->vcpu));
	if (!s->vcpu)
		return -ENOMEM;
	for (;;) {
		void *dst = NULL;
		uint64_t want = 0;
		struct snap_vcpu *v = NULL;
		unsigned int *have;

		r = next(in, &h);
		if (r)
			return r;
		if (h.type == REC_END)
			break;
		if (h.type > REC_DEVICES)
			return bad(in, "a record of an unknown type");
		if (h.type >= REC_REGS && h.type <= REC_DEBUGREGS) {
			if (h.id >= (uint32_t)vm->nr_vcpus)
				return bad(in, "a record of a vCPU this machine does not have");
			v = &s->vcpu[h.id];
			have = &v->have;
		} else if (h.type == REC_IRQCHIP) {
			if (h.id > KVM_IRQCHIP_IOAPIC)
				return bad(in, "a bad irqchip record");
			have = &s->chips;
		} else {
			have = &s->have;
		}
		/* One of each: a second would silently win over the first. */
		if (*have & (1u << (h.type == REC_IRQCHIP ? h.id : h.type)))
			return bad(in, "a record twice");
		*have |= 1u << (h.type == REC_IRQCHIP ? h.id : h.type);
		switch (h.type) {
		case REC_REGS:	dst = &v->regs; want = sizeof(v->regs); break;
		case REC_SREGS:	dst = &v->sregs; want = sizeof(v->sregs); break;
		case REC_XSAVE:	dst = &v->xsave; want = sizeof(v->xsave); break;
		case REC_FPU:	dst = &v->fpu; want = sizeof(v->fpu); break;
		case REC_XCRS:	dst = &v->xcrs; want = sizeof(v->xcrs); break;
		case REC_LAPIC:	dst = &v->lapic; want = sizeof(v->lapic); break;
		case REC_MP_STATE: dst = &v->mp; want = sizeof(v->mp); break;
		case REC_EVENTS: dst = &v->ev; want = sizeof(v->ev); break;
		case REC_DEBUGREGS: dst = &v->dr; want = sizeof(v->dr); break;
		case REC_MSRS:
			if (h.len < offsetof(struct snap_msrs, e) || h.len > sizeof(v->msrs))
				return bad(in, "a bad MSR record");
			r = read_exact(in, &v->msrs, h.len);
			if (r)
				return r;
			if (h.len != offsetof(struct snap_msrs, e) +
				     v->msrs.nmsrs * sizeof(v->msrs.e[0]))
				return bad(in, "a bad MSR record");
			continue;
		case REC_IRQCHIP:
			dst = &s->chip[h.id]; want = sizeof(s->chip[0]);
			break;
		case REC_PIT2:	dst = &s->pit; want = sizeof(s->pit); break;
		case REC_DEVICES: dst = &s->dev; want = sizeof(s->dev); break;
		case REC_CLOCK:	dst = &s->clock; want = sizeof(s->clock); break;
		case REC_RAM:
			if (h.len < bm_len || (h.len - bm_len) % PAGE)
				return bad(in, "a bad RAM record");
			s->bitmap = malloc(bm_len);
			if (!s->bitmap)
				return -ENOMEM;
			r = read_exact(in, s->bitmap, bm_len);
			if (r)
				return r;
			for (uint64_t i = 0; i < pages; i++)
				nonzero += !!(s->bitmap[i / 64] & (1ull << (i % 64)));
			if (h.len - bm_len != nonzero * PAGE)
				return bad(in, "the RAM record does not match its bitmap");
			s->ram_offset = ftell(in->f);
			/* The pages are read at load time; skip them now, but make
			 * sure they are all there. */
			if (fseek(in->f, nonzero * PAGE, SEEK_CUR))
				return bad(in, "truncated (RAM)");
			continue;
		}
		if (h.len != want)
			return bad(in, "a record of the wrong size");
		r = read_exact(in, dst, want);
		if (r)
			return r;
	}
	/* fseek() past the end succeeds: is all of the file there? */
	if (fgetc(in->f) != EOF)
		return bad(in, "data after the end record");
	if (s->ram_offset) {
		long end = ftell(in->f);

		fseek(in->f, 0, SEEK_END);
		if (ftell(in->f) != end)
			return bad(in, "truncated");
	}
	if (in->with_ram != !!(s->have & (1u << REC_RAM)))
		return bad(in, in->with_ram ? "a machine record is missing" :
			       "RAM in a migration's state record");
	if (!(s->have & (1u << REC_CLOCK)) ||
	    !(s->have & (1u << REC_DEVICES)) || s->chips != 7)
		return bad(in, "a machine record is missing");
	for (uint32_t c = 0; c < 3; c++)
		if (s->chip[c].chip_id != c)
			return bad(in, "an irqchip record of the wrong chip");
	if (!devices_ok(&s->dev))
		return bad(in, "device state out of range");
	if (vm->kernel_pit != !!(s->have & (1u << REC_PIT2)))
		return bad(in, "the in-kernel PIT does not match");
	for (int i = 0; i < vm->nr_vcpus; i++) {
		unsigned int need = 1u << REC_REGS | 1u << REC_SREGS | 1u << REC_LAPIC |
				    1u << REC_MSRS | 1u << REC_MP_STATE | 1u << REC_EVENTS |
				    1u << REC_DEBUGREGS;

		unsigned int fpu = s->vcpu[i].have & (1u << REC_XSAVE | 1u << REC_XCRS |
						      1u << REC_FPU);

		if ((s->vcpu[i].have & need) != need ||
		    (fpu != (1u << REC_XSAVE | 1u << REC_XCRS) && fpu != 1u << REC_FPU))
			return bad(in, "a vCPU record is missing");
	}
	return 0;
}

/* The pages of the RAM record (parse() checked that they are all there). */
static int load_ram(struct snap_in *in, struct vm *vm, struct snap *s)
{
	uint64_t pages = vm->mem_size / PAGE;

	if (fseek(in->f, s->ram_offset, SEEK_SET))
		return bad(in, "cannot seek to RAM");
	for (uint64_t i = 0; i < pages; i++) {
		uint8_t *p = vm->mem + i * PAGE;

		if (s->bitmap[i / 64] & (1ull << (i % 64))) {
			if (fread(p, PAGE, 1, in->f) != 1)
				return bad(in, "truncated (RAM)");
		} else if (!page_is_zero(p)) {
			memset(p, 0, PAGE);
		}
	}
	return 0;
}

#define SET(fd, req, what, p) do {						\
	if (ioctl(fd, req, p) < 0) {						\
		int err_ = errno;						\
									\
		snprintf(why, why_len, "snapshot: " #req " (%s): %s", what,	\
			 strerror(err_));					\
		return -err_;							\
	}									\
} while (0)

static int load_vcpu(struct vcpu *v, struct snap_vcpu *s, char *why, size_t why_len)
{
	struct { struct kvm_msrs h; struct kvm_msr_entry e; } one;
	char what[16];

	snprintf(what, sizeof(what), "vCPU %d", v->id);
	SET(v->fd, KVM_SET_SREGS, what, &s->sregs);
	SET(v->fd, KVM_SET_REGS, what, &s->regs);
	if (s->have & (1u << REC_XSAVE)) {
		SET(v->fd, KVM_SET_XSAVE, what, &s->xsave);
		if (s->have & (1u << REC_XCRS))
			SET(v->fd, KVM_SET_XCRS, what, &s->xcrs);
	} else {
		SET(v->fd, KVM_SET_FPU, what, &s->fpu);
	}
	SET(v->fd, KVM_SET_LAPIC, what, &s->lapic);
	for (uint32_t i = 0; i < s->msrs.nmsrs; i++) {
		one = (typeof(one)){ .h.nmsrs = 1, .e = s->msrs.e[i] };
		if (ioctl(v->fd, KVM_SET_MSRS, &one) != 1) {
			snprintf(why, why_len, "snapshot: KVM_SET_MSRS (%s): MSR %#x refused",
				 what, s->msrs.e[i].index);
			return -EINVAL;
		}
	}
	SET(v->fd, KVM_SET_MP_STATE, what, &s->mp);
	/*
	 * kvm.ko's KVM_GET_VCPU_EVENTS does not flag these two as valid, and
	 * KVM_SET_VCPU_EVENTS then leaves them alone: say that they are, as
	 * QEMU does, or a pending NMI and the SIPI vector stay behind.
	 */
	s->ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	SET(v->fd, KVM_SET_VCPU_EVENTS, what, &s->ev);
	SET(v->fd, KVM_SET_DEBUGREGS, what, &s->dr);
	return 0;
}

/* Put the saved device state in, keeping this process's wires (pointers). */
static void load_devices(struct vm *vm, const struct snap_devices *d)
{
	struct serial com1 = d->com1;
	struct rtc rtc = d->rtc;
	struct kbd kbd = d->kbd;
	struct pci pci = d->pci;
	struct misc misc = d->misc;

	pthread_mutex_lock(&vm->lock);
	com1.irq = vm->com1.irq;
	com1.tx = vm->com1.tx;
	com1.tx_opaque = vm->com1.tx_opaque;
	rtc.now = vm->rtc.now;
	kbd.irq1 = vm->kbd.irq1;
	kbd.irq12 = vm->kbd.irq12;
	kbd.reset = vm->kbd.reset;
	pci.reset = vm->pci.reset;
	misc.reset = vm->misc.reset;
	misc.debug_out = vm->misc.debug_out;
	misc.debug_opaque = vm->misc.debug_opaque;
	vm->com1 = com1;
	vm->rtc = rtc;
	vm->kbd = kbd;
	vm->pci = pci;
	vm->misc = misc;
	/* The in-kernel PIC and IOAPIC came back with these lines' levels. */
	vm->irq_levels = d->irq_levels;
	pthread_mutex_unlock(&vm->lock);
}

/**
 * snapshot__load() - make the stopped machine @vm the one saved in @path.
 * @vm: a machine with no vCPU inside KVM_RUN (not started, or paused)
 * @path: a file of snapshot__save()
 * @why: a message for the caller when it fails
 * @touched: set when the machine was changed (guest memory written): after
 *           a failure with @touched, the machine must not run
 *
 * The file is read and checked whole before guest memory or the first SET
 * ioctl; an error after that leaves a machine that must not run.
 * The clock goes to vm->paused_clock: vm__resume() (or the caller, before
 * the first KVM_RUN) writes it with KVM_SET_CLOCK.
 * Return: 0 or a negative errno.
 */
static int load_all(struct snap_in *in, struct vm *vm, bool *touched);

int snapshot__load(struct vm *vm, const char *path, char *why, size_t why_len,
		   bool *touched)
{
	struct snap_in in = { .path = path, .why = why, .why_len = why_len,
			      .with_ram = true };
	const char *no = snapshot__unsupported(vm);
	int r;

	*touched = false;
	if (no) {
		snprintf(why, why_len, "snapshot: %s", no);
		return -EOPNOTSUPP;
	}
	in.f = fopen(path, "rb");
	if (!in.f) {
		r = -errno;
		snprintf(why, why_len, "snapshot %s: %s", path, strerror(errno));
		return r;
	}
	r = load_all(&in, vm, touched);
	fclose(in.f);
	return r;
}

/**
 * snapshot__read_state() - load what snapshot__write_state() wrote.
 * @f: a seekable stream (migrate.c reads the record into memory first)
 * @name: what to call it in messages
 * As snapshot__load(), but guest memory is left as it is: a migration
 * filled it already.
 */
int snapshot__read_state(struct vm *vm, FILE *f, const char *name, char *why,
			 size_t why_len, bool *touched)
{
	struct snap_in in = { .f = f, .path = name, .why = why, .why_len = why_len };

	*touched = false;
	if (snapshot__unsupported(vm)) {
		snprintf(why, why_len, "%s: %s", name, snapshot__unsupported(vm));
		return -EOPNOTSUPP;
	}
	return load_all(&in, vm, touched);
}

static int load_all(struct snap_in *in, struct vm *vm, bool *touched)
{
	struct snap *s = calloc(1, sizeof(*s));
	char *why = in->why;
	size_t why_len = in->why_len;
	int r;

	if (!s)
		return -ENOMEM;
	r = parse(in, vm, s);
	if (r == -ENOMEM)
		snprintf(why, why_len, "snapshot: out of memory");
	*touched = !r;
	if (!r && in->with_ram)
		r = load_ram(in, vm, s);
	for (uint32_t c = 0; c < 3 && !r; c++) {
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &s->chip[c]) < 0) {
			r = -errno;
			snprintf(why, why_len, "snapshot: KVM_SET_IRQCHIP %u: %s", c,
				 strerror(errno));
		}
	}
	if (!r && vm->kernel_pit && ioctl(vm->vm_fd, KVM_SET_PIT2, &s->pit) < 0) {
		r = -errno;
		snprintf(why, why_len, "snapshot: KVM_SET_PIT2: %s", strerror(errno));
	}
	for (int i = 0; i < vm->nr_vcpus && !r; i++)
		r = load_vcpu(&vm->vcpu[i], &s->vcpu[i], why, why_len);
	if (!r) {
		load_devices(vm, &s->dev);
		vm->paused_clock = s->clock;
		vm->paused_clock_ok = true;
	}
	free(s->bitmap);
	free(s->vcpu);
	free(s);
	return r;
}
