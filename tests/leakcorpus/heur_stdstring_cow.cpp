// SPDX-License-Identifier: MIT
// memcheck's stdstring heuristic on the real thing: with the old (copy-on-write) libstdc++ ABI a
// std::string points 3 words into its heap rep, so a kept string's rep is reachable only through
// the heuristic; the rep of a string whose object was lost is indirectly lost.
// corpus-cflags: -D_GLIBCXX_USE_CXX11_ABI=0
#include <string>

static std::string *kept;

int main()
{
    kept = new std::string(100, 'k');
    std::string *volatile lost = new std::string(50, 'l');
    lost = nullptr;
    return 0;
}
