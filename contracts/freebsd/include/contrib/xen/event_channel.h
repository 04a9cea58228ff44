/*
 * xendrvgen OS API contract: Xen's public event_channel.h as FreeBSD ships
 * it (sys/contrib/xen/event_channel.h); only the port type.
 */
#ifndef __XEN_PUBLIC_EVENT_CHANNEL_H__
#define __XEN_PUBLIC_EVENT_CHANNEL_H__

#include <contrib/xen/xen.h>

typedef uint32_t evtchn_port_t;

#endif /* __XEN_PUBLIC_EVENT_CHANNEL_H__ */
