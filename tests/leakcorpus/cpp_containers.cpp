// SPDX-License-Identifier: MIT
// Standard containers: a map of strings and a vector kept by a global are reachable; the same
// allocated through new and dropped is one definite block and its contents indirect.
#include <map>
#include <string>
#include <vector>

static std::map<std::string, std::vector<int>> *kept;

static std::map<std::string, std::vector<int>> *fill(int n)
{
    auto *m = new std::map<std::string, std::vector<int>>;
    for (int i = 0; i < n; i++)
        (*m)["a key long enough to be on the heap " + std::to_string(i)] =
            std::vector<int>(static_cast<size_t>(i + 1), i);
    return m;
}

int main()
{
    kept = fill(3);
    auto *volatile lost = fill(2);
    lost = nullptr;
    return 0;
}
