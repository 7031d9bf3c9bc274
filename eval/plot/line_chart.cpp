#include "eval/plot/line_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/core/error.h"
#include "eval/plot/grouped_bar_chart.h"

namespace gantry::plot {

namespace {

constexpr int kMargin = 12;
const Rgb kGrid{225, 225, 225};
const Rgb kFrame{120, 120, 120};

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void cover(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return !(lo <= hi); }
  Range padded() const {
    Range r = *this;
    const double pad = hi > lo ? 0.05 * (hi - lo) : std::max(1e-3, 0.05 * std::abs(lo));
    r.lo -= pad;
    r.hi += pad;
    return r;
  }
};

void draw_segment(RasterCanvas& canvas, double xa, double ya, double xb, double yb, Rgb color) {
  const int steps = static_cast<int>(std::ceil(std::max(std::abs(xb - xa), std::abs(yb - ya)))) + 1;
  for (int i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    canvas.blend(static_cast<int>(std::lround(xa + t * (xb - xa))), static_cast<int>(std::lround(ya + t * (yb - ya))),
                 color, 0.9);
  }
}

void draw_frame(RasterCanvas& canvas, int x0, int y0, int x1, int y1) {
  for (int x = x0; x <= x1; ++x) {
    canvas.blend(x, y0, kFrame);
    canvas.blend(x, y1, kFrame);
  }
  for (int y = y0; y <= y1; ++y) {
    canvas.blend(x0, y, kFrame);
    canvas.blend(x1, y, kFrame);
  }
}

}  // namespace

std::string render_line_panels_png(const std::vector<LinePanel>& panels, int width, int panel_height) {
  Range xs;
  for (const auto& panel : panels)
    for (const auto& s : panel.series) {
      GANTRY_CHECK(s.x.size() == s.y.size(), "line chart: a series has ", s.x.size(), " x values and ", s.y.size(),
                   " y values");
      for (double x : s.x) xs.cover(x);
    }
  GANTRY_CHECK(!panels.empty() && !xs.empty(), "line chart: nothing to draw");
  if (xs.hi == xs.lo) xs.hi = xs.lo + 1;
  RasterCanvas canvas(width, panel_height * static_cast<int>(panels.size()), Rgb{255, 255, 255});
  for (size_t p = 0; p < panels.size(); ++p) {
    const int x0 = kMargin, x1 = width - kMargin;
    const int y0 = static_cast<int>(p) * panel_height + kMargin, y1 = (static_cast<int>(p) + 1) * panel_height - kMargin;
    Range ys;
    for (const auto& s : panels[p].series)
      for (double y : s.y) ys.cover(y);
    if (!ys.empty()) {
      ys = ys.padded();
      const auto px = [&](double x) { return x0 + (x - xs.lo) / (xs.hi - xs.lo) * (x1 - x0); };
      const auto py = [&](double y) { return y1 - (y - ys.lo) / (ys.hi - ys.lo) * (y1 - y0); };
      const double step = grid_step(YRange{ys.lo, ys.hi});
      for (double v = std::ceil(ys.lo / step) * step; v <= ys.hi; v += step)
        for (int x = x0; x <= x1; ++x) canvas.blend(x, static_cast<int>(std::lround(py(v))), std::abs(v) < step * 1e-9 ? kFrame : kGrid);
      for (const auto& s : panels[p].series)
        for (size_t i = 1; i < s.x.size(); ++i)
          if (std::isfinite(s.y[i - 1]) && std::isfinite(s.y[i]))
            draw_segment(canvas, px(s.x[i - 1]), py(s.y[i - 1]), px(s.x[i]), py(s.y[i]), s.color);
    }
    draw_frame(canvas, x0, y0, x1, y1);
  }
  return canvas.encode_png();
}

}  // namespace gantry::plot
