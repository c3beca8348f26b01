// The SIMT emulator's semantics: indices over 1-D/2-D/3-D launches, static and dynamic shared
// memory across __syncthreads, block reductions, shuffles and votes with known answers, atomics
// from many blocks, per-thread kernel arguments, and the errors a GPU leaves undefined
// (deadlocks, divergent warp collectives, invalid launches) reported instead of hanging.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "kernels/kernel_launch.h"

using s2dm::kernels::dynamic_shared;
using s2dm::kernels::launch;
using s2dm::simt::SimtError;
using Catch::Matchers::Contains;

namespace {

constexpr unsigned kFull = 0xffffffffu;

struct Coords {
  uint3 thread, block;
  dim3 block_dim, grid_dim;
  unsigned warp_leader_y;  // threadIdx.y of lane 0 of this thread's warp
};

__global__ void record_coords(Coords* out) {
  const unsigned tpb = blockDim.x * blockDim.y * blockDim.z;
  const unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned active = tpb - t / 32 * 32 < 32 ? (1u << (tpb % 32)) - 1u : kFull;
  const unsigned leader_y = __shfl_sync(active, threadIdx.y, 0);
  out[b * tpb + t] = Coords{threadIdx, blockIdx, blockDim, gridDim, leader_y};
}

__global__ void rotate_through_shared(const int* in, int* out) {
  __shared__ int tile[128];
  const unsigned t = threadIdx.x, base = blockIdx.x * blockDim.x;
  tile[t] = in[base + t];
  __syncthreads();
  // Thread t reads what thread t+1 wrote; the emulator runs t+1 after t, so only the barrier
  // makes this value visible.
  out[base + t] = tile[(t + 1) % blockDim.x];
}

__global__ void reverse_in_dynamic_shared(const double* in, double* out, double* first_reads) {
  double* buf = dynamic_shared<double>();
  const unsigned t = threadIdx.x, n = blockDim.x, base = blockIdx.x * n;
  first_reads[base + t] = buf[t];
  __syncthreads();
  buf[t] = in[base + t];
  __syncthreads();
  out[base + t] = buf[n - 1 - t];
}

// Warp shuffles, then one value per warp through shared memory, then the first warp.
__global__ void block_sum(const float* in, int n, float* out) {
  __shared__ float partial[32];
  float v = 0.0f;
  for (int i = static_cast<int>(threadIdx.x); i < n; i += static_cast<int>(blockDim.x))
    v += in[blockIdx.x * n + i];
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(kFull, v, offset);
  const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < blockDim.x / 32 ? partial[lane] : 0.0f;
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(kFull, v, offset);
    if (lane == 0) out[blockIdx.x] = v;
  }
}

struct WarpResults {
  int bcast, seg_bcast, up, down16, bfly;
  double bfly16;
  long long wide;
  unsigned ballot;
  int any_seven, any_none, all_true, all_but_nine, half;
};

__global__ void warp_ops(WarpResults* out) {
  const int lane = static_cast<int>(threadIdx.x % 32);
  WarpResults r{};
  r.bcast = __shfl_sync(kFull, lane * 10, 3);
  r.seg_bcast = __shfl_sync(kFull, lane, 5, 8);
  r.up = __shfl_up_sync(kFull, lane, 3);
  r.down16 = __shfl_down_sync(kFull, lane, 4, 16);
  r.bfly = __shfl_xor_sync(kFull, lane, 1);
  r.bfly16 = __shfl_xor_sync(kFull, lane * 0.5, 16);
  r.wide = __shfl_sync(kFull, (1LL << 40) + lane, 31);
  r.ballot = __ballot_sync(kFull, lane % 3 == 0);
  r.any_seven = __any_sync(kFull, lane == 7);
  r.any_none = __any_sync(kFull, 0);
  r.all_true = __all_sync(kFull, lane < 32);
  r.all_but_nine = __all_sync(kFull, lane != 9);
  // Divergent halves, each a collective of its own.
  if (lane < 16)
    r.half = __shfl_sync(0x0000ffffu, lane, 15);
  else
    r.half = __shfl_sync(0xffff0000u, lane, 16);
  __syncwarp();
  out[blockIdx.x * blockDim.x + threadIdx.x] = r;
}

__global__ void hammer_atomics(int* count, float* fsum, double* dsum, int* maxv, unsigned* ticket,
                               int* seen, int* cas_total) {
  const int g = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  atomicAdd(count, 1);
  __syncthreads();  // interleave the threads of a block between the updates
  atomicAdd(fsum, 0.5f);
  atomicAdd(dsum, 0.25);
  atomicMax(maxv, (g * 7919) % 10007);
  __syncthreads();
  seen[atomicAdd(ticket, 1u)] += 1;
  int old = *cas_total, assumed = 0;
  do {
    assumed = old;
    old = atomicCAS(cas_total, assumed, assumed + 2);
  } while (assumed != old);
}

__global__ void barrier_votes(int* out) {
  const unsigned t = threadIdx.x;
  const int c = __syncthreads_count(t % 4 == 0);
  const int a = __syncthreads_and(t < 1000);
  const int o = __syncthreads_or(t == 77);
  const int z = __syncthreads_or(0);
  out[4 * t + 0] = c;
  out[4 * t + 1] = a;
  out[4 * t + 2] = o;
  out[4 * t + 3] = z;
}

__global__ void bump_own_copy(int* out, int base) {
  base += static_cast<int>(threadIdx.x);  // a thread's parameters are its own
  __syncthreads();
  out[threadIdx.x] = base;
}

__global__ void early_exit_before_barrier(int* out) {
  if (threadIdx.x == 5) return;
  __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void barrier_in_half_the_block(int* out) {
  if (threadIdx.x < 32) __syncthreads();
  __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void shuffle_after_first_lane_exits(int* out) {
  if (threadIdx.x == 0) return;
  out[threadIdx.x] = __shfl_sync(kFull, static_cast<int>(threadIdx.x), 1);
}

__global__ void shuffle_before_last_lane_exits(int* out) {
  if (threadIdx.x == 31) return;
  out[threadIdx.x] = __shfl_sync(kFull, static_cast<int>(threadIdx.x), 0);
}

__global__ void mismatched_masks(int* out) {
  const unsigned mask = threadIdx.x == 3 ? 0x0000000fu : kFull;
  out[threadIdx.x] = __shfl_sync(mask, 1, 0);
}

__global__ void shuffle_from_outside_mask(int* out) {
  if (threadIdx.x < 16) out[threadIdx.x] = __shfl_down_sync(0x0000ffffu, 1, 8);
}

__global__ void full_mask_in_partial_warp(int* out) {
  out[threadIdx.x] = __shfl_sync(kFull, 1, 0);
}

__global__ void barrier_then_shuffle_deadlock(int* out) {
  // Lane 0 waits at the barrier while its warp waits for it in the shuffle.
  if (threadIdx.x == 0) __syncthreads();
  out[threadIdx.x] = __shfl_sync(kFull, 1, 0);
  if (threadIdx.x != 0) __syncthreads();
}

void throw_from_host_code() { throw std::runtime_error("bad input 42"); }

__global__ void throwing_kernel(int* out) {
  if (threadIdx.x == 3) throw_from_host_code();
  out[threadIdx.x] = 1;
}

__global__ void nested_launch(int* out) { launch(bump_own_copy, 1, 1, 0, nullptr, out, 0); }

}  // namespace

TEST_CASE("simt: thread and block indices over 1-D 2-D and 3-D launches", "[simt]") {
  const struct {
    dim3 grid, block;
  } shapes[] = {{dim3(3), dim3(64)}, {dim3(2, 3), dim3(8, 4)}, {dim3(2, 2, 2), dim3(4, 2, 3)},
                {dim3(1, 1, 3), dim3(5, 3, 2)}};
  for (const auto& s : shapes) {
    const unsigned tpb = s.block.x * s.block.y * s.block.z;
    const unsigned blocks = s.grid.x * s.grid.y * s.grid.z;
    std::vector<Coords> out(tpb * blocks, Coords{{9999, 9999, 9999}, {}, {}, {}, 9999});
    launch(record_coords, s.grid, s.block, 0, nullptr, out.data());
    for (unsigned b = 0; b < blocks; ++b) {
      for (unsigned t = 0; t < tpb; ++t) {
        const Coords& c = out[b * tpb + t];
        INFO("block " << b << " thread " << t);
        CHECK(c.thread.x == t % s.block.x);
        CHECK(c.thread.y == t / s.block.x % s.block.y);
        CHECK(c.thread.z == t / (s.block.x * s.block.y));
        CHECK(c.block.x == b % s.grid.x);
        CHECK(c.block.y == b / s.grid.x % s.grid.y);
        CHECK(c.block.z == b / (s.grid.x * s.grid.y));
        CHECK(c.block_dim.x == s.block.x);
        CHECK(c.block_dim.y == s.block.y);
        CHECK(c.block_dim.z == s.block.z);
        CHECK(c.grid_dim.x == s.grid.x);
        CHECK(c.grid_dim.y == s.grid.y);
        CHECK(c.grid_dim.z == s.grid.z);
        // Warps are runs of 32 consecutive linear thread indices (x fastest).
        CHECK(c.warp_leader_y == t / 32 * 32 / s.block.x % s.block.y);
      }
    }
  }
}

TEST_CASE("simt: static shared memory is shared by a block and ordered by __syncthreads",
          "[simt]") {
  const int blocks = 3, threads = 128;
  std::vector<int> in(blocks * threads), out(in.size(), -1);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<int>(i * 7 + 1);
  launch(rotate_through_shared, blocks, threads, 0, nullptr, in.data(), out.data());
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < threads; ++t)
      REQUIRE(out[b * threads + t] == in[b * threads + (t + 1) % threads]);
}

TEST_CASE("simt: dynamic shared memory is sized by the launch and starts poisoned", "[simt]") {
  const unsigned blocks = 2, threads = 96;
  std::vector<double> in(blocks * threads), out(in.size()), first(in.size());
  for (size_t i = 0; i < in.size(); ++i) in[i] = 0.5 * static_cast<double>(i);
  launch(reverse_in_dynamic_shared, blocks, threads, threads * sizeof(double), nullptr, in.data(),
         out.data(), first.data());
  for (unsigned b = 0; b < blocks; ++b)
    for (unsigned t = 0; t < threads; ++t) {
      REQUIRE(out[b * threads + t] == in[b * threads + threads - 1 - t]);
      REQUIRE(std::isnan(first[b * threads + t]));  // no value leaks from the previous block
    }
}

TEST_CASE("simt: a block reduction with shuffles and shared memory", "[simt]") {
  const int blocks = 4, n = 1000;
  std::vector<float> in(blocks * n), out(blocks, -1.0f);
  for (int i = 0; i < blocks * n; ++i) in[static_cast<size_t>(i)] = static_cast<float>(i % 97);
  for (unsigned threads : {32u, 256u}) {
    launch(block_sum, blocks, threads, 0, nullptr, in.data(), n, out.data());
    for (int b = 0; b < blocks; ++b) {
      double expect = 0;
      for (int i = 0; i < n; ++i) expect += in[static_cast<size_t>(b * n + i)];
      CHECK(out[static_cast<size_t>(b)] == static_cast<float>(expect));
    }
  }
}

TEST_CASE("simt: warp shuffles and votes give the documented answers", "[simt]") {
  const unsigned threads = 64;
  std::vector<WarpResults> out(threads);
  launch(warp_ops, 1, threads, 0, nullptr, out.data());
  for (unsigned t = 0; t < threads; ++t) {
    const int lane = static_cast<int>(t % 32);
    const WarpResults& r = out[t];
    INFO("thread " << t);
    CHECK(r.bcast == 30);
    CHECK(r.seg_bcast == lane / 8 * 8 + 5);
    CHECK(r.up == (lane < 3 ? lane : lane - 3));
    CHECK(r.down16 == (lane % 16 + 4 < 16 ? lane + 4 : lane));
    CHECK(r.bfly == (lane ^ 1));
    CHECK(r.bfly16 == (lane ^ 16) * 0.5);
    CHECK(r.wide == (1LL << 40) + 31);
    CHECK(r.ballot == 0x49249249u);
    CHECK(r.any_seven == 1);
    CHECK(r.any_none == 0);
    CHECK(r.all_true == 1);
    CHECK(r.all_but_nine == 0);
    CHECK(r.half == (lane < 16 ? 15 : 16));
  }
}

TEST_CASE("simt: atomics from many blocks", "[simt]") {
  const unsigned blocks = 64, threads = 128, total = blocks * threads;
  int count = 0, maxv = -1, cas_total = 0;
  float fsum = 0.0f;
  double dsum = 0.0;
  unsigned ticket = 0;
  std::vector<int> seen(total, 0);
  launch(hammer_atomics, blocks, threads, 0, nullptr, &count, &fsum, &dsum, &maxv, &ticket,
         seen.data(), &cas_total);
  int expect_max = -1;
  for (unsigned g = 0; g < total; ++g)
    expect_max = std::max(expect_max, static_cast<int>(g * 7919 % 10007));
  CHECK(count == static_cast<int>(total));
  CHECK(fsum == 0.5f * static_cast<float>(total));
  CHECK(dsum == 0.25 * total);
  CHECK(maxv == expect_max);
  CHECK(ticket == total);
  CHECK(cas_total == 2 * static_cast<int>(total));
  for (unsigned i = 0; i < total; ++i) REQUIRE(seen[i] == 1);

  unsigned u = 5;
  int i = 7;
  CHECK(atomicInc(&u, 5u) == 5u);
  CHECK(u == 0u);
  CHECK(atomicDec(&u, 9u) == 0u);
  CHECK(u == 9u);
  CHECK(atomicMin(&i, -3) == 7);
  CHECK(atomicExch(&i, 11) == -3);
  CHECK(atomicOr(&i, 4) == 11);
  CHECK(i == 15);
}

TEST_CASE("simt: counting barriers and per-thread kernel arguments", "[simt]") {
  const unsigned threads = 100;
  std::vector<int> votes(4 * threads, -1);
  launch(barrier_votes, 1, threads, 0, nullptr, votes.data());
  for (unsigned t = 0; t < threads; ++t) {
    CHECK(votes[4 * t + 0] == 25);
    CHECK(votes[4 * t + 1] == 1);
    CHECK(votes[4 * t + 2] == 1);
    CHECK(votes[4 * t + 3] == 0);
  }
  std::vector<int> out(64, -1);
  launch(bump_own_copy, 1, 64, 0, nullptr, out.data(), 1000);
  for (int t = 0; t < 64; ++t) CHECK(out[static_cast<size_t>(t)] == 1000 + t);
}

TEST_CASE("simt: deadlocks and undefined warp behaviour are reported instead of hanging",
          "[simt]") {
  std::vector<int> out(256, 0);
  int* p = out.data();
  CHECK_THROWS_WITH(launch(early_exit_before_barrier, 2, 64, 0, nullptr, p),
                    Contains("deadlock") && Contains("__syncthreads") &&
                        Contains("Exited: 1 ((5,0,0))"));
  CHECK_THROWS_WITH(launch(barrier_in_half_the_block, 1, 64, 0, nullptr, p),
                    Contains("deadlock") && Contains("At __syncthreads: 32"));
  CHECK_THROWS_WITH(launch(barrier_then_shuffle_deadlock, 1, 32, 0, nullptr, p),
                    Contains("deadlock") && Contains("At __syncthreads: 1 ((0,0,0))") &&
                        Contains("At a warp collective: 31"));
  CHECK_THROWS_WITH(launch(shuffle_after_first_lane_exits, 1, 32, 0, nullptr, p),
                    Contains("waits for lane 0, which has exited"));
  CHECK_THROWS_WITH(launch(shuffle_before_last_lane_exits, 1, 32, 0, nullptr, p),
                    Contains("lane 31 exited while lane 0 waits for it in __shfl_sync"));
  CHECK_THROWS_WITH(launch(mismatched_masks, 1, 32, 0, nullptr, p),
                    Contains("divergent warp collectives"));
  CHECK_THROWS_WITH(launch(shuffle_from_outside_mask, 1, 32, 0, nullptr, p),
                    Contains("reads lane 16, which is not in the mask"));
  CHECK_THROWS_WITH(launch(full_mask_in_partial_warp, 1, 40, 0, nullptr, p),
                    Contains("beyond the last thread of a partial warp"));
  CHECK_THROWS_WITH(launch(throwing_kernel, 1, 8, 0, nullptr, p),
                    Contains("thread (3,0,0)") && Contains("bad input 42"));
  CHECK_THROWS_WITH(launch(nested_launch, 1, 1, 0, nullptr, p), Contains("dynamic parallelism"));
  CHECK_THROWS_AS(__syncthreads(), SimtError);

  // Launches a GPU would refuse.
  CHECK_THROWS_AS(launch(bump_own_copy, 1, 2048, 0, nullptr, p, 0), SimtError);
  CHECK_THROWS_AS(launch(bump_own_copy, dim3(1, 1, 1), dim3(1, 1, 65), 0, nullptr, p, 0),
                  SimtError);
  CHECK_THROWS_AS(launch(bump_own_copy, 0, 32, 0, nullptr, p, 0), SimtError);
  CHECK_THROWS_AS(launch(bump_own_copy, dim3(1, 65536), 32, 0, nullptr, p, 0), SimtError);
  CHECK_THROWS_AS(launch(bump_own_copy, 1, 32, 64 * 1024, nullptr, p, 0), SimtError);

  // The emulator is usable again after every failure.
  launch(bump_own_copy, 1, 64, 0, nullptr, p, 7);
  for (int t = 0; t < 64; ++t) CHECK(out[static_cast<size_t>(t)] == 7 + t);
}
