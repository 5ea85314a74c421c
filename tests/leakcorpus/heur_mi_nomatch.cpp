// SPDX-License-Identifier: MIT
// memcheck's multipleinheritance heuristic, not matched: without virtual functions there are no
// vtable pointers, so a B* into a C : A, B is only an interior pointer: possibly lost.
struct A {
    long a = 1, a2 = 4;
};
struct B {
    long b = 2;
};
struct C : A, B {
    long c = 3;
};

static B *mi;

int main()
{
    mi = new C;
    return 0;
}
