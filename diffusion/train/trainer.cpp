// The training loop.
#include "diffusion/train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "diffusion/ddim.h"
#include "diffusion/ddpm.h"
#include "diffusion/s2dm_loss.h"
#include "diffusion/schedule.h"
#include "diffusion/timesteps.h"
#include "diffusion/train/checkpoint.h"
#include "engine/data/cifar10.h"
#include "engine/data/data_loader.h"
#include "engine/data/image_folder.h"
#include "engine/data/mnist.h"
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

void write_samples(const UNet& ema_model, const TrainConfig& cfg, const NoiseSchedule& schedule,
                   Device device, const std::string& path) {
  NoGradGuard no_grad;
  Generator gen(cfg.seed ^ 0xa5a5a5a5ULL);  // the same starting noise at every checkpoint
  const UNetConfig& m = cfg.model;
  Tensor x = randn({cfg.sample_count, m.in_channels, m.resolution, m.resolution}, gen, DType::F32, device);
  EpsModel model = [&](const Tensor& xt, const Tensor& t) { return ema_model.forward(xt, t); };
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

TrainResult train(const TrainConfig& cfg, const TrainOptions& opt) {
  cfg.validate();
  const Device device = Device::parse(cfg.device);
  backend_for(device);  // fails early, with the fix, when the device is unavailable
  std::filesystem::create_directories(std::filesystem::path(cfg.out_dir) / "samples");
  const std::string ckpt_file = checkpoint_path(cfg);

  std::shared_ptr<const Dataset> data = opt.dataset ? opt.dataset : load_training_data(cfg.data, cfg.model);
  DataLoaderOptions lo;
  lo.batch_size = cfg.batch;
  lo.random_flip = cfg.data.random_flip;
  lo.seed = cfg.seed;
  S2DM_CHECK(data->size() >= cfg.batch, "the data set has {} images, fewer than one batch of {}",
             data->size(), cfg.batch);
  DataLoader loader(data, lo);

  Generator init(cfg.seed);
  const LayerOptions layer{DType::F32, device};
  UNet model(cfg.model, init, layer);
  UNet ema_model(cfg.model, init, layer);
  ema_model.train(false);
  FlatParameters params(model);
  Adam adam(params, AdamConfig{cfg.lr});
  Ema ema(params, cfg.ema_decay);
  NoiseSchedule schedule;
  Generator noise(cfg.seed ^ kNoiseStream);

  TrainingState state;
  if (!opt.resume.empty()) {
    Checkpoint ck = load_checkpoint(opt.resume);
    S2DM_CHECK(ck.config.model.to_json() == cfg.model.to_json() && ck.config.batch == cfg.batch &&
                   ck.config.seed == cfg.seed,
               "{}: the checkpoint was trained with a different model, batch or seed than requested",
               opt.resume);
    restore_checkpoint(ck, params, ema, adam);
    state = ck.state;
    noise.offset = state.noise_offset;
    loader.seek(state.data_epoch, state.data_position);
    if (!opt.quiet)
      std::printf("resumed from %s at step %lld\n", opt.resume.c_str(), static_cast<long long>(state.step));
  }
  write_file_atomic((std::filesystem::path(cfg.out_dir) / "config.json").string(), cfg.to_json().dump(2) + "\n");
  std::ofstream metrics(std::filesystem::path(cfg.out_dir) / "metrics.jsonl", std::ios::app);
  if (!opt.quiet) {
    std::printf("data: %s\nmodel: %s, %lld parameters, on %s; loss: skip %lld, tau %g\n",
                data->describe().c_str(), cfg.preset.c_str(), static_cast<long long>(params.numel()),
                device.str().c_str(), static_cast<long long>(cfg.loss.skip), cfg.loss.tau);
    std::fflush(stdout);
  }

  TrainResult result;
  auto save = [&]() {
    state.noise_offset = noise.offset;
    state.data_epoch = loader.epoch();
    state.data_position = loader.position();
    save_checkpoint(ckpt_file, cfg, state, params, ema, adam);
    result.checkpoint = ckpt_file;
  };
  auto sample = [&]() {
    ema_model.load_state_dict(ema.state_dict());
    const std::string png = (std::filesystem::path(cfg.out_dir) / "samples" /
                             fmt::format("step_{:07d}.png", state.step)).string();
    write_samples(ema_model, cfg, schedule, device, png);
    if (!opt.quiet) std::printf("wrote %s\n", png.c_str());
  };

  const auto start = std::chrono::steady_clock::now();
  const int64_t first_step = state.step;
  double window_l0 = 0, window_ls = 0, window_loss = 0;
  int64_t window = 0;
  while (state.step < cfg.steps) {
    if (opt.stop_signal && opt.stop_signal->load() != 0) {
      save();
      if (!opt.quiet) std::printf("stopped at step %lld; checkpoint saved to %s\n",
                                  static_cast<long long>(state.step), ckpt_file.c_str());
      result.interrupted = true;
      break;
    }
    Batch batch = loader.next();
    Tensor x0 = batch.images.to(device);
    const std::vector<int64_t> t = antithetic_timesteps(cfg.batch, schedule.num_steps(), noise);
    Tensor eps1 = randn(x0.shape(), noise, DType::F32, device);
    Tensor eps2 = cfg.loss.same_noise ? Tensor() : randn(x0.shape(), noise, DType::F32, device);
    Tensor xt = q_sample(schedule, x0, t, eps1);
    model.train(true);
    Tensor out = model.forward(xt, time_tensor(t, DType::F32, device), noise);
    S2dmLoss loss = s2dm_loss(schedule, out, eps1, eps2, t, cfg.loss);
    const double lval = loss.loss.item();
    if (!std::isfinite(lval)) {
      fail("step {}: the loss is {}; stopping without saving, so the last good checkpoint{} is kept. "
           "Lower --lr, check the data, or resume from that checkpoint.",
           state.step + 1, std::isnan(lval) ? "nan" : "infinite", result.checkpoint.empty() && opt.resume.empty() ? " (none yet)"
                                                                                : " " + ckpt_file);
    }
    params.zero_grad();
    loss.loss.backward();
    const double gnorm = params.grad_norm();
    S2DM_CHECK(std::isfinite(gnorm),
               "step {}: the gradient norm is {}; stopping without saving (last good checkpoint: {})",
               state.step + 1, std::isnan(gnorm) ? "nan" : "infinite", ckpt_file);
    adam.step(clip_coefficient(gnorm, cfg.grad_clip), ema);  // the EMA update fused in
    ++state.step;
    state.last_loss = lval;
    result.last_loss = lval;
    window_loss += lval;
    window_l0 += loss.l0_mean;
    window_ls += loss.lskip_mean;
    ++window;

    if (state.step % cfg.log_every == 0 || state.step == cfg.steps) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double done = static_cast<double>(state.step - first_step);
      const double img_s = done * static_cast<double>(cfg.batch) / std::max(secs, 1e-9);
      const double eta = (static_cast<double>(cfg.steps - state.step)) * secs / std::max(done, 1.0);
      const double n = static_cast<double>(window);
      if (!opt.quiet) {
        std::printf("step %7lld/%lld  loss %.5f  L0 %.5f  Lskip %.5f  grad-norm %.3f  %.1f img/s  ETA %s\n",
                    static_cast<long long>(state.step), static_cast<long long>(cfg.steps),
                    window_loss / n, window_l0 / n, window_ls / n, gnorm, img_s,
                    fmt::format("{:d}:{:02d}:{:02d}", static_cast<int>(eta) / 3600,
                                static_cast<int>(eta) / 60 % 60, static_cast<int>(eta) % 60).c_str());
        std::fflush(stdout);
      }
      metrics << nlohmann::json{{"step", state.step}, {"loss", window_loss / n}, {"l0", window_l0 / n},
                                {"lskip", window_ls / n}, {"grad_norm", gnorm}, {"img_per_s", img_s},
                                {"epoch", loader.epoch()}, {"time_s", secs}}.dump()
              << "\n";
      metrics.flush();
      window_loss = window_l0 = window_ls = 0;
      window = 0;
    }
    if (state.step % cfg.ckpt_every == 0 || state.step == cfg.steps) save();
    if ((cfg.sample_every > 0 && state.step % cfg.sample_every == 0) || state.step == cfg.steps) sample();
  }
  result.step = state.step;
  return result;
}

}  // namespace s2dm
