# SPDX-License-Identifier: MIT
# pycorpus-theme: the cache fixed with weak references
"""cache_leak.py's server with the cache fixed: the cache holds its pages through weak
references (weakref.WeakValueDictionary), so a page lives only while something else uses it;
here the last 200 pages served, kept by a bounded deque of recent pages. At the end of the
script the 200 pages of 100 KB (20 MB) are held, at the `body` line of render(); the other 200
were freed when the deque dropped them, and their cache entries went with them."""
import collections
import weakref


class Page:
    __slots__ = ("user", "body", "__weakref__")

    def __init__(self, user, body):
        self.user = user
        self.body = body


PAGES = weakref.WeakValueDictionary()  # user -> Page, for as long as the page is in use
RECENT = collections.deque(maxlen=200)  # the pages in use: the last 120 served


def render(user):
    body = b"<h1>%d</h1>" % user + bytes(100_000)  # the page: held while it is in use
    return Page(user, body)


def get_page(user):
    page = PAGES.get(user)
    if page is None:
        page = PAGES[user] = render(user)
    RECENT.append(page)
    return page


def serve(users):
    sent = 0
    for user in users:
        sent += len(get_page(user).body)
    return sent


if __name__ == "__main__":
    sent = serve(list(range(400)) * 2)
    print(f"sent {sent} bytes, {len(PAGES)} pages cached")
