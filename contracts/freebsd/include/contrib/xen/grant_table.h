/*
 * xendrvgen OS API contract: Xen's public grant_table.h as FreeBSD ships it
 * (sys/contrib/xen/grant_table.h): the grant reference type and the map and
 * unmap operations a backend uses.
 */
#ifndef __XEN_PUBLIC_GRANT_TABLE_H__
#define __XEN_PUBLIC_GRANT_TABLE_H__

#include <contrib/xen/xen.h>

typedef uint32_t grant_ref_t;
typedef uint32_t grant_handle_t;

#define GNTTABOP_map_grant_ref        0
#define GNTTABOP_unmap_grant_ref      1

#define _GNTMAP_device_map      (0)
#define GNTMAP_device_map       (1<<_GNTMAP_device_map)
#define _GNTMAP_host_map        (1)
#define GNTMAP_host_map         (1<<_GNTMAP_host_map)
#define _GNTMAP_readonly        (2)
#define GNTMAP_readonly         (1<<_GNTMAP_readonly)

#define GNTST_okay             (0)

struct gnttab_map_grant_ref {
    /* IN parameters. */
    uint64_t host_addr;
    uint32_t flags;
    grant_ref_t ref;
    domid_t  dom;
    /* OUT parameters. */
    int16_t  status;
    grant_handle_t handle;
    uint64_t dev_bus_addr;
};
typedef struct gnttab_map_grant_ref gnttab_map_grant_ref_t;

struct gnttab_unmap_grant_ref {
    /* IN parameters. */
    uint64_t host_addr;
    uint64_t dev_bus_addr;
    grant_handle_t handle;
    /* OUT parameters. */
    int16_t  status;
};
typedef struct gnttab_unmap_grant_ref gnttab_unmap_grant_ref_t;

#endif /* __XEN_PUBLIC_GRANT_TABLE_H__ */
