/* Empty: tests/harness/netbsd_sim/sim.h, force-included, declares what NetBSD's <sys/device.h> gives the drivers. */
