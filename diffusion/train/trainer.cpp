// The training loop.
#include "diffusion/train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "diffusion/ddim.h"
#include "diffusion/ddpm.h"
#include "diffusion/s2dm_loss.h"
#include "diffusion/schedule.h"
#include "diffusion/timesteps.h"
#include "diffusion/train/checkpoint.h"
#include "diffusion/train/run_dir.h"
#include "diffusion/train/step_history.h"
#include "engine/data/cifar10.h"
#include "engine/data/data_loader.h"
#include "engine/data/image_folder.h"
#include "engine/data/mnist.h"
#include "engine/dist/grad_buckets.h"
#include "engine/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/image.h"
#include "engine/nn/flat_parameters.h"
#include "engine/ops.h"
#include "engine/optim/adam.h"
#include "models/unet.h"

namespace s2dm {

namespace {

// Noise stream separate from the data loader's: the loader keys its Philox counters by the seed
// too, but in its own reserved counter range (see data_loader.h).
constexpr uint64_t kNoiseStream = 0x5eed5eedULL;

// Throws Interrupted between model evaluations once *stop is set.
void write_samples(const UNet& ema_model, const TrainConfig& cfg, const NoiseSchedule& schedule,
                   Device device, const std::string& path, const std::atomic<int>* stop) {
  NoGradGuard no_grad;
  Generator gen(cfg.seed ^ 0xa5a5a5a5ULL);  // the same starting noise at every checkpoint
  const UNetConfig& m = cfg.model;
  const DType dtype = cfg.dtype == "float64" ? DType::F64 : DType::F32;
  Tensor x = randn({cfg.sample_count, m.in_channels, m.resolution, m.resolution}, gen, dtype, device);
  EpsModel model = [&](const Tensor& xt, const Tensor& t) {
    if (stop && stop->load() != 0) throw Interrupted(stop->load());
    return ema_model.forward(xt, t);
  };
  const auto seq = make_steps(StepSpacing::Uniform, schedule.num_steps(), cfg.sample_steps);
  SampleResult r = cfg.sample_sampler == "ddim" ? ddim_sample(model, schedule, x, seq, 0.0, gen)
                                                : ddpm_sample(model, schedule, x, seq, gen);
  const int64_t nrow = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(cfg.sample_count))));
  save_image_grid(path, r.x0, nrow);
}

}  // namespace

std::string checkpoint_path(const TrainConfig& config) {
  return (std::filesystem::path(config.out_dir) / "checkpoint.safetensors").string();
}

std::shared_ptr<const Dataset> load_training_data(const DataConfig& d, const UNetConfig& model) {
  std::shared_ptr<const Dataset> ds;
  if (d.kind == "fmnist" || d.kind == "mnist") {
    MnistOptions o;
    if (!d.path.empty()) o.dir = d.path;
    o.split = d.split;
    ds = load_mnist(o);
  } else if (d.kind == "cifar10") {
    Cifar10Options o;
    o.dir = d.path;
    o.split = d.split;
    S2DM_CHECK(!o.dir.empty(), "CIFAR-10 needs --data-path: the folder with data_batch_1.bin ...");
    ds = load_cifar10(o);
  } else {
    ImageFolderOptions o;
    o.dir = d.path;
    o.grayscale = model.in_channels == 1;
    o.crop_size = d.crop_size;
    o.crop_top = d.crop_top;
    o.crop_left = d.crop_left;
    o.resolution = model.resolution;
    ds = std::make_shared<ImageFolderDataset>(o);
  }
  S2DM_CHECK(ds->channels() == model.in_channels && ds->height() == model.resolution &&
                 ds->width() == model.resolution,
             "the data ({}) are {}x{}x{} but the model takes {}x{}x{}; pick a matching --preset or "
             "model config", ds->describe(), ds->channels(), ds->height(), ds->width(),
             model.in_channels, model.resolution, model.resolution);
  return ds;
}

namespace {

// FNV-1a over the parameter bytes: equal on every rank unless the replicas have drifted.
uint64_t checksum(const Tensor& values) {
  const Tensor host = values.to(Device::cpu());
  const auto* p = static_cast<const unsigned char*>(host.raw());
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < host.nbytes(); ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

void check_in_sync(dist::Communicator& comm, const FlatParameters& params, int64_t step) {
  const uint64_t mine = checksum(params.values());
  const std::vector<std::string> all =
      comm.all_gather_host(std::string(reinterpret_cast<const char*>(&mine), sizeof mine));
  for (size_t r = 1; r < all.size(); ++r)
    S2DM_CHECK(all[r] == all[0],
               "step {}: the parameters on rank {} differ from rank 0's (checksums {:016x} and "
               "{:016x}); the replicas have drifted apart, so the run stops. Resume from the last "
               "checkpoint; if it recurs, report it with the ranks' devices",
               step, r, *reinterpret_cast<const uint64_t*>(all[r].data()),
               *reinterpret_cast<const uint64_t*>(all[0].data()));
}

}  // namespace

TrainResult train(const TrainConfig& cfg, const TrainOptions& opt) {
  cfg.validate();
  std::unique_ptr<dist::Communicator> own_comm;
  dist::Communicator* comm = opt.comm;
  if (comm == nullptr) {
    own_comm = dist::make_local_communicator();
    comm = own_comm.get();
  }
  const int64_t world = comm->world_size(), rank = comm->rank();
  const bool lead = rank == 0;  // prints, writes metrics, checkpoints and sample grids
  const bool quiet = opt.quiet || !lead;
  S2DM_CHECK(cfg.batch % world == 0,
             "the batch of {} does not split evenly over {} ranks: --batch is the global batch and "
             "must be a multiple of the number of ranks (e.g. --batch {})",
             cfg.batch, world, (cfg.batch / world + 1) * world);
  const int64_t local_batch = cfg.batch / world, first_row = rank * local_batch;

  dist::LaunchInfo launch;
  launch.rank = static_cast<int>(rank);
  launch.world_size = static_cast<int>(world);
  launch.local_rank = comm->local_rank();
  const Device device = dist::device_for_rank(cfg.device, launch);
  backend_for(device);  // fails early, with the fix, when the device is unavailable
  dist::check_one_rank_per_device(*comm, device);
  const DType dtype = cfg.dtype == "float64" ? DType::F64 : DType::F32;
  const std::string ckpt_file = checkpoint_path(cfg);

  std::optional<Checkpoint> ck;
  if (!opt.resume.empty()) {
    ck = load_checkpoint(opt.resume);
    S2DM_CHECK(ck->config.model.to_json() == cfg.model.to_json() && ck->config.batch == cfg.batch &&
                   ck->config.seed == cfg.seed,
               "{}: the checkpoint was trained with a different model, batch or seed than requested",
               opt.resume);
    if (ck->state.step >= cfg.steps) {  // before anything is written
      TrainResult done;
      done.step = ck->state.step;
      done.nothing_to_do = true;
      return done;
    }
  }
  // Rank 0 owns the output folder: locked, cleaned of dead writes' temporaries, never mixed.
  std::unique_ptr<RunDir> run_dir;
  if (lead) {
    run_dir = std::make_unique<RunDir>(cfg.out_dir);
    run_dir->check_reuse(opt.resume, opt.overwrite);
    run_dir->trim_metrics(ck ? ck->state.step : 0);
    if (run_dir->removed_temporaries() > 0 && !quiet)
      std::printf("removed %d temporary files left by an interrupted write in %s\n",
                  run_dir->removed_temporaries(), cfg.out_dir.c_str());
  }

  std::shared_ptr<const Dataset> data = opt.dataset ? opt.dataset : load_training_data(cfg.data, cfg.model);
  DataLoaderOptions lo;
  lo.batch_size = cfg.batch;
  lo.random_flip = cfg.data.random_flip;
  lo.seed = cfg.seed;
  S2DM_CHECK(data->size() >= cfg.batch, "the data set has {} images, fewer than one batch of {}",
             data->size(), cfg.batch);
  DataLoader loader(data, lo);

  Generator init(cfg.seed);
  const LayerOptions layer{dtype, device};
  UNet model(cfg.model, init, layer);
  UNet ema_model(cfg.model, init, layer);
  ema_model.train(false);
  FlatParameters params(model);
  Adam adam(params, AdamConfig{cfg.lr});
  Ema ema(params, cfg.ema_decay);
  NoiseSchedule schedule;
  Generator noise(cfg.seed ^ kNoiseStream);

  TrainingState state;
  if (ck) {
    restore_checkpoint(*ck, params, ema, adam);
    state = ck->state;
    noise.offset = state.noise_offset;
    loader.seek(state.data_epoch, state.data_position);
    ck.reset();  // its tensors are copied; free them
    if (!quiet)
      std::printf("resumed from %s at step %lld\n", opt.resume.c_str(), static_cast<long long>(state.step));
  }
  std::unique_ptr<dist::GradBuckets> buckets;
  // One rank with a real communicator (--comm nccl) goes through the same path: it measures the
  // cost of the collectives against no communicator at all.
  if (world > 1 || comm->name() != "local") {
    // Rank 0's replica is the one every rank starts from (they agree unless files differ).
    for (Tensor* t : {&params.values(), &ema.values(), &adam.exp_avg(), &adam.exp_avg_sq()})
      comm->broadcast(*t, 0);
    buckets = std::make_unique<dist::GradBuckets>(params, *comm, opt.bucket_bytes);
  }
  std::ofstream metrics;
  if (lead) {
    write_file_atomic((std::filesystem::path(cfg.out_dir) / "config.json").string(), cfg.to_json().dump(2) + "\n");
    metrics.open(std::filesystem::path(cfg.out_dir) / "metrics.jsonl", std::ios::app);
  }
  if (!quiet) {
    std::printf("data: %s\nmodel: %s, %lld parameters, on %s; loss: skip %lld, tau %g\n",
                data->describe().c_str(), cfg.preset.c_str(), static_cast<long long>(params.numel()),
                device.str().c_str(), static_cast<long long>(cfg.loss.skip), cfg.loss.tau);
    if (buckets)
      std::printf("data parallel: %lld ranks (%s), %lld images per rank, %zu gradient buckets of "
                  "<= %.1f MB\n", static_cast<long long>(world), comm->name().c_str(),
                  static_cast<long long>(local_batch), buckets->buckets().size(),
                  static_cast<double>(opt.bucket_bytes) / 1e6);
    std::fflush(stdout);
  }

  TrainResult result;
  auto save_unchecked = [&]() {
    if (!lead) return;
    state.noise_offset = noise.offset;
    state.data_epoch = loader.epoch();
    state.data_position = loader.position();
    save_checkpoint(ckpt_file, cfg, state, params, ema, adam);
    result.checkpoint = ckpt_file;
  };
  // A grid that cannot be written (non-finite samples) is reported and training goes on; a stop
  // request inside it ends the run like one between steps (the caller saves first).
  auto sample = [&]() {
    if (!lead) return;
    ema_model.load_state_dict(ema.state_dict());
    const std::string png = (std::filesystem::path(cfg.out_dir) / "samples" /
                             fmt::format("step_{:07d}.png", state.step)).string();
    try {
      write_samples(ema_model, cfg, schedule, device, png, opt.stop_signal);
      if (!quiet) std::printf("wrote %s\n", png.c_str());
    } catch (const Interrupted&) {
      throw;
    } catch (const Error& e) {
      std::fprintf(stderr, "warning: step %lld: no sample grid written: %s\n",
                   static_cast<long long>(state.step), e.what());
    }
  };

  const auto start = std::chrono::steady_clock::now();
  const int64_t first_step = state.step;
  // The steps' values stay on the device (StepHistory) and are read at log lines, checkpoints
  // and sample grids, where the window sums below take them in and a bad loss or gradient norm
  // stops the run. A bad gradient norm also makes its Adam step change nothing (adam_math.h), so
  // the steps run after it before the read cannot spoil a checkpoint: none is written past it.
  StepHistory history(std::max(cfg.log_every, int64_t{1}), device);
  std::vector<int64_t> pending_skip_counts;  // global t ≥ skip counts of the unread steps
  double window_l0 = 0, window_ls = 0, window_loss = 0, window_comm = 0, window_exposed = 0;
  double last_gnorm = 0;
  int64_t window = 0;
  auto take_in = [&]() {
    const int64_t first = state.step - history.pending() + 1;
    std::vector<StepValues> rows = history.read();
    if (world > 1 && !rows.empty()) {  // every rank reads at the same steps
      std::vector<double> flat;
      for (const StepValues& r : rows) flat.insert(flat.end(), {r.loss, r.l0_sum, r.lskip_sum, r.grad_sq});
      comm->all_reduce_host(flat, dist::ReduceOp::Sum);
      for (size_t i = 0; i < rows.size(); ++i)  // the mean of the ranks' means; one shared norm
        rows[i] = {flat[4 * i] / static_cast<double>(world), flat[4 * i + 1], flat[4 * i + 2],
                   flat[4 * i + 3] / static_cast<double>(world)};
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      const int64_t step = first + static_cast<int64_t>(i);
      const StepValues& r = rows[i];
      if (!std::isfinite(r.loss))
        fail("step {}: the loss is {}; stopping without saving, so the last good checkpoint{} is "
             "kept. Lower --lr, check the data, or resume from that checkpoint.",
             step, std::isnan(r.loss) ? "nan" : "infinite",
             result.checkpoint.empty() && opt.resume.empty() ? " (none yet)" : " " + ckpt_file);
      S2DM_CHECK(std::isfinite(r.grad_sq),
                 "step {}: the gradient norm is {}; stopping without saving (last good "
                 "checkpoint: {})", step, std::isnan(r.grad_sq) ? "nan" : "infinite", ckpt_file);
      const int64_t skip_count = pending_skip_counts[i];
      window_loss += r.loss;
      window_l0 += r.l0_sum / static_cast<double>(cfg.batch);
      window_ls += skip_count > 0 ? r.lskip_sum / static_cast<double>(skip_count) : 0.0;
      last_gnorm = std::sqrt(r.grad_sq);
      state.last_loss = result.last_loss = r.loss;
      ++window;
    }
    pending_skip_counts.clear();
  };
  // A checkpoint only from steps whose values were read and found finite.
  auto save = [&]() {
    take_in();
    save_unchecked();
  };
  bool stop_agreed = false;  // several ranks: a stop request seen by any rank, agreed each step
  while (state.step < cfg.steps) {
    const bool signalled = opt.stop_signal && opt.stop_signal->load() != 0;
    if (world == 1 ? signalled : stop_agreed) {
      save();
      if (!quiet) std::printf("stopped at step %lld; checkpoint saved to %s\n",
                              static_cast<long long>(state.step), ckpt_file.c_str());
      result.interrupted = true;
      break;
    }
    // Every rank draws the whole batch's time steps, then works on its own rows.
    const std::vector<int64_t> t_all = antithetic_timesteps(cfg.batch, schedule.num_steps(), noise);
    const std::vector<int64_t> t(t_all.begin() + first_row, t_all.begin() + first_row + local_batch);
    // The two uploads of a step: the images, and every per-sample coefficient in one table.
    Batch batch = loader.next_slice(first_row, local_batch);
    Tensor x0 = batch.images.to(device).to(dtype);
    const StepCoefficients k = step_coefficients(schedule, t, cfg.loss, dtype, device);
    Tensor out, eps1, eps2;
    {
      std::optional<GeneratorShard> shard;
      if (world > 1) shard.emplace(noise, first_row, cfg.batch);
      eps1 = randn(x0.shape(), noise, dtype, device);
      eps2 = cfg.loss.same_noise ? Tensor() : randn(x0.shape(), noise, dtype, device);
      Tensor xt = q_sample(x0, eps1, k.sqrt_ab, k.sqrt_one_minus_ab);
      model.train(true);
      out = model.forward(xt, k.t, noise);
    }
    S2dmLoss loss = s2dm_loss(out, eps1, eps2, k, cfg.loss);
    // Whether any rank was asked to stop: a host value, so agreeing on it waits for no device.
    if (world > 1) {
      std::vector<double> stop{signalled ? 1.0 : 0.0};
      comm->all_reduce_host(stop, dist::ReduceOp::Sum);
      stop_agreed = stop[0] > 0;
    }
    params.zero_grad();
    if (buckets) buckets->begin_backward();
    loss.loss.backward();
    if (buckets) {
      const double before = comm->collective_seconds();
      const double exposed = buckets->finish();
      window_exposed += exposed;
      result.exposed_seconds += exposed;
      window_comm += comm->collective_seconds() - before;
      result.collective_seconds += comm->collective_seconds() - before;
    }
    const Tensor grad_sq = params.grad_sq();
    adam.step(grad_sq, cfg.grad_clip, ema);  // clipped on the device; the EMA update fused in
    history.record(loss.loss, loss.l0_sum, loss.lskip_sum, grad_sq);
    int64_t skip_count = 0;
    for (int64_t ti : t_all) skip_count += ti >= cfg.loss.skip ? 1 : 0;
    pending_skip_counts.push_back(skip_count);
    ++state.step;
    if (opt.after_step) opt.after_step(state.step, params);
    if (world > 1 && opt.check_sync > 0 && state.step % opt.check_sync == 0)
      check_in_sync(*comm, params, state.step);

    if (state.step % cfg.log_every == 0 || state.step == cfg.steps) {
      take_in();
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double done = static_cast<double>(state.step - first_step);
      const double img_s = done * static_cast<double>(cfg.batch) / std::max(secs, 1e-9);
      const double eta = (static_cast<double>(cfg.steps - state.step)) * secs / std::max(done, 1.0);
      const double n = static_cast<double>(std::max<int64_t>(window, 1));
      const double gnorm = last_gnorm;
      if (!quiet) {
        std::string dp;
        if (buckets)
          dp = fmt::format("  {} ranks, all-reduce {:.1f} ms/step ({:.1f} ms exposed)", world,
                           1e3 * window_comm / n, 1e3 * window_exposed / n);
        std::printf("step %7lld/%lld  loss %.5f  L0 %.5f  Lskip %.5f  grad-norm %.3f  %.1f img/s  ETA %s%s\n",
                    static_cast<long long>(state.step), static_cast<long long>(cfg.steps),
                    window_loss / n, window_l0 / n, window_ls / n, gnorm, img_s,
                    fmt::format("{:d}:{:02d}:{:02d}", static_cast<int>(eta) / 3600,
                                static_cast<int>(eta) / 60 % 60, static_cast<int>(eta) % 60).c_str(),
                    dp.c_str());
        std::fflush(stdout);
      }
      if (lead) {
        nlohmann::json line{{"step", state.step}, {"loss", window_loss / n}, {"l0", window_l0 / n},
                            {"lskip", window_ls / n}, {"grad_norm", gnorm}, {"img_per_s", img_s},
                            {"epoch", loader.epoch()}, {"time_s", secs}};
        if (buckets) {
          line["world_size"] = world;
          line["allreduce_ms"] = 1e3 * window_comm / n;
          line["exposed_ms"] = 1e3 * window_exposed / n;
        }
        metrics << line.dump() << "\n";
        metrics.flush();
      }
      window_loss = window_l0 = window_ls = window_comm = window_exposed = 0;
      window = 0;
    }
    const bool saved = state.step % cfg.ckpt_every == 0 || state.step == cfg.steps;
    if (saved) save();
    if ((cfg.sample_every > 0 && state.step % cfg.sample_every == 0) || state.step == cfg.steps) {
      take_in();  // a grid only from finite steps
      try {
        sample();
      } catch (const Interrupted&) {
        if (!saved) save();
        if (!quiet) std::printf("stopped at step %lld while sampling; checkpoint saved to %s\n",
                                static_cast<long long>(state.step), ckpt_file.c_str());
        result.interrupted = true;
        result.interrupted_alone = world > 1;  // the other ranks wait in the next step
        break;
      }
    }
  }
  result.step = state.step;
  return result;
}

}  // namespace s2dm
