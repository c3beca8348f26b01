// Walks the same structure models/unet.cpp builds (docs/method.md §5), per image.
#include "models/unet_flops.h"

#include <algorithm>
#include <vector>

namespace s2dm {

namespace {

double conv(double res_out, double cin, double cout, double k) {
  return 2.0 * res_out * res_out * cin * cout * k * k;
}

double res_block(double res, double cin, double cout, double temb_ch) {
  double f = conv(res, cin, cout, 3) + 2.0 * temb_ch * cout + conv(res, cout, cout, 3);
  if (cin != cout) f += conv(res, cin, cout, 1);  // nin_shortcut
  return f;
}

double attention(double res, double c) {
  const double n = res * res;
  return 4.0 * conv(res, c, c, 1) + 2.0 * (2.0 * n * n * c);  // q, k, v, proj_out; QKᵀ and PV
}

bool has_attention(const UNetConfig& cfg, int res) {
  return std::find(cfg.attn_resolutions.begin(), cfg.attn_resolutions.end(), res) !=
         cfg.attn_resolutions.end();
}

}  // namespace

double unet_forward_flops(const UNetConfig& cfg, int64_t batch) {
  const double ch = cfg.ch, temb_ch = 4.0 * cfg.ch;
  double f = 2.0 * ch * temb_ch + 2.0 * temb_ch * temb_ch;  // temb.dense.0 and .1
  int res = cfg.resolution;
  f += conv(res, cfg.in_channels, ch, 3);
  std::vector<double> skips{ch};
  double c = ch;
  const size_t levels = cfg.ch_mult.size();
  for (size_t i = 0; i < levels; ++i) {
    const double cout = ch * cfg.ch_mult[i];
    for (int b = 0; b < cfg.num_res_blocks; ++b) {
      f += res_block(res, c, cout, temb_ch);
      c = cout;
      if (has_attention(cfg, res)) f += attention(res, c);
      skips.push_back(c);
    }
    if (i + 1 < levels) {
      res /= 2;
      f += conv(res, c, c, 3);  // stride-2 downsample, counted at the output resolution
      skips.push_back(c);
    }
  }
  f += 2.0 * res_block(res, c, c, temb_ch) + attention(res, c);  // mid
  for (size_t i = levels; i-- > 0;) {
    const double cout = ch * cfg.ch_mult[i];
    for (int b = 0; b <= cfg.num_res_blocks; ++b) {
      f += res_block(res, c + skips.back(), cout, temb_ch);
      skips.pop_back();
      c = cout;
      if (has_attention(cfg, res)) f += attention(res, c);
    }
    if (i > 0) {
      res *= 2;
      f += conv(res, c, c, 3);  // upsample conv after the nearest ×2
    }
  }
  f += conv(res, c, cfg.out_channels, 3);
  return f * static_cast<double>(batch);
}

}  // namespace s2dm
