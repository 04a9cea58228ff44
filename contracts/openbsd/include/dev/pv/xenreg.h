/*
 * xendrvgen OS API contract: sys/dev/pv/xenreg.h.
 *
 * OpenBSD keeps its own spelling of the Xen interface here.  Declared: only
 * the types the generated xbf(4) frontend and its protocol header use.
 */
#ifndef XENDRVGEN_CONTRACT_OPENBSD_XENREG_H
#define XENDRVGEN_CONTRACT_OPENBSD_XENREG_H

typedef uint16_t domid_t;
typedef uint32_t evtchn_port_t;
typedef uint32_t grant_ref_t;

#endif /* XENDRVGEN_CONTRACT_OPENBSD_XENREG_H */
