"""Render and build the simulation binary of `xendrvgen sim`.

One binary holds the machine (templates/sim/sim_hv.c.j2: XenStore with
watches and transactions, grants, event channels), the scheduler and command
interpreter (sim_main.c.j2), our frontend rendered with the front OS's
profile (sim_front.c.j2) and our backend with the back OS's (sim_back.c.j2),
each against that OS's freshly generated protocol headers and Xen's installed
io/ring.h, and every peer personality (personalities.py).  Each driver is a
translation unit of its own, so two OSes' headers never meet in one file:
they meet on the ring, as on the wire.  Builds are cached by a hash of every
source and flag (paths.cache_dir()/sim); `overrides` replaces templates by
name (the fault tests put historical bugs back that way).
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from xendrvgen.spec import osprofile
from xendrvgen.base import paths
from xendrvgen.render import environment as render
from xendrvgen.render.fieldaccess import Layout
from ..compile import _cbuild
from . import personalities

SIM_TEMPLATES = paths.TEMPLATES_DIR / "sim"
CFLAGS = ["-std=gnu11", "-O1", "-Wall", "-Wextra", "-Werror", "-Wno-unused-function",
          "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-Wno-sign-compare",
          # as kbuild: the Linux profile's packed request union hands out member addresses
          "-Wno-address-of-packed-member"]
HEADER_ROLES = ("blkif", "abi", "nodes")


class SimBuildError(Exception):
    """The sources did not compile (a bug in a template, or an injected fault)."""


class SimToolMissing(Exception):
    def __init__(self, what: str, package: str):
        super().__init__(f"{what} (apt-get install {package})")
        self.package = package


@dataclass
class Built:
    exe: Path
    seconds: float                 # 0 when it came from the cache
    cached: bool
    sources: dict = field(default_factory=dict)   # name -> text, for --keep and debugging


def compiler() -> str:
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc") or shutil.which("clang")
    if not cc:
        raise SimToolMissing("no host C compiler", "gcc")
    return cc


def _env(overrides: dict | None) -> jinja2.Environment:
    env = render.environment(paths.TEMPLATES_DIR)
    if overrides:
        env.loader = jinja2.ChoiceLoader([jinja2.DictLoader(dict(overrides)), env.loader])
    return env


def _headers(spec, profile, out: Path) -> tuple[str, list[str]]:
    """Render one OS's protocol headers under `out`; the include text (the
    OS's prelude, then each header) and the flags that find its stubs."""
    only = dataclasses.replace(profile, outputs=tuple(o for o in profile.outputs if o.header in HEADER_ROLES))
    for f in render.render_all(spec, [only]):
        p = out / f.path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f.text)
    root = out / profile.name
    flags = []
    stubs = out / f"{profile.name}-stubs"
    for rel, text in profile.standalone.stubs.items():
        (stubs / rel).parent.mkdir(parents=True, exist_ok=True)
        (stubs / rel).write_text(text)
    flags += [f"-I{stubs / d}" if d else f"-I{stubs}" for d in profile.standalone.stub_include_dirs]
    flags += [f"-I{root / d}" for d in profile.standalone.include_dirs]
    flags += [f"-idirafter{d}" for d in profile.standalone.system_include_dirs]
    inc = "".join(f'#include "{root / profile.output_for(r).path}"\n' for r in HEADER_ROLES)
    return profile.standalone.prelude + inc, flags


def sources(spec, plan, front_os: str, back_os: str, work: Path, overrides: dict | None = None) -> list:
    """[(file name, text, extra flags)] of every translation unit."""
    env = _env(overrides)
    spec_name = paths.spec_display_name(spec.file)
    base = {"spec": spec, "plan": plan, "spec_name": spec_name}
    units = []
    drivers = []
    for side, os_name, tpl, sym in (("front", front_os, "sim/sim_front.c.j2", "sim_fe_ours"),
                                    ("back", back_os, "sim/sim_back.c.j2", "sim_be_ours")):
        prof = osprofile.load(paths.PROFILES_DIR / f"{os_name}.yaml")
        includes, flags = _headers(spec, prof, work / "gen" / side)
        text = env.get_template(tpl).render(**base, os=prof, layout=Layout(spec, prof), includes=includes)
        units.append((f"sim_{side}.c", text, flags))
        drivers.append((sym, "ours"))
    for p in personalities.PERSONALITIES:
        text = env.get_template(p.template).render(**base, personality=p)
        units.append((f"peer_{p.name.replace('-', '_')}.c", text, p.flags()))
        drivers.append((p.symbol, p.name))
    units.append(("sim_hv.c", env.get_template("sim/sim_hv.c.j2").render(**base), []))
    units.append(("sim_main.c", env.get_template("sim/sim_main.c.j2").render(**base, drivers=drivers), []))
    return units


def _key(cc: str, units: list, work: Path) -> str:
    h = hashlib.sha256()
    ver = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
    ring = _cbuild.xen_public_dir() / "io" / "ring.h"
    for part in (cc, ver, " ".join(CFLAGS), (SIM_TEMPLATES / "sim.h").read_text(), ring.read_text()):
        h.update(part.encode())
    # The generated headers live in a temporary directory: hash their text, not their path.
    for name, text, flags in units:
        h.update(name.encode() + text.replace(str(work), "@").encode() + " ".join(flags).replace(str(work), "@").encode())
    for f in sorted((work / "gen").rglob("*")):
        if f.is_file():
            h.update(str(f.relative_to(work)).encode() + f.read_bytes())
    return h.hexdigest()[:24]


def build(spec, plan, front_os: str = "linux", back_os: str = "linux", *, overrides: dict | None = None,
          cache: bool = True) -> Built:
    """The sim binary for our frontend built as `front_os` and our backend as `back_os`."""
    import time
    cc = compiler()
    try:
        _cbuild.xen_public_dir()
    except Exception as exc:
        raise SimToolMissing(f"Xen's public headers are missing: {exc}", "libxen-dev") from None
    with tempfile.TemporaryDirectory(prefix="xdg-sim-") as tmp:
        work = Path(tmp)
        units = sources(spec, plan, front_os, back_os, work, overrides)
        key = _key(cc, units, work)
        out_dir = paths.cache_dir() / "sim" / key
        exe = out_dir / "xdg-sim"
        texts = {name: text for name, text, _ in units}
        if cache and exe.is_file() and os.environ.get("XENDRVGEN_NO_CACHE") != "1":
            return Built(exe, 0.0, True, texts)
        t0 = time.perf_counter()
        (work / "sim.h").write_text((SIM_TEMPLATES / "sim.h").read_text())
        objs = []
        procs = []
        for name, text, flags in units:
            src = work / name
            src.write_text(text)
            obj = work / (name[:-2] + ".o")
            objs.append(obj)
            cmd = [cc, *CFLAGS, f"-I{work}", *flags, "-c", str(src), "-o", str(obj)]
            procs.append((name, cmd, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                      text=True)))
        errors = []
        for name, cmd, p in procs:
            _, err = p.communicate()
            if p.returncode != 0:
                errors.append(f"{name}:\n{err}")
        if errors:
            keep = Path(tempfile.mkdtemp(prefix="xdg-sim-failed-"))
            for name, text, _ in units:
                (keep / name).write_text(text)
            raise SimBuildError("the simulation does not compile (sources kept in "
                                f"{keep}):\n" + "\n".join(errors)[:6000])
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp_exe = out_dir / f".xdg-sim-{os.getpid()}"
        r = subprocess.run([cc, *[str(o) for o in objs], "-o", str(tmp_exe)], capture_output=True, text=True)
        if r.returncode != 0:
            raise SimBuildError("the simulation does not link:\n" + r.stderr[:4000])
        os.replace(tmp_exe, exe)
        return Built(exe, time.perf_counter() - t0, False, texts)
