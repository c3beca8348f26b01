// Data-parallel building blocks, in one process: launcher detection from simulated environments,
// the gradient bucket plan, buckets started from inside backward with final gradients, sharded
// random draws and data slices equal to the slices of one process's draws. The multi-rank runs
// themselves are in tests/dist/mpi_tests.sh (under mpirun).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <string>

#include "engine/autograd.h"
#include "engine/data/data_loader.h"
#include "engine/dist/communicator.h"
#include "engine/dist/grad_buckets.h"
#include "engine/dist/launch.h"
#include "engine/error.h"
#include "engine/nn/flat_parameters.h"
#include "engine/ops.h"
#include "models/unet.h"
#include "tests/train_fixtures.h"

using namespace s2dm;
using Catch::Contains;

namespace {

dist::GetEnv env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

// Records every collective started: where it starts in the flat buffer and its values then.
class RecordingComm final : public dist::Communicator {
 public:
  explicit RecordingComm(const Tensor& flat) : flat_(flat) {}
  struct Call {
    int64_t begin, numel;
    std::vector<double> values;
    bool during_backward;
  };
  std::vector<Call> calls;
  bool in_backward = false;
  int waits = 0;

  std::string name() const override { return "recording"; }
  void start_all_reduce(const Tensor& t, dist::ReduceOp) override {
    calls.push_back({t.offset() - flat_.offset(), t.numel(), t.to_vector(), in_backward});
  }
  void wait() override { ++waits; }
  void broadcast(const Tensor&, int) override {}
  void barrier() override {}
  void all_reduce_host(std::vector<double>&, dist::ReduceOp) override {}
  std::vector<std::string> all_gather_host(const std::string& b) override { return {b}; }
  std::vector<std::string> gather_host(const std::string& b, int) override { return {b}; }
  [[noreturn]] void abort(int) override { fail("abort"); }

 private:
  Tensor flat_;
};

}  // namespace

TEST_CASE("launchers are recognised from their environment variables", "[dist]") {
  auto none = dist::detect_launch(env_of({}));
  CHECK(none.world_size == 1);
  CHECK(none.launcher == "none");

  auto ompi = dist::detect_launch(env_of({{"OMPI_COMM_WORLD_SIZE", "16"}, {"OMPI_COMM_WORLD_RANK", "9"},
                                          {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}, {"SLURM_STEP_NUM_TASKS", "2"}}));
  CHECK(ompi.launcher == "openmpi");
  CHECK(ompi.world_size == 16);
  CHECK(ompi.rank == 9);
  CHECK(ompi.local_rank == 1);

  auto hydra = dist::detect_launch(env_of({{"PMI_SIZE", "4"}, {"PMI_RANK", "3"}, {"MPI_LOCALRANKID", "3"}}));
  CHECK(hydra.launcher == "hydra");
  CHECK(hydra.rank == 3);

  auto srun = dist::detect_launch(env_of({{"SLURM_STEP_NUM_TASKS", "8"}, {"SLURM_PROCID", "5"},
                                          {"SLURM_LOCALID", "1"}, {"SLURM_NTASKS", "8"}}));
  CHECK(srun.launcher == "slurm");
  CHECK(srun.world_size == 8);
  CHECK(srun.rank == 5);
  CHECK(srun.local_rank == 1);

  // A batch script (allocation variables, no job step) is one process.
  auto batch = dist::detect_launch(env_of({{"SLURM_NTASKS", "8"}, {"SLURM_PROCID", "0"}}));
  CHECK(batch.world_size == 1);

  CHECK_THROWS_WITH(dist::detect_launch(env_of({{"OMPI_COMM_WORLD_SIZE", "two"}})),
                    Contains("OMPI_COMM_WORLD_SIZE='two'"));
  CHECK_THROWS_WITH(dist::detect_launch(env_of({{"PMI_SIZE", "2"}, {"PMI_RANK", "2"}})),
                    Contains("inconsistent"));
}

TEST_CASE("one process needs no MPI, and bad communicator requests name the fix", "[dist]") {
  dist::LaunchInfo one;
  auto comm = dist::make_communicator("auto", Device::cpu(), one);
  CHECK(comm->name() == "local");
  CHECK(comm->world_size() == 1);
  std::vector<double> v{1.5, 2.5};
  comm->all_reduce_host(v, dist::ReduceOp::Average);
  CHECK(v == std::vector<double>{1.5, 2.5});
  CHECK_THROWS_WITH(dist::make_communicator("nccl", Device::cpu(), one), Contains("--comm mpi"));
  CHECK_THROWS_WITH(dist::make_communicator("gloo", Device::cpu(), one), Contains("auto, mpi, nccl or local"));
  dist::LaunchInfo two;
  two.world_size = 2;
  two.launcher = "openmpi";
  CHECK_THROWS_WITH(dist::make_communicator("local", Device::cpu(), two), Contains("2 ranks"));
  // "cuda" under a launcher means the local rank's GPU; explicit devices are kept.
  CHECK(dist::device_for_rank("cpu", two) == Device::cpu());
}

TEST_CASE("NCCL missing at run time is an error naming the fixes", "[dist]") {
  dist::LaunchInfo one;
#ifdef S2DM_HAVE_CUDA
  ::setenv("S2DM_NCCL_LIBRARY", "/nonexistent/libnccl.so.2", 1);
  const auto attempt = [&] { dist::make_communicator("nccl", Device::cuda(0), one); };
  CHECK_THROWS_WITH(attempt(), Contains("NCCL is not available at run time") &&
                                   Contains("/nonexistent/libnccl.so.2") && Contains("--comm mpi"));
  ::unsetenv("S2DM_NCCL_LIBRARY");
#else
  CHECK_THROWS_WITH(dist::make_communicator("nccl", Device::cuda(0), one), Contains("no CUDA backend"));
#endif
}

TEST_CASE("gradient buckets: reverse parameter order, about the requested size, covering all", "[dist]") {
  const auto b = dist::plan_buckets({10, 20, 30, 40}, 4, 100);
  REQUIRE(b.size() == 3);
  CHECK((b[0].begin == 60 && b[0].end == 100 && b[0].params == 1));
  CHECK((b[1].begin == 30 && b[1].end == 60 && b[1].params == 1));
  CHECK((b[2].begin == 0 && b[2].end == 30 && b[2].params == 2));
  const auto one = dist::plan_buckets({10, 20, 30, 40}, 4, int64_t{1} << 30);
  REQUIRE(one.size() == 1);
  CHECK((one[0].begin == 0 && one[0].end == 100 && one[0].params == 4));
  CHECK_THROWS_WITH(dist::plan_buckets({10}, 4, 0), Contains("positive"));
}

TEST_CASE("gradient buckets start during backward, in order, once their gradients are final", "[dist]") {
  const TrainConfig cfg = test::tiny_config("unused");
  Generator init(3);
  UNet model(cfg.model, init, LayerOptions{DType::F64, Device::cpu()});
  model.train(true);
  FlatParameters params(model);
  RecordingComm comm(params.grads());
  dist::GradBuckets buckets(params, comm, 2048);  // small: many buckets
  REQUIRE(buckets.buckets().size() > 4);

  Generator g(7);
  Tensor x = randn({2, 1, 8, 8}, g, DType::F64);
  Tensor t = Tensor::from_vector(std::vector<double>{3, 700}, {2}, DType::F64);
  Tensor loss = mean(square(model.forward(x, t, g)));
  params.zero_grad();
  buckets.begin_backward();
  comm.in_backward = true;
  loss.backward();
  comm.in_backward = false;
  buckets.finish();

  REQUIRE(comm.calls.size() == buckets.buckets().size());
  CHECK(comm.waits == 1);
  CHECK(buckets.started_during_backward() > 0);
  const std::vector<double> final_grads = params.grads().to_vector();
  int64_t during = 0;
  for (size_t k = 0; k < comm.calls.size(); ++k) {
    const auto& call = comm.calls[k];
    CHECK(call.begin == buckets.buckets()[k].begin);
    CHECK(call.numel == buckets.buckets()[k].end - buckets.buckets()[k].begin);
    // What was sent is what backward finally left in that slice.
    for (int64_t i = 0; i < call.numel; ++i)
      REQUIRE(call.values[static_cast<size_t>(i)] == final_grads[static_cast<size_t>(call.begin + i)]);
    during += call.during_backward ? 1 : 0;
  }
  CHECK(during == buckets.started_during_backward());
  // The hook is gone after finish(): a later backward starts nothing.
  Tensor loss2 = mean(square(model.forward(x, t, g)));
  loss2.backward();
  CHECK(comm.calls.size() == buckets.buckets().size());
}

TEST_CASE("sharded draws equal the slices of one process's draws", "[dist]") {
  Generator whole(11, 5);
  const Tensor all = randn({6, 2, 2, 3}, whole, DType::F64);
  const Tensor keep = dropout(Tensor::ones({6, 8}, DType::F64), 0.5, whole, true);
  std::vector<double> parts, masks;
  uint64_t end_offset = 0;
  for (int64_t begin : {0, 2, 4}) {
    Generator g(11, 5);
    GeneratorShard shard(g, begin, 6);
    for (double v : randn({2, 2, 2, 3}, g, DType::F64).to_vector()) parts.push_back(v);
    for (double v : dropout(Tensor::ones({2, 8}, DType::F64), 0.5, g, true).to_vector()) masks.push_back(v);
    end_offset = g.offset;
  }
  CHECK(parts == all.to_vector());
  CHECK(masks == keep.to_vector());
  CHECK(end_offset == whole.offset);  // every rank's generator moves on as one process's does

  Generator g(1);
  GeneratorShard shard(g, 0, 4);
  CHECK_THROWS_WITH(randn({2, 3}, g, DType::F64), Contains("multiple of 4"));
}

TEST_CASE("data loader slices of a global batch equal that batch's rows", "[dist]") {
  auto data = std::make_shared<test::StripeData>();
  DataLoaderOptions o;
  o.batch_size = 6;
  o.random_flip = true;
  o.seed = 4;
  DataLoader one(data, o), first(data, o), second(data, o);
  for (int step = 0; step < 9; ++step) {  // past an epoch boundary (40 images, batches of 6)
    const Batch b = one.next();
    const Batch x = first.next_slice(0, 3), y = second.next_slice(3, 3);
    std::vector<int64_t> idx = x.indices;
    idx.insert(idx.end(), y.indices.begin(), y.indices.end());
    CHECK(idx == b.indices);
    std::vector<double> px = x.images.to_vector(), py = y.images.to_vector();
    px.insert(px.end(), py.begin(), py.end());
    CHECK(px == b.images.to_vector());
    CHECK((first.epoch() == one.epoch() && first.position() == one.position()));
    CHECK((second.epoch() == one.epoch() && second.position() == one.position()));
  }
}
