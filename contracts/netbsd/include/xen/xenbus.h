/*
 * xendrvgen OS API contract: NetBSD sys/arch/xen/include/xenbus.h (the
 * XenBus device, its attach arguments, XenStore access and state changes,
 * and the suspend/resume of a device's link to its other end).
 */
#ifndef _ASM_XEN_XENBUS_H
#define _ASM_XEN_XENBUS_H

#include <sys/device.h>
#include <sys/queue.h>
#include <sys/bus.h>
#include <xen/include/public/grant_table.h>
#include <xen/include/public/event_channel.h>
#include <xen/include/public/io/xenbus.h>

struct xenbusdev_attach_args {
	const char		*xa_type;
	int 			xa_id;
	struct xenbus_device	*xa_xbusd;
	bus_dma_tag_t		xa_dmat;
};

struct xenbus_watch {
	SLIST_ENTRY(xenbus_watch) watch_next;
	char *node;
	void (*xbw_callback)(struct xenbus_watch *,
			 const char **vec, unsigned int len);
	struct xenbus_device *xbw_dev;
};

struct xenbus_device {
	SLIST_ENTRY(xenbus_device) xbusd_entries;
	char *xbusd_otherend;
	int xbusd_otherend_id;
	void (*xbusd_otherend_changed)(void *, XenbusState);
	int xbusd_type;
#define XENBUS_FRONTEND_DEVICE 0
#define XENBUS_BACKEND_DEVICE  1
	union {
		struct {
			device_t f_dev;
		} f;
		struct {
			void *b_cookie;
			int (*b_detach)(void *);
		} b;
	} xbusd_u;
	int xbusd_has_error;
	struct xenbus_watch xbusd_otherend_watch;
	const char xbusd_path[1];
};

struct xenbus_backend_driver {
	SLIST_ENTRY(xenbus_backend_driver) xbakd_entries;
	int (*xbakd_create)(struct xenbus_device *);
	const char *xbakd_type;
};

void xenbus_backend_register(struct xenbus_backend_driver *);

struct xenbus_transaction;

int xenbus_read(struct xenbus_transaction *, const char *, const char *,
    char *, size_t);
int xenbus_read_ul(struct xenbus_transaction *, const char *, const char *,
    unsigned long *, int);
int xenbus_read_ull(struct xenbus_transaction *, const char *, const char *,
    unsigned long long *, int);
int xenbus_write(struct xenbus_transaction *, const char *, const char *,
    const char *);
int xenbus_rm(struct xenbus_transaction *, const char *, const char *);
int xenbus_exists(struct xenbus_transaction *, const char *, const char *);
struct xenbus_transaction *xenbus_transaction_start(void);
int xenbus_transaction_end(struct xenbus_transaction *, int);

int xenbus_printf(struct xenbus_transaction *, const char *, const char *,
    const char *, ...) __printflike(4, 5);

int register_xenbus_watch(struct xenbus_watch *);
void unregister_xenbus_watch(struct xenbus_watch *);

int xenbus_switch_state(struct xenbus_device *, struct xenbus_transaction *,
    XenbusState);
int xenbus_grant_ring(struct xenbus_device *, paddr_t, grant_ref_t *);
int xenbus_alloc_evtchn(struct xenbus_device *, evtchn_port_t *);
XenbusState xenbus_read_driver_state(const char *);
void xenbus_dev_error(struct xenbus_device *, int, const char *, ...);
void xenbus_dev_fatal(struct xenbus_device *, int, const char *, ...);
bool xenbus_device_suspend(struct xenbus_device *);
bool xenbus_device_resume(struct xenbus_device *);

#endif /* _ASM_XEN_XENBUS_H */
