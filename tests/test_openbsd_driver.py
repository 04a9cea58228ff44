"""The generated OpenBSD xbf(4)-style frontend: cross-compiled with zero
warnings, what its code covers (derived from the spec and the plan), and its
contract against a real tree when XENDRVGEN_OPENBSD_TREE names one."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xendrvgen import compile as xcompile
from xendrvgen import contract
from xendrvgen.compile import openbsd as openbsd_compile

import drivercov as dc

OS = "openbsd"
FRONT = ["xbf.c", "xdg_xenbus.h"]


gen, built = dc.module_fixtures(OS, "OpenBSD")


def test_frontend_builds_with_zero_warnings(built):
    assert [(Path(a).parent.name, Path(a).name) for a in built.artifacts] == [("x86_64-openbsd", "xbf.o")]
    assert built.warnings == [] and built.errors == []
    assert "-Werror" in built.command and "-D_KERNEL" in built.command and "x86_64-openbsd" in built.command


def test_a_warning_fails_the_build(gen, tmp_path):
    copy = tmp_path / "gen"
    shutil.copytree(gen, copy)
    f = copy / OS / "xbf.c"
    f.write_text(f.read_text() + "\nstatic int xdg_never_used(void) { return 0; }\n")
    res = xcompile.build(OS, copy, work_dir=tmp_path / "work", use_cache=False)
    assert not res.ok and any("xdg_never_used" in l for l in res.errors + res.warnings), res.log


def test_frontend_is_an_xbf_style_driver_on_the_xen_pv_bus(gen, plan):
    code = dc.code_of(gen, OS, FRONT)
    assert "sizeof(struct xbf_softc), xbf_match, xbf_attach, xbf_detach, xbf_activate" in code
    assert f'strcmp(xa->xa_name, "{plan.device_type}")' in code
    for api in ("xs_getprop(sc->sc_parent,", "xs_setprop(sc->sc_parent,", "xs_setnum(sc->sc_parent,",
                "xs_watch(sc->sc_parent, sc->sc_backend, \"state\"", "xen_intr_establish(0, &ring->xih, sc->sc_domid,",
                "xen_intr_signal(", "xen_intr_barrier(", "xen_intr_disestablish(", "bus_dmamap_load(",
                "bus_dmamem_alloc(", "XBF_GRANT(sc)", "config_found(&sc->sc_dev, &saa, scsiprint)",
                "scsi_done(", "scsi_iopool_init(", "scsi_copy_internal_data("):
        assert api in code, api


def test_state_handler_covers_every_state_of_the_backend(gen, spec):
    body = dc.function_body(dc.code_of(gen, OS, FRONT), "xbf_react")
    cases = dc.switch_cases(body, "\t", "\t\t")
    assert set(cases) == {s.name for s in spec.states}
    assert {o: set(owns) for o, owns in cases.items()} == dc.expected_reactions(spec, "frontend")


def test_driver_touches_every_node_of_its_side(gen, spec):
    code = dc.code_of(gen, OS, FRONT)
    assert dc.missing_node_macros(spec, "frontend", code) == []
    assert not re.search(r'"(ring-ref|event-channel|feature-[a-z-]+|sector-size|sectors)"', code)


def test_every_hook_is_marked_in_the_code_and_documented(gen, plan):
    text = (gen / OS / "xbf.c").read_text()
    assert dc.hooks_marked(text) == {h.id for h in plan.frontend.hooks}
    docs = dc.features_section("OpenBSD")
    for h in plan.frontend.hooks:
        assert f"`{h.id}`" in docs, h.id


def test_no_negotiation_state_or_check_logic_is_written_again():
    """The template spells the plan through the shared macros, never by hand."""
    tpl = (dc.ROOT / "templates" / OS / "xbf.c.j2").read_text()
    for macro in ("d.read_nodes(", "d.settle(", "d.state_switch(", "d.event_switch(", "d.fe_write_ring(",
                  "d.write_nodes(", "d.assign_writes(", "d.fe_geometry(", "d.fe_identity(", "d.run_steps("):
        assert macro in tpl, macro
    assert not re.search(r'"(max-ring-page-order|feature-[a-z-]+|multi-queue[a-z-]*|ring-ref)"', tpl)


def test_frontend_checks_what_the_backend_answers(gen):
    handler = dc.function_body(dc.code_of(gen, OS, FRONT), "xbf_take_responses")
    assert "memcpy(&rsp, RING_GET_RESPONSE(&ring->ring, i), sizeof(rsp));" in handler
    assert "rsp.id >= ring->nslots" in handler and "rsp.operation != req->operation" in handler


def test_compile_command_builds_the_committed_tree(tmp_path):
    r = subprocess.run([sys.executable, "-m", "xendrvgen.cli", "compile", "--os", OS, "--work", str(tmp_path)],
                       cwd=dc.ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "xbf.o" in r.stdout


def test_contract_lists_the_xen_pv_headers():
    heads = {h["path"] for h in contract.contract_headers(OS)}
    assert {"dev/pv/xenvar.h", "dev/pv/xenreg.h"} <= heads
    assert openbsd_compile.BORROW is None


@pytest.mark.skipif(not os.environ.get("XENDRVGEN_OPENBSD_TREE"),
                    reason="set XENDRVGEN_OPENBSD_TREE to an OpenBSD source tree to verify the contract against it")
def test_contract_against_a_real_tree():
    rep = contract.verify(OS, os.environ["XENDRVGEN_OPENBSD_TREE"])
    assert not rep.failed, rep.render()
    assert {"xen_intr_establish", "xs_watch", "xen_attach_args"} <= {f.name for f in rep.findings}
