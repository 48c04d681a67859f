// SPDX-License-Identifier: GPL-2.0-only
/*
 * l2_virtio_mmio: a helper module of the nested (L2) guest, not of the VMM.
 *
 * minikvm-run tells the guest where its virtio-mmio devices are on the
 * kernel command line, "virtio_mmio.device=0x200@0xd0000000:5", which
 * Linux's virtio_mmio driver reads when CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES
 * is set. Debian's 6.1 and 6.12 kernels, the rig's and so the L2 guest's,
 * leave it unset ("virtio_mmio: unknown parameter 'device' ignored"), and
 * such a kernel finds virtio-mmio devices only in a device tree or in ACPI
 * tables, neither of which minikvm-run makes. This module does what that
 * option would: for each device=SIZE@BASE:IRQ it registers a "virtio-mmio"
 * platform device with that window and interrupt, and virtio_mmio binds to
 * it. The L2 /init (user/runner/l2/mkinitrd.sh) passes the command line's
 * values: insmod l2_virtio_mmio.ko device=0x200@0xd0000000:5,...
 */
#include <linux/ioport.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/platform_device.h>

#define MAX_DEVICES 8

static char *device[MAX_DEVICES];
static int nr_device;
module_param_array(device, charp, &nr_device, 0444);
MODULE_PARM_DESC(device, "SIZE@BASE:IRQ of each virtio-mmio device");

static struct platform_device *pdev[MAX_DEVICES];

static int __init l2_virtio_mmio_init(void)
{
	for (int i = 0; i < nr_device; i++) {
		struct resource res[2] = {};
		unsigned long long base;
		unsigned int irq;
		char *rest;
		u64 size = memparse(device[i], &rest);

		if (!size || sscanf(rest, "@%lli:%u", &base, &irq) != 2) {
			pr_err("l2_virtio_mmio: bad device=%s\n", device[i]);
			continue;
		}
		res[0] = (struct resource)DEFINE_RES_MEM(base, size);
		res[1] = (struct resource)DEFINE_RES_IRQ(irq);
		pdev[i] = platform_device_register_resndata(NULL, "virtio-mmio", i, res, 2,
							    NULL, 0);
		if (IS_ERR(pdev[i])) {
			pr_err("l2_virtio_mmio: device=%s: %ld\n", device[i], PTR_ERR(pdev[i]));
			pdev[i] = NULL;
			continue;
		}
		pr_info("l2_virtio_mmio: virtio-mmio.%d at 0x%llx, IRQ %u\n", i, base, irq);
	}
	return 0;
}

static void __exit l2_virtio_mmio_exit(void)
{
	for (int i = 0; i < MAX_DEVICES; i++)
		if (pdev[i])
			platform_device_unregister(pdev[i]);
}

module_init(l2_virtio_mmio_init);
module_exit(l2_virtio_mmio_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("virtio-mmio devices from module parameters, for kernels without CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES");
