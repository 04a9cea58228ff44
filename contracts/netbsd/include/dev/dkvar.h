/*
 * xendrvgen OS API contract: NetBSD sys/dev/dkvar.h (the dk(4) disk driver
 * helpers that xbd(4) builds on).  struct dk_softc lists the members the
 * generated driver touches, with their kernel types.
 */
#ifndef _DEV_DKVAR_H_
#define _DEV_DKVAR_H_

#include <sys/disk.h>
#include <sys/mutex.h>

struct dk_softc {
	device_t		 sc_dev;
	u_int32_t		 sc_flags;
#define DK_XNAME_SIZE 8
	char			 sc_xname[DK_XNAME_SIZE];
	struct disk		 sc_dkdev;
	kmutex_t		 sc_iolock;
	struct bufq_state	*sc_bufq;
	int			 sc_dtype;
};

/* sc_flags bits dksubr.c owns (the same in every NetBSD since dkvar.h 1.24, 2015). */
#define DKF_INITED		0x00010000
#define DKF_WLABEL		0x00020000
#define DKF_LABELLING		0x00040000
#define DKF_WARNLABEL		0x00080000
#define DKF_LABELSANITY		0x00100000
#define DKF_TAKEDUMP		0x00200000
#define DKF_KLABEL		0x00400000
#define DKF_VLABEL		0x00800000
#define DKF_SLEEP		0x80000000

#define DK_BUSY(_dksc, _pmask)				\
	(((_dksc)->sc_dkdev.dk_openmask & ~(_pmask)) ||	\
	((_dksc)->sc_dkdev.dk_bopenmask & (_pmask)  &&	\
	((_dksc)->sc_dkdev.dk_copenmask & (_pmask))))

void	dk_init(struct dk_softc *, device_t, int);
void	dk_attach(struct dk_softc *);
void	dk_detach(struct dk_softc *);
int	dk_open(struct dk_softc *, dev_t, int, int, struct lwp *);
int	dk_close(struct dk_softc *, dev_t, int, int, struct lwp *);
int	dk_ioctl(struct dk_softc *, dev_t, u_long, void *, int, struct lwp *);
void	dk_strategy(struct dk_softc *, struct buf *);
void	dk_start(struct dk_softc *, struct buf *);
void	dk_done(struct dk_softc *, struct buf *);
int	dk_size(struct dk_softc *, dev_t);
void	dk_set_geometry(struct dk_softc *, struct disk_geom *);

#endif /* _DEV_DKVAR_H_ */
