/*
 * xendrvgen OS API contract: FreeBSD sys/xen/xen-os.h (subset used by the
 * generated drivers).
 */
#ifndef _XEN_XEN_OS_H_
#define _XEN_XEN_OS_H_

#include <contrib/xen/xen.h>
#include <contrib/xen/event_channel.h>

#define GRANT_REF_INVALID   0xffffffff

struct resource *xenmem_alloc(device_t dev, int *res_id, size_t size);
int xenmem_free(device_t dev, int res_id, struct resource *res);

/* Set by the suspend code: the domain did not move and its connections stand. */
extern bool xen_suspend_cancelled;

#ifndef xen_mb
#define xen_mb() mb()
#endif
#ifndef xen_rmb
#define xen_rmb() rmb()
#endif
#ifndef xen_wmb
#define xen_wmb() wmb()
#endif

#endif /* _XEN_XEN_OS_H_ */
