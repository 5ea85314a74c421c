// SPDX-License-Identifier: MIT
// Issue 13.3/13.5: a C++ program without a leak: libstdc++'s emergency pool (allocated by its
// constructor, before memtrace's) and stdout's buffer are glibc's and libstdc++'s own, freed
// by their freeres functions as valgrind runs them. Valgrind: nothing left.
#include <iostream>
#include <string>

int main()
{
    std::string s(100, 'x');
    std::cout << "clean " << s.size() << std::endl;
    return 0;
}
