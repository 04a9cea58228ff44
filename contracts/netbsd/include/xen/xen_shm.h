/*
 * xendrvgen OS API contract: NetBSD sys/arch/xen/include/xen_shm.h
 * (mapping the frontend's granted pages into a backend's address space).
 */
#ifndef _XEN_XEN_SHM_H_
#define _XEN_XEN_SHM_H_

#include <xen/include/public/grant_table.h>

/* 0x02 in every version of xen_shm.h that could be read (0x01 was XSHM_CALLBACK). */
#define XSHM_RO		0x02

int  xen_shm_map(int, int, grant_ref_t *, vaddr_t, grant_handle_t *, int);
void xen_shm_unmap(vaddr_t, int, grant_handle_t *);

#endif /* _XEN_XEN_SHM_H_ */
