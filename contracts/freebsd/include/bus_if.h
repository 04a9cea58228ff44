/*
 * xendrvgen OS API contract: FreeBSD bus_if.h.
 *
 * Generated in a FreeBSD build from sys/kern/bus_if.m.  Only the instance
 * variable methods are kept: <sys/bus.h>'s __BUS_ACCESSOR, which the xenbus
 * accessors (xenbus_get_node() and friends) expand to, calls them.
 */
#ifndef _bus_if_h_
#define _bus_if_h_

extern struct kobjop_desc bus_read_ivar_desc;
typedef int bus_read_ivar_t(device_t _dev, device_t _child, int _indx,
                            uintptr_t *_result);

static __inline int BUS_READ_IVAR(device_t _dev, device_t _child, int _indx,
                                  uintptr_t *_result)
{
	kobjop_t _m;
	int rc;
	KOBJOPLOOKUP(((kobj_t)_dev)->ops,bus_read_ivar);
	rc = ((bus_read_ivar_t *) _m)(_dev, _child, _indx, _result);
	return (rc);
}

extern struct kobjop_desc bus_write_ivar_desc;
typedef int bus_write_ivar_t(device_t _dev, device_t _child, int _indx,
                             uintptr_t _value);

static __inline int BUS_WRITE_IVAR(device_t _dev, device_t _child, int _indx,
                                   uintptr_t _value)
{
	kobjop_t _m;
	int rc;
	KOBJOPLOOKUP(((kobj_t)_dev)->ops,bus_write_ivar);
	rc = ((bus_write_ivar_t *) _m)(_dev, _child, _indx, _value);
	return (rc);
}

#endif /* _bus_if_h_ */
