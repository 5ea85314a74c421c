// SPDX-License-Identifier: MIT
// C++ sample: new/delete, std::vector, std::string, std::map, and two leaks, so reports show
// demangled C++ frames. The program counts its own operator new/delete calls exactly by
// replacing the global operators (they forward to malloc/free, which memtrace records).
//
// Ground truth: printed as the last line, "memtrace-sample: allocations=N frees=M
// leaked_bytes=B leaked_blocks=K", where N and M are the operator new/delete calls of the whole
// program (container growth is implementation-defined, so they are counted, not hard-coded) and
// the leak is exactly two blocks: new int[10] (40 bytes) in leak_array and new Widget (48 bytes)
// in leak_widget, 88 bytes. The C++ runtime's own malloc calls (libstdc++'s emergency exception
// pool, one block at startup) do not go through operator new and are not in these numbers.
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>
#include <string>
#include <unistd.h>
#include <vector>

namespace
{
std::size_t g_allocations, g_frees;
std::size_t g_live_bytes, g_live_blocks;

// Block sizes by address, in static storage: the counters must not allocate themselves.
constexpr std::size_t kSlots = 1 << 16;
void *g_ptr[kSlots];
std::size_t g_size[kSlots];

std::size_t slot_of(void *p)
{
    return (reinterpret_cast<std::size_t>(p) >> 4) * 0x9e3779b97f4a7c15ull >> 48;
}

void remember(void *p, std::size_t n)
{
    std::size_t s = slot_of(p);
    while (g_ptr[s])
        s = (s + 1) % kSlots;
    g_ptr[s] = p;
    g_size[s] = n;
    g_allocations++;
    g_live_bytes += n;
    g_live_blocks++;
}

void forget(void *p)
{
    for (std::size_t s = slot_of(p);; s = (s + 1) % kSlots) {
        if (g_ptr[s] == p) {
            g_frees++;
            g_live_bytes -= g_size[s];
            g_live_blocks--;
            // Backward-shift deletion keeps probe chains intact.
            std::size_t hole = s;
            for (std::size_t j = (s + 1) % kSlots; g_ptr[j]; j = (j + 1) % kSlots) {
                std::size_t home = slot_of(g_ptr[j]);
                if ((j > hole && (home <= hole || home > j)) ||
                    (j < hole && home <= hole && home > j)) {
                    g_ptr[hole] = g_ptr[j];
                    g_size[hole] = g_size[j];
                    hole = j;
                }
            }
            g_ptr[hole] = nullptr;
            return;
        }
        if (!g_ptr[s])
            return;
    }
}
} // namespace

void *operator new(std::size_t n)
{
    void *p = std::malloc(n ? n : 1);
    if (!p)
        throw std::bad_alloc();
    remember(p, n);
    return p;
}

void operator delete(void *p) noexcept
{
    if (p) {
        forget(p);
        std::free(p);
    }
}

void operator delete(void *p, std::size_t) noexcept
{
    operator delete(p);
}

struct Widget {
    std::size_t id;
    double weight[5];
};
static_assert(sizeof(Widget) == 48, "the ground truth assumes a 48-byte Widget");

namespace shop
{
__attribute__((noinline)) std::vector<std::string> make_names(int n)
{
    std::vector<std::string> names;
    for (int i = 0; i < n; i++)
        names.push_back("customer-with-a-long-name-" + std::to_string(i));
    return names;
}

__attribute__((noinline)) std::map<std::string, int>
count_orders(const std::vector<std::string> &names)
{
    std::map<std::string, int> orders;
    for (std::size_t i = 0; i < names.size(); i++)
        orders[names[i]] += static_cast<int>(i % 3);
    return orders;
}
} // namespace shop

__attribute__((noinline)) static int *leak_array()
{
    return new int[10];
}

__attribute__((noinline)) static Widget *leak_widget()
{
    Widget *w = new Widget();
    w->id = 42;
    return w;
}

int *volatile g_keep_array;
Widget *volatile g_keep_widget;

int main()
{
    {
        std::vector<std::string> names = shop::make_names(200);
        std::map<std::string, int> orders = shop::count_orders(names);
        Widget *tmp = new Widget();
        delete tmp;
    }
    g_keep_array = leak_array();
    g_keep_widget = leak_widget();
    g_keep_array = nullptr;
    g_keep_widget = nullptr;
    char line[200];
    int n = std::snprintf(line, sizeof line,
                          "memtrace-sample: allocations=%zu frees=%zu leaked_bytes=%zu "
                          "leaked_blocks=%zu\n",
                          g_allocations, g_frees, g_live_bytes, g_live_blocks);
    return write(1, line, static_cast<std::size_t>(n)) == n ? 0 : 1;
}
