// Cases: fill and copy, dense and of strided views; copies between every pair of dtypes.
#include <fmt/format.h>

#include "tests/backend_ops/cases.h"

namespace s2dm::backend_ops {

namespace {

// A view of a tensor made for a case: the strided side of a copy or fill.
using View = Tensor (*)(const Tensor&);

Tensor whole(const Tensor& t) { return t; }
Tensor transposed(const Tensor& t) { return t.transpose(-1, -2); }
Tensor nchw_to_nhwc(const Tensor& t) { return t.permute({0, 2, 3, 1}); }
Tensor permuted(const Tensor& t) { return t.permute({2, 0, 3, 1}); }
Tensor permuted_back(const Tensor& t) { return t.permute({2, 3, 0, 1}); }
Tensor inner_slice(const Tensor& t) { return t.slice(-1, 3, t.size(-1) - 4); }
Tensor channel_half(const Tensor& t) { return t.slice(1, 0, t.size(1) / 2); }
Tensor two_slices(const Tensor& t) { return t.slice(1, 1, 3).slice(3, 1, 4); }
Tensor rows_broadcast(const Tensor& t) { return t.expand({5, t.size(-1)}); }
Tensor every_other(const Tensor& t) { return make_view(t, {t.numel() / 2}, {2}, t.offset() + 1); }

// src_view(input of src_base) is copied into dst_view(output of dst_base).
struct StridedCopy {
  const char* what;
  Shape src_base;
  View src_view;
  Shape dst_base;
  View dst_view;
};

const StridedCopy kStridedCopies[] = {
    {"dense", {4, 256, 8, 8}, whole, {4, 256, 8, 8}, whole},
    {"dense", {1001}, whole, {1001}, whole},
    {"transposed source", {2, 33, 7}, transposed, {2, 7, 33}, whole},
    {"attention transpose", {2, 256, 256}, transposed, {2, 256, 256}, whole},
    {"NCHW to NHWC", {2, 64, 8, 8}, nchw_to_nhwc, {2, 8, 8, 64}, whole},
    {"sliced source", {5, 40}, inner_slice, {5, 33}, whole},
    {"broadcast source", {1, 7}, rows_broadcast, {5, 7}, whole},
    {"transposed destination", {33, 7}, whole, {7, 33}, transposed},
    {"sliced destination", {5, 33}, whole, {5, 40}, inner_slice},
    {"every other destination element", {1001}, whole, {2002}, every_other},
    {"both permuted", {3, 4, 5, 6}, permuted, {6, 4, 5, 3}, permuted_back},
};

// The dtypes a copy converts between, relative to the case's dtype.
enum class Convert { None, ToOtherFloat, ToBf16, FromBf16, Bf16ToBf16 };

const char* convert_name(Convert c) {
  switch (c) {
    case Convert::None: return "";
    case Convert::ToOtherFloat: return " to the other float type";
    case Convert::ToBf16: return " to bfloat16";
    case Convert::FromBf16: return " from bfloat16";
    case Convert::Bf16ToBf16: return " bfloat16";
  }
  return "?";
}

OpCase strided_copy_case(const StridedCopy& c, Convert conv) {
  return {"copy", fmt::format("{} {} -> {}{}", c.what, shape_str(c.src_base),
                              shape_str(c.dst_base), convert_name(conv)),
          0, [c, conv](OpContext& ctx) {
            const bool from_bf16 = conv == Convert::FromBf16 || conv == Convert::Bf16ToBf16;
            const DType other = ctx.dtype() == DType::F32 ? DType::F64 : DType::F32;
            const DType dst_dtype = conv == Convert::ToOtherFloat ? other
                                    : conv == Convert::ToBf16 || conv == Convert::Bf16ToBf16
                                        ? DType::BF16
                                        : ctx.dtype();
            Tensor src = c.src_view(
                ctx.input(c.src_base, 3, 1.0, 0.0, from_bf16 ? DType::BF16 : ctx.dtype()));
            Tensor dst = c.dst_view(ctx.output(c.dst_base, dst_dtype));
            return [&ctx, src, dst]() mutable { ctx.backend().copy(src, dst); };
          }};
}

// view(output of base) = value.
struct StridedFill {
  const char* what;
  Shape base;
  View view;
};

const StridedFill kStridedFills[] = {
    {"channel half", {4, 256, 8, 8}, channel_half},
    {"inner slice", {6, 40}, inner_slice},
    {"transposed", {7, 33}, transposed},
    {"every other element", {2002}, every_other},
    {"two slices", {2, 3, 4, 5, 6}, two_slices},
};

void add_strided_cases(std::vector<OpCase>& cases) {
  for (const StridedCopy& c : kStridedCopies) cases.push_back(strided_copy_case(c, Convert::None));
  for (const StridedCopy& c : {kStridedCopies[0], kStridedCopies[1], kStridedCopies[2],
                               kStridedCopies[7]}) {
    for (Convert conv :
         {Convert::ToOtherFloat, Convert::ToBf16, Convert::FromBf16, Convert::Bf16ToBf16})
      cases.push_back(strided_copy_case(c, conv));
  }
  for (const StridedFill& f : kStridedFills) {
    for (bool bf16 : {false, true}) {
      // 0.1 rounds differently in each dtype.
      cases.push_back({"fill", fmt::format("{} {}{} = 0.1", f.what, shape_str(f.base),
                                           bf16 ? " bfloat16" : ""),
                       0, [f, bf16](OpContext& ctx) {
                         Tensor y = f.view(ctx.output(f.base, bf16 ? DType::BF16 : ctx.dtype()));
                         return [&ctx, y]() mutable { ctx.backend().fill(y, 0.1); };
                       }});
    }
  }
}

}  // namespace

void add_layout_cases(std::vector<OpCase>& cases) {
  for (int64_t n : {int64_t{1}, int64_t{1000}, int64_t{65537}}) {
    cases.push_back({"fill", fmt::format("[{}] = -1.5", n), 0, [n](OpContext& ctx) {
                       Tensor y = ctx.output({n});
                       return [&ctx, y]() mutable { ctx.backend().fill(y, -1.5); };
                     }});
    cases.push_back({"copy", fmt::format("contiguous [{}]", n), 0, [n](OpContext& ctx) {
                       Tensor x = ctx.input({n}, 3), y = ctx.output({n});
                       return [&ctx, x, y]() mutable { ctx.backend().copy(x, y); };
                     }});
  }
  add_strided_cases(cases);
}

}  // namespace s2dm::backend_ops
