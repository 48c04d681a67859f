// SPDX-License-Identifier: GPL-2.0-only
/* minikvm: irqfd and ioeventfd. PLACEHOLDER until they land. */
#include "minikvm.h"

void mkvm_eventfd_init(struct mkvm *vm)
{
	spin_lock_init(&vm->eventfds.lock);
	INIT_LIST_HEAD(&vm->eventfds.irqfds);
	INIT_LIST_HEAD(&vm->eventfds.ioeventfds);
	mutex_init(&vm->eventfds.resampler_lock);
	INIT_LIST_HEAD(&vm->eventfds.resamplers);
}
int mkvm_irqfd(struct mkvm *vm, const struct kvm_irqfd *args) { return -ENOTTY; }
int mkvm_ioeventfd(struct mkvm *vm, const struct kvm_ioeventfd *args) { return -ENOTTY; }
void mkvm_eventfd_release(struct mkvm *vm) { }
