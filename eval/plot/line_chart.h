#pragma once
// Line charts on a RasterCanvas (training curves): panels stacked vertically, each with a title,
// series of (x, y) points drawn as polylines with a legend, light grid lines at round steps labelled
// on the y axis, and the shared x axis labelled under the last panel.
#include <string>
#include <vector>

#include "eval/plot/raster_canvas.h"

namespace gantry::plot {

struct LineSeries {
  std::vector<double> x, y;  // the same length; x increasing
  Rgb color;
  std::string label;  // in the legend ("" : none)
};

struct LinePanel {
  std::vector<LineSeries> series;
  std::string title;
};

// PNG bytes: every panel `panel_height` pixels high over the x range shared by all panels. Throws
// gantry::Error when no panel has a point, or a series' x and y differ in length.
// `x_label` names the shared x axis ("step").
std::string render_line_panels_png(const std::vector<LinePanel>& panels, const std::string& x_label = "",
                                   int width = 720, int panel_height = 220);

}  // namespace gantry::plot
