"""`xendrvgen check`: is generated/ what the spec renders to, and does the spec
still match the upstream headers?

Each file under the output directory of a checked OS is compared with a
fresh render (taken from the render cache when nothing that shapes the file
changed, see cache.py): missing, stale (with a unified diff), edited by
hand, or extra (a file no output produces).  Then the spec is validated
against the installed upstream headers (xendrvgen.validate).  The report
says which command fixes what: `xendrvgen generate` for stale output, an
edit of the spec for upstream drift.
"""
from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from . import writer
from xendrvgen.base.diagnostics import Diagnostic, ERROR, Mark
from .generate import Inputs, render_inputs
from xendrvgen.base.paths import DEFAULT_OUT

IGNORED_NAMES = (".gitignore", ".gitattributes", ".gitkeep")


@dataclass(frozen=True)
class Finding:
    kind: str                  # missing, stale, edited, extra, leftover
    path: str                  # as shown: output dir as given + relative path
    message: str
    line: int = 1              # first line that differs
    diff: str = ""


@dataclass
class CheckResult:
    out: str
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    validation: object = None  # validate.Report, or None when not run
    validation_note: str = ""
    fix_command: str = ""

    @property
    def stale(self) -> bool:
        return bool(self.findings)

    @property
    def failed(self) -> bool:
        return self.stale or bool(self.validation is not None and self.validation.failed)


def _first_diff_line(old: str, new: str) -> int:
    a, b = old.split("\n"), new.split("\n")
    for i, (x, y) in enumerate(zip(a, b), 1):
        if x != y:
            return i
    return min(len(a), len(b)) + 1 if len(a) != len(b) else 1


def compare(inp: Inputs, out: str = DEFAULT_OUT) -> tuple[list[Finding], int]:
    """Findings of generated/ against a fresh render, and the number of files rendered.

    SpecError (exit 2) for a symbolic link under an OS directory: none is followed.
    """
    dirs = list(inp.names)
    writer.preflight(out, dirs)
    files = render_inputs(inp)
    shown_root = out.rstrip("/") or "."
    findings: list[Finding] = []
    wanted = set()
    for f in files:
        target = writer.inside(out, f.path)
        wanted.add(target)
        shown = f"{shown_root}/{f.path}"
        try:
            with open(target, "rb") as fh:
                old = fh.read().decode("utf-8", errors="surrogateescape")
        except FileNotFoundError:
            findings.append(Finding("missing", shown, "is missing; it is generated from the spec"))
            continue
        except OSError as exc:
            findings.append(Finding("missing", shown, f"cannot be read: {exc.strerror}"))
            continue
        if old == f.text:
            continue
        diff = writer.unified_diff(old, f.text, shown, "committed", "fresh render")
        line = _first_diff_line(old, f.text)
        if writer.verify(old).state != "intact":
            findings.append(Finding("edited", shown, "was edited by hand (its content no longer "
                                    "matches its banner's file-sha256) and differs from a fresh render",
                                    line, diff))
        else:
            findings.append(Finding("stale", shown, "differs from a fresh render of the spec and "
                                    "templates", line, diff))
    for d in dirs:
        base = os.path.join(out, d)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for fn in sorted(filenames):
                rel = Path(os.path.relpath(os.path.join(dirpath, fn), out)).as_posix()
                if fn in IGNORED_NAMES or writer.inside(out, rel) in wanted:
                    continue
                if writer.is_leftover(fn):
                    findings.append(Finding("leftover", f"{shown_root}/{rel}", "is a temporary file an "
                                            "interrupted `xendrvgen generate` left; generating removes it"))
                    continue
                findings.append(Finding("extra", f"{shown_root}/{rel}",
                                        "is not produced by any output of the OS profiles"))
    if inp.all_os and os.path.isdir(out):
        for entry in sorted(os.listdir(out)):
            if entry in dirs or entry in IGNORED_NAMES:
                continue
            findings.append(Finding("extra", f"{shown_root}/{entry}",
                                    "is not the output directory of any OS profile"))
    return findings, len(files)


def fix_command(spec_arg: str, out: str, os_names: list[str] | None) -> str:
    cmd = ["xendrvgen", "generate"]
    if spec_arg != "specs/blkif.yaml":
        cmd += ["--spec", spec_arg]
    if out != DEFAULT_OUT:
        cmd += ["--out", out]
    if os_names:
        cmd += ["--os", ",".join(os_names)]
    return " ".join(shlex.quote(c) for c in cmd)


def run_validation(inp: Inputs):
    """validate.validate_all on the installed headers (its remembered verdict
    when nothing it reads changed), or (None, why) when it cannot run."""
    try:
        from xendrvgen.headers.compare import verdictcache
    except ModuleNotFoundError as exc:
        if exc.name == "xendrvgen.headers.compare.verdictcache":
            return None, "upstream validation is not available in this version"
        raise

    def validate():
        from xendrvgen.headers.compare.validate import validate_all
        return validate_all(inp.spec, None)
    return verdictcache.remembered(verdictcache.slot(inp.spec_path, inp.spec_name), validate), ""


# --- reporting --------------------------------------------------------------
def render_text(res: CheckResult) -> str:
    out = []
    for f in res.findings:
        out.append(f"{f.path}: {f.kind}: {f.message}")
        if f.diff:
            out.append(f.diff.rstrip("\n"))
    if res.validation is not None:
        text = res.validation.render("text")
        if res.validation.failed:
            out.append("The spec no longer matches the upstream headers:")
            out.append(text)
        else:   # one line per header; its notes are for `xendrvgen validate`
            out.extend(ln for ln in text.splitlines() if ln and not ln.startswith(" "))
    elif res.validation_note:
        out.append(f"note: {res.validation_note}")
    if res.findings:
        out.append(f"{len(res.findings)} of the generated files under {res.out}/ are out of date; "
                   f"fix with: {res.fix_command}")
    if res.validation is not None and res.validation.failed:
        out.append("The spec disagrees with the upstream headers: correct specs/blkif.yaml "
                   "(see the mismatches above), then regenerate.")
    if not res.failed:
        out.append(f"{res.files} generated files under {res.out}/ are up to date"
                   + (" and the spec matches the upstream headers." if res.validation is not None else "."))
    return "\n".join(out)


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(res: CheckResult) -> str:
    out = []
    for f in res.findings:
        msg = f"{f.path} {f.message}. Fix with: {res.fix_command}"
        out.append(f"::error file={_gh_escape(f.path, True)},line={f.line},"
                   f"title={_gh_escape('xendrvgen check: ' + f.kind, True)}::{_gh_escape(msg)}")
    if res.validation is not None:
        text = res.validation.render("github")
        if text:
            out.append(text)
    return "\n".join(out)


def render_json(res: CheckResult) -> str:
    val = None
    if res.validation is not None:
        val = json.loads(res.validation.render("json"))
    return json.dumps({
        "ok": not res.failed,
        "out": res.out,
        "files": res.files,
        "fix_command": res.fix_command if res.findings else None,
        "findings": [{"kind": f.kind, "path": f.path, "line": f.line, "message": f.message,
                      "diff": f.diff} for f in res.findings],
        "validation": val,
        "validation_note": res.validation_note or None,
    }, indent=2)


def render_result(res: CheckResult, fmt: str) -> str:
    return {"json": render_json, "github": render_github}.get(fmt, render_text)(res)


def as_diagnostics(res: CheckResult) -> list[Diagnostic]:
    return [Diagnostic(ERROR, f"{f.kind}: {f.message}", Mark(f.path, f.line)) for f in res.findings]
