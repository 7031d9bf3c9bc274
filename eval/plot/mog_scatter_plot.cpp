#include "eval/plot/mog_scatter_plot.h"

#include "engine/io/atomic_file.h"
#include "engine/ops/ops.h"
#include "eval/plot/raster_canvas.h"

namespace gantry::plot {

std::string render_mog_scatter_png(const Tensor& samples, const data::MixtureOfGaussians& mixture, int size) {
  GANTRY_CHECK(samples.defined() && samples.dim() == 2 && samples.size(1) == 2,
               "render_mog_scatter_png: expected samples of shape [N, 2], got ",
               samples.defined() ? shape_str(samples.shape()) : std::string("an undefined tensor"));
  RasterCanvas canvas(size, size, {255, 255, 255});
  // Data square [-half, half]^2 with one grid spacing of margin around the outer modes.
  const double half = 0.5 * static_cast<double>(mixture.grid_side() - 1) * mixture.spacing() + mixture.spacing();
  const double scale = size / (2.0 * half);
  auto px = [&](double x) { return (x + half) * scale; };
  auto py = [&](double y) { return (half - y) * scale; };  // y up

  const double hq_radius = std::max(2.0, 4.0 * mixture.std() * scale);
  for (int64_t m = 0; m < mixture.num_modes(); ++m)
    canvas.stroke_circle(px(mixture.centre_x(m)), py(mixture.centre_y(m)), hq_radius, {220, 60, 40}, 1.5);

  const std::vector<double> xy = to_vector<double>(samples.to(kCPU).to(DType::f64).contiguous());
  for (size_t i = 0; i + 1 < xy.size(); i += 2)
    canvas.fill_disc(px(xy[i]), py(xy[i + 1]), 1.6, {30, 70, 160}, 0.35);
  return canvas.encode_png();
}

void write_mog_scatter_png(const std::string& path, const Tensor& samples,
                           const data::MixtureOfGaussians& mixture, int size) {
  io::write_file_atomic(path, render_mog_scatter_png(samples, mixture, size));
}

}  // namespace gantry::plot
