"""Fuzz the spec's YAML structure (see tests/specfuzz.py): no crash, no
template error on a spec the checks accept, no generated header that fails
to compile, no description that changes the code.

Bounded for CI (XENDRVGEN_FUZZ_EXAMPLES, default 120, derandomized so a run
is repeatable); `python bench/spec_fuzz.py N` runs longer with fresh seeds
and prints what it executed.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import specfuzz

EXAMPLES = int(os.environ.get("XENDRVGEN_FUZZ_EXAMPLES", "120"))
SEEN = specfuzz.Outcome()


@pytest.mark.skipif(not specfuzz.have_gcc(), reason="apt-get install gcc")
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(specfuzz.edits(), st.sampled_from(specfuzz.FUZZ_OSES))
def test_no_edit_of_the_spec_breaks_the_pipeline(edit_list, os_name):
    before = len(SEEN.findings)
    specfuzz.run_one(edit_list, os_name, SEEN)
    assert len(SEEN.findings) == before, SEEN.findings[-1]


def test_the_fuzzer_reached_every_stage():
    """The run above refused some specs, and rendered and compiled others:
    the edits are neither all fatal nor all harmless."""
    if SEEN.refused + SEEN.rendered == 0:
        pytest.skip("the fuzz test did not run (gcc missing)")
    assert SEEN.refused > 0 and SEEN.compiled > 0, SEEN
