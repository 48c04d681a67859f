// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm-run: a small virtual machine monitor on the KVM API, "our QEMU".
 *
 *   minikvm-run --kernel bzImage [--initrd FILE] [--append "CMDLINE"]
 *               [--memory MiB] [--cpus N] [--irqchip=kernel|user]
 *               [--disk FILE[,ro]]... [--disk-ro FILE]... [--rng]
 *               [--virtio-console] [--monitor PATH] [--restore FILE]
 *               [--incoming tcp:[ADDR]:PORT]
 *   minikvm-run --image FILE.bin [--entry ADDR] [--mode real|prot|long]
 *
 * The machine is a minimal legacy PC: RAM from 0, a 16550A on COM1 (the
 * console: stdin/stdout), two 8259 PICs, an 8254 PIT, the CMOS clock, an
 * 8042 for reset, and an empty PCI bus; with the in-kernel irqchip (the
 * default when KVM has one) also an IOAPIC, a local APIC per vCPU, and an
 * MP table that lists them, and the virtio-mmio devices asked for: disks
 * on raw image files, an entropy source and a console (virtio/). A monitor
 * socket, if asked for, takes QMP-like commands (monitor.c). No BIOS: Linux is started by the 64-bit boot
 * protocol, a raw image at its entry address in the mode asked. Instead of
 * booting, the machine can become a saved one (--restore, snapshot.c) or
 * take a running guest from another minikvm-run (--incoming, migrate.c).
 *
 * The program is: parse options, build the VM (vm.c, irq.c), create the
 * vCPUs, load the guest (x86/boot.c), start the event thread (event.c) and
 * one thread per vCPU (vcpu.c), wait for the vCPUs to end, say why the
 * machine stopped.
 *
 * Exit status: 0 when the guest resets or powers off (or a raw image halts),
 * 1 on errors, 2 for a bad command line, 3 when the KVM below lacks an ioctl
 * or a capability this VMM needs.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "runner.h"

static struct vm the_vm;

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int code, const char *fmt, ...)
{
	va_list ap;

	term__restore();
	fputs("minikvm-run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void usage(FILE *f)
{
	fputs("usage: minikvm-run --kernel bzImage [--initrd FILE] [--append CMDLINE]\n"
	      "                   [--memory MiB] [--cpus N] [--irqchip=kernel|user]\n"
	      "                   [--disk FILE[,ro]]... [--disk-ro FILE]... [--rng]\n"
	      "                   [--virtio-console] [--monitor PATH] [--restore FILE]\n"
	      "                   [--incoming tcp:[ADDR]:PORT]\n"
	      "       minikvm-run --image FILE.bin [--entry ADDR] [--mode real|prot|long]\n"
	      "                   [--memory MiB]\n"
	      "options: --cpus N   vCPUs, 1 to 64 (more than 1 needs --irqchip=kernel)\n"
	      "         --irqchip  kernel: KVM's PIC, IOAPIC, LAPICs and PIT (the default\n"
	      "                    when KVM has them); user: minikvm-run's PIC and PIT\n"
	      "         --disk FILE  a virtio-blk disk on a raw image file (/dev/vda, vdb...);\n"
	      "                    FILE,ro or --disk-ro FILE: read-only\n"
	      "         --rng      a virtio-rng device (/dev/hwrng) fed from /dev/urandom\n"
	      "         --virtio-console  a virtio-console (/dev/hvc0) on stdin/stdout:\n"
	      "                    stdin goes to hvc0 instead of COM1 (console=hvc0)\n"
	      "                    (virtio devices need --irqchip=kernel)\n"
	      "         --monitor PATH  a QMP-like monitor on a new UNIX socket at PATH:\n"
	      "                    qmp_capabilities, query-status, stop, cont, quit,\n"
	      "                    snapshot-save and snapshot-load {\"file\": PATH},\n"
	      "                    migrate {\"uri\": \"tcp:ADDR:PORT\"}\n"
	      "         --restore FILE  start from a snapshot (snapshot-save) instead of\n"
	      "                    booting: give the machine options it was saved with\n"
	      "         --incoming tcp:[ADDR]:PORT  wait there for a live migration (the\n"
	      "                    monitor's migrate) instead of booting; same options\n"
	      "         --trace    report port and MMIO accesses no device claims\n"
	      "The console is COM1 on stdin/stdout; Ctrl-A x quits.\n", f);
}

static uint64_t parse_number(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *s == '\0' || *end != '\0' || *s == '-')
		die(EXIT_USAGE, "%s: not a number: %s", opt, s);
	return v;
}

static int parse_cpus(const char *s)
{
	uint64_t n = parse_number("--cpus", s);

	if (n < 1 || n > MAX_VCPUS)
		die(EXIT_USAGE, "--cpus %s: give 1 to %d", s, MAX_VCPUS);
	return n;
}

static enum irqchip_mode parse_irqchip(const char *s)
{
	if (!strcmp(s, "kernel"))
		return IRQCHIP_KERNEL;
	if (!strcmp(s, "user"))
		return IRQCHIP_USER;
	die(EXIT_USAGE, "--irqchip must be kernel or user, not \"%s\"", s);
}

/* --disk FILE or FILE,ro; --disk-ro FILE. */
static void parse_disk(struct config *cfg, const char *arg, bool ro)
{
	size_t len = strlen(arg);
	char *path;

	if (cfg->nr_disks == MAX_DISKS)
		die(EXIT_USAGE, "--disk: at most %d disks", MAX_DISKS);
	if (!ro && len > 3 && !strcmp(arg + len - 3, ",ro")) {
		ro = true;
		len -= 3;
	}
	path = strndup(arg, len);
	if (!path || !*path)
		die(EXIT_USAGE, "--disk: give an image file");
	cfg->disk[cfg->nr_disks].path = path;
	cfg->disk[cfg->nr_disks++].ro = ro;
}

/* The combinations that cannot work, each with its reason. */
static void check_args(const struct config *cfg)
{
	bool virtio = cfg->nr_disks || cfg->rng || cfg->virtio_console;

	if (cfg->image && virtio)
		die(EXIT_USAGE, "--disk, --rng and --virtio-console go with --kernel");
	if (virtio && cfg->irqchip == IRQCHIP_USER)
		die(EXIT_USAGE, "virtio devices need --irqchip=kernel: their interrupts "
		    "are irqfds on IOAPIC lines");
	if (cfg->restore && cfg->incoming)
		die(EXIT_USAGE, "--restore or --incoming: the machine comes from one place");
	if (cfg->incoming && !cfg->kernel)
		die(EXIT_USAGE, "--incoming goes with --kernel");
	if (cfg->restore && access(cfg->restore, R_OK))
		die(EXIT_ERROR, "--restore %s: %s", cfg->restore, strerror(errno));
	/* A disk that is not there is bad input: say so before building anything. */
	for (int i = 0; i < cfg->nr_disks; i++)
		if (access(cfg->disk[i].path, cfg->disk[i].ro ? R_OK : R_OK | W_OK))
			die(EXIT_ERROR, "--disk %s: %s", cfg->disk[i].path, strerror(errno));
	if (cfg->image && (cfg->initrd || cfg->append))
		die(EXIT_USAGE, "--initrd and --append go with --kernel");
	if (cfg->kernel && (cfg->mem_mib < 16 || cfg->mem_mib > 3072))
		die(EXIT_USAGE, "--memory: 16 to 3072 MiB for a Linux guest");
	if (cfg->mem_mib < 2 || cfg->mem_mib > 3072)
		die(EXIT_USAGE, "--memory: 2 to 3072 MiB (RAM ends below the 4 GiB hole)");
	if (cfg->cpus > 1 && cfg->irqchip == IRQCHIP_USER)
		die(EXIT_USAGE, "--cpus %d needs --irqchip=kernel: the APs are started "
		    "with INIT and SIPI through local APICs, which --irqchip=user has not",
		    cfg->cpus);
	/* A raw image has no code to start APs, and ends with a HLT only
	 * the userspace irqchip sees. */
	if (cfg->image && cfg->cpus > 1)
		die(EXIT_USAGE, "--cpus goes with --kernel: a raw image runs on one vCPU");
	if (cfg->image && cfg->irqchip == IRQCHIP_KERNEL)
		die(EXIT_USAGE, "--irqchip=kernel goes with --kernel: a raw image ends with "
		    "HLT, which only --irqchip=user sees");
}

static void parse_args(int argc, char **argv, struct config *cfg)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "memory", required_argument, NULL, 'm' },
		{ "cpus",   required_argument, NULL, 'c' },
		{ "irqchip", required_argument, NULL, 'q' },
		{ "image",  required_argument, NULL, 'I' },
		{ "entry",  required_argument, NULL, 'e' },
		{ "mode",   required_argument, NULL, 'M' },
		{ "disk",   required_argument, NULL, 'd' },
		{ "disk-ro", required_argument, NULL, 'D' },
		{ "rng",    no_argument,       NULL, 'r' },
		{ "virtio-console", no_argument, NULL, 'C' },
		{ "monitor", required_argument, NULL, 'Q' },
		{ "restore", required_argument, NULL, 'R' },
		{ "incoming", required_argument, NULL, 'G' },
		{ "trace",  no_argument,       NULL, 't' },
		{ "help",   no_argument,       NULL, 'h' },
		{ 0 }
	};
	int c;

	*cfg = (struct config){ .mem_mib = 256, .cpus = 1, .mode = MODE_REAL };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k': cfg->kernel = optarg; break;
		case 'i': cfg->initrd = optarg; break;
		case 'a': cfg->append = optarg; break;
		case 'I': cfg->image = optarg; break;
		case 'm': cfg->mem_mib = parse_number("--memory", optarg); break;
		case 'c': cfg->cpus = parse_cpus(optarg); break;
		case 'q': cfg->irqchip = parse_irqchip(optarg); break;
		case 't': cfg->trace = true; break;
		case 'd': parse_disk(cfg, optarg, false); break;
		case 'D': parse_disk(cfg, optarg, true); break;
		case 'r': cfg->rng = true; break;
		case 'C': cfg->virtio_console = true; break;
		case 'Q': cfg->monitor = optarg; break;
		case 'R': cfg->restore = optarg; break;
		case 'G': cfg->incoming = optarg; break;
		case 'e':
			cfg->entry = parse_number("--entry", optarg);
			cfg->entry_set = true;
			break;
		case 'M':
			if (!strcmp(optarg, "real"))
				cfg->mode = MODE_REAL;
			else if (!strcmp(optarg, "prot"))
				cfg->mode = MODE_PROT;
			else if (!strcmp(optarg, "long"))
				cfg->mode = MODE_LONG;
			else
				die(EXIT_USAGE, "--mode must be real, prot or long");
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc || !cfg->kernel == !cfg->image) {
		usage(stderr);
		die(EXIT_USAGE, "give exactly one of --kernel and --image");
	}
	check_args(cfg);
}

/* SIGTERM and friends: stop cleanly so the terminal is restored. */
static void on_signal(int sig)
{
	uint64_t one = 1;

	(void)sig;
	atomic_store(&the_vm.stopping, true);
	(void)!write(the_vm.stop_fd, &one, sizeof(one));
	for (int i = 0; i < the_vm.nr_vcpus; i++)
		if (atomic_load(&the_vm.vcpu[i].in_run))
			pthread_kill(the_vm.vcpu[i].thread, SIGUSR1);
}

/* SIGUSR2: ask the event loop to print the machine's state (event__dump). */
static void on_dump_signal(int sig)
{
	uint64_t one = 1;

	(void)sig;
	(void)!write(the_vm.dump_fd, &one, sizeof(one));
}

static int exit_code_for(int err)
{
	return err == -ENOTTY || err == -ENOSYS ? EXIT_UNSUPPORTED : EXIT_ERROR;
}

int main(int argc, char **argv)
{
	struct vm *vm = &the_vm;
	struct sigaction sa = { .sa_handler = on_signal };
	struct config cfg;
	pthread_t event;
	int ret;

	parse_args(argc, argv, &cfg);
	ret = vm__init(vm, &cfg);
	if (ret)
		die(exit_code_for(ret), "cannot create the virtual machine");
	/* Before the kernel is loaded: they add to its command line. */
	ret = virtio__init(vm, &cfg);
	if (ret)
		die(ret == -ENOENT || ret == -EINVAL ? EXIT_ERROR : exit_code_for(ret),
		    "cannot set up the virtio devices");
	ret = vcpu__init(vm, 0);
	/* A raw guest does not need a CPUID table; a Linux guest does. */
	if (ret && (cfg.kernel || vm->nr_vcpus == 0))
		die(exit_code_for(ret), "cannot set up vCPU 0");
	/* The APs, before the kernel is loaded: the MP table lists them all. */
	for (int i = 1; i < cfg.cpus; i++)
		if ((ret = vcpu__init(vm, i)))
			die(exit_code_for(ret), "cannot set up vCPU %d", i);
	ret = cfg.kernel ? boot__load_kernel(vm, &cfg) : boot__load_image(vm, &cfg);
	if (ret)
		die(exit_code_for(ret), "cannot load the guest");
	/*
	 * --restore: the machine just built (same options, same kernel: its
	 * devices and vCPUs exist) becomes the saved one; no vCPU has run yet.
	 */
	if (cfg.restore) {
		char why[512] = "";
		bool touched;
		struct kvm_clock_data clock = { 0 };

		ret = snapshot__load(vm, cfg.restore, why, sizeof(why), &touched);
		if (ret)
			die(EXIT_ERROR, "%s", why[0] ? why : strerror(-ret));
		clock.clock = vm->paused_clock.clock;
		if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
			die(EXIT_ERROR, "KVM_SET_CLOCK: %s", strerror(errno));
		vm->paused_clock_ok = false;
		fprintf(stderr, "minikvm-run: restored from %s\n", cfg.restore);
	}
	/* --incoming: the same, from a live migration (migrate.c). */
	if (cfg.incoming) {
		char why[512] = "";

		ret = migrate__receive(vm, cfg.incoming, why, sizeof(why));
		if (ret)
			die(EXIT_ERROR, "%s", why[0] ? why : strerror(-ret));
	}

	if (vcpu__install_kick() < 0)
		die(EXIT_ERROR, "sigaction: %s", strerror(errno));
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_dump_signal;
	sigaction(SIGUSR2, &sa, NULL);
	term__raw();

	if (pthread_create(&event, NULL, event__thread, vm))
		die(EXIT_ERROR, "cannot start the event thread");
	if (virtio__start(vm))
		die(EXIT_ERROR, "cannot start the virtio I/O threads");
	if (cfg.monitor && monitor__start(vm, cfg.monitor))
		die(EXIT_ERROR, "cannot start the monitor");
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (pthread_create(&vm->vcpu[i].thread, NULL, vcpu__thread, &vm->vcpu[i]))
			die(EXIT_ERROR, "cannot start vCPU %d", i);
	for (int i = 0; i < vm->nr_vcpus; i++)
		pthread_join(vm->vcpu[i].thread, NULL);
	/* Every vCPU has ended, so the machine is stopping: end the event loop. */
	on_signal(0);
	pthread_join(event, NULL);
	virtio__stop(vm);
	monitor__stop(vm);
	term__restore();

	if (!vm->exit_reason[0]) {	/* only on_signal() stops without a reason */
		snprintf(vm->exit_reason, sizeof(vm->exit_reason), "terminated by a signal");
		vm->exit_code = EXIT_ERROR;
	}
	fprintf(stderr, "\r\nminikvm-run: %s\n", vm->exit_reason);
	return vm->exit_code;
}
