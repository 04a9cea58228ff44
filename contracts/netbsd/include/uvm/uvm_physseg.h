/*
 * xendrvgen OS API contract: NetBSD sys/uvm/uvm_physseg.h, included by the
 * installed <uvm/uvm_page.h>; nothing of it is used.
 */
#ifndef _UVM_UVM_PHYSSEG_H_
#define _UVM_UVM_PHYSSEG_H_
#endif /* _UVM_UVM_PHYSSEG_H_ */
