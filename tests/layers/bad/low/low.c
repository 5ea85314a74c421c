// SPDX-License-Identifier: MIT
// A lower layer that includes a header from above it: check_layers.py must reject this.
#include "high.h"
