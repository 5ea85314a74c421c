// SPDX-License-Identifier: MIT
// A library with nothing in it but a function and a little data: dlopen'ed and dlclose'd by
// clean_dlclose.c, so that the loader really loads and unloads an object.
int empty_lib_value = 42;

int empty_lib_get(void)
{
    return empty_lib_value;
}
