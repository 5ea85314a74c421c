// SPDX-License-Identifier: MIT
// A template-heavy translation unit for bench/bench.sh --logsize: clang++-14 -O2 -c on it takes
// about 8 s and 300 MB, with deep and varied stacks (recursive instantiation): the kind of
// program whose trace tree and allocation addresses test the log format and the recorder's
// memory. Not compiled by the build; the compiler's allocations are what is measured.
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>
#include <functional>
#include <memory>
#include <algorithm>
#include <unordered_map>
#include <sstream>

template <int N> struct Fib { static constexpr long v = Fib<N - 1>::v + Fib<N - 2>::v; };
template <> struct Fib<0> { static constexpr long v = 0; };
template <> struct Fib<1> { static constexpr long v = 1; };

template <int N, typename T> struct Tower {
    T value;
    Tower<N - 1, std::pair<T, int>> next;
    long sum() const { return (long)sizeof(value) + next.sum(); }
};
template <typename T> struct Tower<0, T> { T value; long sum() const { return 1; } };

template <int... Is> long expand(std::integer_sequence<int, Is...>) {
    std::tuple<std::vector<std::integral_constant<int, Is>>...> t;
    long s = 0;
    ((s += std::get<Is>(t).size() + Fib<Is % 40>::v), ...);
    return s;
}

template <int I> struct Node {
    std::variant<int, double, std::string, std::vector<int>> v;
    std::map<std::string, std::function<int(int)>> handlers;
    int run(int x) {
        handlers["a" + std::to_string(I)] = [](int y) { return y * I; };
        std::visit([&](auto &&a) { using A = std::decay_t<decltype(a)>;
            if constexpr (std::is_same_v<A, int>) x += a; else x += sizeof(A); }, v);
        std::vector<std::unique_ptr<std::string>> vs;
        for (int k = 0; k < x % 7; k++) vs.push_back(std::make_unique<std::string>(std::to_string(k)));
        std::sort(vs.begin(), vs.end(), [](auto &a, auto &b) { return *a < *b; });
        std::unordered_map<int, std::string> um;
        um[x] = *vs[0];
        std::ostringstream os; os << um[x] << I;
        return handlers["a" + std::to_string(I)](x) + (int)os.str().size();
    }
};

template <int... Is> int run_all(std::integer_sequence<int, Is...>, int x) {
    int s = 0;
    ((s += Node<Is>{}.run(x + Is)), ...);
    return s;
}

int main(int argc, char **) {
    Tower<60, int> tw{};
    long s = tw.sum() + expand(std::make_integer_sequence<int, 80>{});
    s += run_all(std::make_integer_sequence<int, 50>{}, argc);
    return (int)(s & 1);
}
