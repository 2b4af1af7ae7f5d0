#include <cblas.h>
// LAPACK's C interface (Debian's liblapacke, over the system LAPACK, which the
// OpenBLAS package provides). Functions on complex numbers are not used.
#include <lapacke.h>
