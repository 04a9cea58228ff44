/*
 * xendrvgen OS API contract: FreeBSD sys/xen/xen_intr.h (event channel
 * binding as the generated drivers use it).
 */
#ifndef _XEN_INTR_H_
#define _XEN_INTR_H_

#include <contrib/xen/event_channel.h>

typedef void * xen_intr_handle_t;

int xen_intr_alloc_and_bind_local_port(device_t dev,
	u_int remote_domain, driver_filter_t filter, driver_intr_t handler,
	void *arg, enum intr_type irqflags, xen_intr_handle_t *handlep);

int xen_intr_bind_remote_port(device_t dev, u_int remote_domain,
	evtchn_port_t remote_port, driver_filter_t filter,
	driver_intr_t handler, void *arg, enum intr_type irqflags,
	xen_intr_handle_t *handlep);

void xen_intr_unbind(xen_intr_handle_t *handle);

void xen_intr_signal(xen_intr_handle_t handle);

evtchn_port_t xen_intr_port(xen_intr_handle_t handle);

#endif /* _XEN_INTR_H_ */
