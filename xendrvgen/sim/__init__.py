"""`xendrvgen sim`: our generated frontend and backend logic, run against each
other and against peer personalities on the host.

build (render and compile one binary per front/back OS pair), personalities
(peers that behave as real drivers do), scenarios (what each run does and
what must hold after it), run (run scenarios, read their outcome and trace)
pairs (which front/back pairs a run covers); the subcommand is
xendrvgen/cli/sim.py.  docs/testing.md says what is modelled and what
is not.
"""
