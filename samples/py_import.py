# SPDX-License-Identifier: MIT
# Python sample: imports a module of its own (samples/py_import_mod.py) whose body allocates
# 3,000,000 bytes. A Python user wants that block charged to the module's line and to the line
# here that imported it, not to importlib's frozen frames (issue 17). Prints its own numbers:
# "memtrace-pyimport: import_line=L module=PATH module_line=M blob_bytes=B".
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree: compiled at every run
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
IMPORT_LINE = sys._getframe().f_lineno + 1
import py_import_mod  # noqa: E402  (the import this sample is about)

print(f"memtrace-pyimport: import_line={IMPORT_LINE} module={py_import_mod.__file__} "
      f"module_line={py_import_mod.BLOB_LINE} blob_bytes={len(py_import_mod.BLOB)}")
