/*
 * xendrvgen OS API contract: NetBSD <sys/bus.h> as x86 defines it
 * (sys/sys/bus.h, sys/sys/bus_proto.h, sys/arch/x86/include/bus_defs.h):
 * the bus_dma(9) types, flags and calls the generated drivers use.
 */
#ifndef _SYS_BUS_H_
#define	_SYS_BUS_H_

#include <sys/types.h>

typedef paddr_t bus_addr_t;
typedef size_t bus_size_t;

typedef struct x86_bus_dma_tag		*bus_dma_tag_t;
typedef struct x86_bus_dmamap		*bus_dmamap_t;

typedef struct x86_bus_dma_segment {
	bus_addr_t	ds_addr;
	bus_size_t	ds_len;
	vaddr_t		_ds_va;
} bus_dma_segment_t;

struct x86_bus_dmamap {
	bus_size_t	_dm_size;
	int		_dm_segcnt;
	bus_size_t	_dm_maxmaxsegsz;
	bus_size_t	_dm_boundary;
	bus_addr_t	_dm_bounce_thresh;
	int		_dm_flags;
	void		*_dm_cookie;
	bus_size_t	dm_maxsegsz;
	bus_size_t	dm_mapsize;
	int		dm_nsegs;
	bus_dma_segment_t dm_segs[1];
};

#define	BUS_DMA_WAITOK		0x000
#define	BUS_DMA_NOWAIT		0x001
#define	BUS_DMA_READ		0x100
#define	BUS_DMA_WRITE		0x200

#define	BUS_DMASYNC_PREREAD	0x01
#define	BUS_DMASYNC_POSTREAD	0x02
#define	BUS_DMASYNC_PREWRITE	0x04
#define	BUS_DMASYNC_POSTWRITE	0x08

int	bus_dmamap_create(bus_dma_tag_t, bus_size_t, int, bus_size_t,
	    bus_size_t, int, bus_dmamap_t *);
void	bus_dmamap_destroy(bus_dma_tag_t, bus_dmamap_t);
int	bus_dmamap_load(bus_dma_tag_t, bus_dmamap_t, void *, bus_size_t,
	    struct proc *, int);
void	bus_dmamap_unload(bus_dma_tag_t, bus_dmamap_t);
void	bus_dmamap_sync(bus_dma_tag_t, bus_dmamap_t, bus_addr_t,
	    bus_size_t, int);

#endif /* _SYS_BUS_H_ */
