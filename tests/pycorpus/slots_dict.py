# SPDX-License-Identifier: MIT
# pycorpus-theme: instances with a __dict__ (slots_slots.py is the same with __slots__)
"""140,000 particles, each an instance of a plain class with six attributes: the object and the
values array of its attributes (CPython 3.11 keeps an instance's values apart from the keys its
class shares) are both made by the list comprehension of make_particles(), with the int each
particle refers to: 23.5 MB at that line. slots_slots.py declares __slots__ instead: the same
data in 16.8 MB."""
import sys


class Particle:
    def __init__(self, x):
        self.x = x
        self.y = x
        self.z = x
        self.vx = x
        self.vy = x
        self.vz = x


def make_particles(n):
    return [Particle(i) for i in range(100_000, 100_000 + n)]


if __name__ == "__main__":
    PARTICLES = make_particles(140_000)
    sys.audit("pycorpus.peak")
    print(f"{len(PARTICLES)} particles, sum x {sum(p.x for p in PARTICLES)}")
