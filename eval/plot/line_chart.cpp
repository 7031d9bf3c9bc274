#include "eval/plot/line_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/core/error.h"
#include "eval/plot/chart_text.h"
#include "eval/plot/grouped_bar_chart.h"

namespace gantry::plot {

namespace {

constexpr int kMargin = 12;
const Rgb kGrid{225, 225, 225};
const Rgb kFrame{120, 120, 120};
const Rgb kText{40, 40, 40};

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

std::string render_line_panels_png(const std::vector<LinePanel>& panels, const std::string& x_label, int width,
                                   int panel_height) {
  Range xs;
  for (const auto& panel : panels)
    for (const auto& s : panel.series) {
      GANTRY_CHECK(s.x.size() == s.y.size(), "line chart: a series has ", s.x.size(), " x values and ", s.y.size(),
                   " y values");
      for (double x : s.x) xs.cover(x);
    }
  GANTRY_CHECK(!panels.empty() && !xs.empty(), "line chart: nothing to draw");
  if (xs.hi == xs.lo) xs.hi = xs.lo + 1;
  const int line = text_height();
  const int left = 9 * text_width("0"), right = kMargin;
  const int axis_band = 2 * line + 8;  // x tick labels and the x label under the last panel
  RasterCanvas canvas(width, panel_height * static_cast<int>(panels.size()) + axis_band, Rgb{255, 255, 255});
  const int x0 = left, x1 = width - right;
  const auto px = [&](double x) { return x0 + (x - xs.lo) / (xs.hi - xs.lo) * (x1 - x0); };
  for (size_t p = 0; p < panels.size(); ++p) {
    const int top = static_cast<int>(p) * panel_height;
    const int y0 = top + line + 6, y1 = top + panel_height - 6;
    draw_text(canvas, (x0 + x1) / 2, top + 3, panels[p].title, kText, TextAlign::center);
    Range ys;
    for (const auto& s : panels[p].series)
      for (double y : s.y) ys.cover(y);
    if (!ys.empty()) {
      ys = ys.padded();
      const auto py = [&](double y) { return y1 - (y - ys.lo) / (ys.hi - ys.lo) * (y1 - y0); };
      const double step = grid_step(YRange{ys.lo, ys.hi});
      for (double v = std::ceil(ys.lo / step) * step; v <= ys.hi; v += step) {
        const int y = static_cast<int>(std::lround(py(v)));
        for (int x = x0; x <= x1; ++x) canvas.blend(x, y, std::abs(v) < step * 1e-9 ? kFrame : kGrid);
        draw_text(canvas, x0 - 4, y - line / 2, axis_label(std::abs(v) < step * 1e-9 ? 0 : v), kText, TextAlign::right);
      }
      for (const auto& s : panels[p].series)
        for (size_t i = 1; i < s.x.size(); ++i)
          if (std::isfinite(s.y[i - 1]) && std::isfinite(s.y[i]))
            draw_segment(canvas, px(s.x[i - 1]), py(s.y[i - 1]), px(s.x[i]), py(s.y[i]), s.color);
    }
    // Legend, top right inside the frame: a colour swatch and the label of each series.
    int legend_y = y0 + 4;
    for (const auto& s : panels[p].series) {
      if (s.label.empty()) continue;
      const int text_x = x1 - 6 - text_width(s.label);
      for (int dy = -1; dy <= line; ++dy)  // a backdrop, so a curve never runs through the legend
        for (int dx = -24; dx <= text_width(s.label) + 2; ++dx)
          canvas.blend(text_x + dx, legend_y + dy, {255, 255, 255}, 0.85);
      for (int dy = 0; dy < 3; ++dy)
        for (int dx = 0; dx < 14; ++dx) canvas.blend(text_x - 20 + dx, legend_y + line / 2 - 1 + dy, s.color);
      draw_text(canvas, text_x, legend_y, s.label, kText);
      legend_y += line + 2;
    }
    draw_frame(canvas, x0, y0, x1, y1);
  }
  // The shared x axis under the last panel: tick labels at round steps, then its name.
  const int axis_y = panel_height * static_cast<int>(panels.size()) - 4;
  const double x_step = grid_step(YRange{xs.lo, xs.hi}, 6);
  for (double v = std::ceil(xs.lo / x_step) * x_step; v <= xs.hi + 1e-9 * x_step; v += x_step) {
    const int x = static_cast<int>(std::lround(px(v)));
    for (int dy = 0; dy < 4; ++dy) canvas.blend(x, axis_y - 2 + dy, kFrame);
    draw_text(canvas, x, axis_y + 3, axis_label(v), kText, TextAlign::center);
  }
  if (!x_label.empty()) draw_text(canvas, (x0 + x1) / 2, axis_y + line + 5, x_label, kText, TextAlign::center);
  return canvas.encode_png();
}

}  // namespace gantry::plot
