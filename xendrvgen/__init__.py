"""xendrvgen: Xen PV block (blkif) drivers generated from a YAML spec.

One package per pipeline stage (docs/architecture.md): spec (load and check
the spec), headers (the real C headers, compared with it), plan (the driver
decisions), render (templates to files), compile (each OS's toolchain);
contract, sim, interop and port check and extend the result; cli drives
them all; base is what every stage shares.
"""
__version__ = "0.1.0"
