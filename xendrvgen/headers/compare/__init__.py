"""The spec compared with real headers: what validate, diff-header and
layout report.

validate (wire layout, constants, nodes and docs of each installed copy:
structs in structcompare, XenStore nodes in nodecompare, the report in
report), diffheader (any copy of blkif.h, read as its profile says),
docdrift (the documentation of Xen's copies against the recorded baseline)
and layouttable (per-ABI sizes and offsets beside the spec's).  Kept apart
from the header analysis around it, whose fact cache is keyed on that
package's own modules.
"""
