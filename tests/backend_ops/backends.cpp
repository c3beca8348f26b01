#include "tests/backend_ops/backends.h"

#include "engine/simt/simt_backend.h"
#ifdef S2DM_HAVE_CUDA
#include "engine/cuda/device_runtime.h"
#endif

namespace s2dm::backend_ops {

std::vector<Backend*> backends_under_test() {
  register_simt_backend();
  std::vector<Backend*> b{&backend_for(Device::simt())};
#ifdef S2DM_HAVE_CUDA
  for (int i = 0; i < cuda::device_count(); ++i) b.push_back(&backend_for(Device::cuda(i)));
#endif
  return b;
}

}  // namespace s2dm::backend_ops
