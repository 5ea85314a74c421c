// SPDX-License-Identifier: MIT
// memcheck's multipleinheritance heuristic, matched: a B* to an object of class C : A, B points
// at the B sub-object, 16 bytes in; both that word and the block's first are vtable pointers:
// reachable.
struct A {
    virtual ~A()
    {
    }
    long a = 1;
};
struct B {
    virtual ~B()
    {
    }
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
