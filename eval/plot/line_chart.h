#pragma once
// Line charts on a RasterCanvas (training curves): panels stacked vertically, each with series of
// (x, y) points drawn as polylines over light horizontal grid lines at a round step and a frame. No
// text: the command that writes a chart says which panel and colour is what.
#include <string>
#include <vector>

#include "eval/plot/raster_canvas.h"

namespace gantry::plot {

struct LineSeries {
  std::vector<double> x, y;  // the same length; x increasing
  Rgb color;
};

struct LinePanel {
  std::vector<LineSeries> series;
};

// PNG bytes: every panel `panel_height` pixels high over the x range shared by all panels. Throws
// gantry::Error when no panel has a point, or a series' x and y differ in length.
std::string render_line_panels_png(const std::vector<LinePanel>& panels, int width = 720, int panel_height = 220);

}  // namespace gantry::plot
