/*
 * xendrvgen OS API contract: NetBSD sys/arch/xen/include/xenpmap.h (the
 * machine address of a kernel page, which is what a grant names).
 */
#ifndef _XEN_XENPMAP_H_
#define _XEN_XENPMAP_H_

#include <uvm/uvm_pmap.h>

bool	pmap_extract_ma(pmap_t, vaddr_t, paddr_t *);

#endif /* _XEN_XENPMAP_H_ */
