/*
 * xendrvgen OS API contract: NetBSD sys/arch/xen/include/intr.h
 * (establishing a handler on an event channel).
 */
#ifndef _XEN_INTR_H_
#define	_XEN_INTR_H_

#include <machine/intr.h>

struct intrhand;

void *xen_intr_establish_xname(int, struct pic *, int, int, int,
    int (*)(void *), void *, bool, const char *);
void xen_intr_disestablish(struct intrhand *);

#endif /* _XEN_INTR_H_ */
