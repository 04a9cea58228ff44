"""Container images of Debian suites for the compile matrix (`xendrvgen image build`).

Each image is built from Debian's own packages only: debootstrap a minimal
root of the suite, install the toolchain and that suite's kernel headers in
it with apt-get, copy in the ziglang package this machine's xendrvgen uses
(the BSD cross compiler; from its installed files, nothing is downloaded),
and import the root into podman (`podman import` of a tar stream: no
registry).  The tag is the suite plus a hash of the recipe (the suite, the
package list, the ziglang version, the steps' format), so a changed recipe
builds a new image and an unchanged one is reused.  An image is tagged only
once it was imported whole, holds a kernel build directory and runs its zig;
anything less is removed, and the root is always deleted.  Two builds of one
suite do not race: the second waits for the first, then reuses its image.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import _podman
from ._errors import CompileError, ToolchainMissing

SUITES = ("bullseye", "bookworm", "trixie", "sid")
# What `xendrvgen ci` builds the Linux drivers on: every suite whose kernel
# is at least the Linux profile's baseline (5.10, bullseye's), oldest first.
MATRIX = ("bullseye", "bookworm", "trixie", "sid")
# Everything the compile tests of the generated drivers use inside an image
# (python3 runs the ziglang copied in).
PACKAGES = ("gcc", "make", "libc6-dev", "kmod", "linux-headers-amd64", "libxen-dev", "clang", "python3")
REPO = "localhost/xendrvgen-build"
FORMAT = 2           # bump when the steps below change what an image holds
# Where the ziglang package goes in an image; a .pth file puts it on the path
# of Debian's python3, so that `python3 -m ziglang` runs it.
ZIGLANG_DIR = "/opt/xendrvgen/ziglang"
ZIGLANG_PTH = "/usr/lib/python3/dist-packages/xendrvgen-ziglang.pth"
DEFAULT_MIRROR = "http://deb.debian.org/debian"


class ImageError(CompileError):
    """An image could not be built (a step failed); nothing was tagged."""


@dataclass(frozen=True)
class Recipe:
    suite: str
    packages: tuple = PACKAGES
    ziglang: str | None = None       # the ziglang version copied in (None: not installed here)

    def text(self) -> str:
        return (f"xendrvgen image format {FORMAT}\nsuite {self.suite}\npackages {' '.join(self.packages)}\n"
                f"ziglang {self.ziglang or 'none'}\n")

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text().encode()).hexdigest()[:12]

    @property
    def tag(self) -> str:
        return f"{REPO}:{self.suite}-{self.digest}"


def recipe(suite: str) -> Recipe:
    from . import _zig
    if suite not in SUITES:
        raise CompileError(f"unknown Debian suite '{suite}' (known: {', '.join(SUITES)})")
    return Recipe(suite, ziglang=_zig.installed_version())


def suites(names: list[str]) -> list[str]:
    """The suites a --suite list names ('all' for every one), in order, checked."""
    out = list(SUITES) if "all" in names else list(dict.fromkeys(names))
    for s in out:
        recipe(s)
    return out


def work_dir(work_root: Path, suite: str, os_name: str = "linux") -> Path:
    """Where the build of `os_name` in `suite`'s image happens, under a compile work root."""
    return Path(work_root) / f"{os_name}-{suite}"


def mirror() -> str:
    """$XENDRVGEN_DEBIAN_MIRROR, else the Debian mirror this machine's apt uses, else deb.debian.org."""
    own = os.environ.get("XENDRVGEN_DEBIAN_MIRROR")
    if own:
        return own
    for path, pattern in (("/etc/apt/sources.list.d/debian.sources", r"^URIs:\s*(\S+/debian)\s*$"),
                          ("/etc/apt/sources.list", r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)\s")):
        try:
            m = re.search(pattern, Path(path).read_text(), re.M)
        except OSError:
            continue
        if m:
            return m.group(1)
    return DEFAULT_MIRROR


def _run(cmd: list, what: str, **kw) -> str:
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", **kw)
    except FileNotFoundError as exc:
        raise ToolchainMissing(f"{what}: cannot run '{cmd[0]}'") from exc
    if p.returncode != 0:
        tail = "\n".join(p.stdout.strip().splitlines()[-15:])
        raise ImageError(f"{what} failed (exit {p.returncode}):\n{tail}")
    return p.stdout


def exists(tag: str) -> bool:
    if not _podman.available():
        return False
    return subprocess.run(_podman.command("image", "exists", tag), env=_podman.env(),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def image_id(tag: str) -> str:
    return _run(_podman.command("image", "inspect", "--format", "{{.Id}}", tag), f"podman image inspect {tag}",
                env=_podman.env()).strip()


def kernel_dir(tag: str) -> str:
    """The kernel build directory the image's linux-headers-amd64 installed."""
    out = _run(_podman.run_args(tag, ["sh", "-c", "ls -d /usr/src/linux-headers-*-amd64"]),
               f"looking for the kernel headers in {tag}", env=_podman.env())
    dirs = sorted(line.strip() for line in out.splitlines() if line.strip())
    if not dirs:
        raise ImageError(f"{tag} holds no /usr/src/linux-headers-*-amd64")
    return dirs[-1]


def _check_tools() -> None:
    if shutil.which("debootstrap") is None:
        raise ToolchainMissing("building an image needs debootstrap", "apt-get install debootstrap")
    if not _podman.available():
        raise ToolchainMissing("building an image needs podman and runc", _podman.INSTALL)
    if os.geteuid() != 0:
        raise CompileError("building an image needs root (debootstrap and chroot); run it as root or with sudo")


def build(suite: str, *, force: bool = False, progress: Callable[[str], None] = print,
          packages: tuple | None = None) -> tuple[str, bool]:
    """The image of `suite`: (tag, reused).  Builds it unless it exists (or `force`).
    `packages` replaces the recipe's list (tests)."""
    r = recipe(suite)
    r = r if packages is None else Recipe(r.suite, tuple(packages), r.ziglang)
    if r.ziglang is None:
        from . import _zig
        raise ToolchainMissing("an image carries this machine's zig C compiler (the BSD and EDK2 builds), "
                               "and the PyPI package 'ziglang' is not installed", _zig.INSTALL)
    _check_tools()
    with _suite_lock(suite, progress):      # a second build of the suite waits, then reuses
        old = image_id(r.tag) if exists(r.tag) else None
        if old and not force:
            return r.tag, True
        _build(r, progress)
        if old and old != image_id(r.tag):    # the image that --force replaced, untagged now
            subprocess.run(_podman.command("rmi", old), env=_podman.env(), capture_output=True)
    return r.tag, False


@contextmanager
def _suite_lock(suite: str, progress: Callable[[str], None]):
    fd = os.open(f"/var/tmp/xendrvgen-image-{suite}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"{suite}: another image build of {suite} is running; waiting for it")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _build(r: Recipe, progress: Callable[[str], None]) -> None:
    suite, src = r.suite, mirror()
    root = Path(tempfile.mkdtemp(prefix=f"xendrvgen-{suite}-", dir="/var/tmp"))
    try:
        def step(what: str, fn) -> None:
            t0 = time.monotonic()
            progress(f"{suite}: {what} ...")
            fn()
            progress(f"{suite}: {what}: done in {time.monotonic() - t0:.0f} s")
        step(f"debootstrap (minbase) from {src}",
             lambda: _run(["debootstrap", "--variant=minbase", suite, str(root), src], "debootstrap"))
        # A frozen or snapshot mirror serves Release files past their Valid-Until.
        apt = "apt-get -o Acquire::Check-Valid-Until=false"
        step("apt-get install " + " ".join(r.packages), lambda: _run(
            ["chroot", str(root), "sh", "-c",
             f"{apt} update -qq && DEBIAN_FRONTEND=noninteractive {apt} install -y -qq "
             f"--no-install-recommends {' '.join(r.packages)} && apt-get clean"],
            "apt-get in the new root", env={**os.environ, "LC_ALL": "C"}))
        step(f"ziglang {r.ziglang} (this machine's) into {ZIGLANG_DIR}", lambda: _put_ziglang(root, r.ziglang))
        (root / "etc" / "xendrvgen-image").write_text(r.text() + f"mirror {src}\n")
        # Imported under a temporary name; the recipe's tag only once it is whole.
        partial = f"{REPO}:partial-{suite}-{os.getpid()}"
        try:
            step(f"podman import as {r.tag}", lambda: _import(root, r, partial))
            kernel_dir(partial)
            _run(_podman.run_args(partial, ["python3", "-m", "ziglang", "version"]),
                 f"running zig in {partial}", env=_podman.env())
            _run(_podman.command("tag", partial, r.tag), "podman tag", env=_podman.env())
        finally:
            _remove(partial)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _put_ziglang(root: Path, version: str) -> None:
    """Copy the installed ziglang distribution (the package and its
    dist-info, as its RECORD lists them) to ZIGLANG_DIR under root, and put
    that directory on python3's path."""
    import importlib.metadata
    dist = importlib.metadata.distribution("ziglang")
    if dist.version != version:
        raise ImageError(f"ziglang changed during the build ({version}, now {dist.version}); run it again")
    tops = {f.parts[0] for f in dist.files or () if f.parts[0] != ".."}
    if "ziglang" not in tops:
        raise ImageError(f"the installed ziglang {version} lists no ziglang/ package in its RECORD")
    dest = root / ZIGLANG_DIR.lstrip("/")
    for top in sorted(tops):
        shutil.copytree(dist.locate_file(top), dest / top, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    pth = root / ZIGLANG_PTH.lstrip("/")
    pth.parent.mkdir(parents=True, exist_ok=True)
    pth.write_text(ZIGLANG_DIR + "\n")


def _remove(tag: str) -> None:
    subprocess.run(_podman.command("rmi", "-f", tag), env=_podman.env(), capture_output=True)


def _import(root: Path, r: Recipe, tag: str) -> None:
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    try:
        # podman's own failure is the one to report (tar then dies of SIGPIPE).
        _run(_podman.command("import", "--change", f"LABEL xendrvgen.recipe={r.digest}", "-", tag),
             "podman import", stdin=tar.stdout, env=_podman.env())
    finally:
        tar.stdout.close()
        err = tar.stderr.read().decode(errors="replace").strip()
        tar.stderr.close()
        rc = tar.wait()
    if rc != 0:
        raise ImageError(f"tar of the new root failed (exit {rc}): {err[-800:]}")
