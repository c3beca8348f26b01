// GradBuckets: data-parallel gradient averaging overlapped with backward.
//
// The flat gradient buffer is cut into buckets of consecutive parameters, taken in reverse
// parameter order (the order backward produces them) and each about bucket_bytes large. During
// backward an autograd hook counts the parameters whose gradient is final; once a bucket is
// complete and every bucket before it has been started, its all-reduce (average) starts, so
// communication runs beside the rest of backward. finish() starts what is left (parameters the
// graph did not reach keep their zero gradient) and waits for all. Every rank starts the same
// buckets in the same order, which collectives require.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "engine/dist/communicator.h"
#include "engine/nn/flat_parameters.h"

namespace s2dm::dist {

struct BucketRange {
  int64_t begin = 0, end = 0;  // elements of the flat buffer
  int64_t params = 0;          // how many parameters it holds
};

// The buckets for parameters of these sizes (in parameter order), as element ranges in launch
// order: the last parameters first.
std::vector<BucketRange> plan_buckets(const std::vector<int64_t>& param_numels, int64_t elem_bytes,
                                      int64_t bucket_bytes);

class GradBuckets {
 public:
  GradBuckets(FlatParameters& params, Communicator& comm, int64_t bucket_bytes);
  ~GradBuckets();
  GradBuckets(const GradBuckets&) = delete;
  GradBuckets& operator=(const GradBuckets&) = delete;

  // Arms the hook for the next backward pass on this thread.
  void begin_backward();
  // Starts the remaining buckets, waits for all and disarms the hook. Returns the seconds the
  // caller waited here (communication that backward did not hide).
  double finish();

  const std::vector<BucketRange>& buckets() const { return buckets_; }
  // Buckets started from inside backward in the last pass (the rest were started by finish()).
  int64_t started_during_backward() const { return started_in_backward_; }

 private:
  void on_leaf(const TensorImpl* leaf);
  void start_ready();

  FlatParameters& params_;
  Communicator& comm_;
  std::vector<BucketRange> buckets_;
  std::unordered_map<const TensorImpl*, int> bucket_of_;  // parameter -> bucket
  std::vector<int64_t> remaining_;                        // parameters still to finish, per bucket
  size_t next_ = 0;                                       // first bucket not started
  int64_t started_in_backward_ = 0;
  bool armed_ = false;
};

}  // namespace s2dm::dist
