#pragma once
// Text on a RasterCanvas for chart titles, axis labels and legends: printable ASCII in a fixed-width
// bitmap font (DejaVu Sans Mono 12 px, rasterised into third_party/dejavu_bitmap), blended with
// its anti-aliased coverage. Other characters draw as '?'.
#include <string>

#include "eval/plot/raster_canvas.h"

namespace gantry::plot {

enum class TextAlign { left, center, right };

int text_width(const std::string& text);  // pixels
int text_height();                        // pixels of one line
// Draws `text` with its top edge at y; x is its left edge, centre or right edge by `align`.
void draw_text(RasterCanvas& canvas, int x, int y, const std::string& text, Rgb color,
               TextAlign align = TextAlign::left);
// A short label for an axis value: 3 significant digits, no trailing zeros ("0.5", "1.25e+04").
std::string axis_label(double value);

}  // namespace gantry::plot
