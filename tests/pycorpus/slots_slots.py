# SPDX-License-Identifier: MIT
# pycorpus-theme: instances with __slots__ (slots_dict.py is the same with a __dict__)
"""slots_dict.py's 140,000 particles, their class declaring __slots__: each object has its six
fields inline (80 bytes with its GC header) and no values array: 16.8 MB with the int each
refers to and the list's slot, at the list comprehension of make_particles()."""
import sys


class Particle:
    __slots__ = ("x", "y", "z", "vx", "vy", "vz")

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
