/*
 * xendrvgen OS API contract: NetBSD sys/lib/libkern/libkern.h (the string
 * and memory functions the generated drivers call).
 */
#ifndef _LIB_LIBKERN_LIBKERN_H_
#define _LIB_LIBKERN_LIBKERN_H_

#include <sys/types.h>

void	*memcpy(void *, const void *, size_t);
int	 memcmp(const void *, const void *, size_t);
void	*memset(void *, int, size_t);
int	 strcmp(const char *, const char *);
int	 strncmp(const char *, const char *, size_t);
size_t	 strlen(const char *);
char	*strchr(const char *, int);
unsigned long strtoul(const char *, char **, int);

#define	ffs(x)		__builtin_ffs(x)

#endif /* _LIB_LIBKERN_LIBKERN_H_ */
