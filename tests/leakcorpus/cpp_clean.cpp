// SPDX-License-Identifier: MIT
// A C++ program that frees everything it allocates: nothing may be reported, not libstdc++'s
// emergency exception pool nor stdout's buffer.
#include <cstdio>
#include <string>
#include <vector>

int main()
{
    std::vector<std::string> v;
    for (int i = 0; i < 100; i++)
        v.push_back("a string longer than the small buffer " + std::to_string(i));
    return v.size() == 100 ? 0 : 1;
}
