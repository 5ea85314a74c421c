// SPDX-License-Identifier: MIT
// memcheck's leak heuristics met the way C++ programs meet them: a second base class pointer
// (multipleinheritance), new[] of a class with a destructor (newarray), a copy-on-write
// std::string when built with -D_GLIBCXX_USE_CXX11_ABI=0 (stdstring), and the same shapes
// where the heuristic must not apply. Each block is kept only through the pointer the
// program itself holds, in a global; the test compares memtrace's kind with valgrind's.
#include <new>
#include <string>

struct A {
    char a = 'a';
    virtual ~A()
    {
    }
};
struct B {
    char b = 'b';
    virtual ~B()
    {
    }
};
struct C : A, B {
    char c = 'c';
    ~C() override
    {
    }
};
struct Counted {
    int x[3] = {1, 2, 3};
    ~Counted()
    {
    }
};

B *second_base;       /* 16 bytes into a C: at B's vtable pointer */
A *first_base;        /* the start of a C */
char *member;         /* C::b inside the B part: not a vtable pointer */
Counted *array;       /* new Counted[7]: 8 bytes in, after the count */
Counted *empty_array; /* new Counted[0]: one past the 8-byte block, so no pointer into it */
/* A global std::string would be destroyed at exit, before the check: this one never is. With
 * the old ABI it is one pointer, 24 bytes into its _Rep. */
alignas(std::string) unsigned char text[sizeof(std::string)];
std::string *boxed; /* a std::string object on the heap, pointed at its start */

__attribute__((noinline)) static void keep_second_base()
{
    second_base = new C; // memcheck: reachable (multipleinheritance)
}

__attribute__((noinline)) static void keep_first_base()
{
    first_base = new C; // memcheck: reachable
}

__attribute__((noinline)) static void keep_member()
{
    member = &static_cast<B *>(new C)->b; // memcheck: possibly lost
}

__attribute__((noinline)) static void keep_array()
{
    array = new Counted[7]; // memcheck: reachable (newarray)
}

__attribute__((noinline)) static void keep_empty_array()
{
    empty_array = new Counted[0]; // memcheck: definitely lost
}

__attribute__((noinline)) static void keep_text()
{
    new (text) std::string(100, 'x'); // memcheck: reachable (old ABI: stdstring)
}

__attribute__((noinline)) static void keep_boxed()
{
    boxed = new std::string(50, 'y'); // memcheck: reachable, and its characters
}

int main()
{
    keep_second_base();
    keep_first_base();
    keep_member();
    keep_array();
    keep_empty_array();
    keep_text();
    keep_boxed();
    return 0;
}
