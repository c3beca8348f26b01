// Sums, means and the MSE loss.
#include "engine/ops/reduce.h"

#include <algorithm>

#include "engine/ops/elementwise.h"
#include "engine/ops/op_util.h"

namespace s2dm {

namespace {

struct SumToBackward final : Node {
  Shape in_shape;
  const char* name() const override { return "SumBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    // g has the kept shape; reshape to rank of input with 1s then broadcast.
    return {g.expand(in_shape).contiguous()};
  }
};

// Sums x over the dims where `keep` has size 1; keep has x's rank. Result has shape `keep`.
Tensor sum_keep(const Tensor& x, const Shape& keep) {
  detail::check_compatible("sum", {x});
  Tensor out = detail::empty_as(x, keep);
  backend_of(x).sum_to(detail::data_of(x), out);
  if (needs_grad({x})) {
    auto n = std::make_shared<SumToBackward>();
    n->in_shape = x.shape();
    record(out, n, {x});
  }
  return out;
}

std::vector<int64_t> normalise_dims(const std::vector<int64_t>& dims, int64_t nd) {
  std::vector<int64_t> r;
  for (int64_t d : dims) {
    const int64_t dd = d < 0 ? d + nd : d;
    S2DM_CHECK(dd >= 0 && dd < nd, "reduction dim {} out of range for a {}-d tensor", d, nd);
    r.push_back(dd);
  }
  return r;
}

}  // namespace

Tensor sum_to_shape(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  S2DM_CHECK(x.shape().size() >= shape.size(), "sum_to_shape: {} to {}", x.str(), shape_str(shape));
  const size_t lead = x.shape().size() - shape.size();
  Shape keep(x.shape().size(), 1);
  for (size_t i = 0; i < shape.size(); ++i) {
    S2DM_CHECK(shape[i] == 1 || shape[i] == x.shape()[lead + i], "sum_to_shape: {} to {}", x.str(),
               shape_str(shape));
    keep[lead + i] = shape[i];
  }
  return sum_keep(x, keep).reshape(shape);
}

Tensor sum(const Tensor& x) { return sum_keep(x, Shape(x.shape().size(), 1)).reshape({}); }

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  const auto nd = normalise_dims(dims, x.dim());
  Shape keep = x.shape(), squeezed;
  for (int64_t d : nd) keep[static_cast<size_t>(d)] = 1;
  for (size_t i = 0; i < keep.size(); ++i)
    if (std::find(nd.begin(), nd.end(), static_cast<int64_t>(i)) == nd.end())
      squeezed.push_back(keep[i]);
  Tensor r = sum_keep(x, keep);
  return keepdim ? r : r.reshape(squeezed);
}

Tensor mean(const Tensor& x) {
  S2DM_CHECK(x.numel() > 0, "mean of an empty tensor {}", x.str());
  return mul_scalar(sum(x), 1.0 / static_cast<double>(x.numel()));
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  int64_t count = 1;
  for (int64_t d : normalise_dims(dims, x.dim())) count *= x.shape()[static_cast<size_t>(d)];
  return mul_scalar(sum(x, dims, keepdim), 1.0 / static_cast<double>(count));
}

}  // namespace s2dm
