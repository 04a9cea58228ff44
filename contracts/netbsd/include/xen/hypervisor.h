/*
 * xendrvgen OS API contract: NetBSD sys/arch/xen/include/hypervisor.h
 * (event channel notification and the event channel hypercall).  In the
 * tree hypervisor_notify_via_evtchn() is an inline wrapper; the contract
 * declares the same signature.
 */
#ifndef _XEN_HYPERVISOR_H_
#define _XEN_HYPERVISOR_H_

#include <xen/include/public/xen.h>
#include <xen/include/public/event_channel.h>

void hypervisor_notify_via_evtchn(unsigned int);
void hypervisor_mask_event(unsigned int);
void hypervisor_unmask_event(unsigned int);

int HYPERVISOR_event_channel_op(evtchn_op_t *op);

#endif /* _XEN_HYPERVISOR_H_ */
