/*
 * xendrvgen OS API contract: NetBSD sys/arch/xen/include/evtchn.h (the Xen
 * interrupt controller that event channel handlers are established on).
 */
#ifndef _XEN_EVENTS_H_
#define _XEN_EVENTS_H_

#include <machine/pic.h>

extern struct pic xen_pic;

#endif /* _XEN_EVENTS_H_ */
