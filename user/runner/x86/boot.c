// SPDX-License-Identifier: GPL-2.0-only
/*
 * boot.c: loading guests. A Linux bzImage by the x86 boot protocol
 * (Documentation/x86/boot.rst in the kernel tree, "THE LINUX/x86 BOOT
 * PROTOCOL" and "64-bit BOOT PROTOCOL"), or a raw binary at an address.
 *
 * A bzImage is a real-mode setup part ((setup_sects + 1) * 512 bytes,
 * starting with the setup header at 0x1f1) followed by the protected-mode
 * kernel. A BIOS boot loader would run the setup code in real mode; a VMM
 * skips it: it fills in boot_params ("the zero page", Documentation/x86/
 * zero-page.rst) itself, with the setup header copied from the image, the
 * command line, the initrd and the memory map (e820), loads the
 * protected-mode part at 1 MiB and jumps straight to its 64-bit entry point
 * (load address + 0x200) in long mode, or to the 32-bit entry (the load
 * address, code32_start) in flat protected mode for kernels without one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../runner.h"
#include "x86.h"

/* Offsets in boot_params / the bzImage (boot.rst, zero-page.rst). */
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define HDR_SETUP_SECTS		0x1f1
#define HDR_BOOT_FLAG		0x1fe
#define HDR_JUMP		0x200
#define HDR_HEADER		0x202
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_CODE32_START	0x214
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_CMD_LINE_PTR	0x228
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_INIT_SIZE		0x260
#define BP_E820_TABLE		0x2d0
#define E820_MAX		128

#define LOADED_HIGH		0x01	/* loadflags: kernel goes at 1 MiB */
#define XLF_KERNEL_64		0x01	/* xloadflags: has the 64-bit entry */
#define E820_RAM		1
#define E820_RESERVED		2

static uint16_t get16(const uint8_t *p, unsigned int off)
{
	return p[off] | p[off + 1] << 8;
}

static uint32_t get32(const uint8_t *p, unsigned int off)
{
	return get16(p, off) | (uint32_t)get16(p, off + 2) << 16;
}

static void put32(uint8_t *p, unsigned int off, uint32_t v)
{
	memcpy(p + off, &v, 4);	/* x86 is little-endian */
}

/* Read a whole file into malloc'd memory. */
static int boot__read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	ssize_t n;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		pr_err("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	*len = st.st_size;
	*buf = malloc(*len ? *len : 1);
	while (*buf && done < *len && (n = read(fd, *buf + done, *len - done)) > 0)
		done += n;
	close(fd);
	if (!*buf || done != *len) {
		pr_err("%s: short read", path);
		free(*buf);
		return -EIO;
	}
	return 0;
}

/* Copy a file into guest memory at gpa. */
static int boot__load_at(struct vm *vm, const uint8_t *data, size_t len,
			 uint64_t gpa, const char *what)
{
	void *dst = vm__gpa(vm, gpa, len);

	if (!dst) {
		pr_err("%s (%zu bytes at 0x%llx) does not fit in guest memory",
		       what, len, (unsigned long long)gpa);
		return -ENOMEM;
	}
	memcpy(dst, data, len);
	return 0;
}

/*
 * The memory map the kernel will trust: conventional memory up to the EBDA,
 * the BIOS area reserved, RAM from 1 MiB up.
 */
static void boot__e820(struct vm *vm, uint8_t *bp)
{
	struct { uint64_t addr, size; uint32_t type; } __attribute__((packed)) map[] = {
		{ 0, EBDA_ADDR, E820_RAM },
		{ EBDA_ADDR, 0xa0000 - EBDA_ADDR, E820_RESERVED },
		{ BIOS_ADDR, HIGH_ADDR - BIOS_ADDR, E820_RESERVED },
		{ HIGH_ADDR, vm->mem_size - HIGH_ADDR, E820_RAM },
	};

	_Static_assert(sizeof(map[0]) == 20, "struct boot_e820_entry is 20 bytes");
	memcpy(bp + BP_E820_TABLE, map, sizeof(map));
	bp[BP_E820_ENTRIES] = sizeof(map) / sizeof(map[0]);
}

/*
 * With the in-kernel irqchip: the MP table that lists the vCPUs, the IOAPIC
 * and the ISA interrupts (x86/mptable.c), in the BIOS area e820 reserves.
 */
static void boot__mptable(struct vm *vm)
{
	size_t len = mptable__size(vm->nr_vcpus);

	_Static_assert(MPTABLE_ADDR >= BIOS_ADDR, "inside the reserved BIOS area");
	mptable__write(vm__gpa(vm, MPTABLE_ADDR, len), MPTABLE_ADDR, vm->nr_vcpus,
		       vm->cpu_signature, vm->cpu_features);
}

/* Check the setup header; returns the protocol version or a negative errno. */
static int boot__check_header(const uint8_t *img, size_t len, const char *path)
{
	int version;

	if (len < 0x1000 || get16(img, HDR_BOOT_FLAG) != 0xaa55 ||
	    memcmp(img + HDR_HEADER, "HdrS", 4) != 0) {
		pr_err("%s: not a bzImage (no \"HdrS\" setup header)", path);
		return -EINVAL;
	}
	version = get16(img, HDR_VERSION);
	if (version < 0x206 || !(img[HDR_LOADFLAGS] & LOADED_HIGH)) {
		pr_err("%s: boot protocol %x.%02x, need a bzImage of 2.06 or later",
		       path, version >> 8, version & 0xff);
		return -EINVAL;
	}
	return version;
}

/* Place the initrd as high as the kernel allows, below initrd_addr_max. */
static int boot__load_initrd(struct vm *vm, const struct config *cfg, uint8_t *bp,
			     uint64_t kernel_end)
{
	uint8_t *rd;
	size_t len;
	uint64_t max, addr;
	int ret = boot__read_file(cfg->initrd, &rd, &len);

	if (ret)
		return ret;
	max = get32(bp, HDR_INITRD_ADDR_MAX);
	if (max >= vm->mem_size)
		max = vm->mem_size - 1;
	addr = (max + 1 - len) & ~0xfffull;
	if (len > max || addr < kernel_end) {
		pr_err("%s: %zu bytes do not fit between the kernel and 0x%llx; "
		       "try more --memory", cfg->initrd, len, (unsigned long long)max);
		free(rd);
		return -ENOMEM;
	}
	ret = boot__load_at(vm, rd, len, addr, cfg->initrd);
	free(rd);
	put32(bp, HDR_RAMDISK_IMAGE, addr);
	put32(bp, HDR_RAMDISK_SIZE, len);
	return ret;
}

static int boot__cmdline(struct vm *vm, const struct config *cfg, uint8_t *bp)
{
	const char *cmd = cfg->append ? cfg->append : "";
	size_t len = strlen(cmd), max = get32(bp, HDR_CMDLINE_SIZE);
	char *dst = vm__gpa(vm, CMDLINE_ADDR, CMDLINE_MAX);

	if (len > max || len >= CMDLINE_MAX) {
		pr_err("--append: %zu bytes, this kernel takes at most %zu", len, max);
		return -E2BIG;
	}
	memcpy(dst, cmd, len + 1);
	put32(bp, HDR_CMD_LINE_PTR, CMDLINE_ADDR);
	return 0;
}

int boot__load_kernel(struct vm *vm, const struct config *cfg)
{
	uint8_t *img, *bp = vm__gpa(vm, BOOT_PARAMS_ADDR, 4096);
	size_t len, setup_len, hdr_end;
	uint64_t kernel_end;
	bool entry64;
	int ret, version;

	ret = boot__read_file(cfg->kernel, &img, &len);
	if (ret)
		return ret;
	version = ret = boot__check_header(img, len, cfg->kernel);
	if (ret < 0)
		goto out;
	/* setup_sects == 0 means 4, for historical reasons. */
	setup_len = ((img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4) + 1) * 512;
	/* The header ends where the jump at 0x200 lands. */
	hdr_end = HDR_HEADER + img[HDR_JUMP + 1];
	if (setup_len >= len || hdr_end > 0x1000) {
		pr_err("%s: corrupt setup header", cfg->kernel);
		ret = -EINVAL;
		goto out;
	}
	memset(bp, 0, 4096);
	memcpy(bp + HDR_SETUP_SECTS, img + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	bp[HDR_TYPE_OF_LOADER] = 0xff;	/* "undefined" boot loader */

	/* Protected-mode kernel at 1 MiB; it needs init_size bytes to unpack. */
	ret = boot__load_at(vm, img + setup_len, len - setup_len, HIGH_ADDR, cfg->kernel);
	if (ret)
		goto out;
	kernel_end = HIGH_ADDR + (len - setup_len);
	if (version >= 0x20a && HIGH_ADDR + get32(bp, HDR_INIT_SIZE) > kernel_end)
		kernel_end = HIGH_ADDR + get32(bp, HDR_INIT_SIZE);
	if (kernel_end > vm->mem_size) {
		pr_err("%s needs %llu MiB to unpack; try more --memory", cfg->kernel,
		       (unsigned long long)(kernel_end >> 20) + 1);
		ret = -ENOMEM;
		goto out;
	}
	ret = boot__cmdline(vm, cfg, bp);
	if (!ret && cfg->initrd)
		ret = boot__load_initrd(vm, cfg, bp, kernel_end);
	if (ret)
		goto out;
	boot__e820(vm, bp);
	if (vm->kernel_irqchip)
		boot__mptable(vm);

	entry64 = version >= 0x20c && (get16(bp, HDR_XLOADFLAGS) & XLF_KERNEL_64);
	if (entry64)
		ret = cpu__set_mode(&vm->vcpu[0], MODE_LONG, HIGH_ADDR + 0x200, BOOT_PARAMS_ADDR,
				    BOOT_PARAMS_ADDR);
	else
		ret = cpu__set_mode(&vm->vcpu[0], MODE_PROT,
				    get32(bp, HDR_CODE32_START), BOOT_PARAMS_ADDR,
				    BOOT_PARAMS_ADDR);
	if (ret)
		pr_err("setting up the boot CPU: %s", strerror(-ret));
out:
	free(img);
	return ret < 0 ? ret : 0;
}

/*
 * A raw binary: copied to --entry (default 0x1000 in real mode, 1 MiB
 * otherwise) and started there, with the stack just below it.
 */
int boot__load_image(struct vm *vm, const struct config *cfg)
{
	uint64_t entry = cfg->entry_set ? cfg->entry
			 : cfg->mode == MODE_REAL ? REAL_IMAGE_ADDR : HIGH_ADDR;
	uint8_t *img;
	size_t len;
	int ret = boot__read_file(cfg->image, &img, &len);

	if (ret)
		return ret;
	if (cfg->mode == MODE_REAL && entry + len > 0x100000) {
		pr_err("%s: a real-mode image must fit below 1 MiB", cfg->image);
		ret = -EINVAL;
	}
	if (!ret)
		ret = boot__load_at(vm, img, len, entry, cfg->image);
	free(img);
	if (ret)
		return ret;
	ret = cpu__set_mode(&vm->vcpu[0], cfg->mode, entry, entry, 0);
	if (ret)
		pr_err("setting up the boot CPU: %s", strerror(-ret));
	return ret;
}
