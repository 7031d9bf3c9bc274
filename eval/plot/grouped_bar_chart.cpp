#include "eval/plot/grouped_bar_chart.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"

namespace gantry::plot {

namespace {

constexpr Rgb kWhite{255, 255, 255};
constexpr Rgb kGrid{225, 225, 225};
constexpr Rgb kAxis{40, 40, 40};
constexpr Rgb kFrame{160, 160, 160};
constexpr int kMargin = 12;

void fill_rect(RasterCanvas& canvas, int x0, int y0, int x1, int y1, Rgb color) {
  for (int y = std::min(y0, y1); y < std::max(y0, y1); ++y)
    for (int x = std::min(x0, x1); x < std::max(x0, x1); ++x) canvas.blend(x, y, color);
}

size_t group_count(const BarPanel& panel) {
  GANTRY_CHECK(!panel.series.empty() && !panel.series[0].values.empty(),
               "bar chart: a panel needs at least one series with at least one value");
  for (const BarSeries& s : panel.series)
    GANTRY_CHECK(s.values.size() == panel.series[0].values.size(), "bar chart: series have ",
                 panel.series[0].values.size(), " and ", s.values.size(), " values; expected equal lengths");
  return panel.series[0].values.size();
}

}  // namespace

YRange panel_y_range(const BarPanel& panel) {
  YRange r;
  for (const BarSeries& s : panel.series)
    for (double v : s.values)
      if (std::isfinite(v)) r.lo = std::min(r.lo, v), r.hi = std::max(r.hi, v);
  if (r.hi - r.lo <= 0) r.hi = r.lo + 1.0;  // all zero: any non-empty range
  const double pad = 0.1 * (r.hi - r.lo);
  return {r.lo < 0 ? r.lo - pad : 0.0, r.hi > 0 ? r.hi + pad : 0.0};
}

double grid_step(const YRange& range, int lines) {
  const double raw = (range.hi - range.lo) / std::max(1, lines);
  const double decade = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * decade >= raw) return m * decade;
  return 10.0 * decade;
}

void draw_bar_panel(RasterCanvas& canvas, const BarPanel& panel, int x0, int y0, int x1, int y1) {
  const size_t groups = group_count(panel);
  const YRange range = panel_y_range(panel);
  const auto to_y = [&](double v) {
    return static_cast<int>(std::lround(y1 - (v - range.lo) / (range.hi - range.lo) * (y1 - y0)));
  };
  const double step = grid_step(range);
  for (double v = std::ceil(range.lo / step) * step; v <= range.hi; v += step)
    fill_rect(canvas, x0, to_y(v), x1, to_y(v) + 1, kGrid);
  const double group_width = static_cast<double>(x1 - x0) / static_cast<double>(groups);
  const double bar_width = 0.8 * group_width / static_cast<double>(panel.series.size());
  for (size_t g = 0; g < groups; ++g)
    for (size_t s = 0; s < panel.series.size(); ++s) {
      const double v = panel.series[s].values[g];
      if (!std::isfinite(v)) continue;
      const double left = x0 + g * group_width + 0.1 * group_width + s * bar_width;
      fill_rect(canvas, static_cast<int>(std::lround(left)), to_y(0.0),
                static_cast<int>(std::lround(left + bar_width)) - 1, to_y(v), panel.series[s].color);
    }
  fill_rect(canvas, x0, to_y(0.0), x1, to_y(0.0) + 1, kAxis);
  for (size_t g = 1; g < groups; ++g) {  // faint separators between groups
    const int x = x0 + static_cast<int>(std::lround(g * group_width));
    fill_rect(canvas, x, y0, x + 1, y1, kGrid);
  }
  fill_rect(canvas, x0, y0, x1, y0 + 1, kFrame);
  fill_rect(canvas, x0, y1 - 1, x1, y1, kFrame);
  fill_rect(canvas, x0, y0, x0 + 1, y1, kFrame);
  fill_rect(canvas, x1 - 1, y0, x1, y1, kFrame);
}

std::string render_bar_panels_png(const std::vector<BarPanel>& panels, int width, int panel_height) {
  GANTRY_CHECK(!panels.empty(), "bar chart: no panels to draw");
  GANTRY_CHECK(width > 2 * kMargin && panel_height > 2 * kMargin, "bar chart: the image (", width, " x ",
               panel_height, " per panel) is too small");
  RasterCanvas canvas(width, panel_height * static_cast<int>(panels.size()), kWhite);
  for (size_t i = 0; i < panels.size(); ++i) {
    const int top = static_cast<int>(i) * panel_height;
    draw_bar_panel(canvas, panels[i], kMargin, top + kMargin, width - kMargin, top + panel_height - kMargin);
  }
  return canvas.encode_png();
}

}  // namespace gantry::plot
