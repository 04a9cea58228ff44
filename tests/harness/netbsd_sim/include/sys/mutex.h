/* Empty: tests/harness/netbsd_sim/sim.h, force-included, declares what NetBSD's <sys/mutex.h> gives the drivers. */
