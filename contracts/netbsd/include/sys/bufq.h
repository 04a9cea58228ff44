/*
 * xendrvgen OS API contract: NetBSD sys/sys/bufq.h (the buffer queue the
 * dk(4) helpers drain).
 */
#ifndef _SYS_BUFQ_H_
#define	_SYS_BUFQ_H_

struct bufq_state;

#define	BUFQ_SORT_RAWBLOCK	0x0001

int	bufq_alloc(struct bufq_state **, const char *, int);
void	bufq_free(struct bufq_state *);

#endif /* _SYS_BUFQ_H_ */
