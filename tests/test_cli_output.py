"""What every command promises its callers: help for each option, and one
JSON shape whether the input was good or bad."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from xendrvgen.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def run(*argv, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xendrvgen.cli", *argv], capture_output=True, text=True,
                          cwd=cwd or ROOT)


def test_every_format_option_says_what_it_prints():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    seen = 0
    for name, sp in sub.choices.items():
        for action in sp._actions:
            if "--format" in action.option_strings:
                seen += 1
                assert action.help and "JSON" in action.help, f"{name} --format has no help"
    assert seen >= 8


def test_validate_json_is_one_object_on_good_and_bad_input(tmp_path):
    bad_spec = tmp_path / "bad.yaml"
    bad_spec.write_text((ROOT / "specs/blkif.yaml").read_text().replace("format: 1", "format: 7", 1))
    bad = run("validate", "--spec", str(bad_spec), "--format", "json")
    assert bad.returncode == 2, bad.stderr
    data = json.loads(bad.stdout)
    assert isinstance(data, dict) and data["ok"] is False
    assert data["errors"] and data["errors"][0]["file"] == str(bad_spec) and data["errors"][0]["line"] >= 1
    good = run("validate", "--format", "json")
    data = json.loads(good.stdout)
    assert isinstance(data, dict) and set(data) >= {"ok", "errors", "spec"} and data["errors"] == []
    assert good.returncode == (0 if data["ok"] else 1)


def test_a_command_imports_only_its_own_command_module_and_help_lists_all():
    code = ("import sys; from xendrvgen.cli.dispatch import COMMANDS, build_parser; "
            "p = build_parser(['validate', '--format', 'json']); "
            "sub = next(a for a in p._actions if a.dest == 'command'); "
            "print(sorted(sub.choices), sorted(m for m in sys.modules if m.split('.')[1:2] in "
            "(['compile'], ['contract'], ['sim'], ['interop'], ['port']))); "
            "full = build_parser(['--help']); "
            "print(len(next(a for a in full._actions if a.dest == 'command').choices) == len(COMMANDS))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.splitlines()
    assert first == "['validate'] []", first
    assert second == "True"
    # A misspelt command still gets the list of every command.
    res = run("valdate")
    assert res.returncode == 2 and "invalid choice" in res.stderr and "diff-header" in res.stderr, res.stderr
