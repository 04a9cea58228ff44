/*
 * xendrvgen OS API contract: Xen's public event_channel.h, as NetBSD's
 * kernel includes it: the port type, the interdomain bind and close
 * operations, and the operation block NetBSD's hypercall wrapper takes
 * (only the members the drivers use of its union).
 */
#ifndef __XEN_PUBLIC_EVENT_CHANNEL_H__
#define __XEN_PUBLIC_EVENT_CHANNEL_H__

#include <xen/include/public/xen.h>

typedef uint32_t evtchn_port_t;

#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_close            3

struct evtchn_bind_interdomain {
    /* IN parameters. */
    domid_t remote_dom;
    evtchn_port_t remote_port;
    /* OUT parameters. */
    evtchn_port_t local_port;
};
typedef struct evtchn_bind_interdomain evtchn_bind_interdomain_t;

struct evtchn_close {
    /* IN parameters. */
    evtchn_port_t port;
};
typedef struct evtchn_close evtchn_close_t;

struct evtchn_op {
    uint32_t cmd;
    union {
        evtchn_bind_interdomain_t bind_interdomain;
        evtchn_close_t close;
    } u;
};
typedef struct evtchn_op evtchn_op_t;

#endif /* __XEN_PUBLIC_EVENT_CHANNEL_H__ */
