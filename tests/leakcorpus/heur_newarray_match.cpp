// SPDX-License-Identifier: MIT
// memcheck's newarray heuristic, matched: new[] of a type with a destructor returns a pointer
// one word past the element count at the start of the block: reachable.
#include <cstdlib>

struct Widget {
    long a, b;
    ~Widget()
    {
        a = 0;
    }
};

static Widget *widgets;

int main()
{
    widgets = new Widget[5]; // 8 + 5 * 16 bytes, the pointer 8 bytes in
    return 0;
}
