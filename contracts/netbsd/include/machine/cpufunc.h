/*
 * xendrvgen OS API contract: NetBSD <machine/cpufunc.h>, included by
 * installed headers; nothing of it is used.
 */
#ifndef _X86_CPUFUNC_H_
#define	_X86_CPUFUNC_H_
#endif /* _X86_CPUFUNC_H_ */
