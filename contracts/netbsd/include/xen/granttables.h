/*
 * xendrvgen OS API contract: NetBSD sys/arch/xen/include/granttables.h
 * (granting pages to the peer domain).
 */
#ifndef _XEN_GRANTTABLES_H_
#define _XEN_GRANTTABLES_H_

#include <xen/include/public/grant_table.h>

int xengnt_grant_access(domid_t, paddr_t, int, grant_ref_t *);
void xengnt_revoke_access(grant_ref_t);
int xengnt_status(grant_ref_t);

#endif /* _XEN_GRANTTABLES_H_ */
