// SPDX-License-Identifier: MIT
// Template-heavy translation unit for bench/bench.sh --real (the C++ compile): many distinct
// std::map, std::function, std::variant and std::tuple instantiations keep a compiler busy.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

template <int N> struct Tag {
    int v = N;
};

template <int N> struct Node {
    std::map<std::string, std::vector<Tag<N>>> children;
    std::unordered_map<int, std::function<int(Tag<N>)>> handlers;
    std::variant<int, double, std::string, Tag<N>> value;
    std::tuple<Tag<N>, std::shared_ptr<Tag<N>>, std::vector<int>> extra;

    int run(int x)
    {
        handlers[x] = [x](Tag<N> t) { return t.v + x; };
        children[std::to_string(x)].push_back(Tag<N>{});
        value = Tag<N>{};
        int sum = 0;
        for (auto &kv : children)
            for (auto &t : kv.second)
                sum += handlers[x](t);
        return sum + std::visit(
                         [](auto &&v) -> int {
                             using T = std::decay_t<decltype(v)>;
                             if constexpr (std::is_same_v<T, int>)
                                 return v;
                             else if constexpr (std::is_same_v<T, double>)
                                 return (int)v;
                             else if constexpr (std::is_same_v<T, std::string>)
                                 return (int)v.size();
                             else
                                 return v.v;
                         },
                         value);
    }
};

template <int N> int chain(int x)
{
    Node<N> n;
    if constexpr (N == 0)
        return n.run(x);
    else
        return n.run(x) + chain<N - 1>(x + 1);
}

int main(int argc, char **)
{
    return chain<TEMPLATE_DEPTH>(argc) & 1;
}
