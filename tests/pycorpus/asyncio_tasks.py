# SPDX-License-Identifier: MIT
# pycorpus-theme: asyncio tasks
"""200 tasks of one event loop each fetch a 150 KB response (a bytes object, at the `body` line
of fetch(), 30 MB in all) that asyncio.gather() collects and the script keeps to the end; the
coroutine frames and futures in between are freed."""
import asyncio


async def fetch(i):
    await asyncio.sleep(0)
    body = b"%d:" % i + bytes(150_000)  # the response, kept by the caller
    await asyncio.sleep(0)
    return body


async def crawl(n):
    return await asyncio.gather(*(fetch(i) for i in range(n)))


if __name__ == "__main__":
    RESPONSES = asyncio.run(crawl(200))
    print(f"{len(RESPONSES)} responses, {sum(map(len, RESPONSES))} bytes")
