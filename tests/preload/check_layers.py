#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The recorder's layers (preload/meson.build draws them), enforced: every #include "dir/x.h"
in preload/ must name a file of its own directory or of a layer below it. Prints each line
that reaches up or sideways and exits 1; exits 0 when there is none."""
import pathlib
import re
import sys

# Lowest first; a layer may include only from lower ranks (and from itself). io and stack
# share a rank: neither may include the other.
RANK = {
    "base": 0,
    "leak": 1,
    "io": 2,
    "stack": 2,
    "python": 3,
    "record": 4,
    ".": 5,  # lifecycle.c, freeres.c
    "hooks": 6,
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "preload")
    bad = []
    files = sorted(p for p in root.rglob("*") if p.suffix in (".c", ".h"))
    for path in files:
        layer = str(path.parent.relative_to(root))
        if layer not in RANK:
            bad.append(f"{path}: directory {layer} is no layer (add it to check_layers.py)")
            continue
        for name in INCLUDE.findall(path.read_text()):
            target = (root / name).parent if (root / name).exists() else None
            if target is None:
                continue  # not a preload header (log_format.h, generated config)
            to = str(target.relative_to(root))
            if to != layer and RANK.get(to, 99) >= RANK[layer]:
                bad.append(f'{path}: #include "{name}": {layer} may not include from {to}')
    for line in bad:
        print(line)
    print(f"{len(files)} files, {len(bad)} includes against the layers")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
