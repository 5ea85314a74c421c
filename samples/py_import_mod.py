# SPDX-License-Identifier: MIT
# Python sample, imported by samples/py_import.py: its body allocates a known block while the
# module is being imported, and keeps it at module level. BLOB_LINE is the line that does it.
import sys

BLOB = bytearray(3_000_000)  # allocated while this module is imported
BLOB_LINE = sys._getframe().f_lineno - 1
