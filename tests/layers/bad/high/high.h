// SPDX-License-Identifier: MIT
// The header of the upper layer of the fixture.
#define MT_HIGH 1
