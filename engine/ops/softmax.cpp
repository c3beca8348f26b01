// softmax: validation, the backend call and the autograd node, which saves the output. A dim other
// than the last goes through recorded transpose/contiguous views, so the backend only ever sees
// the last dim.
#include "engine/ops/softmax.h"

#include <algorithm>

#include "engine/ops/op_util.h"

namespace s2dm {

namespace {

struct SoftmaxBackward final : Node {
  Tensor y;
  const char* name() const override { return "SoftmaxBackward"; }
  void release() override { y = Tensor(); }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor dx = detail::empty_like(y);
    backend_of(y).softmax_backward(y, detail::data_of(g), dx);
    return {dx};
  }
};

Tensor softmax_last(const Tensor& x) {
  Tensor xc = detail::data_of(x);
  Tensor y = detail::empty_like(xc);
  backend_of(xc).softmax_forward(xc, y);
  if (needs_grad({x})) {
    auto n = std::make_shared<SoftmaxBackward>();
    n->y = y.detach();
    record(y, n, {x});
  }
  return y;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  S2DM_CHECK(x.defined(), "softmax: x is undefined");
  detail::check_compatible("softmax", {x});
  const int64_t nd = std::max<int64_t>(x.dim(), 1);  // a 0-d tensor behaves as one element
  S2DM_CHECK(dim >= -nd && dim < nd, "softmax: dim {} is out of range for {}", dim, x.str());
  const int64_t d = dim < 0 ? dim + nd : dim;
  if (x.dim() == 0 || d == nd - 1) return softmax_last(x);
  return softmax_last(x.transpose(d, nd - 1).contiguous()).transpose(d, nd - 1).contiguous();
}

}  // namespace s2dm
