/*
 * xendrvgen OS API contract: Xen's public io/ring.h as FreeBSD ships it
 * (sys/contrib/xen/io/ring.h): the shared ring types and the ring macros the
 * generated drivers use.  The generated blkif.h includes it as "ring.h".
 * The macro bodies are the interface: token for token those of the tree.
 */
#ifndef __XEN_PUBLIC_IO_RING_H__
#define __XEN_PUBLIC_IO_RING_H__

typedef unsigned int RING_IDX;

/* Round a 32-bit constant down to a power of two. */
#define __RD2(_x)  (((_x) & 0x00000002) ? 0x2 : ((_x) & 0x1))
#define __RD4(_x)  (((_x) & 0x0000000c) ? __RD2((_x)>>2)<<2 : __RD2(_x))
#define __RD8(_x)  (((_x) & 0x000000f0) ? __RD4((_x)>>4)<<4 : __RD4(_x))
#define __RD16(_x) (((_x) & 0x0000ff00) ? __RD8((_x)>>8)<<8 : __RD8(_x))
#define __RD32(_x) (((_x) & 0xffff0000) ? __RD16((_x)>>16)<<16 : __RD16(_x))

/* Entries of a ring of _sz bytes, by ring tag or by pointer. */
#define __CONST_RING_SIZE(_s, _sz) \
    (__RD32(((_sz) - offsetof(struct _s##_sring, ring)) / \
	    sizeof(((struct _s##_sring *)0)->ring[0])))
#define __RING_SIZE(_s, _sz) \
    (__RD32(((_sz) - (long)(_s)->ring + (long)(_s)) / sizeof((_s)->ring[0])))

/* The shared page, and each end's private indexes. */
#define DEFINE_RING_TYPES(__name, __req_t, __rsp_t) \
union __name##_sring_entry { \
    __req_t req; \
    __rsp_t rsp; \
}; \
struct __name##_sring { \
    RING_IDX req_prod, req_event; \
    RING_IDX rsp_prod, rsp_event; \
    union { \
        struct { \
            uint8_t smartpoll_active; \
        } netif; \
        struct { \
            uint8_t msg; \
        } tapif_user; \
        uint8_t pvt_pad[4]; \
    } pvt; \
    uint8_t __pad[44]; \
    union __name##_sring_entry ring[1]; \
}; \
struct __name##_front_ring { \
    RING_IDX req_prod_pvt; \
    RING_IDX rsp_cons; \
    unsigned int nr_ents; \
    struct __name##_sring *sring; \
}; \
struct __name##_back_ring { \
    RING_IDX rsp_prod_pvt; \
    RING_IDX req_cons; \
    unsigned int nr_ents; \
    struct __name##_sring *sring; \
}; \
typedef struct __name##_sring __name##_sring_t; \
typedef struct __name##_front_ring __name##_front_ring_t; \
typedef struct __name##_back_ring __name##_back_ring_t

#define SHARED_RING_INIT(_s) do { \
    (_s)->req_prod  = (_s)->rsp_prod  = 0; \
    (_s)->req_event = (_s)->rsp_event = 1; \
    (void)memset((_s)->pvt.pvt_pad, 0, sizeof((_s)->pvt.pvt_pad)); \
    (void)memset((_s)->__pad, 0, sizeof((_s)->__pad)); \
} while(0)

#define FRONT_RING_ATTACH(_r, _s, _i, __size) do { \
    (_r)->req_prod_pvt = (_i); \
    (_r)->rsp_cons = (_i); \
    (_r)->nr_ents = __RING_SIZE(_s, __size); \
    (_r)->sring = (_s); \
} while (0)

#define FRONT_RING_INIT(_r, _s, __size) FRONT_RING_ATTACH(_r, _s, 0, __size)

#define BACK_RING_ATTACH(_r, _s, _i, __size) do { \
    (_r)->rsp_prod_pvt = (_i); \
    (_r)->req_cons = (_i); \
    (_r)->nr_ents = __RING_SIZE(_s, __size); \
    (_r)->sring = (_s); \
} while (0)

#define BACK_RING_INIT(_r, _s, __size) BACK_RING_ATTACH(_r, _s, 0, __size)

#define RING_SIZE(_r) \
    ((_r)->nr_ents)

#define RING_FREE_REQUESTS(_r) \
    (RING_SIZE(_r) - ((_r)->req_prod_pvt - (_r)->rsp_cons))

#define RING_FULL(_r) \
    (RING_FREE_REQUESTS(_r) == 0)

/*
 * FreeBSD's copy of ring.h predates Xen's XEN_RING_NR_UNCONSUMED_* helpers:
 * the two tests are spelled out (the GNU C statement-expression form, which
 * the tree selects under __GNUC__).
 */
#define RING_HAS_UNCONSUMED_RESPONSES(_r) \
    ((_r)->sring->rsp_prod - (_r)->rsp_cons)

#define RING_HAS_UNCONSUMED_REQUESTS(_r) ({ \
    unsigned int req = (_r)->sring->req_prod - (_r)->req_cons; \
    unsigned int rsp = RING_SIZE(_r) - \
        ((_r)->req_cons - (_r)->rsp_prod_pvt); \
    req < rsp ? req : rsp; \
})

#define RING_GET_REQUEST(_r, _idx) \
    (&((_r)->sring->ring[((_idx) & (RING_SIZE(_r) - 1))].req))

#define RING_GET_RESPONSE(_r, _idx) \
    (&((_r)->sring->ring[((_idx) & (RING_SIZE(_r) - 1))].rsp))

/* Whether a backend index, or a frontend's producer index, is out of bounds. */
#define RING_REQUEST_CONS_OVERFLOW(_r, _cons) \
    (((_cons) - (_r)->rsp_prod_pvt) >= RING_SIZE(_r))

#define RING_REQUEST_PROD_OVERFLOW(_r, _prod) \
    (((_prod) - (_r)->rsp_prod_pvt) > RING_SIZE(_r))

/* Publish what was queued; _notify says whether the other end must be kicked. */
#define RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(_r, _notify) do { \
    RING_IDX __old = (_r)->sring->req_prod; \
    RING_IDX __new = (_r)->req_prod_pvt; \
    xen_wmb(); \
    (_r)->sring->req_prod = __new; \
    xen_mb(); \
    (_notify) = ((RING_IDX)(__new - (_r)->sring->req_event) < \
                 (RING_IDX)(__new - __old)); \
} while (0)

#define RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(_r, _notify) do { \
    RING_IDX __old = (_r)->sring->rsp_prod; \
    RING_IDX __new = (_r)->rsp_prod_pvt; \
    xen_wmb(); \
    (_r)->sring->rsp_prod = __new; \
    xen_mb(); \
    (_notify) = ((RING_IDX)(__new - (_r)->sring->rsp_event) < \
                 (RING_IDX)(__new - __old)); \
} while (0)

/* Before going idle: arm the event and look once more. */
#define RING_FINAL_CHECK_FOR_REQUESTS(_r, _work_to_do) do { \
    (_work_to_do) = RING_HAS_UNCONSUMED_REQUESTS(_r); \
    if (_work_to_do) break; \
    (_r)->sring->req_event = (_r)->req_cons + 1; \
    xen_mb(); \
    (_work_to_do) = RING_HAS_UNCONSUMED_REQUESTS(_r); \
} while (0)

#define RING_FINAL_CHECK_FOR_RESPONSES(_r, _work_to_do) do { \
    (_work_to_do) = RING_HAS_UNCONSUMED_RESPONSES(_r); \
    if (_work_to_do) break; \
    (_r)->sring->rsp_event = (_r)->rsp_cons + 1; \
    xen_mb(); \
    (_work_to_do) = RING_HAS_UNCONSUMED_RESPONSES(_r); \
} while (0)

#endif /* __XEN_PUBLIC_IO_RING_H__ */
