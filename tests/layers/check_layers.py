#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that src/ includes only downwards: a file in a layer may include headers of its own
layer, of the layers below it (the rules src/meson.build passes in) and of the --common
directories (format/, the build's mt_config.h), nothing else. The build enforces the same with
include directories; this says which file broke it and how, and also catches path prefixes
("../render/x.h") that would slip past the include directories.

usage: check_layers.py --src DIR [--common DIR]... [--generated NAME]... LAYER=BELOW,BELOW ...
Exits 1 and prints one line per bad include, 0 when every include goes down."""
import argparse
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def headers(d):
    return {f for f in os.listdir(d) if f.endswith('.h')} if os.path.isdir(d) else set()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--src', required=True)
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

    bad = 0
    checked = 0
    for name in below:
        allowed = set(layer_headers[name]) | common
        for b in below[name]:
            allowed |= layer_headers[b]
        d = os.path.join(args.src, name)
        for f in sorted(os.listdir(d)):
            if not f.endswith(('.c', '.h')):
                continue
            with open(os.path.join(d, f), encoding='utf-8') as fh:
                text = fh.read()
            for inc in INCLUDE.findall(text):
                checked += 1
                if '/' in inc:
                    print(f'{name}/{f}: #include "{inc}": a path, not a flat name '
                          '(layers are chosen by include directories)')
                    bad += 1
                elif inc not in allowed:
                    owners = where.get(inc)
                    why = ('from layer ' + '/'.join(owners) + ', which ' + name +
                           ' may not include (' + name + ' sees: ' +
                           (', '.join(below[name]) or 'nothing below') + ')'
                           if owners else 'found in no layer')
                    print(f'{name}/{f}: #include "{inc}": {why}')
                    bad += 1
    if bad:
        print(f'{bad} include(s) against the layer order', file=sys.stderr)
        return 1
    print(f'{checked} includes in {len(below)} layers, all downwards')
    return 0


if __name__ == '__main__':
    sys.exit(main())
