"""What every stage shares, importing nothing else of xendrvgen.

diagnostics (positions, messages, SpecError and the exit codes), paths
(where templates, profiles and caches live), yamldoc (bounded YAML reading
with source marks), limits (the bounds on hostile input), safefs (writing
files without following links), cachefile (reading cache entries safely)
and cescape (C string escaping and identifier rules).
"""
