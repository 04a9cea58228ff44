"""Compile-test generated drivers with each OS's toolchain.

One small interface for every OS, so `xendrvgen compile`, the tests and the
benches drive them alike:

    result = build("linux", "generated", work_dir="build/compile/linux")
    result.ok, result.artifacts, result.log, result.warnings

An OS is a module `xendrvgen.compile.<os>` that defines

    DESCRIPTION = "..."                       # one line, for --help and errors
    def prepare(job: Job) -> Inputs           # what the build depends on; raises
                                              # ToolchainMissing when it cannot run
    def run(job: Job) -> Result               # the build itself, through job.runner

`build()` wraps both: it hashes the inputs (every source file, the toolchain
identity and flags, and the OS module's own code) and, when nothing changed
since the last successful build in the same work directory, returns that
result again (`cached=True`) without running anything.  A build that fails, or
warns, is never cached.  The key names the generated tree and the work
directory by absolute path, so a copied repository never takes another tree's
build for its own.

The key covers the files the build is given; what the compiler read besides
(a real tree's headers, the kernel's) is listed after a good build from the
compilers' dependency files (make's `.d`, kbuild's `.*.cmd`) and stored with
the stamp by content hash: a changed header there is a rebuild too.

A run holds an exclusive lock (flock on LOCK_FILE in the work directory) from
the cache check to the stamp: a second run into the same directory waits,
saying so once, and then usually finds the first one's build unchanged.

Runners execute the commands: `local` runs them on this machine; `podman`
runs them in a container image that has the toolchain (`--image`, or the
image of a Debian suite that `xendrvgen image build` made: `--suite`), one
throw-away container a command, with the work directory writable and the
inputs read-only.  In an image, every tool is the image's: its gcc, kernel
headers and clang, its Xen public headers, and its zig (`runner.image` tells
the OS modules where they run).
"""
from __future__ import annotations

import fcntl
import hashlib
import importlib
import json
import os as _os
import pkgutil
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import __version__
from ..base import paths
from ._errors import CompileError, ToolchainMissing

CACHE_FILE = ".xendrvgen-compile.json"
LOCK_FILE = ".xendrvgen-compile.lock"


@dataclass
class Result:
    os: str
    ok: bool
    artifacts: list = field(default_factory=list)   # paths of what was built (.ko, .o, ...)
    log: str = ""                                     # the toolchain's whole output
    warnings: list = field(default_factory=list)      # warning lines (any warning fails the build)
    errors: list = field(default_factory=list)        # error lines
    cached: bool = False
    seconds: float = 0.0
    command: list = field(default_factory=list)
    work_dir: str = ""
    key: str = ""
    label: str = ""                                   # what the CLI calls this build, e.g. "linux on trixie"
    kernel: str = ""                                  # Linux: the kernel release it was built against
    tool: str = ""                                    # the compiler's version, e.g. "zig 0.13.0" (an image's own)

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def built_with(self) -> str:
        """How a report names the toolchain: the kernel a Linux build was against, else the compiler's version."""
        return f"kernel {self.kernel}" if self.kernel else self.tool


@dataclass
class Inputs:
    files: list                  # Paths whose content the build depends on
    facts: dict                  # toolchain identity, flags, tree: anything else that matters
    root: Path | None = None     # files are hashed by their path relative to this
    tool: str = ""               # the compiler's version, for the report (Result.tool)


@dataclass
class Job:
    os: str
    gen_dir: Path                # the generated tree of this OS: <generated root>/<os>
    work_dir: Path               # private build directory (sources are copied here)
    runner: "Runner"
    tree: Path | None = None     # a real OS tree to build against instead of the contracts
    kdir: Path | None = None     # Linux: kernel build directory
    options: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Runners
# ---------------------------------------------------------------------------
class Runner:
    name = "?"
    image: str | None = None     # the container image the commands run in; None: this machine

    def run(self, cmd: list, cwd: Path, env: dict | None = None, timeout: int = 900) -> tuple[int, str]:
        raise NotImplementedError

    def which(self, tool: str) -> str | None:
        return shutil.which(tool)

    def identity(self) -> str:
        return self.name

    def kernel_dir(self) -> Path | None:
        """Where the runner's own kernel build directory is, when it has one (an image)."""
        return None

    def probe(self, cmd: list) -> tuple[int, str]:
        """Run a command that only reads the toolchain (a version, where a tool is)."""
        return self.run(cmd, Path.cwd(), timeout=60)


class LocalRunner(Runner):
    name = "local"

    def run(self, cmd, cwd, env=None, timeout=900):
        full_env = dict(_os.environ)
        full_env.update({"LC_ALL": "C", "LANG": "C"})
        if env:
            full_env.update(env)
        try:
            p = subprocess.run([str(c) for c in cmd], cwd=str(cwd), env=full_env, timeout=timeout,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
        except FileNotFoundError as exc:
            raise ToolchainMissing(f"cannot run '{cmd[0]}': {exc.strerror}") from None
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            return 124, out + f"\nxendrvgen: timed out after {timeout} s\n"
        return p.returncode, p.stdout


class PodmanRunner(Runner):
    """Runs each command in a throw-away container with the work directory
    mounted at its own path, and the input trees (`mounts`) read-only.  The
    container is removed when the command ends, also on a timeout or Ctrl-C."""
    name = "podman"

    def __init__(self, image: str | None = None, mounts: tuple = ()):
        from . import _podman
        if not image:
            raise CompileError("the podman runner needs --image (a locally built image holding the toolchain) "
                               "or --suite (an image of `xendrvgen image build`)")
        if not _podman.available():
            raise ToolchainMissing("the podman runner needs podman and runc", _podman.INSTALL)
        self.image = image
        self.mounts = [Path(m).resolve() for m in mounts]
        self._id = None

    def run(self, cmd, cwd, env=None, timeout=900):
        from . import _podman
        name = _podman.container_name()
        args = _podman.run_args(self.image, cmd, cwd, [Path(cwd)], env, readonly=self.mounts, name=name)
        try:
            p = subprocess.run(args, cwd=str(cwd), env=_podman.env(), timeout=timeout, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace")
        except subprocess.TimeoutExpired as exc:
            _podman.remove_container(name)
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            return 124, out + f"\nxendrvgen: timed out after {timeout} s\n"
        except BaseException:       # Ctrl-C, SIGTERM: podman's --rm may not get to it
            _podman.remove_container(name)
            raise
        return p.returncode, p.stdout

    def which(self, tool):
        rc, out = self.probe(["sh", "-c", f"command -v {tool}"])
        return out.strip() or None if rc == 0 else None

    def kernel_dir(self) -> Path | None:
        rc, out = self.probe(["sh", "-c", "ls -d /usr/src/linux-headers-*-amd64"])
        dirs = sorted(line.strip() for line in out.splitlines() if line.strip()) if rc == 0 else []
        return Path(dirs[-1]) if dirs else None

    def probe(self, cmd):
        # An image does not change under its ID: what a probe printed is kept
        # per image, so a build with nothing changed starts no container.
        from xendrvgen.base import cachefile
        from xendrvgen.base.paths import cache_dir
        self.identity()
        path = cache_dir() / "podman" / "probes" / f"{self._id}.json"
        try:
            known = json.loads(cachefile.unseal(b"probes", cachefile.read(path, 1 << 20)) or b"{}")
        except ValueError:
            known = {}
        key = "\0".join(str(c) for c in cmd)
        got = known.get(key) if isinstance(known, dict) else None
        if isinstance(got, list) and len(got) == 2 and isinstance(got[0], int) and isinstance(got[1], str):
            return got[0], got[1]
        rc, out = self.run(cmd, Path.cwd(), timeout=60)
        known = known if isinstance(known, dict) else {}
        known[key] = [rc, out]
        cachefile.write(path, cachefile.seal(b"probes", json.dumps(known).encode()))
        return rc, out

    def identity(self):
        # The image's ID, not only its name: a rebuilt image is another toolchain.
        if self._id is None:
            from . import _images
            self._id = _images.image_id(self.image)
        return f"podman:{self.image}@{self._id}"


def make_runner(name: str, image: str | None = None, mounts: tuple = ()) -> Runner:
    if name == "local":
        return LocalRunner()
    if name == "podman":
        return PodmanRunner(image, mounts)
    raise CompileError(f"unknown runner '{name}' (known: local, podman)")


# ---------------------------------------------------------------------------
# OS modules
# ---------------------------------------------------------------------------
def known_oses() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def os_module(name: str):
    if name not in known_oses():
        raise CompileError(f"no compile test for OS '{name}' (known: {', '.join(known_oses()) or 'none'})")
    return importlib.import_module(f"{__name__}.{name}")


# ---------------------------------------------------------------------------
# Helpers for OS modules
# ---------------------------------------------------------------------------
WARNING_RE = re.compile(r"(\bwarning:|^WARNING:)", re.M)
ERROR_RE = re.compile(r"(\berror:|^ERROR:|\*\*\* )", re.M)


def scan_log(log: str) -> tuple[list, list]:
    warnings = [l for l in log.splitlines() if WARNING_RE.search(l)]
    errors = [l for l in log.splitlines() if ERROR_RE.search(l)]
    return warnings, errors


def sync_tree(src: Path, dst: Path, skip=lambda p: False) -> list[Path]:
    """Make dst hold exactly src's files (written only when different, so make sees true mtimes)."""
    dst.mkdir(parents=True, exist_ok=True)
    wanted = set()
    copied = []
    for p in sorted(src.rglob("*")):
        rel = p.relative_to(src)
        if p.is_dir() or skip(rel):
            continue
        wanted.add(rel)
        out = dst / rel
        data = p.read_bytes()
        if not out.exists() or out.read_bytes() != data:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        copied.append(out)
    return copied


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def tool_version(runner: Runner, cmd: list) -> str:
    try:
        rc, out = runner.probe(cmd)
    except ToolchainMissing:
        return "missing"
    return out.splitlines()[0].strip() if rc == 0 and out else f"rc={rc}"


@contextmanager
def work_lock(work_dir: Path):
    """Hold `work_dir` for this run; another run holding it is waited for (said once, on stderr)."""
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
        lock = open(work_dir / LOCK_FILE, "a")
    except OSError as exc:
        raise CompileError(f"{work_dir}: cannot use as work directory: {exc.strerror}") from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"xendrvgen: {work_dir}: another compile is using this work directory; waiting for it",
                  file=sys.stderr, flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield   # closing the file releases the lock


# ---------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------
def _key(mod, job: Job, inputs: Inputs) -> str:
    h = hashlib.sha256()
    h.update(f"xendrvgen {__version__}\n{job.os}\n{job.runner.identity()}\n".encode())
    # Where: a copy of the tree (or another work directory) is another build.
    h.update(f"gen {job.gen_dir}\nwork {job.work_dir}\n".encode())
    h.update(Path(mod.__file__).read_bytes())
    h.update(Path(__file__).read_bytes())
    for k in sorted(inputs.facts):
        h.update(f"fact {k}={inputs.facts[k]}\n".encode())
    root = inputs.root or job.gen_dir
    for f in sorted(Path(p) for p in inputs.files):
        try:
            rel = f.relative_to(root)
        except ValueError:
            rel = f
        h.update(f"file {rel}\n".encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def build(os: str, gen_dir: str | Path = "generated", tree: str | Path | None = None,
          runner: str | Runner = "local", work_dir: str | Path | None = None, *,
          kdir: str | Path | None = None, use_cache: bool = True, image: str | None = None,
          options: dict | None = None) -> Result:
    """Build the generated drivers of `os` found under `gen_dir/<os>/`.

    Raises CompileError (or ToolchainMissing) for bad input or a missing
    toolchain; a build that runs and fails is a Result with ok=False.
    """
    mod = os_module(os)
    gen_root = Path(gen_dir)
    gen = gen_root / os
    if not gen.is_dir():
        raise CompileError(f"{gen}: no generated {os} sources (run `xendrvgen generate --os {os}` first)")
    work = Path(work_dir) if work_dir else Path("build") / "compile" / os
    tree_p = Path(tree).resolve() if tree else None
    if tree_p is not None and not tree_p.is_dir():
        raise CompileError(f"{tree}: not a directory (--tree wants a source tree of {os})")
    # What a container sees besides its work directory, read-only: the
    # inputs, and the contract headers the cross compiles search.
    mounts = (gen.resolve(), tree_p, Path(kdir).resolve() if kdir else None, paths.ROOT / "contracts")
    run = runner if isinstance(runner, Runner) else make_runner(
        runner, image, tuple(p for p in mounts if p and p.is_dir()))
    job = Job(os=os, gen_dir=gen.resolve(), work_dir=work.resolve(), runner=run, tree=tree_p,
              kdir=Path(kdir).resolve() if kdir else None, options=dict(options or {}))
    with work_lock(job.work_dir):
        return _build_locked(mod, job, use_cache)


_DEP_BLOCK = re.compile(r"^deps_\S+ := ((?:.*\\\n)*.*)$", re.M)   # kbuild's .cmd


def _dependencies(job: Job) -> dict[str, str]:
    """sha256 of every file the last build's compilers read, from their
    dependency files under the work directory."""
    texts = []
    for p in job.work_dir.rglob("*.d"):
        text = p.read_text(errors="replace")
        texts.append(text.split(":", 1)[1] if ":" in text else "")
    for p in job.work_dir.rglob(".*.cmd"):
        texts += _DEP_BLOCK.findall(p.read_text(errors="replace"))
    base = job.kdir or job.work_dir
    out = {}
    for text in texts:
        for tok in text.replace("\\\n", " ").split():
            if "$(" in tok or tok.endswith(")") or tok.endswith(":"):
                continue
            path = Path(tok) if Path(tok).is_absolute() else base / tok
            key = str(path)
            if key not in out and path.is_file():
                out[key] = file_digest(path)
    return out


def _unchanged(deps: dict) -> bool:
    try:
        return all(file_digest(Path(p)) == h for p, h in deps.items())
    except OSError:
        return False


def _build_locked(mod, job: Job, use_cache: bool) -> Result:
    inputs = mod.prepare(job)
    key = _key(mod, job, inputs)
    stamp = job.work_dir / CACHE_FILE
    if use_cache and stamp.is_file():
        try:
            old = json.loads(stamp.read_text())
        except (OSError, ValueError):
            old = {}
        if isinstance(old, dict) and old.get("key") == key and old.get("result", {}).get("ok") and all(
                Path(a).is_file() for a in old["result"].get("artifacts", [])) \
                and isinstance(old.get("deps"), dict) and _unchanged(old["deps"]):
            res = Result(**old["result"])
            res.cached, res.seconds = True, 0.0
            return res
    t0 = time.perf_counter()
    res = mod.run(job)
    res.seconds = round(time.perf_counter() - t0, 3)
    res.key, res.work_dir = key, str(job.work_dir)
    res.tool = res.tool or inputs.tool
    if res.ok and res.warnings:
        res.ok = False
    if res.ok:
        stamp.write_text(json.dumps({"key": key, "result": res.as_dict(), "deps": _dependencies(job)},
                                    indent=1))
    elif stamp.exists():
        stamp.unlink()
    return res
