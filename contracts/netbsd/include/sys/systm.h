/*
 * xendrvgen OS API contract: NetBSD sys/sys/systm.h (console output and
 * autoconf(9) messages, panics and assertions, seltrue, and the
 * copy function types that installed headers use).
 */
#ifndef _SYS_SYSTM_H_
#define _SYS_SYSTM_H_

#include <sys/types.h>
#include <sys/device_if.h>
#include <lib/libkern/libkern.h>

struct lwp;
struct kmutex;

typedef int	(*copyin_t)(const void *, void *, size_t);
typedef int	(*copyout_t)(const void *, void *, size_t);

void	printf(const char *, ...) __printflike(1, 2);
int	snprintf(char *, size_t, const char *, ...) __printflike(3, 4);
void	panic(const char *, ...) __dead __printflike(1, 2);
void	aprint_normal(const char *, ...) __printflike(1, 2);
void	aprint_naive(const char *, ...) __printflike(1, 2);
void	aprint_verbose(const char *, ...) __printflike(1, 2);

void	aprint_normal_dev(device_t, const char *, ...) __printflike(2, 3);
void	aprint_error_dev(device_t, const char *, ...) __printflike(2, 3);
void	aprint_verbose_dev(device_t, const char *, ...) __printflike(2, 3);

int	seltrue(dev_t, int, struct lwp *);

#endif /* _SYS_SYSTM_H_ */
