"""`xendrvgen port`: scaffold a new OS port, and show what each port spells of the plan.

    xendrvgen port new OS --like EXISTING [--target TRIPLE] [--side frontend|backend|both]
    xendrvgen port status [OS ...] [--format text|json|markdown]

`new` writes the OS profile, a template kit per side derived from EXISTING's,
an empty contract, a compile runner and docs/ports/OS.md (scaffold.py,
checklist.py); `status` reads the rendered code (status.py).  The subcommand
itself is xendrvgen/cli/port.py.
"""
