/*
 * xendrvgen OS API contract: sys/lib/libkern/libkern.h (a gap header).
 *
 * The installed <sys/systm.h> includes it under _KERNEL, but a system does
 * not install it.  Only what the generated driver and the installed headers
 * it includes use: the string and memory functions of the kernel's libkern.
 * memcpy(9) is not here: OpenBSD declares it in <sys/systm.h> (installed),
 * beside bcopy and memmove; libkern.h has memset, strlen, strlcpy, strcmp.
 */
#ifndef XENDRVGEN_CONTRACT_OPENBSD_LIBKERN_H
#define XENDRVGEN_CONTRACT_OPENBSD_LIBKERN_H

#include <sys/types.h>

void	*memset(void *, int, size_t);
int	 strcmp(const char *, const char *);
size_t	 strlen(const char *);
size_t	 strlcpy(char *, const char *, size_t);

#endif /* XENDRVGEN_CONTRACT_OPENBSD_LIBKERN_H */
