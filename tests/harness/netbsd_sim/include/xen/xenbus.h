/* Empty: see tests/harness/netbsd_sim/sim.h. */
