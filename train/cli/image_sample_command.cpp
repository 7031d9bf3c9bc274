// gantry image sample: generated images from a trained image run.
#include "train/cli/image_commands.h"

#include "engine/core/error.h"

namespace gantry::cli {

int image_sample_command(const std::vector<std::string>&) { GANTRY_FAIL("image sample: not implemented yet"); }

}  // namespace gantry::cli
