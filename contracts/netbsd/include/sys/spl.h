/*
 * xendrvgen OS API contract: NetBSD sys/sys/spl.h, included by the
 * installed <x86/intr.h>.  Nothing of it is used.
 */
#ifndef _SYS_SPL_H_
#define	_SYS_SPL_H_
#endif /* _SYS_SPL_H_ */
