/*
 * xendrvgen OS API contract: FreeBSD sys/xen/hypervisor.h with the grant
 * table hypercall it brings in from <machine/xen/hypercall.h>.  In the tree
 * the hypercall is a static inline wrapper; the contract declares the same
 * signature.
 */
#ifndef __XEN_HYPERVISOR_H__
#define __XEN_HYPERVISOR_H__

#include <xen/xen-os.h>

int HYPERVISOR_grant_table_op(unsigned int cmd, void *uop, unsigned int count);

#endif /* __XEN_HYPERVISOR_H__ */
