# SPDX-License-Identifier: MIT
# pycorpus-theme: a cache that leaks
"""A page cache keyed by user: every page rendered stays in a module-level dict for good, so the
cache grows with the number of users served, not with the pages in use. At the end of the
script the cache holds 400 pages of 100 KB (40 MB), allocated at the `body` line of render().
cache_weakref.py is the same server with the cache fixed."""


class Page:
    __slots__ = ("user", "body", "__weakref__")

    def __init__(self, user, body):
        self.user = user
        self.body = body


PAGES = {}  # user -> Page, never evicted


def render(user):
    body = b"<h1>%d</h1>" % user + bytes(100_000)  # the page: what the cache keeps
    return Page(user, body)


def get_page(user):
    page = PAGES.get(user)
    if page is None:
        page = PAGES[user] = render(user)
    return page


def serve(users):
    sent = 0
    for user in users:
        sent += len(get_page(user).body)
    return sent


if __name__ == "__main__":
    sent = serve(list(range(400)) * 2)  # every user twice: the second time from the cache
    print(f"sent {sent} bytes, {len(PAGES)} pages cached")
