/*
 * xendrvgen OS API contract: NetBSD sys/sys/timearith.h, included by the
 * installed <sys/time.h> under _KERNEL.  The generated drivers use none of
 * its declarations, so the contract holds none.
 */
#ifndef _SYS_TIMEARITH_H_
#define	_SYS_TIMEARITH_H_
#endif /* _SYS_TIMEARITH_H_ */
