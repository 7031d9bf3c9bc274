// Grouped bar charts: bars land in their group, on the right side of the zero line, with heights
// proportional to their values; bad panels are rejected.
#include <gtest/gtest.h>

#include "engine/core/error.h"
#include "eval/plot/grouped_bar_chart.h"

namespace gantry {
namespace {

using plot::BarPanel;
using plot::RasterCanvas;
using plot::Rgb;

constexpr Rgb kGreen{0, 160, 0}, kRed{200, 0, 0};

bool is(Rgb a, Rgb b) { return a.r == b.r && a.g == b.g && a.b == b.b; }

// Rows of column x painted in `color`.
int painted_rows(const RasterCanvas& c, int x, Rgb color) {
  int n = 0;
  for (int y = 0; y < c.height(); ++y) n += is(c.pixel(x, y), color);
  return n;
}

TEST(GroupedBarChart, BarsSitInTheirGroupOnTheRightSideOfZeroWithProportionalHeights) {
  BarPanel panel{{{{0.5, -0.25}, kGreen}, {{-0.75, 1.0}, kRed}}};
  RasterCanvas canvas(400, 200, {255, 255, 255});
  plot::draw_bar_panel(canvas, panel, 0, 0, 400, 200);
  // Group 0 spans x in [0, 200): green bar in [20, 100), red in [100, 180); group 1 the same + 200.
  const plot::YRange range = plot::panel_y_range(panel);
  EXPECT_LT(range.lo, -0.75);
  EXPECT_GT(range.hi, 1.0);
  const double pixels_per_unit = 200.0 / (range.hi - range.lo);
  const int zero_y = static_cast<int>(200 - (0.0 - range.lo) * pixels_per_unit);
  EXPECT_NEAR(painted_rows(canvas, 60, kGreen), 0.5 * pixels_per_unit, 2.0);
  EXPECT_NEAR(painted_rows(canvas, 140, kRed), 0.75 * pixels_per_unit, 2.0);
  EXPECT_NEAR(painted_rows(canvas, 260, kGreen), 0.25 * pixels_per_unit, 2.0);
  EXPECT_NEAR(painted_rows(canvas, 340, kRed), 1.0 * pixels_per_unit, 2.0);
  EXPECT_EQ(painted_rows(canvas, 60, kRed), 0);
  EXPECT_EQ(painted_rows(canvas, 140, kGreen), 0);
  // Positive bars above the zero line (smaller y), negative ones below.
  EXPECT_TRUE(is(canvas.pixel(60, zero_y - 5), kGreen));
  EXPECT_FALSE(is(canvas.pixel(60, zero_y + 5), kGreen));
  EXPECT_TRUE(is(canvas.pixel(140, zero_y + 5), kRed));
  EXPECT_FALSE(is(canvas.pixel(140, zero_y - 5), kRed));
}

TEST(GroupedBarChart, GridStepIsRound) {
  EXPECT_DOUBLE_EQ(plot::grid_step({-1.0, 1.0}, 5), 0.5);
  EXPECT_DOUBLE_EQ(plot::grid_step({0.0, 0.003}, 5), 1e-3);
  EXPECT_DOUBLE_EQ(plot::grid_step({-7.0, 3.0}, 5), 2.0);
}

TEST(GroupedBarChart, RendersStackedPanelsAndRejectsBadPanels) {
  const BarPanel ok{{{{0.3, 0.1}, kGreen}}};
  const std::string png = plot::render_bar_panels_png({ok, ok}, 300, 120);
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_THROW(plot::render_bar_panels_png({}), Error);
  EXPECT_THROW(plot::render_bar_panels_png({BarPanel{}}), Error);
  const BarPanel ragged{{{{0.3, 0.1}, kGreen}, {{0.2}, kRed}}};
  EXPECT_THROW(plot::render_bar_panels_png({ragged}), Error);
}

}  // namespace
}  // namespace gantry
