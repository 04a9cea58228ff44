#!/usr/bin/env bash
# Install everything xendrvgen and its tests need on a Debian machine (as root),
# then the project itself into .venv.  Safe to run again: it only adds what is
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the real headers we validate against and build with, and the
# toolchains of the compile tests, and what `xendrvgen interop` boots Xen with.
pkgs=(libxen-dev linux-headers-amd64 gcc g++ gcc-multilib clang make kmod git python3-venv python3-pip
      libclang-rt-dev                              # libFuzzer and the sanitizer runtimes of clang (tests/test_backend_fuzz.py)
      qemu-system-x86 busybox-static util-linux    # xendrvgen interop: Xen in QEMU
      podman runc debootstrap fuse-overlayfs)      # xendrvgen image build / compile --suite: the kernel matrix (fuse-overlayfs: podman inside a container)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The project, with its test and cross-compile extras, in a virtual environment.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test,cross]'
