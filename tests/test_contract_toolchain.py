"""The cross toolchains and contract headers, before any driver is rendered.

A kernel-style C file using the API surface the templates use (newbus and
xenbus on FreeBSD, autoconf, dk(4), bus_dma and the Xen arch headers on
NetBSD, the UEFI driver model and XENBUS_PROTOCOL on EDK2) must compile with
each OS's kernel flags and -Werror on every target, against the OS's own
system headers (from ziglang) plus the contract; and a call that does not
match a contract signature must fail, so the contract really constrains.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from xendrvgen.compile import _zig, edk2, freebsd, netbsd

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "contracts"

FREEBSD_PROBE = r"""
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/module.h>
#include <sys/bus.h>
#include <sys/bio.h>
#include <sys/malloc.h>
#include <sys/lock.h>
#include <sys/mutex.h>
#include <vm/vm.h>
#include <vm/pmap.h>
#include <machine/bus.h>
#include <sys/bus_dma.h>
#include <geom/geom_disk.h>
#include <xen/xen-os.h>
#include <xen/hypervisor.h>
#include <xen/xen_intr.h>
#include <xen/gnttab.h>
#include <xen/xenbus/xenbusvar.h>
#include "xenbus_if.h"

static int probe_probe(device_t dev);
static void probe_changed(device_t dev, XenbusState state);

static int
probe_probe(device_t dev)
{
	grant_ref_t ref;
	xen_intr_handle_t h = NULL;

	if (strcmp(xenbus_get_type(dev), "vbd") != 0)
		return (ENXIO);
	if (xenbus_grant_ring(dev, atop(vtophys(&ref)), &ref) != 0)
		return (ENXIO);
	(void)xs_printf(XST_NIL, xenbus_get_node(dev), "ring-ref", "%u", ref);
	(void)xen_intr_alloc_and_bind_local_port(dev, xenbus_get_otherend_id(dev), NULL,
	    NULL, NULL, INTR_TYPE_BIO | INTR_MPSAFE, &h);
	xen_intr_signal(h);
	return (BUS_PROBE_DEFAULT);
}

static void
probe_changed(device_t dev, XenbusState state)
{
	if (state == XenbusStateConnected)
		xenbus_set_state(dev, XenbusStateConnected);
}

static device_method_t probe_methods[] = {
	DEVMETHOD(device_probe, probe_probe),
	DEVMETHOD(xenbus_otherend_changed, probe_changed),
	DEVMETHOD_END
};
static driver_t probe_driver = { "xbdprobe", probe_methods, 0 };
DRIVER_MODULE(xbdprobe, xenbusb_front, probe_driver, 0, 0);
"""

NETBSD_PROBE = r"""
#include <sys/cdefs.h>
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/buf.h>
#include <sys/bufq.h>
#include <sys/device.h>
#include <sys/disk.h>
#include <sys/disklabel.h>
#include <sys/kmem.h>
#include <sys/mutex.h>
#include <sys/bus.h>
#include <uvm/uvm_extern.h>
#include <dev/dkvar.h>
#include <xen/hypervisor.h>
#include <xen/evtchn.h>
#include <xen/intr.h>
#include <xen/granttables.h>
#include <xen/xen_shm.h>
#include <xen/xenbus.h>
#include <xen/xenpmap.h>

struct probe_softc { struct dk_softc sc_dksc; grant_ref_t sc_ref; };
static int probe_match(device_t, cfdata_t, void *);
static void probe_attach(device_t, device_t, void *);

static int
probe_match(device_t parent, cfdata_t cf, void *aux)
{
	struct xenbusdev_attach_args *xa = aux;

	return strcmp(xa->xa_type, "vbd") == 0;
}

static void
probe_attach(device_t parent, device_t self, void *aux)
{
	struct probe_softc *sc = device_private(self);
	struct xenbusdev_attach_args *xa = aux;
	unsigned long order;
	paddr_t ma;

	(void)pmap_extract_ma(pmap_kernel(), (vaddr_t)sc, &ma);
	(void)xenbus_grant_ring(xa->xa_xbusd, ma, &sc->sc_ref);
	if (xenbus_read_ul(NULL, xa->xa_xbusd->xbusd_otherend, "max-ring-page-order", &order, 10) != 0)
		order = 0;
	dk_init(&sc->sc_dksc, self, DKTYPE_ESDI);
	(void)xenbus_switch_state(xa->xa_xbusd, NULL, XenbusStateInitialised);
}

CFATTACH_DECL3_NEW(xbdprobe, sizeof(struct probe_softc), probe_match, probe_attach,
    NULL, NULL, NULL, NULL, DVF_DETACH_SHUTDOWN);
"""

EDK2_PROBE = r"""
#include <Uefi.h>
#include <Protocol/DriverBinding.h>
#include <Protocol/BlockIo.h>
#include <Protocol/XenBus.h>
#include <Library/BaseLib.h>
#include <Library/BaseMemoryLib.h>
#include <Library/DebugLib.h>
#include <Library/MemoryAllocationLib.h>
#include <Library/UefiBootServicesTableLib.h>
#include <Library/UefiLib.h>
#include <Library/PrintLib.h>

EFI_STATUS EFIAPI ProbeGrant (XENBUS_PROTOCOL *XenBus, VOID *Page, grant_ref_t *Ref);

EFI_STATUS
EFIAPI
ProbeGrant (XENBUS_PROTOCOL *XenBus, VOID *Page, grant_ref_t *Ref)
{
  XENSTORE_STATUS  Status;

  Status = XenBus->XsPrintf (XenBus, XST_NIL, XenBus->Node, "ring-ref", "%d", 8);
  DEBUG ((DEBUG_INFO, "ring-ref status %d\n", Status));
  MemoryFence ();
  return XenBus->GrantAccess (XenBus, 0, (UINTN)Page >> EFI_PAGE_SHIFT, FALSE, Ref);
}
"""


def _zig_compile(tmp: Path, target: str, flags: list, include: Path, source: str, name: str):
    src = tmp / f"{name}.c"
    src.write_text(source)
    return subprocess.run([*_zig.cc(), "-target", target, *flags, "-I", str(include),
                           "-c", str(src), "-o", str(tmp / f"{name}-{target}.o")],
                          capture_output=True, text=True)


@pytest.mark.parametrize("target", freebsd.TARGETS)
def test_freebsd_probe_compiles(tmp_path, target):
    r = _zig_compile(tmp_path, target, freebsd.flags(target), CONTRACTS / "freebsd" / "include",
                     FREEBSD_PROBE, "fbsd")
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr


@pytest.mark.parametrize("target", netbsd.TARGETS)
def test_netbsd_probe_compiles(tmp_path, target):
    r = _zig_compile(tmp_path, target, netbsd.flags(target), CONTRACTS / "netbsd" / "include",
                     NETBSD_PROBE, "nbsd")
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr


@pytest.mark.parametrize("arch", sorted(edk2.TARGETS))
def test_edk2_probe_compiles(tmp_path, arch):
    src = tmp_path / "edk2.c"
    src.write_text(EDK2_PROBE)
    r = subprocess.run([edk2.compiler(), *edk2.COMMON, *edk2.TARGETS[arch], "-I",
                        str(CONTRACTS / "edk2" / "include"), "-c", str(src), "-o", str(tmp_path / "e.o")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_contract_signatures_constrain(tmp_path):
    # xenbus_grant_ring takes three arguments in FreeBSD; the old two-argument
    # form must not compile against the contract.
    bad = FREEBSD_PROBE.replace("xenbus_grant_ring(dev, atop(vtophys(&ref)), &ref)",
                                "xenbus_grant_ring(dev, atop(vtophys(&ref)))")
    assert bad != FREEBSD_PROBE
    r = _zig_compile(tmp_path, "x86_64-freebsd", freebsd.flags("x86_64-freebsd"),
                     CONTRACTS / "freebsd" / "include", bad, "bad")
    assert r.returncode != 0 and "xenbus_grant_ring" in r.stderr
    # NetBSD's xenbus_read_ul takes a base; without it the call is refused.
    bad = NETBSD_PROBE.replace('"max-ring-page-order", &order, 10)', '"max-ring-page-order", &order)')
    r = _zig_compile(tmp_path, "x86_64-netbsd", netbsd.flags("x86_64-netbsd"),
                     CONTRACTS / "netbsd" / "include", bad, "badn")
    assert r.returncode != 0 and "xenbus_read_ul" in r.stderr


def test_netbsd_needs_the_gap_headers(tmp_path):
    # Without the contract's kernel-only headers the installed <sys/param.h>
    # chain does not compile under _KERNEL: that is the gap the contract fills.
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _zig_compile(tmp_path, "x86_64-netbsd", netbsd.flags("x86_64-netbsd"), empty,
                     "#include <sys/param.h>\n", "gap")
    assert r.returncode != 0 and "sys/cpu_data.h" in r.stderr
