// The LAPACK routines the evaluation code uses, from OpenBLAS (Debian's libopenblas*-dev provides
// LAPACK in the same library). Fortran calling convention: everything by pointer, column-major,
// and the hidden lengths of the character arguments at the end.
#pragma once
#include <cstddef>
#include <vector>

extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                        double* work, const int* lwork, int* iwork, const int* liwork, int* info,
                        std::size_t jobz_len, std::size_t uplo_len);

namespace s2dm::eval_detail {

// Eigenvalues (ascending) of the symmetric n x n matrix `a` (either triangle is read: the matrix
// is symmetric, so row- and column-major agree). With vectors, `a` is overwritten by them:
// row k of the row-major buffer is the unit eigenvector of eigenvalue k. `what` names the matrix
// in errors.
std::vector<double> symmetric_eigen(std::vector<double>& a, int n, bool vectors, const char* what);

}  // namespace s2dm::eval_detail
