// s2dm-sample: draw images from a trained ε-model with DDIM, DDPM, S-/F-PNDM or DEIS.
//
// The starting noise of image i is drawn at its own Philox offset (seed, i·⌈CHW/4⌉), so the
// deterministic samplers give the same image i whatever --batch is; --init-noise replaces it.
// The stochastic samplers' noise is keyed by the batch's first index. Several step counts
// (--steps 10,100) sample the same starting noises once per count, which is how few-step and
// many-step samples of one model are compared image by image.
//
// Under mpirun or srun the batches are dealt round robin to the ranks (batch k to rank k mod N)
// and rank 0 gathers them in order and writes the outputs: the files are the ones one process
// writes with the same flags.
#include <CLI/CLI.hpp>
#include <cmath>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <fstream>
#include <fmt/ranges.h>

#include "engine/cpu/runtime_env.h"
#include "diffusion/samplers.h"
#include "diffusion/train/checkpoint.h"
#include "engine/backend.h"
#include "engine/dist/communicator.h"
#include "engine/error.h"
#include "engine/io/image.h"
#include "engine/io/npy.h"
#include "engine/io/npz.h"
#include "engine/ops.h"
#include "tools/cli_checks.h"
#include "kernels/philox.h"
#include "models/unet.h"

using namespace s2dm;

namespace {

struct Args {
  std::string checkpoint, weights = "ema", preset, model_config;
  std::string sampler = "ddim", spacing = "uniform";
  std::vector<int64_t> step_counts = {50};
  int64_t steps = 50;  // the step count being sampled, one of step_counts
  int64_t batch = 64, count = 64, order = 3, interpolate = 0, grid_count = 0;
  double eta = 0.0;
  uint64_t seed = 0;
  std::string grid, folder, npz, init_noise, device = "cpu";
};

// Images [b0, b1) of the drawn starting noise.
Tensor drawn_noise(const Args& a, const UNetConfig& m, Device device, int64_t b0, int64_t b1) {
  const Shape one = {1, m.in_channels, m.resolution, m.resolution};
  std::vector<Tensor> parts;
  const uint64_t per_image = philox::counters_for(static_cast<uint64_t>(shape_numel(one)));
  for (int64_t i = b0; i < b1; ++i) {
    Generator g(a.seed, static_cast<uint64_t>(i) * per_image);
    parts.push_back(randn(one, g, DType::F32, device));
  }
  return concat(parts, 0);
}

UNetConfig model_config(const Args& a, const SafetensorsFile& file) {
  if (!a.model_config.empty()) {
    std::ifstream f(a.model_config);
    S2DM_CHECK(f.good(), "cannot open --model-config {}", a.model_config);
    try {
      return UNetConfig::from_json(nlohmann::json::parse(f));
    } catch (const nlohmann::json::exception& e) {
      fail("--model-config {}: {}", a.model_config, e.what());
    }
  }
  if (!a.preset.empty()) return unet_preset(a.preset);
  auto it = file.metadata.find("config");
  S2DM_CHECK(it != file.metadata.end(),
             "{} holds no model config (not an s2dm checkpoint); pass --preset or --model-config",
             a.checkpoint);
  try {
    auto j = nlohmann::json::parse(it->second);
    return UNetConfig::from_json(j.contains("model") ? j.at("model") : j);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: bad model config in metadata: {}", a.checkpoint, e.what());
  }
}

// The --init-noise file or the slerp path; undefined when the noise is drawn per image.
Tensor given_noise(const Args& a, const UNetConfig& m, Device device) {
  Tensor file;
  if (!a.init_noise.empty()) {
    Tensor z = load_npy(a.init_noise);
    if (z.dim() == 3) z = z.reshape({1, z.size(0), z.size(1), z.size(2)});
    S2DM_CHECK(z.dim() == 4 && z.size(1) == m.in_channels && z.size(2) == m.resolution &&
                   z.size(3) == m.resolution,
               "--init-noise {} has shape {}, the model needs [N, {}, {}, {}]", a.init_noise,
               shape_str(z.shape()), m.in_channels, m.resolution, m.resolution);
    file = z.to(DType::F32).to(device);
  }
  if (a.interpolate == 0) return file;
  S2DM_CHECK(file.defined() ? file.size(0) >= 2 : a.count >= 2,
             "--interpolate needs two noise images (--count >= 2)");
  const Tensor z0 = file.defined() ? file.slice(0, 0, 1) : drawn_noise(a, m, device, 0, 1);
  const Tensor z1 = file.defined() ? file.slice(0, 1, 2) : drawn_noise(a, m, device, 1, 2);
  std::vector<Tensor> zs;
  for (double w : interpolation_weights(a.interpolate)) zs.push_back(slerp(z0, z1, w));
  return concat(zs, 0);
}

SampleResult run_sampler(const Args& a, const EpsModel& model, const NoiseSchedule& schedule,
                         const Tensor& x, Generator& gen) {
  const auto seq = make_steps(parse_step_spacing(a.spacing), schedule.num_steps(), a.steps);
  if (a.sampler == "ddim") return ddim_sample(model, schedule, x, seq, a.eta, gen);
  if (a.sampler == "ddpm") return ddpm_sample(model, schedule, x, seq, gen);
  if (a.sampler == "pndm-s") return pndm_sample(model, schedule, x, seq, PndmVariant::Second);
  if (a.sampler == "pndm-f" || a.sampler == "pndm") return pndm_sample(model, schedule, x, seq, PndmVariant::Fourth);
  if (a.sampler == "deis") return deis_sample(model, schedule, x, seq, static_cast<int>(a.order));
  fail("unknown --sampler '{}'; choose ddim, ddpm, pndm-s, pndm-f or deis", a.sampler);
}

std::unique_ptr<dist::Communicator> comm;
std::atomic<int> g_signal{0};
extern "C" void on_signal(int sig) { g_signal.store(sig); }

// `path` with every "{steps}" replaced by the step count.
std::string for_steps(std::string path, int64_t steps) {
  const std::string key = "{steps}", value = std::to_string(steps);
  for (size_t at = path.find(key); at != std::string::npos; at = path.find(key, at + value.size()))
    path.replace(at, key.size(), value);
  return path;
}

// Non-finite values must never become an image someone feeds to FID.
void check_finite(const Tensor& t, const std::string& what) {
  for (double v : t.to_vector())
    S2DM_CHECK(std::isfinite(v), "{} holds {} values; {}", what, std::isnan(v) ? "NaN" : "infinite",
               "nothing was written");
}

int run(int argc, char** argv) {
  Args a;
  CLI::App app{"Sample images from a trained ε-model (s2dm or converted DDIM/DDPM checkpoints)."};
  app.add_option("checkpoint", a.checkpoint, "checkpoint (.safetensors)")->required()->check(CLI::ExistingFile);
  app.add_option("--weights", a.weights, "ema or model (raw) weights of a training checkpoint")
      ->check(CLI::IsMember({"ema", "model"}))->capture_default_str();
  app.add_option("--preset", a.preset, "model preset for plain state dicts: cifar10, celeba, fmnist, fmnist-small");
  app.add_option("--model-config", a.model_config, "model config JSON for plain state dicts")->check(CLI::ExistingFile);
  app.add_option("--sampler", a.sampler, "ddim, ddpm, pndm-s, pndm-f, deis")
      ->check(CLI::IsMember({"ddim", "ddpm", "pndm-s", "pndm-f", "pndm", "deis"}))->capture_default_str();
  app.add_option("--steps", a.step_counts,
                 "number of time steps S; a list (10,100) samples the same noise once per count, "
                 "the grids side by side, {steps} in --npz/--folder names the files")
      ->delimiter(',')->check(cli::integer_in(1, 1000))->capture_default_str();
  app.add_option("--spacing", a.spacing, "step selection: uniform, quadratic, uniform_count")
      ->check(CLI::IsMember({"uniform", "quadratic", "quad", "uniform_count"}))->capture_default_str();
  app.add_option("--eta", a.eta, "DDIM η (0 = deterministic)")->check(cli::real_at_least(0))->capture_default_str();
  app.add_option("--order", a.order, "DEIS order 0..3")->check(cli::integer_in(0, 3))->capture_default_str();
  app.add_option("--batch", a.batch, "images per model call")->check(cli::integer_in(1, 1'000'000))->capture_default_str();
  app.add_option("--count", a.count, "images to draw")->check(cli::integer_in(1, 100'000'000))->capture_default_str();
  app.add_option("--seed", a.seed, "random seed")->check(cli::integer_in(0))->capture_default_str();
  app.add_option("--init-noise", a.init_noise, "start from this .npy noise [N, C, H, W] instead")->check(CLI::ExistingFile);
  app.add_option("--interpolate", a.interpolate,
                 "slerp between the first two noises in N steps (DDIM η = 0), written as one grid")
      ->check(cli::integer_in(2, 1000));
  app.add_option("--grid", a.grid, "write a PNG grid here");
  app.add_option("--grid-count", a.grid_count, "put only the first N images on the grid [all]")
      ->check(cli::integer_in(1, 1'000'000));
  app.add_option("--folder", a.folder, "write one PNG per image into this folder");
  app.add_option("--npz", a.npz, "write uint8 NHWC images as arr_0 of this .npz (for FID tools)");
  app.add_option("--device", a.device, "cpu, cuda or cuda:N")->capture_default_str();
  app.add_flag_function("--no-tf32", [](int64_t) { set_tf32_enabled(false); },
                        "full float32 matrix products and convolutions on the GPU instead of TF32");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (a.grid.empty() && a.folder.empty() && a.npz.empty()) a.grid = "samples.png";
  // Outputs are checked before any work, and never overwrite an input.
  const std::vector<std::string> inputs = {a.checkpoint, a.init_noise, a.model_config};
  for (const auto& [flag, path] : {std::pair{"--npz", a.npz}, std::pair{"--folder", a.folder}})
    S2DM_CHECK(path.empty() || a.step_counts.size() == 1 || path.find("{steps}") != std::string::npos,
               "{} {}: with several --steps each count needs its own output; put {{steps}} in the "
               "name (e.g. out/ddim{{steps}}.npz)", flag, path);
  if (!a.grid.empty()) cli::check_output_file("--grid", a.grid, inputs);
  for (int64_t steps : a.step_counts) {
    if (!a.npz.empty()) cli::check_output_file("--npz", for_steps(a.npz, steps), inputs);
    if (!a.folder.empty()) cli::check_output_folder("--folder", for_steps(a.folder, steps), inputs);
  }
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, on_signal);
  const dist::LaunchInfo launch = dist::detect_launch();
  const Device device = dist::device_for_rank(a.device, launch);
  backend_for(device);
  // Sampling needs host collectives only (gathering images), so MPI in every case.
  comm = launch.world_size > 1 ? dist::make_communicator("mpi", device, launch) : dist::make_local_communicator();
  dist::check_one_rank_per_device(*comm, device);

  const SafetensorsFile file = load_safetensors(a.checkpoint, DType::F32);
  const UNetConfig cfg = model_config(a, file);
  Generator init(0);
  UNet net(cfg, init, LayerOptions{DType::F32, device});
  {
    const auto weights = weights_from(file, a.weights, a.checkpoint);
    for (const auto& [name, w] : weights)
      check_finite(w, fmt::format("{}: the {} weights' tensor {}", a.checkpoint, a.weights, name));
    net.load_state_dict(weights);
  }
  net.train(false);
  NoGradGuard no_grad;
  // Signals are honoured between model evaluations (exit 128 + signal, nothing written).
  const EpsModel model = [&](const Tensor& x, const Tensor& t) {
    if (g_signal.load() != 0) throw Interrupted(g_signal.load());
    return net.forward(x, t);
  };
  const NoiseSchedule schedule;

  Tensor noise = given_noise(a, cfg, device);
  if (noise.defined() && !a.init_noise.empty()) check_finite(noise, "--init-noise " + a.init_noise);
  if (a.interpolate > 0) {
    a.sampler = "ddim";
    a.eta = 0.0;
  }
  const int64_t n = noise.defined() ? noise.size(0) : a.count;
  const int64_t rank = comm->rank(), world = comm->world_size();
  const int64_t chunks = (n + a.batch - 1) / a.batch;
  if (rank == 0 && world > 1 && chunks < world)
    std::printf("note: %lld batches for %lld ranks; lower --batch to keep every rank busy\n",
                static_cast<long long>(chunks), static_cast<long long>(world));
  // Samples every image at a.steps; the images on rank 0, undefined elsewhere.
  const auto sample_all = [&]() -> Tensor {
    std::vector<Tensor> outs;
    int64_t nfe = 0;
    // Rounds of `world` batches: rank r samples batch round·world + r, rank 0 gathers the round.
    for (int64_t round = 0; round * world < chunks; ++round) {
      std::string mine;
      const int64_t k = round * world + rank;
      if (k < chunks) {
        const int64_t b0 = k * a.batch, b1 = std::min(n, b0 + a.batch);
        Tensor x = noise.defined() ? noise.slice(0, b0, b1).contiguous() : drawn_noise(a, cfg, device, b0, b1);
        Generator gen(a.seed ^ 0x9e3779b97f4a7c15ULL, static_cast<uint64_t>(b0) << 32);
        SampleResult r = run_sampler(a, model, schedule, x, gen);
        check_finite(r.x0, fmt::format("the {} sampler's images {}..{} ({} steps)", a.sampler, b0, b1 - 1, a.steps));
        nfe = r.nfe;
        const Tensor host = r.x0.to(Device::cpu()).to(DType::F32).contiguous();
        mine.assign(static_cast<const char*>(host.raw()), host.nbytes());
      }
      const std::vector<std::string> got = comm->gather_host(mine, 0);
      for (const std::string& part : got) {
        if (part.empty()) continue;
        const int64_t per = cfg.in_channels * cfg.resolution * cfg.resolution;
        const int64_t rows = static_cast<int64_t>(part.size() / sizeof(float)) / per;
        Tensor t = Tensor::empty({rows, cfg.in_channels, cfg.resolution, cfg.resolution}, DType::F32);
        std::memcpy(t.raw(), part.data(), part.size());
        outs.push_back(t);
      }
      if (rank == 0) {
        const int64_t done = std::min(n, (round + 1) * world * a.batch);
        std::printf("sampled %lld/%lld (%s, %lld steps, %lld model evaluations per image%s)\n",
                    static_cast<long long>(done), static_cast<long long>(n), a.sampler.c_str(),
                    static_cast<long long>(a.steps), static_cast<long long>(nfe),
                    world > 1 ? fmt::format(", {} ranks", world).c_str() : "");
        std::fflush(stdout);
      }
    }
    return rank == 0 ? concat(outs, 0) : Tensor();
  };
  // One panel per step count, all from the same starting noise.
  std::vector<ImageU8> panels;
  const int64_t on_grid = a.grid_count > 0 ? std::min(a.grid_count, n) : n;
  const int64_t nrow = a.interpolate > 0 ? on_grid : static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(on_grid))));
  for (int64_t steps : a.step_counts) {
    a.steps = steps;
    const Tensor images = sample_all();
    if (rank != 0) continue;
    if (!a.grid.empty()) panels.push_back(make_grid(images.slice(0, 0, on_grid), nrow));
    if (!a.folder.empty()) {
      save_image_folder(for_steps(a.folder, steps), images);
      std::printf("wrote %lld images to %s\n", static_cast<long long>(n), for_steps(a.folder, steps).c_str());
    }
    if (!a.npz.empty()) {
      save_npz_u8(for_steps(a.npz, steps), to_u8_nhwc(images), {n, cfg.resolution, cfg.resolution, cfg.in_channels});
      std::printf("wrote %s\n", for_steps(a.npz, steps).c_str());
    }
  }
  if (rank == 0 && !a.grid.empty()) {
    write_png(a.grid, side_by_side(panels, 8));
    std::printf("wrote %s%s\n", a.grid.c_str(),
                panels.size() > 1 ? fmt::format(" ({} steps, left to right)", fmt::join(a.step_counts, ", ")).c_str() : "");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  s2dm::apply_runtime_env(argv);  // OpenBLAS kernels and OpenMP waiting (re-executes once)
  try {
    const int rc = run(argc, argv);
    comm.reset();
    return rc;
  } catch (const Interrupted& e) {
    std::fprintf(stderr, "s2dm-sample: stopped by signal %d; nothing was written\n", e.signal());
    if (comm && comm->world_size() > 1) comm->abort(128 + e.signal());
    return 128 + e.signal();
  } catch (const std::exception& e) {
    if (comm && comm->world_size() > 1) {
      std::fprintf(stderr, "s2dm-sample: error on rank %d of %d: %s\n", comm->rank(), comm->world_size(), e.what());
      comm->abort(1);
    }
    std::fprintf(stderr, "s2dm-sample: error: %s\n", e.what());
    return 1;
  }
}
