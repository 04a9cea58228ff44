/*
 * xendrvgen OS API contract: NetBSD sys/sys/cpu_data.h.
 *
 * A kernel-only header that the installed <x86/cpu.h> includes but that a
 * system's /usr/include does not carry.  struct cpu_data is embedded in
 * struct cpu_info; the contract declares the members that the installed
 * headers' inline functions and macros reach (the scheduler state and the
 * idle LWP), with the types the kernel gives them.
 */
#ifndef _SYS_CPU_DATA_H_
#define	_SYS_CPU_DATA_H_

struct lwp;

#include <sys/sched.h>
#include <sys/intr.h>

/* In the tree's order: cpu_index leads the cache-hot section, the idle LWP
 * opens the CPU-private one (cpu_data.h 1.54 checked). */
struct cpu_data {
	u_int		cpu_index;
	struct schedstate_percpu cpu_schedstate;
	struct lwp	*cpu_idlelwp;
};

#define	ci_schedstate	ci_data.cpu_schedstate
#define	ci_index	ci_data.cpu_index

#endif /* _SYS_CPU_DATA_H_ */
