/*
 * xendrvgen OS API contract: NetBSD sys/uvm/pmap/pmap_pvt.h, included by
 * the installed <x86/pmap.h>; nothing of it is used.
 */
#ifndef _UVM_PMAP_PMAP_PVT_H_
#define	_UVM_PMAP_PMAP_PVT_H_
#endif /* _UVM_PMAP_PMAP_PVT_H_ */
