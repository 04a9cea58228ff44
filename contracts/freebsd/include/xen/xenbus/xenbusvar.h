/*
 * xendrvgen OS API contract: FreeBSD sys/xen/xenbus/xenbusvar.h (what a
 * XenBus front or back driver calls).
 */
#ifndef _XEN_XENBUS_XENBUSVAR_H
#define _XEN_XENBUS_XENBUSVAR_H

#include <sys/queue.h>
#include <sys/bus.h>
#include <sys/malloc.h>

#include <machine/stdarg.h>

#include <xen/xen-os.h>
#include <contrib/xen/grant_table.h>
#include <contrib/xen/io/xenbus.h>

#include <xen/xenstore/xenstorevar.h>

enum {
	XENBUS_IVAR_NODE,
	XENBUS_IVAR_TYPE,
	XENBUS_IVAR_STATE,
	XENBUS_IVAR_OTHEREND_ID,
	XENBUS_IVAR_OTHEREND_PATH
};

#define	XENBUS_ACCESSOR(var, ivar, type) \
	__BUS_ACCESSOR(xenbus, var, XENBUS, ivar, type)

XENBUS_ACCESSOR(node,		NODE,			const char *)
XENBUS_ACCESSOR(type,		TYPE,			const char *)
XENBUS_ACCESSOR(state,		STATE,			enum xenbus_state)
XENBUS_ACCESSOR(otherend_id,	OTHEREND_ID,		int)
XENBUS_ACCESSOR(otherend_path,	OTHEREND_PATH,		const char *)

XenbusState xenbus_read_driver_state(const char *path);

static inline XenbusState
xenbus_get_otherend_state(device_t dev)
{
	return (xenbus_read_driver_state(xenbus_get_otherend_path(dev)));
}

int xenbus_grant_ring(device_t dev, unsigned long ring_mfn, grant_ref_t *refp);

void xenbus_dev_error(device_t dev, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void xenbus_dev_fatal(device_t dev, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

const char *xenbus_strstate(enum xenbus_state state);

int xenbus_dev_is_online(device_t dev);

#include "xenbus_if.h"

#endif /* _XEN_XENBUS_XENBUSVAR_H */
