// SPDX-License-Identifier: MIT
// C++ leaks through the standard containers, for comparing memtrace's leak kinds with
// valgrind's on the same binary: a leaked std::map of long strings (its nodes and string
// buffers are indirect), a shared_ptr cycle (lost together), and a container kept by a global
// (reachable). No custom operator new: valgrind must see the same allocations memtrace does.
// The exact sizes depend on libstdc++'s node layout, so the test compares with valgrind
// rather than with numbers printed here.
#include <map>
#include <memory>
#include <string>
#include <vector>

struct Peer {
    std::shared_ptr<Peer> other;
    char payload[64];
};

std::vector<std::string> *kept; // reachable

__attribute__((noinline)) static void leak_map()
{
    auto *m = new std::map<int, std::string>();
    for (int i = 0; i < 5; i++)
        (*m)[i] = std::string(40 + i, 'x'); /* past the small-string buffer: heap */
}

__attribute__((noinline)) static void leak_cycle()
{
    auto a = std::make_shared<Peer>();
    auto b = std::make_shared<Peer>();
    a->other = b;
    b->other = a;
}

__attribute__((noinline)) static void keep_vector()
{
    kept = new std::vector<std::string>(3, std::string(50, 'k'));
}

__attribute__((noinline)) static void clobber_stack()
{
    volatile char buf[16384];
    for (auto &c : buf)
        c = 0;
}

int main()
{
    leak_map();
    leak_cycle();
    keep_vector();
    clobber_stack();
    return 0;
}
