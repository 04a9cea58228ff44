/*
 * A host simulation of what the generated EDK2 XenPvBlkDxe driver runs on:
 * boot services (memory, events, Stall, the protocol database), OVMF's
 * XENBUS_PROTOCOL over an in-memory XenStore, a grant table that knows which
 * grants the backend maps, event channels, and a backend that follows the
 * protocol's close rule (it mirrors Closing and keeps serving; it lets go of
 * the ring only once the frontend is Closed) and serves requests on a RAM
 * disk.  Linked with the generated XenPvBlkDxe.c (built for the host against
 * contracts/edk2), driven by tests/test_edk2_lifecycle.py.
 *
 * Usage: edk2_uefi_sim SCENARIO [key=value...]
 *   SCENARIO  stop (DriverBindingStop), ebs (ExitBootServices), stop-ebs (the
 *             one, then the other), io4k (I/O only); any of them ends early,
 *             after a settle, if Start fails
 *   persistent=1   the backend offers persistent grants (data pages stay mapped)
 *   delay=N        the backend needs N polls to let go once the frontend is Closed
 *   dead=1         the backend stops reacting once connected
 *   bus=0          at ExitBootServices, OVMF's XenBus driver does not disconnect
 *   nosectors=1    the backend publishes no sectors node (Start fails once connected)
 *   sector=N sectors=N strict=1   sector-size, sectors (512-byte units), and a
 *                  backend that refuses segments or requests not made of whole
 *                  sector-size blocks (as one that serves each segment alone)
 *
 * It prints key=value lines; "violation: ..." lines name what went wrong.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#undef NULL
#include <Uefi.h>
#include <Library/BaseLib.h>
#include <Library/BaseMemoryLib.h>
#include <Library/DebugLib.h>
#include <Library/MemoryAllocationLib.h>
#include <Library/PrintLib.h>
#include <Library/UefiBootServicesTableLib.h>
#include <Library/UefiLib.h>
#include <Protocol/BlockIo.h>
#include <Protocol/DriverBinding.h>
#include <Protocol/XenBus.h>
#include <IndustryStandard/Xen/io/blkif.h>

EFI_STATUS EFIAPI XenPvBlkDxeDriverEntryPoint (EFI_HANDLE ImageHandle, EFI_SYSTEM_TABLE *SystemTable);

#define FE_DIR   "device/vbd/768"
#define BE_DIR   "backend/vbd/0/768"
#define PAGE     4096u
#define NGRANT   4096
#define HANG     200000               /* watch waits without any change: the driver hangs */

/* ------------------------------------------------------------------ */
/* What the test reads back                                            */
/* ------------------------------------------------------------------ */

static struct {
  unsigned end_while_mapped;          /* GrantEndAccess of a grant the backend maps */
  unsigned end_unknown;               /* GrantEndAccess of a grant not active */
  unsigned free_granted;              /* FreePages of memory still granted */
  unsigned free_mapped;               /* FreePages of memory the backend maps */
  unsigned bad_free;                  /* FreePages of memory not allocated so */
  unsigned ebs_mem;                   /* memory services inside an ExitBootServices notification */
  unsigned bad_segments;              /* segments or requests not of whole sector-size blocks */
  unsigned bad_requests;              /* requests the backend refused for any other reason */
} v;

static int       in_ebs;
static long      active_at_ebs_end = -1;
static uint64_t  clock_us;
static char      fe_history[256];
static char      last_log[4096];

static void
violation (const char *what, unsigned *counter)
{
  (*counter)++;
  printf ("violation: %s\n", what);
}

/* ------------------------------------------------------------------ */
/* EDK2 format strings (%a, %r, %Lu, ...) for DEBUG and XsPrintf        */
/* ------------------------------------------------------------------ */

static void
format (char *out, size_t len, const char *fmt, va_list ap)
{
  size_t at = 0;
  char   spec[16];

  #define PUT(...)  do { int n_ = snprintf (out + at, len - at, __VA_ARGS__); \
                         if (n_ > 0) at = (at + n_ < len) ? at + n_ : len - 1; } while (0)
  for ( ; *fmt != '\0' && at + 1 < len; fmt++) {
    int wide = 0, k = 0;
    if (*fmt != '%') {
      out[at++] = *fmt;
      continue;
    }
    fmt++;
    spec[k++] = '%';
    while ((*fmt == '-' || *fmt == '0' || (*fmt >= '1' && *fmt <= '9')) && k < 8) {
      spec[k++] = *fmt++;
    }
    while (*fmt == 'L' || *fmt == 'l') {
      wide = 1;
      fmt++;
    }
    switch (*fmt) {
      case 'a': spec[k++] = 's'; spec[k] = 0; PUT (spec, va_arg (ap, const char *)); break;
      case 'r': PUT ("status 0x%llx", (unsigned long long)va_arg (ap, UINTN)); break;
      case 'p': PUT ("%p", va_arg (ap, void *)); break;
      case 'd': case 'u': case 'x': case 'X':
        spec[k++] = 'l'; spec[k++] = 'l'; spec[k++] = *fmt; spec[k] = 0;
        if (wide) {
          PUT (spec, va_arg (ap, unsigned long long));
        } else if (*fmt == 'd') {
          PUT (spec, (long long)va_arg (ap, int));
        } else {
          PUT (spec, (unsigned long long)va_arg (ap, unsigned));
        }
        break;
      case '%': out[at++] = '%'; break;
      default: PUT ("<%%%c?>", *fmt); break;
    }
  }
  out[at] = '\0';
  #undef PUT
}

/* ------------------------------------------------------------------ */
/* Libraries                                                           */
/* ------------------------------------------------------------------ */

VOID EFIAPI MemoryFence (VOID) { __sync_synchronize (); }
UINT64 EFIAPI LShiftU64 (UINT64 Operand, UINTN Count) { return Operand << Count; }
UINT64 EFIAPI MultU64x32 (UINT64 Multiplicand, UINT32 Multiplier) { return Multiplicand * Multiplier; }
UINT64 EFIAPI DivU64x32 (UINT64 Dividend, UINT32 Divisor) { return Dividend / Divisor; }
UINTN EFIAPI AsciiStrLen (CONST CHAR8 *String) { return strlen (String); }
VOID * EFIAPI CopyMem (VOID *D, CONST VOID *S, UINTN L) { return memmove (D, S, L); }
/* The contract's ring.h defines memset as SetMem: the builtin, here. */
VOID * EFIAPI ZeroMem (VOID *B, UINTN L) { return __builtin_memset (B, 0, L); }
VOID * EFIAPI SetMem (VOID *B, UINTN L, UINT8 V) { return __builtin_memset (B, V, L); }

UINTN EFIAPI
AsciiSPrint (CHAR8 *Buf, UINTN Size, CONST CHAR8 *Fmt, ...)
{
  va_list ap;

  va_start (ap, Fmt);
  format (Buf, Size, Fmt, ap);
  va_end (ap);
  return strlen (Buf);
}

BOOLEAN EFIAPI DebugAssertEnabled (VOID) { return TRUE; }
BOOLEAN EFIAPI DebugPrintEnabled (VOID) { return TRUE; }
BOOLEAN EFIAPI DebugPrintLevelEnabled (CONST UINTN ErrorLevel) { return TRUE; }

VOID EFIAPI
DebugAssert (CONST CHAR8 *File, UINTN Line, CONST CHAR8 *Description)
{
  fprintf (stderr, "ASSERT %s:%llu: %s\n", File, (unsigned long long)Line, Description);
  abort ();
}

VOID EFIAPI
DebugPrint (UINTN Level, CONST CHAR8 *Fmt, ...)
{
  char    line[512];
  va_list ap;

  va_start (ap, Fmt);
  format (line, sizeof line, Fmt, ap);
  va_end (ap);
  fprintf (stderr, "DEBUG: %s", line);
  if (strlen (last_log) + strlen (line) + 1 < sizeof last_log) {
    strcat (last_log, line);
  }
}

/* ------------------------------------------------------------------ */
/* Grant table                                                         */
/* ------------------------------------------------------------------ */

static struct {
  int        active;
  domid_t    dom;
  UINTN      frame;
  int        ro;
  int        mapped;                  /* by the backend */
} gt[NGRANT];

static unsigned
active_grants (void)
{
  unsigned n = 0, i;

  for (i = 0; i < NGRANT; i++) {
    n += gt[i].active != 0;
  }
  return n;
}

static unsigned
mapped_grants (void)
{
  unsigned n = 0, i;

  for (i = 0; i < NGRANT; i++) {
    n += gt[i].mapped != 0;
  }
  return n;
}

/* The backend maps a grant: its page, or NULL when it may not. */
static void *
be_map (grant_ref_t ref, int write)
{
  if (ref >= NGRANT || !gt[ref].active || gt[ref].dom != 0 || (write && gt[ref].ro)) {
    return NULL;
  }
  gt[ref].mapped++;
  return (void *)(uintptr_t)(gt[ref].frame << 12);
}

static void
be_unmap (grant_ref_t ref)
{
  if (ref < NGRANT && gt[ref].mapped > 0) {
    gt[ref].mapped--;
  }
}

/* ------------------------------------------------------------------ */
/* Memory services                                                     */
/* ------------------------------------------------------------------ */

static struct { void *p; UINTN pages; } regions[1024];

static void
memory_service (void)
{
  if (in_ebs) {
    violation ("a memory service used in an ExitBootServices notification", &v.ebs_mem);
  }
}

VOID * EFIAPI
AllocatePages (UINTN Pages)
{
  unsigned i;
  void     *p;

  memory_service ();
  p = aligned_alloc (PAGE, Pages * PAGE);
  memset (p, 0xa5, Pages * PAGE);
  for (i = 0; i < 1024 && regions[i].p != NULL; i++) {
  }
  regions[i].p     = p;
  regions[i].pages = Pages;
  return p;
}

VOID EFIAPI
FreePages (VOID *Buffer, UINTN Pages)
{
  UINTN    lo, hi;
  unsigned i;

  memory_service ();
  for (i = 0; i < 1024 && regions[i].p != Buffer; i++) {
  }
  if (i == 1024 || regions[i].pages != Pages) {
    violation ("FreePages of memory not allocated so", &v.bad_free);
    return;
  }
  regions[i].p = NULL;
  lo = (UINTN)Buffer >> 12;
  hi = lo + Pages;
  for (i = 0; i < NGRANT; i++) {
    if (gt[i].active && gt[i].frame >= lo && gt[i].frame < hi) {
      violation ("FreePages of a page still granted", &v.free_granted);
      if (gt[i].mapped) {
        violation ("FreePages of a page the backend maps", &v.free_mapped);
        return;                         /* keep it: the backend still writes there */
      }
    }
  }
  free (Buffer);
}

VOID * EFIAPI
AllocateZeroPool (UINTN Size)
{
  memory_service ();
  return calloc (1, Size ? Size : 1);
}

VOID EFIAPI
FreePool (VOID *Buffer)
{
  memory_service ();
  free (Buffer);
}

/* ------------------------------------------------------------------ */
/* XenStore                                                            */
/* ------------------------------------------------------------------ */

static struct { char path[160]; char val[160]; } xs[512], staged[128];
static int nstaged;

static const char *
xs_get (const char *path)
{
  int i;

  for (i = 0; i < 512; i++) {
    if (xs[i].path[0] != '\0' && strcmp (xs[i].path, path) == 0) {
      return xs[i].val;
    }
  }
  return NULL;
}

static void
xs_set (const char *path, const char *val)
{
  int i, free_slot = -1;

  for (i = 0; i < 512; i++) {
    if (xs[i].path[0] != '\0' && strcmp (xs[i].path, path) == 0) {
      snprintf (xs[i].val, sizeof xs[i].val, "%s", val);
      return;
    }
    if (xs[i].path[0] == '\0' && free_slot < 0) {
      free_slot = i;
    }
  }
  snprintf (xs[free_slot].path, sizeof xs[free_slot].path, "%s", path);
  snprintf (xs[free_slot].val, sizeof xs[free_slot].val, "%s", val);
}

static void
xs_setf (const char *dir, const char *node, const char *fmt, ...)
{
  char    path[160], val[160];
  va_list ap;

  snprintf (path, sizeof path, "%s/%s", dir, node);
  va_start (ap, fmt);
  vsnprintf (val, sizeof val, fmt, ap);
  va_end (ap);
  xs_set (path, val);
}

static long long
xs_num (const char *dir, const char *node, long long absent)
{
  char       path[160];
  const char *val;

  snprintf (path, sizeof path, "%s/%s", dir, node);
  val = xs_get (path);
  return val != NULL ? atoll (val) : absent;
}

/* ------------------------------------------------------------------ */
/* The backend                                                         */
/* ------------------------------------------------------------------ */

static struct {
  int                 state;
  int                 changes;          /* state writes, for watches */
  int                 persistent, delay, dead, strict, no_sectors;
  int                 countdown;
  unsigned            sector_size;
  unsigned long long  sectors;
  uint8_t             *disk;
  /* the connection */
  grant_ref_t         ring_refs[16];
  unsigned            ring_pages;
  blkif_back_ring_t   ring;
  int                 connected;
  grant_ref_t         kept[1024];       /* persistent grants kept mapped */
  unsigned            nkept;
  unsigned            requests;
} be;

static void
be_set_state (int state)
{
  be.state = state;
  be.changes++;
  xs_setf (BE_DIR, "state", "%d", state);
}

static void
be_publish_features (void)
{
  xs_setf (BE_DIR, "feature-flush-cache", "1");
  xs_setf (BE_DIR, "feature-persistent", "%d", be.persistent);
  xs_setf (BE_DIR, "max-ring-page-order", "2");
}

static void
be_unmap_all (void)
{
  unsigned i;

  if (be.connected) {
    for (i = 0; i < be.ring_pages; i++) {
      be_unmap (be.ring_refs[i]);
    }
  }
  for (i = 0; i < be.nkept; i++) {
    be_unmap (be.kept[i]);
  }
  be.nkept     = 0;
  be.connected = 0;
}

static int
be_connect (void)
{
  unsigned order, i;
  char     node[32];
  void     *first = NULL;

  order         = (unsigned)xs_num (FE_DIR, "ring-page-order", 0);
  be.ring_pages = 1u << order;
  for (i = 0; i < be.ring_pages; i++) {
    long long ref;
    void      *page;

    snprintf (node, sizeof node, order == 0 ? "ring-ref" : "ring-ref%u", i);
    ref = xs_num (FE_DIR, node, -1);
    if (ref < 0 || (page = be_map ((grant_ref_t)ref, 1)) == NULL) {
      printf ("backend: cannot map %s\n", node);
      return 0;
    }
    if (i == 0) {
      first = page;
    } else if ((char *)page != (char *)first + i * PAGE) {
      printf ("backend: ring pages not contiguous\n");
      return 0;
    }
    be.ring_refs[i] = (grant_ref_t)ref;
  }
  BACK_RING_INIT (&be.ring, (blkif_sring_t *)first, be.ring_pages * PAGE);
  be.connected = 1;
  if (!be.no_sectors) {
    xs_setf (BE_DIR, "sectors", "%llu", be.sectors);
  }
  xs_setf (BE_DIR, "sector-size", "%u", be.sector_size);
  xs_setf (BE_DIR, "info", "0");
  return 1;
}

/* The backend gets some time: it reacts to the frontend's state. */
static void
be_tick (void)
{
  int fe = (int)xs_num (FE_DIR, "state", 0);

  if (be.dead && be.state == XenbusStateConnected) {
    return;
  }
  switch (fe) {
    case XenbusStateInitialising:
      if (be.state == XenbusStateConnected || be.state == XenbusStateClosing || be.state == XenbusStateClosed) {
        be_unmap_all ();                /* the frontend restarted: offer the features again */
        be_publish_features ();
        be_set_state (XenbusStateInitWait);
      }
      break;
    case XenbusStateInitialised:
    case XenbusStateConnected:
      if (be.state == XenbusStateInitWait && be_connect ()) {
        be_set_state (XenbusStateConnected);
      }
      break;
    case XenbusStateClosing:
      if (be.state == XenbusStateInitWait || be.state == XenbusStateConnected) {
        be_set_state (XenbusStateClosing);   /* mirror it, keep serving */
      }
      break;
    case XenbusStateClosed:
      if (be.state == XenbusStateInitWait || be.state == XenbusStateConnected || be.state == XenbusStateClosing) {
        if (be.countdown-- > 0) {
          break;
        }
        be_unmap_all ();                /* the frontend let go: so do we */
        be_set_state (XenbusStateClosed);
      }
      break;
    default:
      break;
  }
  if (fe != XenbusStateClosed) {
    be.countdown = be.delay;
  }
}

static int16_t
be_rw (const struct blkif_request *r)
{
  unsigned long long at = r->sector_number * 512ull, size = be.sectors * 512ull;
  unsigned           i, done = 0;
  int                write = r->operation == BLKIF_OP_WRITE;

  if (r->nr_segments == 0 || r->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
    return BLKIF_RSP_ERROR;
  }
  if (at % be.sector_size != 0) {
    violation ("a request that does not start on a sector-size block", &v.bad_segments);
    if (be.strict) {
      return BLKIF_RSP_ERROR;
    }
  }
  for (i = 0; i < r->nr_segments; i++) {
    const struct blkif_request_segment *s = &r->seg[i];
    unsigned bytes = (s->last_sect - s->first_sect + 1u) * 512u;
    uint8_t  *page;
    unsigned j, known = 0;

    if (s->last_sect < s->first_sect || s->last_sect >= PAGE / 512 || at + done + bytes > size) {
      v.bad_requests++;
      return BLKIF_RSP_ERROR;
    }
    if (bytes % be.sector_size != 0) {
      violation ("a segment that is not whole sector-size blocks", &v.bad_segments);
      if (be.strict) {
        return BLKIF_RSP_ERROR;
      }
    }
    for (j = 0; j < be.nkept; j++) {
      known |= be.kept[j] == s->gref;
    }
    /* A read from the disk writes the page. */
    page = known ? (uint8_t *)(uintptr_t)(gt[s->gref].frame << 12) : be_map (s->gref, !write);
    if (page == NULL) {
      v.bad_requests++;
      return BLKIF_RSP_ERROR;
    }
    if (write) {
      memcpy (be.disk + at + done, page + s->first_sect * 512u, bytes);
    } else {
      memcpy (page + s->first_sect * 512u, be.disk + at + done, bytes);
    }
    if (be.persistent && !known) {
      be.kept[be.nkept++] = s->gref;  /* kept mapped until the ring goes */
    } else if (!known) {
      be_unmap (s->gref);
    }
    done += bytes;
  }
  if (done % be.sector_size != 0) {
    violation ("a request that is not whole sector-size blocks", &v.bad_segments);
    if (be.strict) {
      return BLKIF_RSP_ERROR;
    }
  }
  return BLKIF_RSP_OKAY;
}

static void
be_serve (void)
{
  RING_IDX rp;

  if (!be.connected || (be.state != XenbusStateConnected && be.state != XenbusStateClosing)) {
    return;
  }
  rp = be.ring.sring->req_prod;
  MemoryFence ();
  while (be.ring.req_cons != rp) {
    struct blkif_request  r;
    struct blkif_response *rsp;

    memcpy (&r, RING_GET_REQUEST (&be.ring, be.ring.req_cons), sizeof r);
    be.ring.req_cons++;
    be.requests++;
    rsp            = RING_GET_RESPONSE (&be.ring, be.ring.rsp_prod_pvt);
    rsp->id        = r.id;
    rsp->operation = r.operation;
    switch (r.operation) {
      case BLKIF_OP_READ:
      case BLKIF_OP_WRITE:
        rsp->status = be_rw (&r);
        break;
      case BLKIF_OP_FLUSH_DISKCACHE:
        rsp->status = BLKIF_RSP_OKAY;
        break;
      default:
        rsp->status = BLKIF_RSP_EOPNOTSUPP;
        break;
    }
    be.ring.rsp_prod_pvt++;
  }
  RING_PUSH_RESPONSES (&be.ring);
  be.ring.sring->req_event = be.ring.req_cons + 1;
}

/* ------------------------------------------------------------------ */
/* XENBUS_PROTOCOL                                                     */
/* ------------------------------------------------------------------ */

static XENSTORE_STATUS EFIAPI
SimXsRead (XENBUS_PROTOCOL *This, CONST XENSTORE_TRANSACTION *T, CONST CHAR8 *Node, VOID **Result)
{
  char       path[160];
  const char *val;

  snprintf (path, sizeof path, "%s/%s", This->Node, Node);
  val = xs_get (path);
  if (val == NULL) {
    return XENSTORE_STATUS_ENOENT;
  }
  *Result = strdup (val);               /* the caller frees it with FreePool, as with OVMF */
  return XENSTORE_STATUS_SUCCESS;
}

static XENSTORE_STATUS EFIAPI
SimXsBackendRead (XENBUS_PROTOCOL *This, CONST XENSTORE_TRANSACTION *T, CONST CHAR8 *Node, VOID **Result)
{
  char       path[160];
  const char *val;

  be_tick ();
  snprintf (path, sizeof path, "%s/%s", This->Backend, Node);
  val = xs_get (path);
  if (val == NULL) {
    return XENSTORE_STATUS_ENOENT;
  }
  *Result = strdup (val);
  return XENSTORE_STATUS_SUCCESS;
}

static void
xs_write (CONST XENSTORE_TRANSACTION *T, const char *path, const char *val)
{
  if (T == NULL) {
    xs_set (path, val);
    return;
  }
  snprintf (staged[nstaged].path, sizeof staged[0].path, "%s", path);
  snprintf (staged[nstaged].val, sizeof staged[0].val, "%s", val);
  nstaged++;
}

static XENSTORE_STATUS EFIAPI
SimXsPrintf (XENBUS_PROTOCOL *This, CONST XENSTORE_TRANSACTION *T, CONST CHAR8 *Dir, CONST CHAR8 *Node,
             CONST CHAR8 *Fmt, ...)
{
  char    path[160], val[160];
  va_list ap;

  va_start (ap, Fmt);
  format (val, sizeof val, Fmt, ap);
  va_end (ap);
  snprintf (path, sizeof path, "%s/%s", Dir, Node);
  xs_write (T, path, val);
  return XENSTORE_STATUS_SUCCESS;
}

static XENSTORE_STATUS EFIAPI
SimXsRemove (XENBUS_PROTOCOL *This, CONST XENSTORE_TRANSACTION *T, CONST CHAR8 *Node)
{
  char path[160];
  int  i;

  snprintf (path, sizeof path, "%s/%s", This->Node, Node);
  for (i = 0; i < 512; i++) {
    if (strcmp (xs[i].path, path) == 0) {
      xs[i].path[0] = '\0';
    }
  }
  return XENSTORE_STATUS_SUCCESS;
}

static XENSTORE_STATUS EFIAPI
SimXsTransactionStart (XENBUS_PROTOCOL *This, XENSTORE_TRANSACTION *T)
{
  T->Id   = 1;
  nstaged = 0;
  return XENSTORE_STATUS_SUCCESS;
}

static XENSTORE_STATUS EFIAPI
SimXsTransactionEnd (XENBUS_PROTOCOL *This, CONST XENSTORE_TRANSACTION *T, BOOLEAN Abort)
{
  int i;

  for (i = 0; !Abort && i < nstaged; i++) {
    xs_set (staged[i].path, staged[i].val);
  }
  nstaged = 0;
  return XENSTORE_STATUS_SUCCESS;
}

static XENSTORE_STATUS EFIAPI
SimSetState (XENBUS_PROTOCOL *This, CONST XENSTORE_TRANSACTION *T, XenBusState State)
{
  char path[160], val[16];

  snprintf (path, sizeof path, "%s/state", This->Node);
  snprintf (val, sizeof val, "%d", (int)State);
  xs_write (T, path, val);
  snprintf (fe_history + strlen (fe_history), sizeof fe_history - strlen (fe_history), "%s%d",
            fe_history[0] ? "," : "", (int)State);
  return XENSTORE_STATUS_SUCCESS;
}

static EFI_STATUS EFIAPI
SimGrantAccess (XENBUS_PROTOCOL *This, domid_t Dom, UINTN Frame, BOOLEAN ReadOnly, grant_ref_t *Ref)
{
  grant_ref_t i;

  for (i = 8; i < NGRANT && gt[i].active; i++) {
  }
  if (i == NGRANT) {
    return EFI_OUT_OF_RESOURCES;
  }
  gt[i].active = 1;
  gt[i].dom    = Dom;
  gt[i].frame  = Frame;
  gt[i].ro     = ReadOnly;
  gt[i].mapped = 0;
  *Ref         = i;
  return EFI_SUCCESS;
}

/* As OVMF's: a grant still in use by the other end is refused. */
static EFI_STATUS EFIAPI
SimGrantEndAccess (XENBUS_PROTOCOL *This, grant_ref_t Ref)
{
  if (Ref >= NGRANT || !gt[Ref].active) {
    violation ("GrantEndAccess of a grant not active", &v.end_unknown);
    return EFI_INVALID_PARAMETER;
  }
  if (gt[Ref].mapped) {
    violation ("GrantEndAccess of a grant the backend still maps", &v.end_while_mapped);
    return EFI_NOT_READY;
  }
  gt[Ref].active = 0;
  return EFI_SUCCESS;
}

static evtchn_port_t next_port = 5;

static UINT32 EFIAPI
SimEventChannelAllocate (XENBUS_PROTOCOL *This, domid_t Dom, evtchn_port_t *Port)
{
  *Port = next_port++;
  return 0;
}

static UINT32 EFIAPI
SimEventChannelNotify (XENBUS_PROTOCOL *This, evtchn_port_t Port)
{
  be_serve ();
  return 0;
}

static UINT32 EFIAPI
SimEventChannelClose (XENBUS_PROTOCOL *This, evtchn_port_t Port)
{
  return 0;
}

static int watch_token;

static XENSTORE_STATUS EFIAPI
SimRegisterWatch (XENBUS_PROTOCOL *This, CONST CHAR8 *Node, VOID **Token)
{
  *Token = &watch_token;
  return XENSTORE_STATUS_SUCCESS;
}

static VOID EFIAPI
SimUnregisterWatch (XENBUS_PROTOCOL *This, VOID *Token)
{
}

static void report (void);

/* Wait until the backend changes its state; a driver that waits for a change that never comes hangs. */
static XENSTORE_STATUS EFIAPI
SimWaitForWatch (XENBUS_PROTOCOL *This, VOID *Token)
{
  int before = be.changes, n;

  for (n = 0; n < HANG; n++) {
    be_tick ();
    if (be.changes != before) {
      return XENSTORE_STATUS_SUCCESS;
    }
  }
  printf ("hang=1\n");
  report ();
  exit (3);
}

static XENBUS_PROTOCOL xenbus = {
  SimXsRead, SimXsBackendRead, SimXsPrintf, SimXsRemove, SimXsTransactionStart, SimXsTransactionEnd,
  SimSetState, SimGrantAccess, SimGrantEndAccess, SimEventChannelAllocate, SimEventChannelNotify,
  SimEventChannelClose, SimRegisterWatch, SimRegisterWatch, SimUnregisterWatch, SimWaitForWatch,
  "vbd", 768, FE_DIR, BE_DIR
};

/* ------------------------------------------------------------------ */
/* Boot services                                                       */
/* ------------------------------------------------------------------ */

EFI_GUID  gXenBusProtocolGuid;
EFI_GUID  gEfiBlockIoProtocolGuid;
EFI_GUID  gEfiDriverBindingProtocolGuid;

static int                          controller;      /* the XenBus device's handle */
static EFI_DRIVER_BINDING_PROTOCOL  *binding;
static EFI_BLOCK_IO_PROTOCOL        *blockio;
static int                          started;

static struct { int used; UINT32 type; EFI_TPL tpl; EFI_EVENT_NOTIFY fn; VOID *ctx; } events[16];

static EFI_STATUS EFIAPI
SimCreateEvent (UINT32 Type, EFI_TPL Tpl, EFI_EVENT_NOTIFY Fn, VOID *Ctx, EFI_EVENT *Event)
{
  int i;

  memory_service ();
  for (i = 0; i < 16 && events[i].used; i++) {
  }
  events[i].used = 1;
  events[i].type = Type;
  events[i].tpl  = Tpl;
  events[i].fn   = Fn;
  events[i].ctx  = Ctx;
  *Event         = &events[i];
  return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI
SimCloseEvent (EFI_EVENT Event)
{
  memory_service ();                    /* it frees the event */
  ((typeof (&events[0]))Event)->used = 0;
  return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI
SimStall (UINTN Microseconds)
{
  clock_us += Microseconds;
  be_tick ();
  return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI
SimOpenProtocol (EFI_HANDLE Handle, EFI_GUID *Protocol, VOID **Interface, EFI_HANDLE Agent,
                 EFI_HANDLE Controller, UINT32 Attributes)
{
  if (Handle != &controller) {
    return EFI_UNSUPPORTED;
  }
  if (Protocol == &gXenBusProtocolGuid) {
    *Interface = &xenbus;
    return EFI_SUCCESS;
  }
  if (Protocol == &gEfiBlockIoProtocolGuid && blockio != NULL) {
    *Interface = blockio;
    return EFI_SUCCESS;
  }
  return EFI_UNSUPPORTED;
}

static EFI_STATUS EFIAPI
SimCloseProtocol (EFI_HANDLE Handle, EFI_GUID *Protocol, EFI_HANDLE Agent, EFI_HANDLE Controller)
{
  return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI
SimInstallMultiple (EFI_HANDLE *Handle, ...)
{
  va_list  ap;
  EFI_GUID *guid;

  va_start (ap, Handle);
  while ((guid = va_arg (ap, EFI_GUID *)) != NULL) {
    VOID *iface = va_arg (ap, VOID *);
    if (guid == &gEfiBlockIoProtocolGuid) {
      blockio = iface;
    }
  }
  va_end (ap);
  return EFI_SUCCESS;
}

static EFI_STATUS EFIAPI
SimUninstallMultiple (EFI_HANDLE Handle, ...)
{
  va_list  ap;
  EFI_GUID *guid;

  va_start (ap, Handle);
  while ((guid = va_arg (ap, EFI_GUID *)) != NULL) {
    VOID *iface = va_arg (ap, VOID *);
    if (guid == &gEfiBlockIoProtocolGuid && iface == blockio) {
      blockio = NULL;
    }
  }
  va_end (ap);
  return EFI_SUCCESS;
}

/* Only the members the contract declares; the rest of the table is not used. */
static EFI_BOOT_SERVICES boot_services = {
  .CreateEvent = SimCreateEvent, .CloseEvent = SimCloseEvent, .Stall = SimStall,
  .OpenProtocol = SimOpenProtocol, .CloseProtocol = SimCloseProtocol,
  .InstallMultipleProtocolInterfaces = SimInstallMultiple,
  .UninstallMultipleProtocolInterfaces = SimUninstallMultiple,
};
static EFI_SYSTEM_TABLE system_table = { .BootServices = &boot_services };

EFI_BOOT_SERVICES  *gBS = &boot_services;
EFI_SYSTEM_TABLE   *gST = &system_table;
EFI_HANDLE         gImageHandle = &controller;

EFI_STATUS EFIAPI
EfiLibInstallDriverBinding (CONST EFI_HANDLE ImageHandle, CONST EFI_SYSTEM_TABLE *SystemTable,
                            EFI_DRIVER_BINDING_PROTOCOL *DriverBinding, EFI_HANDLE DriverBindingHandle)
{
  binding                      = DriverBinding;
  binding->ImageHandle         = ImageHandle;
  binding->DriverBindingHandle = DriverBindingHandle;
  return EFI_SUCCESS;
}

/* OVMF's XenBus driver: at ExitBootServices it disconnects its devices, which stops this driver. */
static VOID EFIAPI
XenBusNotifyExitBoot (EFI_EVENT Event, VOID *Context)
{
  if (started) {
    started = 0;
    binding->Stop (binding, &controller, 0, NULL);
  }
}

/* ExitBootServices: the notifications, highest TPL first, as EDK2 dispatches them. */
static void
exit_boot_services (void)
{
  EFI_TPL tpl;
  int     i;

  in_ebs = 1;
  for (tpl = 31; tpl > 0; tpl--) {
    for (i = 0; i < 16; i++) {
      if (events[i].used && events[i].type == EVT_SIGNAL_EXIT_BOOT_SERVICES && events[i].tpl == tpl) {
        events[i].fn (&events[i], events[i].ctx);
      }
    }
  }
  in_ebs = 0;
  active_at_ebs_end = active_grants ();
}

/* ------------------------------------------------------------------ */
/* Scenarios                                                           */
/* ------------------------------------------------------------------ */

static long long
opt (int argc, char **argv, const char *key, long long absent)
{
  size_t n = strlen (key);
  int    i;

  for (i = 2; i < argc; i++) {
    if (strncmp (argv[i], key, n) == 0 && argv[i][n] == '=') {
      return atoll (argv[i] + n + 1);
    }
  }
  return absent;
}

static void
report (void)
{
  char *p;

  for (p = last_log; *p != '\0'; p++) {
    if (*p == '\n' || *p == '=') {
      *p = ' ';
    }
  }
  printf ("fe_state=%lld\nbe_state=%d\nfe_history=%s\n", xs_num (FE_DIR, "state", -1), be.state, fe_history);
  printf ("active_grants=%u\nmapped_grants=%u\nactive_at_ebs_end=%ld\n", active_grants (), mapped_grants (),
          active_at_ebs_end);
  printf ("end_while_mapped=%u\nend_unknown=%u\nfree_granted=%u\nfree_mapped=%u\nbad_free=%u\n",
          v.end_while_mapped, v.end_unknown, v.free_granted, v.free_mapped, v.bad_free);
  printf ("ebs_mem=%u\nbad_segments=%u\nbad_requests=%u\nrequests=%u\nwaited_us=%llu\nlog=%s\n",
          v.ebs_mem, v.bad_segments, v.bad_requests, be.requests, (unsigned long long)clock_us, last_log);
}

/* The backend catches up with the frontend's last move. */
static void
settle (void)
{
  int i;

  for (i = 0; i < 100; i++) {
    be_tick ();
  }
  printf ("hang=0\n");
}

/* Write Blocks blocks at Lba from a buffer Skew bytes past an IoAlign boundary, read them back. */
static void
io (const char *name, EFI_LBA Lba, UINTN Blocks, UINTN Skew)
{
  UINTN      bs = blockio->Media->BlockSize, len = Blocks * bs, align = blockio->Media->IoAlign;
  uint8_t    *wbuf, *rbuf;
  UINTN      i;
  EFI_STATUS ws, rs;
  int        placed;

  align = align > 1 ? align : 1;
  wbuf  = aligned_alloc (PAGE, len + 2 * PAGE - len % PAGE);
  rbuf  = aligned_alloc (PAGE, len + 2 * PAGE - len % PAGE);
  for (i = 0; i < len; i++) {
    wbuf[Skew + i] = (uint8_t)(i * 7 + Lba + 1);
  }
  memset (rbuf, 0, len + PAGE);
  ws = blockio->WriteBlocks (blockio, blockio->Media->MediaId, Lba, len, wbuf + Skew);
  rs = blockio->ReadBlocks (blockio, blockio->Media->MediaId, Lba, len, rbuf + Skew);
  placed = ws == EFI_SUCCESS && memcmp (be.disk + Lba * bs, wbuf + Skew, len) == 0;
  printf ("%s_write=0x%llx\n%s_read=0x%llx\n%s_placed=%d\n%s_readback=%d\n", name, (unsigned long long)ws, name,
          (unsigned long long)rs, name, placed, name,
          rs == EFI_SUCCESS && memcmp (rbuf + Skew, wbuf + Skew, len) == 0);
  free (wbuf);
  free (rbuf);
}

int
main (int argc, char **argv)
{
  const char *scenario = argc > 1 ? argv[1] : "stop";
  EFI_STATUS st;
  uint64_t   t0;

  setvbuf (stdout, NULL, _IOLBF, 0);
  be.persistent  = (int)opt (argc, argv, "persistent", 0);
  be.delay       = (int)opt (argc, argv, "delay", 3);
  be.dead        = (int)opt (argc, argv, "dead", 0);
  be.strict      = (int)opt (argc, argv, "strict", 0);
  be.no_sectors  = (int)opt (argc, argv, "nosectors", 0);
  be.sector_size = (unsigned)opt (argc, argv, "sector", 512);
  be.sectors     = (unsigned long long)opt (argc, argv, "sectors", 2048);
  be.disk        = calloc (1, be.sectors * 512 + PAGE);
  xs_setf (FE_DIR, "backend-id", "0");
  xs_setf (FE_DIR, "virtual-device", "51712");
  xs_setf (FE_DIR, "device-type", "disk");
  xs_setf (FE_DIR, "state", "%d", XenbusStateInitialising);
  be_publish_features ();
  be_set_state (XenbusStateInitWait);

  /* OVMF's XenBus driver registered its ExitBootServices notification when it started the bus. */
  if (opt (argc, argv, "bus", 1)) {
    EFI_EVENT ev;
    SimCreateEvent (EVT_SIGNAL_EXIT_BOOT_SERVICES, TPL_CALLBACK, XenBusNotifyExitBoot, NULL, &ev);
  }

  XenPvBlkDxeDriverEntryPoint (&controller, &system_table);
  if (binding->Supported (binding, &controller, NULL) != EFI_SUCCESS) {
    printf ("start=unsupported\n");
    return 1;
  }
  st = binding->Start (binding, &controller, NULL);
  printf ("start=0x%llx\n", (unsigned long long)st);
  if (st != EFI_SUCCESS || blockio == NULL) {
    settle ();
    report ();
    return 0;
  }
  started = 1;
  printf ("block_size=%u\nio_align=%u\nlast_block=%llu\nmedia_present=%d\n", blockio->Media->BlockSize,
          blockio->Media->IoAlign, (unsigned long long)blockio->Media->LastBlock, blockio->Media->MediaPresent);

  io ("io", 1, 3, 0);
  if (strcmp (scenario, "io4k") == 0) {
    UINTN      bs = blockio->Media->BlockSize;
    EFI_LBA    last = blockio->Media->LastBlock;
    uint8_t    *buf = aligned_alloc (PAGE, 2 * PAGE);

    io ("big", 5, (64 * 1024) / bs + 3, 0);     /* more than one request */
    io ("skew", 2, 2, 512);                     /* 512-aligned, not block aligned */
    io ("last", last, 1, 0);
    st = blockio->ReadBlocks (blockio, blockio->Media->MediaId, last + 1, bs, buf);
    printf ("past_end=0x%llx\n", (unsigned long long)st);
    free (buf);
  }

  printf ("mapped_before=%u\nkept_before=%u\n", mapped_grants (), be.nkept);
  t0 = clock_us;
  if (strcmp (scenario, "stop") == 0 || strcmp (scenario, "stop-ebs") == 0) {
    started = 0;
    st      = binding->Stop (binding, &controller, 0, NULL);
    printf ("stop=0x%llx\n", (unsigned long long)st);
    if (strcmp (scenario, "stop-ebs") == 0) {
      exit_boot_services ();          /* the freed device's event must be gone */
    }
  } else if (strcmp (scenario, "ebs") == 0) {
    exit_boot_services ();
  }
  clock_us -= t0;
  settle ();
  report ();
  return 0;
}
