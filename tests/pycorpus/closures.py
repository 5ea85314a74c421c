# SPDX-License-Identifier: MIT
# pycorpus-theme: closures that keep what they captured
"""Event handlers registered as closures: each handler captures the payload buffer of the
subscribe() call that made it, so the buffer lives as long as the handler is registered, though
the handler only ever reads its length. At the end of the script the 500 handlers keep 500
buffers of 60 KB (30 MB), charged to the `payload` line of subscribe()."""

HANDLERS = {}


def subscribe(topic, size):
    payload = bytearray(size)  # captured by handler below

    def handler(event):
        return topic, len(payload), event

    HANDLERS.setdefault(topic, []).append(handler)


def publish(topic, event):
    return [h(event) for h in HANDLERS.get(topic, ())]


if __name__ == "__main__":
    for i in range(500):
        subscribe(f"topic-{i % 50}", 60_000)
    delivered = sum(len(publish(f"topic-{i}", i)) for i in range(50))
    print(f"{delivered} deliveries to {len(HANDLERS)} topics")
