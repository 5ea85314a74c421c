// SPDX-License-Identifier: MIT
// dlopen'ed by tls_dynamic: its __thread variable lives in dynamic TLS, which glibc allocates
// on first use with malloc.
#include <stdlib.h>

__thread void *dyn_tls_ptr;
__thread char dyn_tls_pad[1000];

void dyn_tls_set(size_t n);
void dyn_tls_set(size_t n)
{
    dyn_tls_pad[0] = 1;
    dyn_tls_ptr = malloc(n);
}
