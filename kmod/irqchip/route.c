// SPDX-License-Identifier: GPL-2.0-only
/* minikvm: GSI routing. PLACEHOLDER until it lands. */
#include "minikvm.h"

int mkvm_setup_default_irq_routing(struct mkvm *vm) { return 0; }
int mkvm_set_irq_routing(struct mkvm *vm, const struct kvm_irq_routing_entry *ue, u32 nr, u32 flags) { return -EINVAL; }
void mkvm_free_irq_routing(struct mkvm *vm) { }
int mkvm_set_irq(struct mkvm *vm, int src, u32 gsi, int level) { return -1; }
int mkvm_deliver_msi(struct mkvm *vm, const struct kvm_irq_routing_msi *msi) { return -1; }
long mkvm_irq_ioctl(struct mkvm *vm, unsigned int ioctl, void __user *argp) { return -EINVAL; }
void mkvm_notify_acked_irq(struct mkvm *vm, u32 chip, u32 pin) { }
