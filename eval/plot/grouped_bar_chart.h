#pragma once
// Grouped bar charts on a RasterCanvas: panels stacked vertically, each with groups of bars (one bar
// per series in every group), a zero line and light horizontal grid lines at a round step. There is
// no text: captions and legends live with the picture (docs, the command's printed table).
#include <string>
#include <vector>

#include "eval/plot/raster_canvas.h"

namespace gantry::plot {

struct BarSeries {
  std::vector<double> values;  // one per group
  Rgb color;
};

struct BarPanel {
  std::vector<BarSeries> series;  // every series has the same number of values
};

// The y range a panel is drawn over: covers every value and 0, padded by 10%, never empty.
struct YRange {
  double lo = 0, hi = 0;
};
YRange panel_y_range(const BarPanel& panel);
// A round grid step (1, 2 or 5 times a power of ten) giving about `lines` grid lines over the range.
double grid_step(const YRange& range, int lines = 5);

// Draws one panel into the pixel box [x0, x1) x [y0, y1).
void draw_bar_panel(RasterCanvas& canvas, const BarPanel& panel, int x0, int y0, int x1, int y1);
// All panels stacked, each `panel_height` pixels high; PNG bytes. Throws gantry::Error when a panel
// is empty or its series differ in length.
std::string render_bar_panels_png(const std::vector<BarPanel>& panels, int width = 640, int panel_height = 240);

}  // namespace gantry::plot
