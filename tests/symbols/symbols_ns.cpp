// SPDX-License-Identifier: MIT
// C++ for the symbolizer test: clang nests a namespace's function definitions inside the
// DW_TAG_namespace and gives a loop's lexical block no range, two places where elfutils
// 0.188's dwarf_getscopes finds nothing. "line:NAME" marks the expected lines.
#include <cstdlib>

void *keep[4];

namespace outer_ns
{
inline __attribute__((always_inline)) void *helper(std::size_t n)
{
    return std::malloc(n); /* line:ns_helper */
}

__attribute__((noinline)) void fill(int count)
{
    for (int i = 0; i < count; i++) {
        int n = 404 + i * 100;
        keep[i] = helper(static_cast<std::size_t>(n)); /* line:ns_fill */
    }
}
} // namespace outer_ns

int main()
{
    outer_ns::fill(1); /* line:ns_main */
    return 0;
}
