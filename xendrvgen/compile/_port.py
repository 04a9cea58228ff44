"""The compile runner of a port: a zig (or host clang) cross compile against
the port's contract headers, described by a few names in its OS module.

`xendrvgen port new` writes `xendrvgen/compile/<os>.py` as such a module;
OpenBSD's runner is one too.  The module defines

    DESCRIPTION = "..."
    TARGETS = ("x86_64-openbsd",)   # zig targets, or ("host",) for this machine's clang
    FLAGS = [...]                   # kernel flags, -Werror included
    CONTRACT = "<os>"               # contracts/<os>/include
    BORROW = None or "<os>"         # a contract also searched (after its own) while
                                    # the port still spells the API of the OS it came from
    TREE = None or {"probe": "...", "include": [...], "links": {...}}
                                    # with --tree: what to search in a real tree
    prepare, run = _port.runner(__name__)

The generated protocol headers are found where the OS profile puts them: the
part of the blkif header's output path before its `include_as` path is added
to the search list, and so is the directory its own quoted includes (ring.h)
are taken from, in the contract (or the tree).
"""
from __future__ import annotations

import posixpath
import shutil
import sys
from pathlib import Path

from . import CompileError, Inputs, Job, Result, ToolchainMissing, tool_version
from . import _cbuild, _zig


def _profile(os_name: str):
    from xendrvgen.spec import osprofile
    from xendrvgen.base.diagnostics import SpecError
    from xendrvgen.base.paths import PROFILES_DIR
    try:
        return osprofile.load(PROFILES_DIR / f"{os_name}.yaml")
    except SpecError as exc:
        raise CompileError(f"the {os_name} OS profile does not load: {exc.diagnostics[0].message}") from None


def header_dirs(os_name: str) -> tuple[str, str]:
    """(the generated include root, the io directory the blkif header sits in),
    both relative: '' when the header is included from the top."""
    prof = _profile(os_name)
    out = prof.output_for("blkif")
    if out is None:
        return "", ""
    inc = prof.headers["blkif"].include_as.strip('<>"')
    root = out.path[:-len(inc)].rstrip("/") if out.path.endswith(inc) else posixpath.dirname(out.path)
    return root, posixpath.dirname(inc)


def compiler(target: str, runner=None) -> list[str]:
    """The compiler of a target: zig for a zig target, clang (or cc) for 'host'; the runner's."""
    if target == "host":
        which = runner.which if runner is not None else shutil.which
        cc = which("clang") or which("cc")
        if cc is None:
            raise ToolchainMissing("no host C compiler (clang or cc)", "apt-get install clang")
        return [cc]
    return [*_zig.cc(runner), "-target", target]


def imports(os_name: str) -> Path | None:
    d = _cbuild.CONTRACTS_DIR / os_name / "import"
    return d if d.is_dir() else None


def runner(module_name: str):
    """(prepare, run) for the OS module named `module_name`."""
    mod = sys.modules[module_name]

    def contracts() -> list[str]:
        return [c for c in (mod.CONTRACT, getattr(mod, "BORROW", None)) if c]

    def prepare(job: Job) -> Inputs:
        _cbuild.driver_sources(job)
        files = _cbuild.input_files(job)
        if mod.TARGETS == ("host",):
            tool = tool_version(job.runner, [*compiler("host", job.runner), "--version"])
        else:
            tool = _zig.version(job.runner)
        facts = {"tool": tool, "targets": ",".join(mod.TARGETS), "flags": " ".join(mod.FLAGS),
                 "contracts": ",".join(contracts())}
        if job.tree is None:
            for c in contracts():
                files += _cbuild.contract_files(c)
        else:
            files += _cbuild.contract_files(mod.CONTRACT) if imports(job.os) else []
        files += _cbuild.xen_public_files(job.runner)
        if job.tree is not None:
            tree = getattr(mod, "TREE", None)
            if not tree:
                raise CompileError(f"--tree is not supported for {job.os} yet: describe its tree in TREE "
                                   f"of xendrvgen/compile/{job.os}.py (see docs/porting.md)")
            _cbuild.require_tree_file(job, tree["probe"], job.os)
            facts["tree"] = str(job.tree)
        return Inputs(files=files, facts=facts, tool=tool)

    def run(job: Job) -> Result:
        root, io = header_dirs(job.os)
        gen = [job.work_dir / "src" / root] if root and (job.gen_dir / root).is_dir() else []
        if job.tree is None:
            inc = [_cbuild.contract_include(c) for c in contracts()]
        else:
            tree = mod.TREE
            links = {n: job.tree / rel for n, rel in tree.get("links", {}).items()}
            inc = ([_cbuild.link_dir(job.work_dir / "tree-include", links)] if links else []) + \
                [job.tree / d for d in tree.get("include", [])]
        # Headers the port brings into its tree (contracts/<os>/import), and
        # the installed Xen public headers some of them stand for.
        inc += [d for d in [imports(job.os)] if d]
        after = [_cbuild.xen_public_include(job.work_dir, job.runner)]
        io_dirs = [d / io for d in inc if io and (d / io).is_dir()]
        targets = [_cbuild.Target(t, compiler(t, job.runner), list(mod.FLAGS), [*gen, *inc, *io_dirs], after)
                   for t in mod.TARGETS]
        return _cbuild.compile_all(job, targets)

    return prepare, run
