"""Reading the serial log, and printing results.

dom0 prints one `XDG-<KIND> {json}` line per event (READY, BEGIN, RESULT,
END, REBOOT, DONE, BOOT-FAIL).  A Collector follows them line by line, keeps
each unit's log lines (between its BEGIN and END) for failure reports, and
knows which unit was running when the machine stopped.  Units that never
reported (a hang or a crash) become FAIL results with the tail of the log.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

EVENT = re.compile(r"XDG-(READY|BEGIN|RESULT|END|REBOOT|DONE|BOOT-FAIL)\b ?(.*)$")
STATUSES = ("PASS", "FAIL", "SKIP")


@dataclass
class Result:
    pairing: str
    scenario: str
    status: str
    seconds: float
    detail: str = ""
    logs: list = field(default_factory=list)   # relevant log lines, for failures

    def as_dict(self) -> dict:
        return asdict(self)


def parse_line(line: str):
    """(kind, payload) of an XDG event line, else None.  Payload: dict, or the raw text."""
    m = EVENT.search(line)
    if not m:
        return None
    kind, rest = m.group(1), m.group(2).strip()
    if rest.startswith("{"):
        try:
            return kind, json.loads(rest[: rest.rindex("}") + 1])
        except ValueError:
            return kind, {"raw": rest}
    return kind, rest


def parse_result(payload: dict) -> Result | None:
    try:
        status = str(payload["status"])
        if status not in STATUSES:
            return None
        return Result(str(payload["pairing"]), str(payload["scenario"]), status,
                      float(payload.get("seconds", 0)), str(payload.get("detail", "")))
    except (KeyError, TypeError, ValueError):
        return None


class Collector:
    """Follows a boot's console: results, the running unit, each unit's lines."""

    def __init__(self):
        self.results: list[Result] = []
        self.ended: set = set()          # (pairing, scenario) units that printed END
        self.current = None              # (pairing, scenario) between BEGIN and END
        self.unit_lines: list[str] = []
        self.tail: list[str] = []        # the last lines of the whole console
        self.ready = self.done = False
        self.reboot = self.boot_fail = ""
        self.begun_at = None             # when the current unit began (set by the runner)

    def feed(self, line: str) -> None:
        self.tail = (self.tail + [line])[-400:]
        ev = parse_line(line)
        if self.current is not None and ev is None:
            self.unit_lines.append(line)
        if ev is None:
            return
        kind, data = ev
        if kind == "READY":
            self.ready = True
        elif kind == "BEGIN" and isinstance(data, dict):
            self.current = (data.get("pairing"), data.get("scenario"))
            self.unit_lines = []
        elif kind == "RESULT" and isinstance(data, dict):
            r = parse_result(data)
            if r is not None:
                self.results.append(r)
        elif kind == "END":
            if self.current is not None:
                for r in self.results:
                    if (r.pairing, r.scenario.split("/")[0]) == self.current and r.status == "FAIL" and not r.logs:
                        r.logs = relevant(self.unit_lines)
                self.ended.add(self.current)
            self.current = None
        elif kind == "REBOOT":
            self.reboot = data.get("reason", "") if isinstance(data, dict) else str(data)
        elif kind == "DONE":
            self.done = True
        elif kind == "BOOT-FAIL":
            self.boot_fail = str(data)


# Lines worth showing for a failure, by prefix, with how many of the last ones.
_SHOW = [("DOM0| ", 25), ("XL| ", 20), ("IRQ| ", 8), ("XS| ", 40), ("DOMU|", 25), ("DMESG| ", 20), ("(XEN)", 12)]
_ALWAYS = re.compile(r"FAIL|WARNING:|BUG:|Oops|error|Call Trace|panic", re.I)


def relevant(lines: list[str], limit: int = 110) -> list[str]:
    """The lines of a unit that explain a failure: errors always, else the last of each kind."""
    keep = set()
    for prefix, n in _SHOW:
        idx = [i for i, l in enumerate(lines) if l.startswith(prefix)]
        keep.update(idx[-n:])
        keep.update(i for i in idx if _ALWAYS.search(lines[i]))
    if not keep:
        keep = set(range(max(0, len(lines) - 40), len(lines)))
    return [lines[i] for i in sorted(keep)][-limit:]


def format_text(results: list[Result], header: list[str], footer: list[str], verbose: bool = False) -> str:
    out = list(header)
    wp = max([len(r.pairing) for r in results] + [7])
    ws = max([len(r.scenario) for r in results] + [8])
    for r in results:
        detail = r.detail if r.status != "PASS" or verbose else _short(r.detail)
        out.append(f"{r.status:4}  {r.pairing:{wp}}  {r.scenario:{ws}}  {r.seconds:6.1f} s  {detail}".rstrip())
        if r.status == "FAIL":
            out += [f"      | {l}" for l in r.logs]
    out += footer
    return "\n".join(out)


def _short(text: str, n: int = 100) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def format_json(results: list[Result], info: dict) -> str:
    return json.dumps({"ok": not any(r.status == "FAIL" for r in results), **info,
                       "results": [r.as_dict() for r in results]}, indent=2)


def summary(results: list[Result]) -> str:
    n = {s: sum(r.status == s for r in results) for s in STATUSES}
    return f"{n['PASS']} passed, {n['FAIL']} failed, {n['SKIP']} skipped"
