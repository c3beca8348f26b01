#include "eval/lapack.h"

#include "engine/error.h"

namespace s2dm::eval_detail {

std::vector<double> symmetric_eigen(std::vector<double>& a, int n, bool vectors, const char* what) {
  S2DM_CHECK(n >= 1 && a.size() == static_cast<std::size_t>(n) * static_cast<std::size_t>(n),
             "{}: an {} x {} matrix needs {} values, got {}", what, n, n, static_cast<std::size_t>(n) * n, a.size());
  const char jobz = vectors ? 'V' : 'N', uplo = 'L';
  std::vector<double> w(static_cast<std::size_t>(n));
  int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
  double work_query = 0;
  dsyevd_(&jobz, &uplo, &n, a.data(), &n, w.data(), &work_query, &lwork, &iwork_query, &liwork, &info, 1, 1);
  S2DM_CHECK(info == 0, "{}: LAPACK dsyevd workspace query failed (info = {})", what, info);
  lwork = static_cast<int>(work_query) + 1;
  liwork = iwork_query;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork > 0 ? liwork : 1));
  dsyevd_(&jobz, &uplo, &n, a.data(), &n, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1);
  S2DM_CHECK(info == 0, "{}: the symmetric eigendecomposition (LAPACK dsyevd) did not converge (info = {})",
             what, info);
  return w;
}

}  // namespace s2dm::eval_detail
