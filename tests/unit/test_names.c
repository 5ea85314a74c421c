// SPDX-License-Identifier: MIT
// Unit tests for names.c: C++ names as the symbolizer gives them (taken from memtrace's own
// report of samples/cpp_containers and from c++filt) shortened as heaptrack_print does, with
// operators and lambdas intact; paths shown relative to a directory only when under it.
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "names.h"

static const char *shorten(const char *name)
{
    static char out[2048];
    size_t n = mt_name_shorten(out, sizeof out, name);
    ck_assert_uint_eq(n, strlen(out));
    return out;
}

START_TEST(templates_emptied)
{
    ck_assert_str_eq(
        shorten("std::_Rb_tree<std::__cxx11::basic_string<char, std::char_traits<char>, "
                "std::allocator<char> >, std::pair<std::__cxx11::basic_string<char, "
                "std::char_traits<char>, std::allocator<char> > const, int>, "
                "std::_Select1st<std::pair<std::__cxx11::basic_string<char, "
                "std::char_traits<char>, std::allocator<char> > const, int> >, "
                "std::less<std::__cxx11::basic_string<char, std::char_traits<char>, "
                "std::allocator<char> > >, std::allocator<std::pair<std::__cxx11::basic_string<"
                "char, std::char_traits<char>, std::allocator<char> > const, int> > "
                ">::_M_get_node()"),
        "std::_Rb_tree<>::_M_get_node()");
    ck_assert_str_eq(
        shorten("void std::vector<std::__cxx11::basic_string<char, std::char_traits<char>, "
                "std::allocator<char> >, std::allocator<std::__cxx11::basic_string<char, "
                "std::char_traits<char>, std::allocator<char> > > "
                ">::_M_realloc_insert<std::__cxx11::basic_string<char, std::char_traits<char>, "
                "std::allocator<char> > >(__gnu_cxx::__normal_iterator<std::__cxx11::basic_"
                "string<char, std::char_traits<char>, std::allocator<char> >*, "
                "std::vector<std::__cxx11::basic_string<char, std::char_traits<char>, "
                "std::allocator<char> >, std::allocator<std::__cxx11::basic_string<char, "
                "std::char_traits<char>, std::allocator<char> > > > >, "
                "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> "
                ">&&)"),
        "void std::vector<>::_M_realloc_insert<>(__gnu_cxx::__normal_iterator<>, "
        "std::basic_string<>&&)");
    ck_assert_str_eq(shorten("std::pair<std::__cxx11::basic_string<char, std::char_traits<char>, "
                             "std::allocator<char> > const, int>::pair<std::__cxx11::basic_string"
                             "<char, std::char_traits<char>, std::allocator<char> > const&, 0ul>("
                             "std::tuple<std::__cxx11::basic_string<char, std::char_traits<char>, "
                             "std::allocator<char> > const&>&, std::tuple<>&, "
                             "std::_Index_tuple<0ul>, std::_Index_tuple<>)"),
                     "std::pair<>::pair<>(std::tuple<>&, std::tuple<>&, std::_Index_tuple<>, "
                     "std::_Index_tuple<>)");
    /* no template: unchanged, and "std::__cxx11::" is read as "std::" */
    ck_assert_str_eq(shorten("main"), "main");
    ck_assert_str_eq(shorten("std::__cxx11::list::clear()"), "std::list::clear()");
    ck_assert_str_eq(shorten("void (anonymous namespace)::work<int>(int)"),
                     "void (anonymous namespace)::work<>(int)");
}
END_TEST

START_TEST(operators_and_lambdas)
{
    ck_assert_str_eq(shorten("std::map<std::__cxx11::basic_string<char, std::char_traits<char>, "
                             "std::allocator<char> >, int, std::less<std::__cxx11::basic_string<"
                             "char, std::char_traits<char>, std::allocator<char> > >, "
                             "std::allocator<std::pair<std::__cxx11::basic_string<char, "
                             "std::char_traits<char>, std::allocator<char> > const, int> > "
                             ">::operator[](std::__cxx11::basic_string<char, "
                             "std::char_traits<char>, std::allocator<char> > const&)"),
                     "std::map<>::operator[](std::basic_string<> const&)");
    ck_assert_str_eq(shorten("std::basic_ostream<char, std::char_traits<char> >& std::operator<< "
                             "<std::char_traits<char> >(std::basic_ostream<char, "
                             "std::char_traits<char> >&, char const*)"),
                     "std::basic_ostream<>& std::operator<< <>(std::basic_ostream<>&, char "
                     "const*)");
    ck_assert_str_eq(shorten("operator<(A const&, A const&)"), "operator<(A const&, A const&)");
    ck_assert_str_eq(shorten("bool operator><int>(int const&, int const&)"),
                     "bool operator><>(int const&, int const&)");
    ck_assert_str_eq(shorten("std::unique_ptr<int, std::default_delete<int> >::operator->()"),
                     "std::unique_ptr<>::operator->()");
    ck_assert_str_eq(shorten("foo<int>::operator()()"), "foo<>::operator()()");
    ck_assert_str_eq(shorten("A::operator<=>(A const&) const"), "A::operator<=>(A const&) const");
    ck_assert_str_eq(shorten("A::operator std::vector<int, std::allocator<int> >()"),
                     "A::operator std::vector<>()");
    ck_assert_str_eq(shorten("main::{lambda(int)#1}::operator()(int) const"),
                     "main::{lambda(int)#1}::operator()(int) const");
    ck_assert_str_eq(shorten("run(std::vector<int, std::allocator<int> >)::{lambda(std::pair<int, "
                             "int>)#2}::operator()(std::pair<int, int>) const"),
                     "run(std::vector<>)::{lambda(std::pair<>)#2}::operator()(std::pair<>) "
                     "const");
    /* Python's names are no templates */
    ck_assert_str_eq(shorten("<module>"), "<module>");
    ck_assert_str_eq(shorten("work.<locals>.<listcomp>"), "work.<locals>.<listcomp>");
    ck_assert_str_eq(shorten("<lambda>"), "<lambda>");
    /* "->" inside template arguments is no bracket */
    ck_assert_str_eq(shorten("f<decltype(p->x)>(int)"), "f<>(int)");
    /* not balanced: shown as it is */
    ck_assert_str_eq(shorten("weird<int(int)"), "weird<int(int)");
}
END_TEST

START_TEST(show_and_full)
{
    char buf[64];
    const char *plain = "main";
    ck_assert_ptr_eq(mt_name_show(plain, buf, sizeof buf), plain);
    ck_assert_ptr_null(mt_name_show(NULL, buf, sizeof buf));
    ck_assert_str_eq(mt_name_show("std::vector<int>::push_back(int const&)", buf, sizeof buf),
                     "std::vector<>::push_back(int const&)");
    mt_names_set_full(1);
    const char *full = "std::vector<int>::push_back(int const&)";
    ck_assert_ptr_eq(mt_name_show(full, buf, sizeof buf), full);
    mt_names_set_full(0);
    /* cut to the buffer, NUL-terminated, the whole length returned */
    char small[8];
    ck_assert_uint_eq(mt_name_shorten(small, sizeof small, "std::vector<int>::x()"), 18);
    ck_assert_str_eq(small, "std::ve");
}
END_TEST

START_TEST(paths)
{
    ck_assert_str_eq(mt_path_show_in("/home/u/proj/src/util.c", "/home/u/proj"), "src/util.c");
    ck_assert_str_eq(mt_path_show_in("/home/u/proj/src/util.c", "/home/u/proj/"), "src/util.c");
    ck_assert_str_eq(mt_path_show_in("/home/u/proj/src/util.c", "/home/u/proj/build"),
                     "/home/u/proj/src/util.c");
    ck_assert_str_eq(mt_path_show_in("/home/u/projx/a.c", "/home/u/proj"), "/home/u/projx/a.c");
    ck_assert_str_eq(mt_path_show_in("/usr/include/stdlib.h", "/"), "/usr/include/stdlib.h");
    ck_assert_str_eq(mt_path_show_in("../sysdeps/x.h", "/home/u"), "../sysdeps/x.h");
    ck_assert_str_eq(mt_path_show_in("/a/b.c", NULL), "/a/b.c");
    char out[256];
    ck_assert_uint_eq(mt_path_join(out, sizeof out, "/w/main/build", "../samples/demo.c"),
                      strlen("/w/main/samples/demo.c"));
    ck_assert_str_eq(out, "/w/main/samples/demo.c");
    mt_path_join(out, sizeof out, "/w/b", "./x/../../../../y.c");
    ck_assert_str_eq(out, "/y.c");
    mt_path_join(out, sizeof out, "/w/b", "/abs/./f.c");
    ck_assert_str_eq(out, "/abs/f.c");
    mt_path_join(out, sizeof out, "./nptl", "../sysdeps/a.h");
    ck_assert_str_eq(out, "sysdeps/a.h");
    mt_path_join(out, sizeof out, "", "../a.h");
    ck_assert_str_eq(out, "../a.h");
}
END_TEST

MT_SUITE(.name = "names",
         .tests = MT_TESTS(templates_emptied, operators_and_lambdas, show_and_full, paths));
