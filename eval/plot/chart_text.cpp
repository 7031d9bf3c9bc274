#include "eval/plot/chart_text.h"

#include <cmath>
#include <cstdio>

namespace gantry::plot {

namespace {
#include "dejavu_bitmap/glyphs.inc"
}  // namespace

int text_width(const std::string& text) { return static_cast<int>(text.size()) * kGlyphWidth; }
int text_height() { return kGlyphHeight; }

void draw_text(RasterCanvas& canvas, int x, int y, const std::string& text, Rgb color, TextAlign align) {
  if (align == TextAlign::center) x -= text_width(text) / 2;
  if (align == TextAlign::right) x -= text_width(text);
  for (size_t i = 0; i < text.size(); ++i) {
    const int code = static_cast<unsigned char>(text[i]);
    const unsigned char* glyph = kGlyphs[(code >= 32 && code <= 126 ? code : '?') - 32];
    const int x0 = x + static_cast<int>(i) * kGlyphWidth;
    for (int gy = 0; gy < kGlyphHeight; ++gy)
      for (int gx = 0; gx < kGlyphWidth; ++gx)
        if (const int coverage = glyph[gy * kGlyphWidth + gx]) canvas.blend(x0 + gx, y + gy, color, coverage / 255.0);
  }
}

std::string axis_label(double value) {
  if (value == 0 || std::abs(value) < 1e-12) return "0";
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

}  // namespace gantry::plot
