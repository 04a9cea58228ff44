/*
 * xendrvgen OS API contract: FreeBSD xenbus_if.h.
 *
 * Generated in a FreeBSD build from sys/xen/xenbus/xenbus_if.m: the methods
 * a XenBus front or back device implements.
 */
#ifndef _xenbus_if_h_
#define _xenbus_if_h_

extern struct kobjop_desc xenbus_otherend_changed_desc;
typedef void xenbus_otherend_changed_t(device_t _dev,
                                       enum xenbus_state _newstate);

extern struct kobjop_desc xenbus_localend_changed_desc;
typedef void xenbus_localend_changed_t(device_t _dev, const char * _path);

#endif /* _xenbus_if_h_ */
