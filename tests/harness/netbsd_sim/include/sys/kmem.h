/* Empty: tests/harness/netbsd_sim/sim.h, force-included, declares what NetBSD's <sys/kmem.h> gives the drivers. */
