"""The boot files of a run: Xen, the dom0 kernel, and the dom0 initramfs.

Two layers, each in its own cache directory named by a hash of everything it
is made from, and rebuilt only when that hash changes:

- the base (`base-<hash>`): the Debian packages (exact .deb files), the host
  programs copied in (static busybox, bash, losetup, ... and the C library),
  and this file's code.  Holds xen, vmlinuz and base initramfs archives of
  dom0 and of the guest.  About 15 s to build, plus the first download.
- the image (`<hash>`): the base's hash, the in-VM scripts (interop/linux/),
  the data pattern and the bytes of the generated modules.  The base archives
  with the scripts and modules laid over them; a second or two.

A layer is built in a private temporary directory and renamed into place when
complete, so a killed build never leaves a cache entry that would be reused.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import random
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from xendrvgen.base.paths import ROOT

from . import InteropError, debs
from .cpio import archive, gz, tree_entries
from .host import require, run, static_busybox

FORMAT = 2
PATTERN_SEED = 0x5D6  # the 1 MiB every data pattern is cut from (lib.sh)
VM_DIR = ROOT / "interop" / "linux"

DOM0_MODULES = ["xenfs", "xen-evtchn", "xen-gntdev", "xen-gntalloc", "xen-privcmd", "xen-blkback", "loop"]
DOMU_MODULES = ["ext4", "crc32c_generic"]  # mke2fs + mount in the detach-open scenario
MODULE_DIRS = ["drivers/xen", "drivers/block", "fs/ext4", "fs/jbd2", "fs/mbcache.ko", "lib", "crypto"]
# Host programs dom0's hotplug scripts need beyond busybox (util-linux, coreutils, bash).
HOST_PROGRAMS = {"bash": "usr/bin", "flock": "usr/bin", "losetup": "usr/sbin", "stat": "usr/bin",
                 "expr": "usr/bin", "readlink": "usr/bin"}
LIBDIR = "usr/lib/x86_64-linux-gnu"


@dataclass
class Image:
    dir: Path
    xen: Path
    kernel: Path
    initrd: Path
    key: str
    built: bool       # False when it came from the cache
    seconds: float


def cache_root() -> Path:
    from xendrvgen.base.paths import cache_dir
    return cache_dir() / "interop"


def vm_dir() -> Path:
    d = VM_DIR
    if not d.is_dir():
        from xendrvgen.base.paths import ROOT
        d = ROOT / "interop" / "linux"
    if not (d / "dom0-init.sh").is_file():
        raise InteropError(f"{d}: the in-VM scripts are missing (a broken install?)")
    return d


def vm_scripts() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(vm_dir().glob("*.sh"))}


def pattern() -> bytes:
    return random.Random(PATTERN_SEED).randbytes(1 << 20)


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode())
        h.update(b"\0")
    return h.hexdigest()[:20]


def host_inputs(tools: dict[str, str]) -> list[Path]:
    libc = Path("/lib/x86_64-linux-gnu/libc.so.6").resolve()
    libgcc = Path("/lib/x86_64-linux-gnu/libgcc_s.so.1").resolve()
    return [static_busybox(), libc, libgcc, *(Path(tools[t]).resolve() for t in HOST_PROGRAMS)]


def base_key(kver: str, deb_list: list, host_files: list[Path]) -> str:
    return _digest(FORMAT, kver, Path(__file__).read_bytes(), *(d.identity for d in deb_list),
                   *(p.read_bytes() for p in host_files))


def image_key(base: str, scripts: dict[str, bytes], modules: dict[str, bytes]) -> str:
    parts = [base, pattern()]
    for name in sorted(scripts):
        parts += [name, scripts[name]]
    for name in sorted(modules):
        parts += [name, modules[name]]
    return _digest(*parts)


def build(kver: str, modules: dict[str, Path], root: Path | None = None, log=lambda msg: None) -> Image:
    """The image for these generated modules ({'xen-blkfront': path, 'xen-blkback': path})."""
    t0 = time.monotonic()
    root = root or cache_root()
    tools = require()
    deb_list = debs.resolve(debs.packages(kver))
    bkey = base_key(kver, deb_list, host_inputs(tools))
    base = root / f"base-{bkey}"
    built = False
    if not (base / "dom0-base.cpio.gz").is_file():
        log(f"building the base image (Debian packages, {len(deb_list)} of them) ...")
        files = debs.fetch(deb_list, root / "debs")
        _atomic(base, lambda tmp: _build_base(tmp, kver, files, tools))
        built = True
    mod_bytes = {name: Path(p).read_bytes() for name, p in modules.items()}
    key = image_key(bkey, vm_scripts(), mod_bytes)
    final = root / key
    if not (final / "dom0.cpio.gz").is_file():
        _atomic(final, lambda tmp: _build_image(tmp, base, mod_bytes))
        built = True
    for d in (base, final):
        os.utime(d)
    _prune(root, keep={base.name, final.name})
    return Image(final, final / "xen", final / "vmlinuz", final / "dom0.cpio.gz", key, built,
                 round(time.monotonic() - t0, 1))


def _atomic(dst: Path, make) -> None:
    """Build into a private directory, then rename it into place."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.parent / f".tmp-{dst.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        make(tmp)
        try:
            tmp.rename(dst)
        except OSError:  # another run finished the same entry first
            if not dst.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _prune(root: Path, keep: set, images: int = 4, bases: int = 2, idle: float = 6 * 3600) -> None:
    """Drop cache entries beyond the newest few that nobody used for `idle` seconds
    (another run may be booting one), and temporaries of killed builds."""
    now = time.time()
    entries = [p for p in root.iterdir() if p.is_dir() and p.name not in ("debs", "logs", "modules")]
    for p in entries:
        if p.name.startswith(".tmp-") and now - p.stat().st_mtime > 3600:
            shutil.rmtree(p, ignore_errors=True)
    for prefix, limit in (("base-", bases), ("", images)):
        group = sorted((p for p in entries if not p.name.startswith(".")
                        and p.name.startswith(prefix) == bool(prefix)),
                       key=lambda p: p.stat().st_mtime, reverse=True)
        for p in group[limit:]:
            if p.name not in keep and now - p.stat().st_mtime > idle:
                shutil.rmtree(p, ignore_errors=True)


# ---------------------------------------------------------------------------
# The base layer
# ---------------------------------------------------------------------------
def _build_base(out: Path, kver: str, files: list[Path], tools: dict[str, str]) -> None:
    work = out / "work"
    x = work / "x"
    x.mkdir(parents=True)
    for f in files:
        if f.name.startswith("linux-image-"):
            _extract_kernel(f, x, kver)
        else:
            _check(run(["dpkg-deb", "-x", f, x]), f"dpkg-deb -x {f.name}")
    _check(run(["depmod", "-b", x, kver]), "depmod")
    deps = _module_deps(x / "lib" / "modules" / kver)

    dom0 = work / "dom0"
    _skeleton(dom0)
    _stage_modules(dom0, x, kver, deps, DOM0_MODULES)
    shutil.copytree(x / "usr/lib/xen-4.17", dom0 / "usr/lib/xen-4.17", symlinks=True)
    for junk in ("lib/python", "boot"):
        shutil.rmtree(dom0 / "usr/lib/xen-4.17" / junk, ignore_errors=True)
    for lib in (x / LIBDIR).iterdir():
        _copy(lib, dom0 / LIBDIR / lib.name)
    for prog in (x / "usr/bin").glob("xenstore*"):
        _copy(prog, dom0 / "usr/bin" / prog.name)
    shutil.copytree(x / "etc/xen", dom0 / "etc/xen", symlinks=True)
    for prog, where in HOST_PROGRAMS.items():
        dst = dom0 / where / prog
        dst.unlink(missing_ok=True)
        shutil.copy2(Path(tools[prog]).resolve(), dst)
    _copy(x / f"boot/vmlinuz-{kver}", dom0 / "boot/vmlinuz")
    (dom0 / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (dom0 / "etc/group").write_text("root:x:0:\n")
    _add_libraries(dom0)

    domu = work / "domu"
    _skeleton(domu)
    _stage_modules(domu, x, kver, deps, DOMU_MODULES)
    _copy(x / "lib/modules" / kver / deps["xen_blkfront"][0], domu / "xdg/front/stock/xen-blkfront.ko")
    for prog in (x / "usr/bin").glob("xenstore*"):
        _copy(prog, domu / "usr/bin" / prog.name)
    for lib in (x / LIBDIR).glob("libxen*"):
        if lib.name.startswith(("libxenstore", "libxentoolcore")):
            _copy(lib, domu / LIBDIR / lib.name)
    _add_libraries(domu)

    (out / "xen").write_bytes(gzip.decompress((x / f"boot/xen-{debs.XEN}-amd64.gz").read_bytes()))
    _copy(x / f"boot/vmlinuz-{kver}", out / "vmlinuz")
    (out / "dom0-base.cpio.gz").write_bytes(gz(archive(tree_entries(dom0))))
    (out / "domu-base.cpio").write_bytes(archive(tree_entries(domu)))
    shutil.rmtree(work)


def _check(p: subprocess.CompletedProcess, what: str) -> None:
    if p.returncode != 0:
        raise InteropError(f"{what} failed: {(p.stderr or p.stdout).strip()[-500:]}")


def _extract_kernel(deb: Path, x: Path, kver: str) -> None:
    """Only the kernel and the module directories the images use (the package is 70 MB)."""
    pats = ["./boot/*", f"./lib/modules/{kver}/modules.*"]
    pats += [f"./lib/modules/{kver}/kernel/{d}" + ("" if d.endswith(".ko") else "/*") for d in MODULE_DIRS]
    fsys = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    tar = run(["tar", "-x", "-C", x, "--wildcards", *pats], stdin=fsys.stdout)
    fsys.stdout.close()
    fsys.wait()
    _check(tar, f"extracting {deb.name}")


def _module_deps(moddir: Path) -> dict[str, list[str]]:
    """Module name -> [its path, the paths of every module it needs], from modules.dep."""
    direct, paths = {}, {}
    for line in (moddir / "modules.dep").read_text().splitlines():
        path, _, needs = line.partition(":")
        name = Path(path).name.removesuffix(".ko").replace("-", "_")
        paths[name], direct[name] = path, needs.split()
    by_path = {v: k for k, v in paths.items()}
    out = {}
    for name, path in paths.items():
        seen, todo = [], list(direct[name])
        while todo:
            p = todo.pop()
            if p not in seen:
                seen.append(p)
                todo += direct.get(by_path.get(p, ""), [])
        out[name] = [path, *seen]
    return out


def _stage_modules(root: Path, x: Path, kver: str, deps: dict, names: list[str]) -> None:
    src = x / "lib/modules" / kver
    dst = root / "usr/lib/modules" / kver
    for name in names:
        key = name.replace("-", "_")
        if key not in deps:
            raise InteropError(f"module {name} is not in linux-image-{kver}")
        for rel in deps[key]:
            _copy(src / rel, dst / rel)
    for f in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
        _copy(src / f, dst / f)
    _check(run(["depmod", "-b", root, kver]), "depmod")


def _skeleton(root: Path) -> None:
    """A usr-merged tree with the static busybox and a link for each of its applets."""
    for d in ("usr/bin", "usr/sbin", LIBDIR, "usr/lib64", "etc", "proc", "sys", "dev", "run", "tmp",
              "root", "var/log", "var/lib", "boot", "mnt", "xdg"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for link, target in (("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib"),
                         ("lib64", "usr/lib64"), ("var/run", "../run"), ("var/lock", "../run/lock")):
        (root / link).symlink_to(target)
    bb = static_busybox()
    shutil.copy2(bb, root / "usr/bin/busybox")
    applets = run([bb, "--list-full"]).stdout.split()
    for a in applets:
        p = root / a
        if not p.exists() and not p.is_symlink():
            p.symlink_to("/usr/bin/busybox")


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_symlink():
        dst.unlink(missing_ok=True)
        dst.symlink_to(os.readlink(src))
    else:
        shutil.copy2(src, dst)


def _add_libraries(root: Path) -> None:
    """Copy from the host every shared library the tree's programs need and lacks."""
    env = dict(os.environ, LD_LIBRARY_PATH=str(root / LIBDIR), LC_ALL="C")
    libs = set()
    for p in sorted(root.joinpath("usr").rglob("*")):
        if p.is_symlink() or not p.is_file() or ((p.stat().st_mode & 0o111) == 0 and ".so" not in p.name):
            continue
        with open(p, "rb") as fh:
            if fh.read(4) != b"\x7fELF":
                continue
        out = subprocess.run(["ldd", str(p)], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True).stdout
        for line in out.splitlines():
            words = line.split()
            if "=>" in words and len(words) > words.index("=>") + 1 and words[words.index("=>") + 1].startswith("/"):
                libs.add(words[words.index("=>") + 1])
            elif words and words[0].startswith("/lib64/ld-linux"):
                libs.add(words[0])
    for lib in sorted(libs):
        if lib.startswith(str(root)):
            continue
        name = Path(lib).name
        dst = root / ("usr/lib64" if name.startswith("ld-linux") else LIBDIR) / name
        if not dst.exists():
            shutil.copy2(Path(lib).resolve(), dst)
    # xl's pthread_cancel dlopen()s libgcc_s, which ldd does not see.
    libgcc = Path("/lib/x86_64-linux-gnu/libgcc_s.so.1").resolve()
    if not (root / LIBDIR / "libgcc_s.so.1").exists():
        shutil.copy2(libgcc, root / LIBDIR / "libgcc_s.so.1")
    (root / "etc/ld.so.conf").write_text(f"/{LIBDIR}\n")
    _check(run(["ldconfig", "-r", root]), "ldconfig")


# ---------------------------------------------------------------------------
# The image layer: scripts and generated modules over the base
# ---------------------------------------------------------------------------
def _build_image(out: Path, base: Path, modules: dict[str, bytes]) -> None:
    scripts = vm_scripts()
    pat = pattern()
    x755, r644, dr = 0o100755, 0o100644, 0o040755
    domu = [("init", x755, scripts["domu-init.sh"]), ("xdg", dr, b""), ("xdg/pat.bin", r644, pat),
            ("xdg/front", dr, b""), ("xdg/front/ours", dr, b""),
            ("xdg/front/ours/xen-blkfront.ko", r644, modules["xen-blkfront"])]
    domu += [(f"xdg/{n}", r644, scripts[n]) for n in ("lib.sh", "domu-steps.sh")]
    # One gzip stream: libxc inflates a gzip'd ramdisk itself and stops at the first member.
    domu_img = gz((base / "domu-base.cpio").read_bytes() + archive(domu))
    dom0 = [("init", x755, scripts["dom0-init.sh"]), ("xdg", dr, b""), ("xdg/pat.bin", r644, pat),
            ("xdg/back", dr, b""), ("xdg/back/ours", dr, b""),
            ("xdg/back/ours/xen-blkback.ko", r644, modules["xen-blkback"]),
            ("boot", dr, b""), ("boot/domu.cpio.gz", r644, domu_img)]
    dom0 += [(f"xdg/{n}", r644, scripts[n]) for n in ("lib.sh", "dom0-lib.sh", "scenarios.sh")]
    (out / "dom0.cpio.gz").write_bytes((base / "dom0-base.cpio.gz").read_bytes() + gz(archive(dom0), 1))
    for f in ("xen", "vmlinuz"):
        try:
            os.link(base / f, out / f)
        except OSError:
            shutil.copy2(base / f, out / f)
