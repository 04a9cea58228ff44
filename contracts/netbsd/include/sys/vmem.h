/*
 * xendrvgen OS API contract: NetBSD sys/sys/vmem.h (the types the installed
 * <uvm/uvm_extern.h> uses).
 */
#ifndef _SYS_VMEM_H_
#define	_SYS_VMEM_H_

#include <sys/types.h>

typedef struct vmem vmem_t;
typedef uintptr_t vmem_addr_t;
typedef size_t vmem_size_t;

#endif /* _SYS_VMEM_H_ */
