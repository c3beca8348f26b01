// Bucketed gradient all-reduce started from the autograd leaf hook.
#include "engine/dist/grad_buckets.h"

#include <chrono>

#include "engine/autograd.h"
#include "engine/error.h"

namespace s2dm::dist {

std::vector<BucketRange> plan_buckets(const std::vector<int64_t>& numels, int64_t elem_bytes,
                                      int64_t bucket_bytes) {
  S2DM_CHECK(bucket_bytes > 0, "the gradient bucket size must be positive, got {} bytes", bucket_bytes);
  std::vector<int64_t> offsets(numels.size() + 1, 0);
  for (size_t i = 0; i < numels.size(); ++i) offsets[i + 1] = offsets[i] + numels[i];
  std::vector<BucketRange> out;
  BucketRange cur{offsets.back(), offsets.back(), 0};
  for (size_t k = numels.size(); k-- > 0;) {
    cur.begin = offsets[k];
    ++cur.params;
    if ((cur.end - cur.begin) * elem_bytes >= bucket_bytes || k == 0) {
      out.push_back(cur);
      cur = BucketRange{offsets[k], offsets[k], 0};
    }
  }
  return out;
}

GradBuckets::GradBuckets(FlatParameters& params, Communicator& comm, int64_t bucket_bytes)
    : params_(params), comm_(comm) {
  std::vector<int64_t> numels;
  for (const auto& [name, p] : params_.named()) numels.push_back(p.numel());
  buckets_ = plan_buckets(numels, static_cast<int64_t>(dtype_size(params_.grads().dtype())), bucket_bytes);
  for (size_t b = 0; b < buckets_.size(); ++b)
    for (size_t k = 0; k < params_.named().size(); ++k) {
      const int64_t at = params_.offsets()[k];
      if (at >= buckets_[b].begin && at < buckets_[b].end)
        bucket_of_[params_.named()[k].second.impl().get()] = static_cast<int>(b);
    }
}

GradBuckets::~GradBuckets() {
  if (armed_) set_leaf_grad_hook({});
}

void GradBuckets::begin_backward() {
  remaining_.clear();
  for (const BucketRange& r : buckets_) remaining_.push_back(r.params);
  next_ = 0;
  started_in_backward_ = 0;
  armed_ = true;
  set_leaf_grad_hook([this](const TensorImpl* leaf) { on_leaf(leaf); });
}

void GradBuckets::on_leaf(const TensorImpl* leaf) {
  auto it = bucket_of_.find(leaf);
  if (it == bucket_of_.end()) return;  // a leaf that is not one of these parameters
  if (--remaining_[static_cast<size_t>(it->second)] == 0) {
    const size_t before = next_;
    start_ready();
    started_in_backward_ += static_cast<int64_t>(next_ - before);
  }
}

void GradBuckets::start_ready() {
  while (next_ < buckets_.size() && remaining_[next_] <= 0) {
    const BucketRange& r = buckets_[next_];
    comm_.start_all_reduce(params_.grads().slice(0, r.begin, r.end), ReduceOp::Average);
    ++next_;
  }
}

double GradBuckets::finish() {
  S2DM_CHECK(armed_, "GradBuckets::finish() without begin_backward()");
  set_leaf_grad_hook({});
  armed_ = false;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t& r : remaining_) r = 0;  // parameters backward never reached keep zero gradients
  start_ready();
  comm_.wait();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace s2dm::dist
