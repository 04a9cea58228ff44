/*
 * xendrvgen OS API contract: NetBSD sys/sys/timevar.h, included by the
 * installed <sys/time.h> under _KERNEL.  Nothing of it is used.
 */
#ifndef _SYS_TIMEVAR_H_
#define	_SYS_TIMEVAR_H_
#endif /* _SYS_TIMEVAR_H_ */
