/*
 * xendrvgen OS API contract: sys/dev/pv/xenvar.h.
 *
 * The xen(4) pv bus as a device driver sees it: its attach arguments,
 * event channels (xen_intr_*: a handle is the port number) and XenStore
 * (xs_*: the first argument is the xen(4) softc, the parent device).  Data
 * and ring pages are granted through bus_dma(9) on the attach arguments' DMA
 * tag: a map loaded with the backend's domain id in bits 16 and up of the
 * flags holds grant references in its segments' ds_addr.  Declared: only
 * what the generated driver uses, with the tree's signatures.
 */
#ifndef XENDRVGEN_CONTRACT_OPENBSD_XENVAR_H
#define XENDRVGEN_CONTRACT_OPENBSD_XENVAR_H

#define XEN_MAX_NODE_LEN	64
#define XEN_MAX_BACKEND_LEN	128

struct xen_attach_args {
	char			 xa_name[16];
	char			 xa_node[XEN_MAX_NODE_LEN];
	char			 xa_backend[XEN_MAX_BACKEND_LEN];
	int			 xa_domid;
	bus_dma_tag_t		 xa_dmat;
};

typedef uint32_t xen_intr_handle_t;

void	xen_intr_signal(xen_intr_handle_t);
void	xen_intr_barrier(xen_intr_handle_t);
int	xen_intr_establish(evtchn_port_t, xen_intr_handle_t *, int,
	    void (*)(void *), void *, char *);
int	xen_intr_disestablish(xen_intr_handle_t);
void	xen_intr_mask(xen_intr_handle_t);
int	xen_intr_unmask(xen_intr_handle_t);

#define XEN_UNPLUG_IDE		0x0002
#define XEN_UNPLUG_IDESEC	0x0004

void	xen_unplug_emulated(void *, int);

int	xs_watch(void *, const char *, const char *, struct task *,
	    void (*)(void *), void *);
int	xs_getnum(void *, const char *, const char *, unsigned long long *);
int	xs_setnum(void *, const char *, const char *, unsigned long long);
int	xs_getprop(void *, const char *, const char *, char *, int);
int	xs_setprop(void *, const char *, const char *, char *, int);

#endif /* XENDRVGEN_CONTRACT_OPENBSD_XENVAR_H */
