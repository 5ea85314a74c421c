// SPDX-License-Identifier: MIT
// A matrix as an array of row pointers: the lost one is its row array definitely lost and its
// rows indirectly lost; the kept one is all reachable.
#include <stdlib.h>

static double **kept;

static double **matrix(size_t rows, size_t cols)
{
    double **m = calloc(rows, sizeof *m);
    for (size_t i = 0; i < rows; i++)
        m[i] = calloc(cols, sizeof **m);
    return m;
}

int main(void)
{
    double **volatile lost = matrix(8, 3);
    lost = NULL;
    kept = matrix(4, 5);
    return 0;
}
