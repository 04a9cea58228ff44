"""xendrvgen.plan: the OS-agnostic driver decisions, checked against the spec.

Every expectation here is derived from the spec (its nodes, state machines,
negotiation rules, opcodes and constants), not from hand lists, so a spec
edit that the plan fails to follow makes a test fail.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import feature_node

from xendrvgen import plan as plan_mod
from xendrvgen import spec as spec_mod
from xendrvgen.spec.model import other_side

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "blkif.yaml"




def spec_with(extra_yaml: str, anchor: str = "xenstore_nodes:\n") -> "spec_mod.model.Spec":
    text = SPEC.read_text()
    assert anchor in text
    return spec_mod.loads(text.replace(anchor, anchor + extra_yaml, 1), "specs/blkif.yaml")


# --- determinism -------------------------------------------------------------

def test_plan_is_deterministic_and_plain_data(spec, plan):
    again = plan_mod.build(spec_mod.load(SPEC))
    a, b = plan.as_dict(), again.as_dict()
    assert a == b
    text = json.dumps(a, sort_keys=True)
    assert "/work/" not in text and str(ROOT) not in text     # provenance is machine-independent
    assert re.search(r'"where": "specs/blkif.yaml:\d+"', text)


# --- nodes -------------------------------------------------------------------

@pytest.mark.parametrize("side", ["frontend", "backend"])
def test_each_side_touches_every_node_the_spec_gives_it(spec, plan, side):
    live = [n for n in spec.nodes if not spec.retired(n)]
    expected = {(n.side, n.name) for n in live if side in n.readers or n.writer == side}
    assert expected, "the spec gives this side no nodes?"
    assert set(plan.side(side).touched()) == expected
    writes = {(n.node_side, n.name) for n in plan.side(side).writes}
    assert writes == {(n.side, n.name) for n in live if n.writer == side}


@pytest.mark.parametrize("side", ["frontend", "backend"])
def test_reads_carry_spec_defaults_and_limits(spec, plan, side):
    for use in plan.side(side).reads:
        node = spec.node(use.node_side, use.name)
        if isinstance(node.default, int):
            assert use.default.kind == "int" and use.default.value == node.default, use.name
        elif node.default is None:
            assert use.default is None and use.need in ("required", "one_of", "optional"), use.name
        if isinstance(node.max, int):
            assert use.max.value == node.max
        if hasattr(node.max, "node"):
            # A limit naming a node names the other end's offer, which this side knows.
            assert use.max.kind == "node" and use.max.side == other_side(node.side)
            assert spec.node(use.max.side, use.max.name) is not None


def test_peer_written_nodes_without_default_are_required(spec, plan):
    for side in ("frontend", "backend"):
        for use in plan.side(side).reads:
            node = spec.node(use.node_side, use.name)
            if node.default is None and node.writer == other_side(side) and use.alternative is None:
                assert use.need == "required", (side, use.name)


def test_values_that_shape_shared_memory_are_rejected_not_clamped(spec, plan):
    be = plan.backend
    for g in spec.negotiation:
        if g.rule == "min" and g.accept and g.decider == "frontend":
            use = be.read(g.accept, "frontend")
            assert use.on_range == "reject", g.accept
            assert use.max is not None and use.max.side == "backend"
            if g.legacy:
                assert be.read(g.legacy["accept"], "frontend").on_range == "reject"
    # everything else read from the frontend is clamped
    others = [u for u in be.reads if u.node_side == "frontend" and u.role not in ("accept", "legacy_accept")]
    assert others and all(u.on_range == "clamp" for u in others)


def test_reads_happen_when_the_other_end_has_published(spec, plan):
    """A node is read in an action that runs once its writer reached published_in."""
    for side in ("frontend", "backend"):
        m = spec.machine(side)
        sp = plan.side(side)
        for use in sp.reads:
            node = spec.node(use.node_side, use.name)
            if not node.published_in or node.writer == "toolstack":
                continue
            fired = [t for t in m.transitions if t.when and t.kind == "startup" and use.action in t.do]
            assert fired, (side, use.name, use.action)
            order = {s.name: s.value for s in spec.states}
            assert any(order[w] >= order[node.published_in] for t in fired for w in t.when), (side, use.name)


def test_writes_happen_in_the_publish_action_entering_published_in(spec, plan):
    for side in ("frontend", "backend"):
        m = spec.machine(side)
        for use in plan.side(side).writes:
            node = spec.node(use.node_side, use.name)
            entering = [t for t in m.transitions if t.to == node.published_in and use.action in t.do]
            assert entering, (side, use.name, use.action, node.published_in)


def test_a_new_feature_node_is_read_by_the_frontend_and_written_by_the_backend():
    extra = feature_node("feature-xdg-probe", "xdg_probe", "A feature added by a test.") + "\n"
    p = plan_mod.build(spec_with(extra))
    r = p.frontend.read("feature-xdg-probe", "backend")
    assert r is not None and r.default.value == 0 and r.type == "bool"
    assert r.macro == "BLKIF_NODE_BE_FEATURE_XDG_PROBE"
    w = p.backend.write("feature-xdg-probe")
    assert w is not None and w.value == ("default",)
    ids = {h.id for h in p.hooks}
    assert {"fe_node_feature_xdg_probe", "be_node_feature_xdg_probe"} <= ids


# --- negotiation ---------------------------------------------------------------

def test_every_negotiation_is_settled_by_both_sides(spec, plan):
    for side in ("frontend", "backend"):
        names = [d.negotiation for d in plan.side(side).decisions]
        assert names == [g.name for g in spec.negotiation]


def test_min_rule_takes_lesser_of_offer_and_local_limit_with_defaults(spec, plan):
    for g in spec.negotiation:
        if g.rule != "min":
            continue
        d = plan.side(g.decider).decision(g.name)
        assert d.how == "min"
        assert d.peer.name == g.offer and d.peer.node_side == other_side(g.decider)
        offer_default = spec.node(other_side(g.decider), g.offer).default
        assert d.peer.default.value == offer_default
        assert d.param and any(p.name == d.param and p.default == g.local_limit for p in plan.side(g.decider).params)
        if g.accept:
            assert d.own.name == g.accept and d.own.value == ("negotiated", g.name)
            assert d.own.condition == "differs_from_default"
        if g.floor is not None:
            assert d.floor == g.floor


def test_both_multi_page_ring_schemes_are_used(spec, plan):
    g = next(g for g in spec.negotiation if g.legacy)
    fe = plan.side(g.decider).decision(g.name)
    assert fe.peer_legacy.name == g.legacy["offer"]
    assert fe.own_legacy.name == g.legacy["accept"]
    assert fe.own_legacy.value == ("pages_of_negotiated", g.name)
    be = plan.side(other_side(g.decider))
    assert be.write(g.legacy["offer"]).value == ("pages_of", be.write(g.offer).field)
    bd = be.decision(g.name)
    assert bd.how == "accepted" and bd.peer.name == g.accept and bd.peer_legacy.name == g.legacy["accept"]


def test_indirect_segments_are_capped_by_the_protocol(spec, plan):
    seg = spec.struct("blkif_request_segment")
    per_page = spec.ring.page_size // seg.layouts["x86_64"].size
    pages = spec.constant("BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST").value
    assert plan.requests.segments_per_indirect_page == per_page
    assert plan.requests.indirect_hard_max == pages * per_page
    g = next(g for g in plan.negotiation if g.feature == "indirect")
    assert g.hard_max.value == pages * per_page


def test_large_sector_size_is_neither_offered_nor_acted_on(spec, plan):
    """feature-large-sector-size is deprecated: every sector field counts
    512-byte units, so a frontend does not write it and a backend does not
    read it (and there is no large-sector negotiation left to settle)."""
    node = spec.node("frontend", "feature-large-sector-size")
    assert node is not None and node.deprecated
    assert plan.frontend.write("feature-large-sector-size") is None
    assert ("frontend", "feature-large-sector-size") not in plan.backend.touched()
    assert "large_sectors" not in {g.name for g in plan.negotiation}


# --- state machines -------------------------------------------------------------

@pytest.mark.parametrize("side", ["frontend", "backend"])
def test_reaction_table_covers_every_state_of_both_ends(spec, plan, side):
    m = plan.side(side).machine
    all_states = [s.name for s in sorted(spec.states, key=lambda s: s.value)]
    assert [other for other, _ in m.table] == all_states
    sm = spec.machine(side)
    assert list(m.own_states) == sm.states()
    for other, row in m.table:
        assert [r.own for r in row] == list(m.own_states)
        for r in row:
            t = sm.reaction(r.own, other)
            if other in sm.ignores:
                assert r.why == "ignored" and not r.steps
            elif t is None:
                assert not r.steps
            else:
                assert r.steps[0].to == t.to and r.steps[0].actions == t.do


@pytest.mark.parametrize("side", ["frontend", "backend"])
def test_reaction_chains_settle(spec, plan, side):
    """After a cell's steps, the state reached has nothing more to do for that same event."""
    sm = spec.machine(side)
    m = plan.side(side).machine
    for other, row in m.table:
        for r in row:
            if not r.steps:
                continue
            end = r.steps[-1].to
            follow = sm.reaction(end, other)
            assert follow is None or follow.to == end or end == r.own, (side, r.own, other, end)
            local = [t for t in sm.transitions if t.local and end in t.sources and t.kind != "skip"]
            assert not local, (side, r.own, other, end)


def test_reconnect_comes_back_through_the_initial_state(spec, plan):
    fe = plan.frontend.machine
    r = fe.reaction("Closed", "InitWait")
    assert [s.to for s in r.steps] == ["Initialising", "Initialised"]
    be = plan.backend.machine
    assert be.reaction("Connected", "Initialising").steps[0].kind == "reconnect"


def _actions(reaction):
    return [a for st in reaction.steps for a in st.actions]


def test_a_backend_keeps_serving_a_closing_frontend(plan):
    """The backend mirrors Closing and lets go of the ring only once the
    frontend is Closed (a frontend with a mounted disk stays in Closing and
    keeps its I/O going)."""
    be = plan.backend.machine
    closing = be.reaction("Connected", "Closing")
    assert [s.to for s in closing.steps] == ["Closing"] and _actions(closing) == []
    closed = be.reaction("Closing", "Closed")
    assert [s.to for s in closed.steps] == ["Closed"] and _actions(closed) == ["unmap_rings"]


def test_a_frontend_closes_an_open_disk_only_once_released(plan):
    fe = plan.frontend.machine
    asked = fe.reaction("Connected", "Closing")
    assert [s.to for s in asked.steps] == ["Closing"] and _actions(asked) == ["close_when_idle"]
    released = fe.event("disk_released").reaction("Closing")
    assert [s.to for s in released.steps] == ["Closed"] and _actions(released) == ["stop_io"]
    # Grants are revoked only once the backend let go of the ring (or on a forced event).
    for other, row in fe.table:
        for r in row:
            if "release_rings" in _actions(r):
                assert other not in plan.backend.machine.ring_in_use, (r.own, other)


def test_resume_keeps_the_disk_and_reconnects(plan):
    fe = plan.frontend.machine
    ev = fe.event("resume")
    assert ev.forced
    for r in ev.reactions:
        assert _actions(r) == ["keep_in_flight", "release_rings"] and r.steps[-1].to == "Initialising"
    # ... then the usual handshake: negotiate, and attach_disk (which keeps the disk) on Connected.
    assert _actions(fe.reaction("Initialising", "InitWait")) == ["negotiate", "publish_transport"]
    assert _actions(fe.reaction("Initialised", "Connected")) == ["read_device_properties", "attach_disk"]


def test_plan_text_shows_the_close_and_resume_reactions(plan):
    from xendrvgen.cli.plan import render_text
    text = render_text(plan)
    assert "Connected->Closing" in text
    assert "resume         Initialising->Initialising [keep_in_flight, release_rings]" in text
    assert "disk_released  Closing->Closed [stop_io]" in text


def test_probe_runs_the_initial_local_startup(spec, plan):
    be = plan.backend.machine
    sm = spec.machine("backend")
    startup = next(t for t in sm.transitions if t.local and sm.initial in t.sources and t.kind == "startup")
    assert be.probe[-1].to == startup.to and be.probe[-1].actions == startup.do
    # The frontend's local skip (publish without negotiating) is tolerated, not taken.
    assert all(s.kind != "skip" for s in plan.frontend.machine.probe)


# --- requests ---------------------------------------------------------------------

def test_every_opcode_has_a_plan_and_feature_gates(spec, plan):
    ops = {o.constant: o for o in plan.requests.ops}
    assert set(ops) == {c.name for c in spec.constants_in("operation")}
    by_feature = {n.feature: n for n in plan.negotiation if n.feature}
    for c in spec.constants_in("operation"):
        o = ops[c.name]
        if c.reserved:
            assert o.kind == "unsupported"
            continue
        if c.feature:
            gate = next(ch for ch in o.checks if ch.id == "feature_offered")
            assert gate.limit.name == by_feature[c.feature].name
            assert gate.status == plan.requests.status_unsupported


def test_segment_limits_come_from_the_spec(spec, plan):
    req = spec.struct(spec.ring.request)
    seg = next(f for f in req.fields if f.is_struct and f.count)
    for o in plan.requests.ops:
        if o.kind in ("rw", "barrier", "flush"):
            check = next(c for c in o.checks if c.id == "nr_segments")
            assert check.limit.name == seg.count_ref and check.limit.value == seg.count
            assert {"first_le_last", "last_in_page", "sector_range"} <= {c.id for c in o.checks}
        if o.kind == "indirect":
            ids = [c.id for c in o.checks]
            assert ids.index("indirect_copy") < ids.index("first_le_last")   # copied, then checked
            assert "indirect_pages" in ids and o.inner_ops
        if o.kind == "discard":
            assert {"discard_flags", "sector_range"} <= {c.id for c in o.checks}
    assert plan.requests.common_checks[0].id == "copy_once"


def test_an_unknown_opcode_is_answered_unsupported_with_a_hook():
    extra = """  - name: BLKIF_OP_XDG_TEST
    value: 9
    group: operation
    description: An operation added by a test.
"""
    p = plan_mod.build(spec_with(extra, "constants:\n"))
    o = p.op("BLKIF_OP_XDG_TEST")
    assert o.kind == "unsupported" and o.hook == "op_blkif_op_xdg_test"
    assert "be_op_blkif_op_xdg_test" in {h.id for h in p.backend.hooks}


def test_protocols_map_to_translation_variants(spec, plan):
    for proto in plan.transport.protocols:
        abis = [a.name for a in spec.abis if a.protocol == proto.constant]
        assert list(proto.abis) == abis
        variants = [v for v, a in spec.abi_variants if a in abis]
        assert proto.variant == (variants[0] if variants else None)


def test_hooks_are_unique_and_described(plan):
    ids = [h.id for h in plan.hooks]
    assert len(ids) == len(set(ids))
    assert all(h.what and h.default for h in plan.hooks)
