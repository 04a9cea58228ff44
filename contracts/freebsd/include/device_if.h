/*
 * xendrvgen OS API contract: FreeBSD device_if.h.
 *
 * The FreeBSD build generates this header from sys/kern/device_if.m with
 * sys/tools/makeobjops.awk.  The contract keeps only the methods the
 * generated drivers implement, spelled as makeobjops.awk spells them.
 * `xendrvgen contract verify --os freebsd --tree SRC` checks it.
 */
#ifndef _device_if_h_
#define _device_if_h_

extern struct kobjop_desc device_probe_desc;
typedef int device_probe_t(device_t dev);

extern struct kobjop_desc device_attach_desc;
typedef int device_attach_t(device_t dev);

extern struct kobjop_desc device_detach_desc;
typedef int device_detach_t(device_t dev);

extern struct kobjop_desc device_shutdown_desc;
typedef int device_shutdown_t(device_t dev);

extern struct kobjop_desc device_suspend_desc;
typedef int device_suspend_t(device_t dev);

extern struct kobjop_desc device_resume_desc;
typedef int device_resume_t(device_t dev);

#endif /* _device_if_h_ */
