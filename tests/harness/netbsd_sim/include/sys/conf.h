/* Empty: tests/harness/netbsd_sim/sim.h, force-included, declares what NetBSD's <sys/conf.h> gives the drivers. */
