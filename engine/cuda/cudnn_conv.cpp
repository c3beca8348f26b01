// cuDNN convolutions. The first call for a (shape, dtype, stride, pad, math mode, direction)
// times every algorithm cuDNN offers on the real buffers (cudnnFind*AlgorithmEx, like PyTorch's
// benchmark mode) within a workspace limit and caches the fastest; later calls reuse it. The
// workspace is a tensor from the caching allocator, so steady-state steps do not call cudaMalloc.
// Float32 allows TF32 tensor-core math when tf32_enabled(); CUDNN_FMA_MATH forbids it.
// Output tensors are written with beta = 0 (fully overwritten), as the Backend contract says.
#include "engine/cuda/cudnn_conv.h"

#include <array>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "engine/cuda/cuda_check.h"

namespace s2dm::cuda {

namespace {

// Largest workspace an algorithm may ask for during the search.
constexpr size_t kWorkspaceLimit = size_t{1} << 30;

cudnnHandle_t handle_for(int device) {
  static std::mutex mu;
  static std::vector<cudnnHandle_t> handles;
  std::lock_guard<std::mutex> lock(mu);
  if (handles.size() <= static_cast<size_t>(device)) handles.resize(device + 1, nullptr);
  if (handles[device] == nullptr) S2DM_CUDNN_CHECK(cudnnCreate(&handles[device]));
  return handles[device];
}

cudnnDataType_t data_type(const Tensor& t) {
  S2DM_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::F64,
             "conv2d: {} is a storage type; convert to float32", t.str());
  return t.dtype() == DType::F32 ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
}

// Owns the four descriptors of one convolution.
struct ConvDescriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;

  ConvDescriptors(const Tensor& xt, const Tensor& wt, const Tensor& yt, Conv2dParams p) {
    const cudnnDataType_t dt = data_type(xt);
    S2DM_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x));
    S2DM_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y));
    S2DM_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w));
    S2DM_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv));
    auto dims = [](const Tensor& t) {
      return std::array<int, 4>{static_cast<int>(t.size(0)), static_cast<int>(t.size(1)),
                                static_cast<int>(t.size(2)), static_cast<int>(t.size(3))};
    };
    const auto xd = dims(xt), yd = dims(yt), wd = dims(wt);
    S2DM_CUDNN_CHECK(
        cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, dt, xd[0], xd[1], xd[2], xd[3]));
    S2DM_CUDNN_CHECK(
        cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, dt, yd[0], yd[1], yd[2], yd[3]));
    S2DM_CUDNN_CHECK(
        cudnnSetFilter4dDescriptor(w, dt, CUDNN_TENSOR_NCHW, wd[0], wd[1], wd[2], wd[3]));
    S2DM_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv, p.pad_h, p.pad_w, p.stride, p.stride, 1, 1,
                                                     CUDNN_CROSS_CORRELATION, dt));
    const bool tf32 = dt == CUDNN_DATA_FLOAT && tf32_enabled();
    S2DM_CUDNN_CHECK(cudnnSetConvolutionMathType(conv, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
  }
  ~ConvDescriptors() {
    cudnnDestroyConvolutionDescriptor(conv);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(x);
  }
  ConvDescriptors(const ConvDescriptors&) = delete;
  ConvDescriptors& operator=(const ConvDescriptors&) = delete;
};

enum class Direction { Forward, BackwardData, BackwardFilter };

// What the cache is keyed on: everything that changes the best algorithm.
using ConvKey = std::tuple<int, Direction, std::array<int64_t, 4>, std::array<int64_t, 4>, int, int,
                           int, DType, bool>;
struct Choice {
  int algo = 0;
  size_t workspace = 0;
};

std::mutex g_cache_mu;
std::map<ConvKey, Choice>& cache() {
  static auto* c = new std::map<ConvKey, Choice>();
  return *c;
}

ConvKey key_of(int device, Direction dir, const Tensor& x, const Tensor& w, Conv2dParams p) {
  auto dims = [](const Tensor& t) {
    return std::array<int64_t, 4>{t.size(0), t.size(1), t.size(2), t.size(3)};
  };
  return {device, dir, dims(x), dims(w), p.stride, p.pad_h, p.pad_w, x.dtype(),
          x.dtype() == DType::F32 && tf32_enabled()};
}

// Picks the fastest algorithm cuDNN reports as successful; perf results arrive sorted by time.
template <typename Perf>
Choice fastest(const Perf* results, int count, const char* what) {
  for (int i = 0; i < count; ++i) {
    if (results[i].status == CUDNN_STATUS_SUCCESS)
      return {static_cast<int>(results[i].algo), results[i].memory};
  }
  fail("cuDNN found no usable {} algorithm for this convolution (workspace limit {} MiB); "
       "try a smaller batch or --device cpu",
       what, kWorkspaceLimit >> 20);
}

Tensor workspace_tensor(size_t bytes, Device d) {
  // Float elements are only a way to get bytes from the caching allocator.
  return Tensor::empty({static_cast<int64_t>((bytes + 3) / 4)}, DType::F32, d);
}

// The cached choice for key, running find() (which times the algorithms) on a miss.
template <typename Find>
Choice choose(const ConvKey& key, Find&& find) {
  {
    std::lock_guard<std::mutex> lock(g_cache_mu);
    auto it = cache().find(key);
    if (it != cache().end()) return it->second;
  }
  const Choice c = find();
  std::lock_guard<std::mutex> lock(g_cache_mu);
  cache().emplace(key, c);
  return c;
}

constexpr int kMaxAlgos = 16;

}  // namespace

size_t cudnn_cached_algorithms() {
  std::lock_guard<std::mutex> lock(g_cache_mu);
  return cache().size();
}

void cudnn_conv2d_forward(int device, CUstream_st* stream, const Tensor& x, const Tensor& w,
                          const Tensor& bias, Tensor& y, Conv2dParams p) {
  if (y.numel() == 0) return;
  cudnnHandle_t h = handle_for(device);
  S2DM_CUDNN_CHECK(cudnnSetStream(h, stream));
  ConvDescriptors d(x, w, y, p);
  const Choice c = choose(key_of(device, Direction::Forward, x, w, p), [&] {
    Tensor ws = workspace_tensor(kWorkspaceLimit, y.device());
    std::array<cudnnConvolutionFwdAlgoPerf_t, kMaxAlgos> perf{};
    int found = 0;
    S2DM_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(
        h, d.x, x.raw(), d.w, w.raw(), d.conv, d.y, y.raw(), kMaxAlgos, &found, perf.data(),
        ws.raw(), kWorkspaceLimit));
    return fastest(perf.data(), found, "forward");
  });
  Tensor ws = workspace_tensor(c.workspace, y.device());
  const double one64 = 1.0, zero64 = 0.0;
  const float one32 = 1.0f, zero32 = 0.0f;
  const bool f64 = x.dtype() == DType::F64;
  const void* one = f64 ? static_cast<const void*>(&one64) : &one32;
  const void* zero = f64 ? static_cast<const void*>(&zero64) : &zero32;
  S2DM_CUDNN_CHECK(cudnnConvolutionForward(h, one, d.x, x.raw(), d.w, w.raw(), d.conv,
                                           static_cast<cudnnConvolutionFwdAlgo_t>(c.algo),
                                           ws.raw(), c.workspace, zero, d.y, y.raw()));
  if (bias.defined()) {
    cudnnTensorDescriptor_t bd = nullptr;
    S2DM_CUDNN_CHECK(cudnnCreateTensorDescriptor(&bd));
    S2DM_CUDNN_CHECK(cudnnSetTensor4dDescriptor(bd, CUDNN_TENSOR_NCHW, data_type(bias), 1,
                                                static_cast<int>(bias.numel()), 1, 1));
    const cudnnStatus_t st = cudnnAddTensor(h, one, bd, bias.raw(), one, d.y, y.raw());
    cudnnDestroyTensorDescriptor(bd);
    S2DM_CUDNN_CHECK(st);
  }
}

void cudnn_conv2d_backward(int device, CUstream_st* stream, const Tensor& x, const Tensor& w,
                           const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& dbias,
                           Conv2dParams p) {
  cudnnHandle_t h = handle_for(device);
  S2DM_CUDNN_CHECK(cudnnSetStream(h, stream));
  ConvDescriptors d(x, w, dy, p);
  const double one64 = 1.0, zero64 = 0.0;
  const float one32 = 1.0f, zero32 = 0.0f;
  const bool f64 = x.dtype() == DType::F64;
  const void* one = f64 ? static_cast<const void*>(&one64) : &one32;
  const void* zero = f64 ? static_cast<const void*>(&zero64) : &zero32;

  if (dx.defined() && dx.numel() > 0) {
    const Choice c = choose(key_of(device, Direction::BackwardData, x, w, p), [&] {
      Tensor ws = workspace_tensor(kWorkspaceLimit, x.device());
      std::array<cudnnConvolutionBwdDataAlgoPerf_t, kMaxAlgos> perf{};
      int found = 0;
      S2DM_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(
          h, d.w, w.raw(), d.y, dy.raw(), d.conv, d.x, dx.raw(), kMaxAlgos, &found, perf.data(),
          ws.raw(), kWorkspaceLimit));
      return fastest(perf.data(), found, "backward-data");
    });
    Tensor ws = workspace_tensor(c.workspace, x.device());
    S2DM_CUDNN_CHECK(cudnnConvolutionBackwardData(
        h, one, d.w, w.raw(), d.y, dy.raw(), d.conv,
        static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo), ws.raw(), c.workspace, zero, d.x,
        dx.raw()));
  }
  if (dw.defined() && dw.numel() > 0) {
    const Choice c = choose(key_of(device, Direction::BackwardFilter, x, w, p), [&] {
      Tensor ws = workspace_tensor(kWorkspaceLimit, x.device());
      std::array<cudnnConvolutionBwdFilterAlgoPerf_t, kMaxAlgos> perf{};
      int found = 0;
      S2DM_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(
          h, d.x, x.raw(), d.y, dy.raw(), d.conv, d.w, dw.raw(), kMaxAlgos, &found, perf.data(),
          ws.raw(), kWorkspaceLimit));
      return fastest(perf.data(), found, "backward-filter");
    });
    Tensor ws = workspace_tensor(c.workspace, x.device());
    S2DM_CUDNN_CHECK(cudnnConvolutionBackwardFilter(
        h, one, d.x, x.raw(), d.y, dy.raw(), d.conv,
        static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo), ws.raw(), c.workspace, zero, d.w,
        dw.raw()));
  }
  if (dbias.defined() && dbias.numel() > 0) {
    cudnnTensorDescriptor_t bd = nullptr;
    S2DM_CUDNN_CHECK(cudnnCreateTensorDescriptor(&bd));
    S2DM_CUDNN_CHECK(cudnnSetTensor4dDescriptor(bd, CUDNN_TENSOR_NCHW, data_type(dbias), 1,
                                                static_cast<int>(dbias.numel()), 1, 1));
    const cudnnStatus_t st = cudnnConvolutionBackwardBias(h, one, d.y, dy.raw(), zero, bd,
                                                          dbias.raw());
    cudnnDestroyTensorDescriptor(bd);
    S2DM_CUDNN_CHECK(st);
  }
}

}  // namespace s2dm::cuda
