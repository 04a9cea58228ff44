"""Rendering: the spec, an OS profile and the plan turned into C files.

environment (the Jinja environment and what every template is given),
headerviews (what the protocol header templates print), cspelling (C types,
literals and comments for one profile), packedlayout (explicit struct
layouts), fieldaccess (how C reaches a field in either request layout),
generate (render every OS), writer (write only what changed, atomically),
cache (the render cache), uptodate (`check`: is generated/ current) and
impact (what a spec change does to the output).  This package's __init__
imports nothing, so `check` with every file cached loads no Jinja.
"""
