// SPDX-License-Identifier: MIT
// Whose code a Python frame runs, told from its file name alone: Python's import machinery
// (importlib's bootstrap, zipimport), a library (the standard library, frozen modules,
// site-packages and dist-packages) or the program's own. Pure string matching, no allocation.
#ifndef MT_PYTHON_FILES_H
#define MT_PYTHON_FILES_H

/* True for the files of the import machinery: "<frozen importlib._bootstrap>",
 * "<frozen importlib._bootstrap_external>", "<frozen zipimport>", and their sources when
 * frozen modules are off (".../lib/python3.11/importlib/_bootstrap.py"). file may be NULL. */
int mt_pyfile_is_import_machinery(const char *file);

/* True for code the program did not write: frozen modules, the standard library (a directory
 * "lib/pythonX" or "lib64/pythonX" with X a digit), site-packages and dist-packages. Other
 * names in angle brackets ("<string>" of python -c, "<stdin>") are the program's. */
int mt_pyfile_is_library(const char *file);

#endif
