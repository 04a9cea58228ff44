"""Everything the header says, gathered once: analyze() -> HeaderFacts."""
from __future__ import annotations

import fnmatch
import os
from types import MappingProxyType
from typing import Mapping

from xendrvgen.base.diagnostics import Mark, SpecError, error
from . import factcache, fielddocs, layout, nodedocs, preprocess, profiles
from .abi import ABIS, ALL
from .headerfacts import HeaderFacts
from .profiles import Profile


def _common(per_abi: dict[str, Mapping]) -> Mapping:
    """Entries equal on every ABI."""
    maps = list(per_abi.values())
    if not maps:
        return MappingProxyType({})
    return MappingProxyType({k: v for k, v in maps[0].items() if all(m.get(k) == v for m in maps[1:])})


def _profile(path: str, profile: Profile | str | None, text: str) -> Profile:
    if isinstance(profile, Profile):
        return profile
    if isinstance(profile, str):
        return profiles.load_profile(profile)
    return profiles.profile_for(path, text)


def _missing(path: str, profile: Profile | str | None) -> SpecError:
    """A missing header, with the package that would install it when known."""
    cands = [profile] if isinstance(profile, Profile) else \
        [profiles.load_profile(profile)] if isinstance(profile, str) else profiles.all_profiles()
    pkgs = sorted({p.package for p in cands if profile is not None or
                   any(fnmatch.fnmatch(path, g) for g in p.locate)})
    hint = f" (install it with: apt-get install {' '.join(pkgs)})" if pkgs else ""
    return error(f"header not found: {path}{hint}", Mark(path))


class _Job:
    """One header under analysis: its gcc processes and libclang threads run
    in the background from the start, so several headers overlap."""

    def __init__(self, path: str, profile: Profile | str | None, abis: tuple[str, ...],
                 options: profiles.HeaderOptions):
        self.path, self.abis = os.path.abspath(path), abis
        if not os.path.isfile(self.path):
            raise _missing(self.path, profile)
        self.text = profiles.read_header(self.path)
        self.profile = options.apply(_profile(self.path, profile, self.text))
        self.wd = preprocess.Workdir(self.path, self.profile).__enter__()
        self.parsing = None
        try:
            self.running = preprocess.start(self.wd, abis)
            self.parsing = layout.start(self.wd, abis)
        except BaseException:
            self.close()
            raise

    def finish(self) -> HeaderFacts:
        from . import cparse                     # ~40 ms of imports, overlapping gcc and libclang
        pres, unsupported = self._preprocessed()  # the preprocessor's errors come first
        abis = tuple(a for a in self.abis if a in pres)
        try:
            units = {abi: cparse.parse_unit(pres[abi], self.text) for abi in abis}
        except SpecError:
            self.parsing.result(abis)            # clang's account of bad C beats pycparser's
            raise
        lays = self.parsing.result(abis)
        # What this analysis read, for the cache: our work dir's files come
        # from the profile and our code, which the cache key covers.
        workdir = os.path.realpath(self.wd.path)
        self.read = {f for f in self.parsing.included() if not f.startswith(workdir + os.sep)}
        self.read |= {self.path, self.profile.file, *self.wd.companions}
        consts = {abi: u.constants for abi, u in units.items()}
        tdefs = {abi: u.typedefs for abi, u in units.items()}
        return HeaderFacts(
            path=self.path, profile=self.profile, abis=abis, companions=self.wd.companions,
            constants=_common(consts), constants_by_abi=MappingProxyType(consts),
            skipped=MappingProxyType({k: v for u in units.values() for k, v in u.skipped.items()}),
            typedefs=_common(tdefs), typedefs_by_abi=MappingProxyType(tdefs),
            structs=MappingProxyType({abi: u.records for abi, u in units.items()}),
            layouts=MappingProxyType(lays),
            node_docs=nodedocs.parse_node_docs(self.text) if self.profile.node_docs else None,
            unsupported=MappingProxyType(unsupported),
            field_docs=MappingProxyType(fielddocs.parse_field_docs(self.text)) if self.profile.node_docs
            else None,
        )

    def _preprocessed(self):
        """gcc's output per ABI, and the ABIs the copy refuses with an #error
        directive (a vendored copy built for some architectures only).  Any
        other error, or an #error on every ABI, is the header's error."""
        pres, unsupported, first = {}, {}, None
        for abi in self.abis:
            out = self.running.outcome(abi)
            if not isinstance(out, SpecError):
                pres[abi] = out
                continue
            d = out.diagnostics[0]
            if d.message.startswith("preprocessor: #error"):
                where = f" ({d.mark.file}:{d.mark.line})" if d.mark and d.mark.line else ""
                unsupported[abi] = d.message[len("preprocessor: "):] + where
            first = first or out
        if not pres or len(pres) + len(unsupported) < len(self.abis):
            raise first
        return pres, unsupported

    def close(self) -> None:
        if self.parsing is not None:
            self.parsing.join()                  # before the work dir goes
        self.wd.__exit__(None, None, None)


class Analysis:
    """Analyses of several headers, under way in the background from the
    start (gcc processes, libclang threads), so callers can do other work,
    such as loading the spec, before asking for the results."""

    def __init__(self, targets, abis: tuple[str, ...] = ALL,
                 options: profiles.HeaderOptions = profiles.HeaderOptions()):
        self.targets, self.abis, self.options = list(targets), tuple(abis), options
        for a in self.abis:
            if a not in ABIS:
                raise error(f"unknown ABI '{a}' (known: {', '.join(ABIS)})")
        self.results: list[HeaderFacts | None] = []
        # Per target: ((file, sha256), ...) of every file its facts were read
        # from, or None when one could not be read back.
        self.read: list[tuple | None] = []
        self.jobs: dict[int, _Job] = {}
        try:
            for i, (path, profile) in enumerate(self.targets):
                hit = factcache.load(path, self._key(profile), self.abis)
                self.results.append(hit and hit[0])
                self.read.append(hit and hit[1])
                if hit is None:
                    self.jobs[i] = _Job(path, profile, self.abis, self.options)
        except BaseException:
            self.close()
            raise

    def finish(self) -> list[HeaderFacts]:
        try:
            for i, job in self.jobs.items():
                self.results[i] = job.finish()
                self.read[i] = factcache.store(self.results[i], self._key(self.targets[i][1]), self.abis, job.read)
            return self.results
        finally:
            self.close()

    def _key(self, profile: Profile | str | None) -> str:
        """The cache's name for the profile asked for, with the options."""
        name = profile.name if isinstance(profile, Profile) else (profile or "")
        return name + self.options.key()

    def close(self) -> None:
        for job in self.jobs.values():
            job.close()
        self.jobs = {}


def analyze_many(targets, abis: tuple[str, ...] = ALL,
                 options: profiles.HeaderOptions = profiles.HeaderOptions()) -> list[HeaderFacts]:
    """analyze() for several (path, profile) pairs at once: the gcc and
    libclang work of all of them runs while Python reads each in turn."""
    return Analysis(targets, abis, options).finish()


def analyze(path: str, profile: Profile | str | None = None, abis: tuple[str, ...] = ALL,
            options: profiles.HeaderOptions = profiles.HeaderOptions()) -> HeaderFacts:
    """Read a copy of blkif.h on the given ABIs.

    profile: a Profile, a profile name, or None to pick one by the header's
    content; options: --include and --define for this copy.  Raises
    SpecError (file:line:col) for anything wrong with the header, its
    profile or the toolchain.
    """
    return analyze_many([(path, profile)], abis, options)[0]
