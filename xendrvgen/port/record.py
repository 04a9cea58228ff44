"""What `port status` shows of runs made on this machine: the last contract
verification of each OS (kept in the cache directory, never in the tree)."""
from __future__ import annotations

import json
import time
from pathlib import Path

from xendrvgen.base import paths


def _file(os_name: str) -> Path:
    return paths.cache_dir() / "port" / f"{os_name}-contract.json"


def contract_verified(os_name: str, report) -> None:
    """Remember a `contract verify` result; a cache that cannot be written is no error."""
    if __import__("os").environ.get("XENDRVGEN_NO_CACHE"):
        return
    data = {"tree": report.tree, "failed": report.failed, "counts": report.counts(),
            "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    try:
        f = _file(os_name)
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(f)
    except OSError:
        pass


def last_contract(os_name: str) -> dict | None:
    try:
        data = json.loads(_file(os_name).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
