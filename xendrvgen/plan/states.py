"""The state machine of each side as the plan gives it: the steps at probe, and
what a side does for every (own state, other end's state) pair and event."""
from __future__ import annotations

from xendrvgen.spec.model import StateMachine, Transition, other_side
from .records import EventPlan, MachinePlan, Reaction, Step
from .rules import PlanError, spec_position


class States:
    # -- state machines ------------------------------------------------------
    def local_step(self, m: StateMachine, own: str) -> Transition | None:
        cands = [t for t in m.transitions if t.local and own in t.sources]
        cands.sort(key=lambda t: t.kind == "skip")
        return cands[0] if cands and cands[0].kind != "skip" else None

    def step(self, t: Transition) -> Step:
        return Step(t.to, t.do, t.kind, t.local, t.description, spec_position(t.mark))

    def follow_local(self, m: StateMachine, cur: str, steps: list, seen: set) -> str:
        while True:
            t = self.local_step(m, cur)
            if t is None:
                return cur
            if t.to in seen:
                raise PlanError(f"{m.side} state machine: local steps loop at '{t.to}'")
            seen.add(t.to)
            steps.append(self.step(t))
            cur = t.to

    def probe_steps(self, m: StateMachine) -> tuple:
        steps: list = []
        restart = [t for t in m.transitions if t.to == m.initial and t.kind == "reconnect"]
        acts: list = []
        for t in restart:
            # At probe nothing is held yet: a restart's teardown has nothing to do.
            acts.extend(a for a in t.do if a not in acts and self.spec.action(a).ring is None)
        if acts:
            steps.append(Step(m.initial, tuple(acts), "startup", True,
                              "What a restart does, done once at probe.", spec_position(restart[0].mark)))
        self.follow_local(m, m.initial, steps, {m.initial})
        return tuple(steps)

    def cell(self, m: StateMachine, own: str, other: str) -> Reaction:
        if other in m.ignores:
            return Reaction(own, other, (), "ignored")
        steps: list = []
        seen = {own}
        used: list = []
        cur = own
        while True:
            t = m.reaction(cur, other)
            if t is None or t in used:      # a transition fires once per change of the other end
                break
            used.append(t)
            if t.to in seen and t.to != cur:
                # Back where we started: stop rather than loop.
                steps.append(self.step(t))
                cur = t.to
                break
            steps.append(self.step(t))
            cur = t.to
            seen.add(cur)
            cur = self.follow_local(m, cur, steps, seen)
            if len(steps) > 4 * len(self.spec.states):
                raise PlanError(f"{m.side} state machine loops on the other end's state '{other}'")
            if t.to == own:
                break
        return Reaction(own, other, tuple(steps), "transition" if steps else "no transition from this state")

    def event_cell(self, m: StateMachine, own: str, event: str) -> Reaction:
        t = m.on_event(own, event)
        if t is None:
            return Reaction(own, event, (), "no transition from this state")
        steps = [self.step(t)]
        self.follow_local(m, t.to, steps, {own, t.to})
        return Reaction(own, event, tuple(steps), "transition")

    def machine(self, side: str) -> MachinePlan:
        m = self.spec.machine(side)
        states = sorted(self.spec.states, key=lambda s: s.value)
        own_states = tuple(m.states())
        table = tuple((s.name, tuple(self.cell(m, own, s.name) for own in own_states)) for s in states)
        local = {}
        for own in own_states:
            t = self.local_step(m, own)
            if t is not None:
                local[own] = self.step(t)
        used: list = []
        for t in m.transitions:
            for a in t.do:
                if a not in used:
                    used.append(a)
        events = tuple(
            EventPlan(e, self.spec.event(side, e).description, self.spec.event(side, e).forced,
                      tuple(self.event_cell(m, own, e) for own in own_states))
            for e in m.events())
        return MachinePlan(
            side=side, initial=m.initial, own_states=own_states, events=events,
            ring_in_use=tuple(m.ring_in_use),
            other_states=tuple(s.name for s in states), state_values={s.name: s.value for s in states},
            ignores=tuple(m.ignores), table=table, probe=self.probe_steps(m), local=local,
            tolerated=tuple(self.step(t) for t in self.spec.machine(other_side(side)).transitions if t.kind == "skip"),
            actions=tuple((a, self.spec.action(a).description) for a in used))
