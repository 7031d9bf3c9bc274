// Writes the seed corpus of every harness (tests/fuzz/corpus/<harness>/): files the engine itself
// makes (a tiny real `mog train` run, safetensors and .npz of every dtype), the torch.save and NumPy
// fixtures of tests/data, plus hand-made edge cases. Run from the repository root after changing a
// file format:
//   build-fuzz/tests/fuzz/make_seed_corpus tests/fuzz/corpus
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "engine/io/atomic_file.h"
#include "engine/io/npz.h"
#include "engine/io/safetensors.h"
#include "engine/io/zip_archive.h"
#include "engine/ops/ops.h"
#include "train/mog/mog_config.h"
#include "train/mog/mog_experiment.h"

namespace {

namespace fs = std::filesystem;
using namespace gantry;

void put(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  io::write_file_atomic((dir / name).string(), bytes);
}

std::string u64_le(uint64_t v) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &v, 8);
  return out;
}

// A safetensors file with this header text and data bytes (no alignment padding, as hand-made).
std::string raw_safetensors(const std::string& header, const std::string& data = "") {
  return u64_le(header.size()) + header + data;
}

void safetensors_seeds(const fs::path& dir) {
  const io::NamedTensors all_dtypes = {{"weight", from_vector(std::vector<float>{1, -2, 3.5f, 0, 1e-3f, -7}, {2, 3})},
                                       {"bias", from_vector(std::vector<double>{0.25, -0.5}, {2})},
                                       {"index", from_vector(std::vector<int64_t>{0, 5, -3}, {3, 1})},
                                       {"mask", ones({4}, DType::u8)},
                                       {"scalar", full({}, 2.0)},
                                       {"empty", zeros({0, 3})}};
  put(dir, "all_dtypes.safetensors", io::serialize_safetensors(all_dtypes, {{"format", "pt"}, {"note", "seed"}}));
  put(dir, "one_tensor.safetensors", io::serialize_safetensors({{"x", ones({1})}}));
  put(dir, "no_tensors.safetensors", io::serialize_safetensors({}, {{"only", "metadata"}}));
  // Hand-made: rejected in different places.
  put(dir, "short.bin", std::string("\x10\0\0", 3));
  put(dir, "header_too_long.bin", u64_le(~uint64_t{0}) + "{}");
  put(dir, "header_past_end.bin", u64_le(64) + "{}");
  put(dir, "not_an_object.bin", raw_safetensors("[1,2]"));
  put(dir, "bad_dtype.bin", raw_safetensors(R"({"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}})", "xx"));
  put(dir, "overlap.bin",
      raw_safetensors(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                      R"("b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})",
                      "abc"));
  put(dir, "gap.bin", raw_safetensors(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", "ab"));
  put(dir, "huge_shape.bin",
      raw_safetensors(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", "12345678"));
  put(dir, "zero_dim_huge_shape.bin",
      raw_safetensors(R"({"a":{"dtype":"F32","shape":[0,18446744073709551615],"data_offsets":[0,0]}})"));
  put(dir, "metadata_not_string.bin", raw_safetensors(R"({"__metadata__":{"k":1}})"));
  put(dir, "zero_dim_strides_overflow.bin",
      raw_safetensors(R"({"a":{"dtype":"F32","shape":[0,4611686018427387904,4],"data_offsets":[0,0]}})"));
}

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const size_t pos = s.find(from);
  if (pos == std::string::npos) throw std::runtime_error("seed corpus: '" + from + "' not found");
  return s.replace(pos, from.size(), to);
}

// The torch.save fixtures (legacy and zip), cut and bent in the places the reader checks.
void torch_checkpoint_seeds(const fs::path& dir, const fs::path& data) {
  const std::string legacy = io::read_file((data / "torch_checkpoint_legacy.pth").string());
  const std::string zip = io::read_file((data / "torch_checkpoint_zip.pth").string());
  put(dir, "legacy.pth", legacy);
  put(dir, "zip.pth", zip);
  put(dir, "legacy_cut_in_pickle.bin", legacy.substr(0, 300));
  put(dir, "legacy_cut_in_storages.bin", legacy.substr(0, legacy.size() - 20));
  put(dir, "legacy_os_system.bin", replace_once(legacy, "torch._utils\n_rebuild_tensor_v2\n", "os\nsystem\n"));
  put(dir, "legacy_trailing_bytes.bin", legacy + "junk");
  put(dir, "zip_cut.bin", zip.substr(0, zip.size() / 2));
  // The zip fixture's members rewritten by the engine's writer (no alignment padding).
  const io::ZipReader reader(zip, "zip.pth");
  io::ZipWriter rewritten("seed");
  for (const io::ZipMember& m : reader.members()) rewritten.add_stored(m.name, reader.read(m));
  put(dir, "zip_rewritten.pth", rewritten.finish());
  // Hand-made pickles: the magic alone, a list, an unknown opcode.
  put(dir, "magic_only.bin", std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15));
  put(dir, "pickled_list.bin", std::string("\x80\x02]q\x00(K\x01K\x02e.", 12));
  put(dir, "unknown_opcode.bin", std::string("\x80\x02\xff.", 4));
}

// .npz archives the engine writes and NumPy wrote, and .npy members with edge-case headers.
void npz_seeds(const fs::path& dir, const fs::path& data) {
  put(dir, "savez.npz", io::read_file((data / "npz_savez.npz").string()));
  put(dir, "savez_compressed.npz", io::read_file((data / "npz_savez_compressed.npz").string()));
  const std::vector<std::pair<std::string, Tensor>> all_dtypes = {
      {"f32", from_vector(std::vector<float>{1, -2, 3.5f, 0, 1e-3f, -7}, {2, 3})},
      {"f64", from_vector(std::vector<double>{0.25, -0.5}, {2})},
      {"i64", from_vector(std::vector<int64_t>{0, 5, -3}, {3, 1})},
      {"u8", ones({4}, DType::u8)},
      {"scalar", full({}, 2.0)},
      {"empty", zeros({0, 3})}};
  io::ZipWriter zip("seed");
  for (const auto& [name, t] : all_dtypes) zip.add_stored(name + ".npy", io::npy_bytes(t));
  put(dir, "engine_all_dtypes.npz", zip.finish());
  put(dir, "one.npy", io::npy_bytes(all_dtypes[0].second));
  std::string fortran = io::npy_bytes(all_dtypes[0].second);
  fortran = replace_once(fortran, "'fortran_order': False", "'fortran_order': True ");
  put(dir, "fortran.npy", fortran);
  put(dir, "bad_header.npy", replace_once(io::npy_bytes(all_dtypes[1].second), "(2,)", "(2, "));
  put(dir, "object.npy", replace_once(io::npy_bytes(all_dtypes[1].second), "'<f8'", "'|O' "));
}

// A tiny real training run (top-k, so the checkpoint carries a schedule), in a scratch folder.
mog::MogTrainConfig tiny_run_config(const fs::path& out) {
  mog::MogTrainConfig c;
  c.modes = 4;
  c.steps = 6;
  c.batch = 64;  // the checkpoint harness restores into a top-k policy of batch 64 and nu 48
  c.selection = mog::BatchSelection::top_k;
  c.nu = "0.75";
  c.decay_every = 2;
  c.eval_every = 3;
  c.eval_samples = 200;
  c.log_every = 1;
  c.checkpoint_every = 3;
  c.out = out.string();
  return c;
}

void run_folder_seeds(const fs::path& corpus) {
  const fs::path run = fs::temp_directory_path() / ("gantry_seed_run_" + std::to_string(::getpid()));
  fs::remove_all(run);
  mog::MogRunOptions options;
  options.write_samples_png = false;
  mog::run_mog_training(tiny_run_config(run), options);

  const fs::path config_dir = corpus / "fuzz_mog_config";
  put(config_dir, "topk_run.json", io::read_file((run / mog::kConfigFile).string()));
  mog::MogTrainConfig coreset = tiny_run_config(run);
  coreset.selection = mog::BatchSelection::bottom_k;
  coreset.topk_target = "gd";
  coreset.nu = "12";
  coreset.coreset_prior = coreset.coreset_data = coreset.anneal = true;
  coreset.loss = "hinge";
  coreset.device = "cuda:0";
  put(config_dir, "bottomk_coreset.json", coreset.to_json().dump(2) + "\n");
  put(config_dir, "defaults_compact.json", mog::MogTrainConfig{}.to_json().dump());
  // Hand-made: the written config with one field changed.
  const auto changed = [&](const std::string& key, const nlohmann::json& value) {
    nlohmann::json j = tiny_run_config(run).to_json();
    j[key] = value;
    return j.dump(2) + "\n";
  };
  put(config_dir, "float_modes.json", changed("modes", 25.0));
  put(config_dir, "huge_modes.json", changed("modes", int64_t{9223372036854775807}));
  put(config_dir, "huge_float_log_every.json", changed("log_every", -9.223372036854775808e21));
  put(config_dir, "negative_seed.json", changed("seed", -1));
  put(config_dir, "threads_wrap_to_one.json", changed("threads", int64_t{4294967297}));
  put(config_dir, "device_index_too_large.json", changed("device", "cuda:99999999999"));

  const fs::path metrics_dir = corpus / "fuzz_run_metrics";
  put(metrics_dir, "finished_run.json", io::read_file((run / mog::kMetricsFile).string()));
  put(metrics_dir, "minimal.json",
      R"({"finished":true,"step":5,"final":{"high_quality_percent":1,"modes_recovered_percent":2,"within_mode_std":0.1}})");
  put(metrics_dir, "not_an_object.json", "[true, 5]");
  put(metrics_dir, "finished_not_bool.json", R"({"finished":"yes","step":5})");
  put(metrics_dir, "no_final.json", R"({"finaldes": 4, "seed": 0, "step": 6})");
  put(metrics_dir, "huge_step.json",
      R"({"finished":true,"step":1e300,"final":{"high_quality_percent":1,"modes_recovered_percent":2,"within_mode_std":3}})");

  const fs::path log_dir = corpus / "fuzz_run_log";
  const std::string log = io::read_file((run / mog::kLogFile).string());
  put(log_dir, "resume_at_3.bin", u64_le(3) + log);
  put(log_dir, "resume_at_0_torn.bin", u64_le(0) + log + R"({"step":7,"critic_lo)");
  put(log_dir, "step_not_integer.bin", u64_le(5) + "{\"step\":\"3\"}\n{\"step\":2.5}\n");
  put(log_dir, "step_huge_float.bin", u64_le(5) + "{\"step\":1}\n{\"d_loss\":1.84,\"step\":184467440737095516153}\n");

  const fs::path state_dir = corpus / "fuzz_checkpoint_run_state";
  const io::TensorFile checkpoint = io::load_safetensors((run / mog::kCheckpointFile).string());
  put(state_dir, "topk_run.json", checkpoint.metadata.at("gantry_run_state"));
  put(state_dir, "huge_step.json",
      R"({"format":"gantry-gan-run-state-v1","step":1e300,"rng_seed":"1","rng_offset":"2","policy":{"k":50,"generator_steps":1}})");
  put(state_dir, "bad_rng.json",
      R"({"format":"gantry-gan-run-state-v1","step":1,"rng_seed":"-1","rng_offset":"99999999999999999999","policy":{}})");
  fs::remove_all(run);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seed_corpus CORPUS_DIR (tests/fuzz/corpus)\n");
    return 2;
  }
  try {
    const fs::path corpus = argv[1];
    safetensors_seeds(corpus / "fuzz_safetensors");
    fs::path corpus_dir = fs::absolute(corpus);
    if (!corpus_dir.has_filename()) corpus_dir = corpus_dir.parent_path();  // a trailing '/'
    const fs::path data = corpus_dir.parent_path().parent_path() / "data";  // tests/data
    torch_checkpoint_seeds(corpus / "fuzz_torch_checkpoint", data);
    npz_seeds(corpus / "fuzz_npz", data);
    run_folder_seeds(corpus);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_seed_corpus: %s\n", e.what());
    return 1;
  }
  return 0;
}
