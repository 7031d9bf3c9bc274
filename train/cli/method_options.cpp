#include "train/cli/method_options.h"

namespace gantry::cli {

void refuse_unless_feature_on(const ArgParser& p, bool feature_on, const char* name, const char* needs) {
  GANTRY_CHECK(!p.given(name) || feature_on, "--", name, " applies only with ", needs,
               ", which this run does not use; drop --", name, " or add ", needs);
}

}  // namespace gantry::cli
