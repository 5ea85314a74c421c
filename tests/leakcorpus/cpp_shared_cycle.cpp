// SPDX-License-Identifier: MIT
// shared_ptr cycles: two nodes owning each other outlive their last outside owner.
#include <memory>

struct Node {
    std::shared_ptr<Node> other;
    long payload[4] = {};
};

static void make_cycle()
{
    auto a = std::make_shared<Node>();
    auto b = std::make_shared<Node>();
    a->other = b;
    b->other = a;
}

int main()
{
    make_cycle();
    return 0;
}
