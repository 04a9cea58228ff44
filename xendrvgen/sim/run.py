"""Run scenarios of `xendrvgen sim` on a built binary and judge their outcome.

Each scenario runs in a fresh process of the binary (a fresh XenStore, grant
table and disk image), fed its commands on stdin, under each seed asked for
(the seed orders the delivery of watch events and notifications).  The
binary prints a numbered trace (`T n ...`), `STATE`/`FE`/`BE`/`HV` lines for
each `show`, `VERIFY` when the image matched, and `END`; the outcome is read
from those and checked as scenarios.py says.
"""
from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .scenarios import Pair, Scenario


@dataclass
class Outcome:
    states: list = field(default_factory=list)   # (frontend, backend) of each `show`
    fe: dict = field(default_factory=dict)       # the last show's figures
    be: dict = field(default_factory=dict)
    hv: dict = field(default_factory=dict)
    verified: bool = False
    trace: list = field(default_factory=list)
    violations: list = field(default_factory=list)
    fatals: list = field(default_factory=list)
    errors: list = field(default_factory=list)   # ERROR lines: the script asked for something unknown
    ended: bool = False
    requests: int = 0

    @property
    def state(self) -> tuple:
        return self.states[-1] if self.states else ("?", "?")


@dataclass
class Result:
    scenario: str
    pair: str
    seed: int
    ok: bool
    problems: list
    trace: list
    seconds: float
    requests: int

    def as_dict(self) -> dict:
        return {"scenario": self.scenario, "pair": self.pair, "seed": self.seed, "ok": self.ok,
                "problems": self.problems, "seconds": round(self.seconds, 4), "requests": self.requests,
                "trace": self.trace if not self.ok else []}


def _figures(words: list) -> dict:
    out = {}
    for k, v in zip(words[::2], words[1::2]):
        try:
            out[k] = int(v)
        except ValueError:
            out[k] = v
    return out


def parse(text: str) -> Outcome:
    o = Outcome()
    for line in text.splitlines():
        w = line.split()
        if not w:
            continue
        if w[0] == "T":
            o.trace.append(line[2:])
            if len(w) > 2 and w[2] == "VIOLATION":
                o.violations.append(" ".join(w[3:]))
            elif len(w) > 2 and w[2] == "FATAL":
                o.fatals.append(" ".join(w[3:]))
            elif len(w) > 2 and w[2] == "ring" and "->" in w and w[w.index("->") - 1] != "backend":
                o.requests += 1
        elif w[0] == "STATE":
            o.states.append((w[1], w[2]))
        elif w[0] in ("FE", "BE", "HV"):
            setattr(o, w[0].lower(), _figures(w[1:]))
        elif w[0] == "VERIFY":
            o.verified = True
        elif w[0] == "ERROR":
            o.errors.append(line)
        elif w[0] == "END":
            o.ended = True
    return o


def judge(sc: Scenario, pair: Pair, o: Outcome, returncode: int) -> list:
    problems = []
    if returncode != 0 or not o.ended:
        problems.append(f"the simulation stopped (exit status {returncode})")
    problems += [f"script: {e}" for e in o.errors]
    problems += o.violations
    if not sc.allow_fatal:
        problems += [f"a driver gave up: {f}" for f in o.fatals]
    if o.hv.get("io_errors"):
        problems.append(f"{o.hv['io_errors']} I/O request(s) failed")
    if o.hv.get("bios_open"):
        problems.append(f"{o.hv['bios_open']} I/O request(s) never completed")
    if not problems:
        problems += sc.check(pair, o)
    return problems


def run_one(exe: Path, sc: Scenario, pair: Pair, seed: int = 1, timeout: float = 60) -> Result:
    script = [f"seed {seed}", *sc.script(pair)]
    t0 = time.perf_counter()
    try:
        r = subprocess.run([str(exe)], input="\n".join(script) + "\n", capture_output=True, text=True,
                           timeout=timeout)
        out, rc = r.stdout + r.stderr, r.returncode
    except subprocess.TimeoutExpired as exc:
        out, rc = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or ""), -9
    dt = time.perf_counter() - t0
    o = parse(out)
    problems = judge(sc, pair, o, rc)
    return Result(sc.name, pair.label(), seed, not problems, problems, o.trace, dt, o.requests)


def render_failure(res: Result, limit: int = 400) -> str:
    """A failed scenario: what went wrong, then the numbered trace."""
    lines = [f"FAIL {res.scenario} [{res.pair}] seed {res.seed}"]
    lines += [f"  - {p}" for p in res.problems]
    lines.append("  trace:")
    trace = res.trace
    if len(trace) > limit:
        lines.append(f"    ... {len(trace) - limit} earlier events left out")
        trace = trace[-limit:]
    lines += [f"    {t}" for t in trace]
    return "\n".join(lines)
