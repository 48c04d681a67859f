// SPDX-License-Identifier: GPL-2.0-only
/* minikvm: the 8254 PIT. PLACEHOLDER until it lands. */
#include "minikvm.h"

int mkvm_pit_create(struct mkvm *vm, const struct kvm_pit_config *cfg) { return -ENOTTY; }
void mkvm_pit_destroy(struct mkvm *vm) { }
long mkvm_pit_ioctl(struct mkvm *vm, unsigned int ioctl, void __user *argp) { return -ENXIO; }
