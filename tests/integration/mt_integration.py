# SPDX-License-Identifier: MIT
# The integration suite's entry point: imports every topic file here (cases_*.py, each case a
# function registered with its timeout by mt_harness.suite()), then lists the cases for meson
# (--list) or runs the one named. Plain python3, no pytest; exit 0 pass, 77 skip, else fail.
# Run one case as meson does: `meson test -C build NAME`.
import glob
import importlib
import os
import sys

import mt_harness as it

HERE = os.path.dirname(os.path.abspath(__file__))

if __name__ == "__main__":
    for path in sorted(glob.glob(os.path.join(HERE, "cases_*.py"))):
        importlib.import_module(os.path.basename(path)[:-3])
    sys.exit(it.main())
