/*
 * xendrvgen OS API contract: FreeBSD sys/xen/gnttab.h (granting pages to
 * the peer, in batches as blkfront does).
 */
#ifndef __ASM_GNTTAB_H__
#define __ASM_GNTTAB_H__

#include <xen/xen-os.h>
#include <xen/hypervisor.h>
#include <contrib/xen/grant_table.h>

#define GNTTAB_LIST_END GRANT_REF_INVALID

struct gnttab_free_callback {
	struct gnttab_free_callback *next;
	void (*fn)(void *);
	void *arg;
	uint16_t count;
};

int gnttab_grant_foreign_access(domid_t domid, unsigned long frame,
    int flags, grant_ref_t *result);

int gnttab_end_foreign_access_ref(grant_ref_t ref);

void gnttab_end_foreign_access_references(u_int count, grant_ref_t *refs);

int gnttab_alloc_grant_references(uint16_t count, grant_ref_t *pprivate_head);

void gnttab_free_grant_reference(grant_ref_t ref);

void gnttab_free_grant_references(grant_ref_t head);

int gnttab_claim_grant_reference(grant_ref_t *pprivate_head);

void gnttab_request_free_callback(struct gnttab_free_callback *callback,
				  void (*fn)(void *), void *arg, uint16_t count);
void gnttab_cancel_free_callback(struct gnttab_free_callback *callback);

void gnttab_grant_foreign_access_ref(grant_ref_t ref, domid_t domid,
				     unsigned long frame, int flags);

#endif /* __ASM_GNTTAB_H__ */
