#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that a tree of layers (src/, preload/) includes only downwards: a file in a layer may
include headers of its own layer, of the layers below it (the rules passed in, LAYER=BELOW,...;
'.' names DIR itself) and of the --common directories, nothing else. Every .c and .h under DIR
must be in a layer.

Two ways to write an include:
  flat (src/, the default): "x.h", the layer chosen by include directories. The build enforces
      the same; this says which file broke it and how, and also catches path prefixes
      ("../render/x.h") that would slip past the include directories. A name in no layer, no
      --common directory and no --generated name is an error.
  --paths (preload/): "layer/x.h", written from DIR. A name that is no file under DIR
      (format/log_format.h, the generated config) is outside the tree and not checked.

usage: check_layers.py --src DIR [--paths] [--common DIR]... [--generated NAME]...
                       LAYER=BELOW,BELOW ...
Exits 1 and prints one line per bad include, 0 when every include goes down."""
import argparse
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def headers(d):
    return {f for f in os.listdir(d) if f.endswith('.h')} if os.path.isdir(d) else set()


def sources(root):
    """(layer, file name) of every .c and .h under root, sorted."""
    found = []
    for d, _, files in os.walk(root):
        layer = os.path.relpath(d, root)
        found += [(layer, f) for f in files if f.endswith(('.c', '.h'))]
    return sorted(found)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--src', required=True)
    ap.add_argument('--paths', action='store_true')
    ap.add_argument('--common', action='append', default=[])
    ap.add_argument('--generated', action='append', default=[])
    ap.add_argument('rules', nargs='+')
    args = ap.parse_args()

    below = {}
    for rule in args.rules:
        name, _, lower = rule.partition('=')
        below[name] = [b for b in lower.split(',') if b]
    layer_headers = {name: headers(os.path.join(args.src, name)) for name in below}
    common = set(args.generated)
    for d in args.common:
        common |= headers(d)
    where = {}
    for name, hs in layer_headers.items():
        for h in hs:
            where.setdefault(h, []).append(name)

    def why_not(name, owners):
        if not owners:
            return 'found in no layer'
        return ('from layer ' + '/'.join(owners) + ', which ' + name + ' may not include (' +
                name + ' sees: ' + (', '.join(below[name]) or 'nothing below') + ')')

    bad = 0
    checked = 0
    for name, f in sources(args.src):
        if name not in below:
            print(f'{name}/{f}: directory {name} is no layer (add it to the rules)')
            bad += 1
            continue
        allowed = {name} | set(below[name])
        allowed_headers = set(layer_headers[name]) | common
        for b in below[name]:
            allowed_headers |= layer_headers[b]
        with open(os.path.join(args.src, name, f), encoding='utf-8') as fh:
            text = fh.read()
        for inc in INCLUDE.findall(text):
            if args.paths:
                target = os.path.join(args.src, inc)
                if not os.path.exists(target):
                    continue
                checked += 1
                owner = os.path.relpath(os.path.dirname(target), args.src)
                if owner not in allowed:
                    print(f'{name}/{f}: #include "{inc}": {why_not(name, [owner])}')
                    bad += 1
                continue
            checked += 1
            if '/' in inc:
                print(f'{name}/{f}: #include "{inc}": a path, not a flat name '
                      '(layers are chosen by include directories)')
                bad += 1
            elif inc not in allowed_headers:
                print(f'{name}/{f}: #include "{inc}": {why_not(name, where.get(inc))}')
                bad += 1
    if bad:
        print(f'{bad} include(s) against the layer order', file=sys.stderr)
        return 1
    print(f'{checked} includes in {len(below)} layers, all downwards')
    return 0


if __name__ == '__main__':
    sys.exit(main())
