# SPDX-License-Identifier: MIT
# pycorpus-theme: building a pandas DataFrame
"""A DataFrame of 1,000,000 orders built from a dict of numpy columns: pandas copies the five
float columns into one 40 MB block, and keeps the int column (8 MB), while the input arrays are
temporaries of the same line (the peak is there: the inputs and pandas' copies of them). Then a
derived column (8 MB). Importing numpy and pandas holds about 32 MB of their own, less than the
frame (tracemalloc's 25 frames do not reach this script's import lines from most of it: those
stacks are deeper)."""
import numpy as np
import pandas as pd

N = 1_000_000

if __name__ == "__main__":
    rng = np.random.default_rng(17)
    orders = pd.DataFrame({"price": rng.random(N), "qty": rng.integers(1, 100, N),
                           "tax": rng.random(N), "discount": rng.random(N),
                           "lat": rng.random(N), "lon": rng.random(N)})
    orders["total"] = orders["price"] * orders["qty"] * (1 + orders["tax"])
    print(f"{len(orders)} orders, {len(orders.columns)} columns, "
          f"total {orders['total'].sum():.0f}")
