// Concatenation. It needs no backend op of its own: forward copies each input into its slice of
// the output (Backend::copy), and backward hands each input its slice of the gradient.
#include "engine/ops/concat.h"

#include "engine/ops/op_util.h"

namespace s2dm {

namespace {

struct ConcatBackward final : Node {
  int64_t dim = 0;
  std::vector<int64_t> starts, lengths;
  const char* name() const override { return "ConcatBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    std::vector<Tensor> grads(next.size());
    for (size_t i = 0; i < next.size(); ++i) {
      if (!next[i].fn) continue;
      grads[i] = g.slice(dim, starts[i], starts[i] + lengths[i]).contiguous();
    }
    return grads;
  }
};

}  // namespace

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  S2DM_CHECK(!xs.empty(), "concat: needs at least one tensor");
  for (size_t i = 0; i < xs.size(); ++i)
    S2DM_CHECK(xs[i].defined(), "concat: tensor {} of {} is undefined", i, xs.size());
  const Tensor& first = xs[0];
  S2DM_CHECK(first.dtype() != DType::BF16,
             "concat: bfloat16 is a storage type; convert {} to float32", first.str());
  const int64_t rank = first.dim();
  S2DM_CHECK(rank >= 1, "concat: cannot concatenate 0-d tensors ({})", first.str());
  const int64_t d = dim < 0 ? dim + rank : dim;
  S2DM_CHECK(d >= 0 && d < rank, "concat: dim {} out of range for {}-d tensors", dim, rank);

  Shape out_shape = first.shape();
  out_shape[static_cast<size_t>(d)] = 0;
  bool grad = false;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    S2DM_CHECK(x.dtype() == first.dtype() && x.device() == first.device(),
               "concat: tensor {} is {} but tensor 0 is {}; dtypes and devices must match", i,
               x.str(), first.str());
    S2DM_CHECK(x.dim() == rank, "concat: tensor {} is {}-d ({}) but tensor 0 is {}-d", i,
               x.dim(), x.str(), rank);
    for (int64_t k = 0; k < rank; ++k) {
      if (k == d) continue;
      S2DM_CHECK(x.size(k) == first.size(k),
                 "concat along dim {}: tensor {} has shape {} but tensor 0 has {}; only dim {} "
                 "may differ",
                 d, i, shape_str(x.shape()), shape_str(first.shape()), d);
    }
    out_shape[static_cast<size_t>(d)] += x.size(d);
    grad = grad || x.requires_grad();
  }

  Tensor out = detail::empty_as(first, out_shape);
  auto node = std::make_shared<ConcatBackward>();
  node->dim = d;
  {
    NoGradGuard no_grad;  // the copies are bookkeeping; the node below records the op
    int64_t start = 0;
    for (const Tensor& x : xs) {
      const int64_t len = x.size(d);
      if (len > 0) out.slice(d, start, start + len).copy_(x);
      node->starts.push_back(start);
      node->lengths.push_back(len);
      start += len;
    }
  }
  if (grad && GradMode::enabled()) record(out, node, xs);
  return out;
}

}  // namespace s2dm
