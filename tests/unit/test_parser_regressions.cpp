// Inputs the fuzz harnesses (tests/fuzz) found to crash a parser, to hit undefined behaviour or to
// escape as an exception other than gantry::Error; each is also in the harness's seed corpus.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "engine/core/device.h"
#include "engine/io/safetensors.h"
#include "tests/support/error_matchers.h"
#include "tests/support/small_mog_run.h"
#include "train/checkpoint.h"
#include "train/mog/mog_config.h"
#include "train/mog/mog_run_metrics.h"
#include "train/run_folder.h"

namespace gantry {
namespace {

using gantry::testing::throws_error_mentioning;

std::string safetensors_with_header(const std::string& header) {
  std::string bytes(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  return bytes + header;
}

TEST(ParserRegressions, SafetensorsRejectsZeroSizedShapeWhoseStridesOverflow) {
  // 0 elements, but the strides 4 * 2^62 overflow int64.
  const std::string bytes =
      safetensors_with_header(R"({"a":{"dtype":"F32","shape":[0,4611686018427387904,4],"data_offsets":[0,0]}})");
  EXPECT_TRUE(throws_error_mentioning([&] { io::parse_safetensors(bytes, "w.safetensors"); },
                                      {"w.safetensors", "'a'", "shape is too large"}));
}

TEST(ParserRegressions, SafetensorsRejectsDimensionAboveInt64) {
  const std::string bytes =
      safetensors_with_header(R"({"a":{"dtype":"U8","shape":[0,18446744073709551615],"data_offsets":[0,0]}})");
  EXPECT_TRUE(throws_error_mentioning([&] { io::parse_safetensors(bytes, "w.safetensors"); },
                                      {"w.safetensors", "'a'", "shape is too large"}));
}

// The config.json `mog train` writes, with one field replaced.
nlohmann::json config_with(const std::string& key, const nlohmann::json& value) {
  mog::MogTrainConfig c;
  c.out = "run";
  nlohmann::json j = c.to_json();
  j[key] = value;
  return j;
}

TEST(ParserRegressions, ConfigRejectsIntegerFieldsOutsideTheirType) {
  // A float far outside int64 (the cast was undefined behaviour), an unsigned above INT64_MAX, a
  // negative seed and a thread count that wrapped to 1 as an int.
  EXPECT_TRUE(throws_error_mentioning(
      [] { mog::MogTrainConfig::from_json(config_with("log_every", -9.223372036854775808e21)); }, {"'log_every'"}));
  EXPECT_TRUE(throws_error_mentioning(
      [] { mog::MogTrainConfig::from_json(config_with("steps", 18446744073709551615ull)); }, {"'steps'"}));
  EXPECT_TRUE(throws_error_mentioning([] { mog::MogTrainConfig::from_json(config_with("seed", -1)); }, {"'seed'"}));
  EXPECT_TRUE(throws_error_mentioning([] { mog::MogTrainConfig::from_json(config_with("threads", 4294967297ll)); },
                                      {"'threads'"}));
  EXPECT_TRUE(throws_error_mentioning([] { mog::MogTrainConfig::from_json(config_with("modes", 25.0)); }, {"'modes'"}));
  EXPECT_EQ(mog::MogTrainConfig::from_json(config_with("threads", 3)).threads, 3);
}

TEST(ParserRegressions, ConfigRejectsModesWhoseSquareOverflows) {
  // The perfect-square check squared llround(sqrt(m)) = 3037000500 in int64 (undefined behaviour).
  mog::MogTrainConfig c = mog::MogTrainConfig::from_json(config_with("modes", int64_t{9223372036854775807}));
  EXPECT_TRUE(throws_error_mentioning([&] { c.validate(); }, {"--modes", "9223372036854775807"}));
  c.modes = int64_t{3037000499} * 3037000499;  // the largest square in int64 is accepted
  EXPECT_NO_THROW(c.validate());
}

TEST(ParserRegressions, DeviceIndexTooLargeForIntIsAGantryError) {
  // std::stoi threw std::out_of_range, which no caller turned into a message naming the option.
  EXPECT_TRUE(throws_error_mentioning([] { Device::parse("cuda:99999999999"); }, {"cuda:99999999999"}));
  EXPECT_TRUE(throws_error_mentioning([] { mog::parse_available_device("cuda:99999999999"); }, {"--device"}));
  EXPECT_EQ(Device::parse("cuda:7").index, 7);
}

TEST(ParserRegressions, MetricsWithoutFinalEvaluationNameTheFile) {
  const nlohmann::json no_final = nlohmann::json::parse(R"({"finaldes": 4, "seed": 0, "step": 6})");
  EXPECT_TRUE(throws_error_mentioning([&] { mog::parse_mog_run_metrics(no_final, "r/metrics.json"); },
                                      {"r/metrics.json", "'final'"}));
  const nlohmann::json finished_not_bool = nlohmann::json::parse(R"({"finished":"yes","step":5})");
  EXPECT_TRUE(throws_error_mentioning([&] { mog::parse_mog_run_metrics(finished_not_bool, "r/metrics.json"); },
                                      {"r/metrics.json", "'finished'"}));
  EXPECT_TRUE(throws_error_mentioning([] { mog::parse_mog_run_metrics(nlohmann::json::array(), "r/metrics.json"); },
                                      {"r/metrics.json", "object"}));
  const nlohmann::json huge_step = nlohmann::json::parse(
      R"({"finished":true,"step":1e300,"final":{"high_quality_percent":1,"modes_recovered_percent":2,"within_mode_std":3}})");
  EXPECT_TRUE(throws_error_mentioning([&] { mog::parse_mog_run_metrics(huge_step, "r/metrics.json"); },
                                      {"r/metrics.json", "'step'"}));
}

TEST(ParserRegressions, MetricsOfAFinishedRunAreRead) {
  const nlohmann::json j = nlohmann::json::parse(
      R"({"finished":true,"step":5,"final":{"high_quality_percent":1.5,"modes_recovered_percent":2,"within_mode_std":0.25}})");
  const mog::MogRunMetrics m = mog::parse_mog_run_metrics(j, "metrics.json");
  EXPECT_TRUE(m.finished);
  EXPECT_EQ(m.step, 5);
  EXPECT_EQ(m.high_quality_percent, 1.5);
  EXPECT_EQ(m.modes_recovered_percent, 2);
  EXPECT_EQ(m.within_mode_std, 0.25);
}

TEST(ParserRegressions, LogRecordsWithANonIntegerStepNameTheFile) {
  // A string step escaped as nlohmann's type_error; a float step far outside int64 was undefined
  // behaviour (on x86 it became INT64_MIN, so the record was kept as if from before the resume).
  EXPECT_TRUE(throws_error_mentioning([] { train::keep_log_records("{\"step\":\"3\"}\n", 5, "r/log.jsonl"); },
                                      {"r/log.jsonl", "line 1", "'step'"}));
  EXPECT_TRUE(throws_error_mentioning(
      [] {
        train::keep_log_records("{\"step\":1}\n{\"d_loss\":1.84,\"step\":184467440737095516153}\n", 5, "r/log.jsonl");
      },
      {"r/log.jsonl", "line 2", "'step'"}));
  const auto kept = train::keep_log_records("{\"step\":1}\n{\"eval\":{}}\n{\"step\":9}\n{\"step\":2", 5, "r/log.jsonl");
  EXPECT_EQ(kept.lines, (std::vector<std::string>{"{\"step\":1}", "{\"eval\":{}}"}));
}

// A valid checkpoint of small MoG models with its run-state metadata replaced.
io::TensorFile checkpoint_with_run_state(gantry::testing::SmallMogRun& run, const std::string& run_state) {
  io::TensorFile file = run.checkpoint(7);
  file.metadata["gantry_run_state"] = run_state;
  return file;
}

TEST(ParserRegressions, CheckpointRejectsStepOutsideInt64) {
  gantry::testing::SmallMogRun run;
  const auto file = checkpoint_with_run_state(
      run,
      R"({"format":"gantry-gan-run-state-v1","step":1e300,"rng_seed":"1","rng_offset":"2","policy":{"k":50,"generator_steps":1}})");
  EXPECT_TRUE(throws_error_mentioning([&] { train::restore_checkpoint(file, "c.safetensors", run.state); },
                                      {"c.safetensors", "'step'"}));
}

TEST(ParserRegressions, CheckpointRejectsRngStateThatIsNotADecimalUint64) {
  gantry::testing::SmallMogRun run;
  for (const char* seed : {"-1", " 1", "1x", "99999999999999999999", ""}) {
    const auto file =
        checkpoint_with_run_state(run, std::string(R"({"format":"gantry-gan-run-state-v1","step":3,"rng_seed":")") +
                                           seed + R"(","rng_offset":"2","policy":{"k":50,"generator_steps":1}})");
    EXPECT_TRUE(throws_error_mentioning([&] { train::restore_checkpoint(file, "c.safetensors", run.state); },
                                        {"c.safetensors", "rng_seed"}))
        << "seed '" << seed << "'";
  }
  const auto good = checkpoint_with_run_state(
      run,
      R"({"format":"gantry-gan-run-state-v1","step":3,"rng_seed":"18446744073709551615","rng_offset":"2","policy":{"k":50,"generator_steps":1}})");
  EXPECT_EQ(train::restore_checkpoint(good, "c.safetensors", run.state), 3);
  EXPECT_EQ(run.rng.seed(), 18446744073709551615ull);
  EXPECT_EQ(run.rng.offset(), 2u);
}

}  // namespace
}  // namespace gantry
