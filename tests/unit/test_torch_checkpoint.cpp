// PyTorch checkpoints: the fixtures torch.save wrote in both formats
// (tests/golden/make_torch_checkpoint_fixtures.py) against their expected contiguous values, the
// header and pickle of the real (truncated) FID Inception checkpoint against its key table, and the
// clear errors of truncated, corrupt and hostile files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "engine/io/torch_checkpoint.h"
#include "engine/io/zip_archive.h"
#include "tests/support/error_matchers.h"
#include "tests/support/shared_inception_folder.h"
#include "tests/support/temp_folder.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;
using testing::throws_error_mentioning;

const std::string kData = GANTRY_TEST_DATA_DIR;
const std::string kLegacy = kData + "/torch_checkpoint_legacy.pth";
const std::string kZip = kData + "/torch_checkpoint_zip.pth";
const std::string kRealName = testing::kRealTruncatedInception;
std::string inception_dir() { return testing::shared_inception_dir(); }

::testing::AssertionResult same_bytes(const Tensor& actual, const Tensor& expected) {
  if (actual.dtype() != expected.dtype())
    return ::testing::AssertionFailure() << "dtype " << dtype_name(actual.dtype()) << " vs "
                                         << dtype_name(expected.dtype());
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(actual.shape()) << " vs "
                                         << shape_str(expected.shape());
  if (!actual.is_contiguous()) return ::testing::AssertionFailure() << "not contiguous";
  const Tensor e = expected.contiguous();
  if (actual.nbytes() > 0 && std::memcmp(actual.raw_data(), e.raw_data(), actual.nbytes()) != 0)
    return ::testing::AssertionFailure() << "values differ";
  return ::testing::AssertionSuccess();
}

// The "<prefix>*" tensors of the expected-values file, prefix removed, in file order.
io::NamedTensors expected_with_prefix(const std::string& prefix) {
  io::NamedTensors out;
  for (const auto& [name, t] : io::load_safetensors(kData + "/torch_checkpoint_expected.safetensors").tensors)
    if (name.starts_with(prefix)) out.emplace_back(name.substr(prefix.size()), t);
  return out;
}

void check_fixture(const std::string& path) {
  const io::NamedTensors expected = expected_with_prefix("pth.");
  ASSERT_EQ(expected.size(), 11u);
  const io::TorchStateDict loaded = io::load_torch_checkpoint(path);
  ASSERT_EQ(loaded.size(), expected.size());
  for (size_t i = 0; i < loaded.size(); ++i) {
    EXPECT_EQ(loaded[i].first, expected[i].first);
    EXPECT_TRUE(same_bytes(loaded[i].second, expected[i].second)) << path << ": " << loaded[i].first;
  }
}

TEST(TorchCheckpoint, LegacyFormatMatchesTheExpectedValues) { check_fixture(kLegacy); }
TEST(TorchCheckpoint, ZipFormatMatchesTheExpectedValues) { check_fixture(kZip); }

TEST(TorchCheckpoint, InspectShowsViewsSharingAStorage) {
  for (const auto& [path, format] :
       {std::pair{kLegacy, io::TorchCheckpointFormat::legacy}, std::pair{kZip, io::TorchCheckpointFormat::zip}}) {
    const io::TorchCheckpointInfo info = io::inspect_torch_checkpoint(path);
    EXPECT_EQ(info.format, format) << path;
    EXPECT_EQ(info.file_size, fs::file_size(path));
    EXPECT_EQ(info.expected_file_size, info.file_size);
    ASSERT_EQ(info.tensors.size(), 11u);
    // Two views (OIHW permute, flattened transpose) of one 48-element HWIO storage.
    const io::TorchTensorInfo& conv = info.tensor("conv.weight");
    const io::TorchTensorInfo& flat = info.tensor("conv.weight_flat_t");
    EXPECT_EQ(conv.shape, (Shape{4, 2, 2, 3}));
    EXPECT_EQ(conv.strides, (Shape{1, 4, 24, 8}));
    EXPECT_EQ(flat.shape, (Shape{4, 12}));
    EXPECT_EQ(flat.strides, (Shape{1, 4}));
    EXPECT_EQ(conv.storage, flat.storage);
    EXPECT_EQ(info.storage_of(conv).numel, 48);
    EXPECT_EQ(info.storage_of(conv).type, "FloatStorage");
    EXPECT_EQ(info.storage_of(conv).location, "cpu");
    EXPECT_EQ(info.storages.size(), 10u);  // 11 tensors, the two conv views share one
    const io::TorchTensorInfo& offset = info.tensor("offset_view");
    EXPECT_EQ(offset.dtype, DType::f64);
    EXPECT_EQ(offset.storage_offset, 5);
    EXPECT_EQ(offset.strides, (Shape{4, 2}));
    EXPECT_EQ(info.storage_of(offset).numel, 20);
    EXPECT_EQ(info.tensor("fc.weight").strides, (Shape{1, 3}));
    EXPECT_EQ(info.tensor("steps").dtype, DType::i64);
    EXPECT_EQ(info.tensor("steps").shape, Shape{});
    EXPECT_EQ(info.tensor("mask").dtype, DType::u8);
    EXPECT_TRUE(info.tensor("param").requires_grad);
    EXPECT_FALSE(info.tensor("conv.bias").requires_grad);
    for (const io::TorchStorageInfo& s : info.storages) EXPECT_TRUE(s.in_file);
    for (size_t i = 1; i < info.storages.size(); ++i)
      EXPECT_LT(info.storages[i - 1].data_offset, info.storages[i].data_offset) << "storages in file order";
  }
}

TEST(TorchCheckpoint, LoadsOnlyTheNamedTensors) {
  const io::NamedTensors expected = expected_with_prefix("pth.");
  const auto expected_of = [&](const std::string& name) {
    for (const auto& [n, t] : expected)
      if (n == name) return t;
    return Tensor();
  };
  for (const std::string& path : {kLegacy, kZip}) {
    const io::TorchStateDict some = io::load_torch_tensors(path, {"fc.weight", "steps", "conv.weight"});
    ASSERT_EQ(some.size(), 3u);
    EXPECT_EQ(some[0].first, "fc.weight");
    EXPECT_EQ(some[2].first, "conv.weight");
    for (const auto& [name, t] : some) EXPECT_TRUE(same_bytes(t, expected_of(name))) << name;
    EXPECT_EQ(some[1].second.item<int64_t>(), 7);
    EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_tensors(path, {"no.such"}); },
                                        {path, "no tensor named 'no.such'"}));
  }
}

TEST(TorchCheckpoint, LoadedTensorsOwnTheirMemory) {
  // Views of one storage come back as separate tensors: writing one leaves the other alone.
  const io::TorchStateDict sd = io::load_torch_checkpoint(kZip);
  const Tensor conv = sd[0].second, flat = sd[1].second;
  const float before = flat.data_ptr<float>()[0];
  conv.data_ptr<float>()[0] = before + 100.0f;
  EXPECT_EQ(flat.data_ptr<float>()[0], before);
}

// ---- the real FID Inception checkpoint (truncated copy) ----

TEST(TorchCheckpointInception, HeaderAndPickleMatchTheKeyTable) {
  SKIP_WITHOUT_INCEPTION_FOLDER();
  const std::string path = inception_dir() + "/" + kRealName;
  const io::TorchCheckpointInfo info = io::inspect_torch_checkpoint(path);
  EXPECT_EQ(info.format, io::TorchCheckpointFormat::legacy);
  EXPECT_EQ(info.file_size, 818371u);
  EXPECT_EQ(info.expected_file_size, 95628359u);  // the real file's size
  const auto table = testing::read_tsv(inception_dir() + "/pt_inception_state_dict_keys.tsv");
  const auto refs = testing::read_tsv(kData + "/pt_inception_storage_refs.tsv");
  ASSERT_EQ(table.size(), 566u);
  ASSERT_EQ(refs.size(), 566u);
  ASSERT_EQ(info.tensors.size(), 566u);
  ASSERT_EQ(info.storages.size(), 566u);
  for (size_t i = 0; i < table.size(); ++i) {
    const io::TorchTensorInfo& t = info.tensors[i];
    const io::TorchStorageInfo& s = info.storage_of(t);
    ASSERT_EQ(table[i].size(), 4u);
    EXPECT_EQ(t.name, table[i][0]);
    EXPECT_EQ(shape_str(t.shape), table[i][1]) << t.name;
    EXPECT_EQ(shape_str(t.strides), table[i][2]) << t.name;
    EXPECT_EQ(s.type, table[i][3]) << t.name;
    EXPECT_EQ(t.dtype, table[i][3] == "LongStorage" ? DType::i64 : DType::f32) << t.name;
    ASSERT_EQ(refs[i].size(), 6u);
    EXPECT_EQ(t.name, refs[i][0]);
    EXPECT_EQ(s.key, refs[i][1]) << t.name;
    EXPECT_EQ(std::to_string(t.storage_offset), refs[i][2]) << t.name;
    EXPECT_EQ(std::to_string(s.numel), refs[i][3]) << t.name;
    EXPECT_EQ(std::to_string(t.storage), refs[i][4]) << t.name;
    EXPECT_EQ(std::to_string(s.data_offset), refs[i][5]) << t.name;
    EXPECT_EQ(s.location, "cpu");
  }
  // The first 119 storages lie inside the 818,371 bytes; the 120th is cut off.
  size_t in_file = 0;
  for (const io::TorchStorageInfo& s : info.storages) in_file += s.in_file;
  EXPECT_EQ(in_file, 119u);
  EXPECT_TRUE(info.storages[118].in_file);
  EXPECT_FALSE(info.storages[119].in_file);
  EXPECT_EQ(info.tensor("Conv2d_1a_3x3.conv.weight").strides, (Shape{1, 32, 288, 96}));
  EXPECT_EQ(info.tensor("fc.weight").strides, (Shape{1, 1008}));
}

TEST(TorchCheckpointInception, LoadingEverythingSaysTheFileIsTruncated) {
  SKIP_WITHOUT_INCEPTION_FOLDER();
  const std::string path = inception_dir() + "/" + kRealName;
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(path); },
                                      {path, "is truncated", "818371 bytes", "need 95628359"}));
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_tensors(path, {"fc.weight"}); },
                                      {path, "is truncated", "tensor 'fc.weight'"}));
}

TEST(TorchCheckpointInception, StoragesInsideTheTruncatedPartDecode) {
  SKIP_WITHOUT_INCEPTION_FOLDER();
  const std::string path = inception_dir() + "/" + kRealName;
  const std::string layer = "Mixed_6a.branch3x3dbl_1";
  const io::TorchStateDict sd = io::load_torch_tensors(
      path, {"Conv2d_1a_3x3.bn.weight", "Mixed_5c.branch5x5_2.bn.weight", "Conv2d_1a_3x3.bn.num_batches_tracked",
             layer + ".conv.weight", layer + ".bn.weight", layer + ".bn.running_var"});
  // Every readable gamma is exactly 1 and every num_batches_tracked 0 (reference doc, section 4).
  for (const size_t i : {0, 1, 4}) {
    const Tensor& g = sd[i].second;
    ASSERT_EQ(g.dtype(), DType::f32);
    for (int64_t j = 0; j < g.numel(); ++j) ASSERT_EQ(g.data_ptr<float>()[j], 1.0f) << sd[i].first;
  }
  EXPECT_EQ(sd[0].second.shape(), Shape{32});
  EXPECT_EQ(sd[2].second.dtype(), DType::i64);
  EXPECT_EQ(sd[2].second.item<int64_t>(), 0);
  // The strided OIHW weight, BatchNorm-folded in float32 and laid out OHWI, equals the folded file
  // bit for bit, which holds only when the strides are honoured.
  const Tensor w = sd[3].second, gamma = sd[4].second, var = sd[5].second;
  ASSERT_EQ(w.shape(), (Shape{64, 288, 1, 1}));
  const std::string folded = io::read_file(inception_dir() + "/folded/weights_mixed_3_tower_conv.dat");
  ASSERT_EQ(folded.size(), 64u * 288u * 4u);
  std::vector<float> expected(64 * 288);
  std::memcpy(expected.data(), folded.data(), folded.size());
  size_t mismatches = 0;
  for (int64_t o = 0; o < 64; ++o) {
    const float scale = gamma.data_ptr<float>()[o] / std::sqrt(var.data_ptr<float>()[o] + 0.001f);
    for (int64_t i = 0; i < 288; ++i)
      mismatches += w.data_ptr<float>()[o * 288 + i] * scale != expected[static_cast<size_t>(o * 288 + i)];
  }
  EXPECT_EQ(mismatches, 0u);
}

// ---- bad input ----

std::string temp_file(const testing::TempFolder& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir.path());
  const std::string path = dir.sub(name);
  io::write_file_atomic(path, bytes);
  return path;
}

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const size_t pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return pos == std::string::npos ? s : s.replace(pos, from.size(), to);
}

// The zip fixture with its data.pkl replaced (rewritten by the engine's own zip writer).
std::string zip_with_pickle(const std::string& pickle_bytes) {
  const std::string original = io::read_file(kZip);
  const io::ZipReader reader(original, kZip);
  io::ZipWriter writer("test");
  for (const io::ZipMember& m : reader.members())
    writer.add_stored(m.name, m.name.ends_with("/data.pkl") ? pickle_bytes : reader.read(m));
  return writer.finish();
}

std::string zip_pickle() {
  const std::string original = io::read_file(kZip);
  const io::ZipReader reader(original, kZip);
  return reader.read(*reader.find("torch_checkpoint_zip/data.pkl"));
}

TEST(TorchCheckpointErrors, TruncatedLegacyFileAtEveryStage) {
  testing::TempFolder dir("torch_truncated_legacy");
  const std::string full = io::read_file(kLegacy);
  const io::TorchCheckpointInfo info = io::inspect_torch_checkpoint(kLegacy);
  // In the magic, the sys_info, the state dict pickle, the key list, a storage's count, a storage's data.
  for (const size_t size :
       {size_t{1}, size_t{8}, size_t{40}, size_t{400}, static_cast<size_t>(info.storages[0].data_offset - 30),
        static_cast<size_t>(info.storages[0].data_offset - 4), static_cast<size_t>(info.storages[3].data_offset + 2),
        full.size() - 1}) {
    const std::string path = temp_file(dir, "cut_" + std::to_string(size) + ".pth", full.substr(0, size));
    EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(path); }, {path, "truncated"}))
        << "cut at " << size;
  }
  const std::string empty = temp_file(dir, "empty.pth", "");
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(empty); }, {empty, "empty"}));
  const std::string longer = temp_file(dir, "longer.pth", full + "xyz");
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(longer); },
                                      {longer, "3 unexpected bytes after the last storage"}));
}

TEST(TorchCheckpointErrors, TruncatedZipFile) {
  testing::TempFolder dir("torch_truncated_zip");
  const std::string full = io::read_file(kZip);
  for (const size_t size : {size_t{3}, size_t{100}, full.size() / 2, full.size() - 30, full.size() - 1}) {
    const std::string path = temp_file(dir, "cut_" + std::to_string(size) + ".pth", full.substr(0, size));
    EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(path); }, {path})) << "cut at " << size;
    try {
      (void)io::load_torch_checkpoint(path);
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_TRUE(msg.find("truncated") != std::string::npos ||
                  msg.find("not a PyTorch checkpoint") != std::string::npos)
          << msg;
    }
  }
}

TEST(TorchCheckpointErrors, WrongMagic) {
  testing::TempFolder dir("torch_magic");
  const std::string text = temp_file(dir, "text.pth", "hello, not a checkpoint");
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(text); },
                                      {text, "not a PyTorch checkpoint", "zip", "pickle"}));
  const std::string pickled_int = temp_file(dir, "int.pth", std::string("\x80\x02K\x05.", 5));
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(pickled_int); },
                                      {pickled_int, "not a torch.save checkpoint", "magic number"}));
  // A legacy file with a different protocol version.
  std::string legacy = io::read_file(kLegacy);
  legacy = replace_once(legacy, std::string("M\xe9\x03.", 4), std::string("M\xea\x03.", 4));  // 1001 -> 1002
  const std::string protocol = temp_file(dir, "protocol.pth", legacy);
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::inspect_torch_checkpoint(protocol); },
                                      {protocol, "protocol version is not 1001"}));
  const std::string zip_without_pickle = temp_file(dir, "other.zip", [] {
    io::ZipWriter w("t");
    w.add_stored("readme.txt", "hello");
    return w.finish();
  }());
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(zip_without_pickle); },
                                      {zip_without_pickle, "without a <name>/data.pkl"}));
}

TEST(TorchCheckpointErrors, ForeignGlobalIsRefusedByName) {
  testing::TempFolder dir("torch_foreign_global");
  // The same pickles, with the tensor rebuilder swapped for os.system: refused, never called.
  const std::string legacy = temp_file(
      dir, "legacy.pth", replace_once(io::read_file(kLegacy), "torch._utils\n_rebuild_tensor_v2\n", "os\nsystem\n"));
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::inspect_torch_checkpoint(legacy); },
                                      {legacy, "global 'os.system' is not allowed", "byte offset"}));
  const std::string zip = temp_file(
      dir, "zip.pth", zip_with_pickle(replace_once(zip_pickle(), "collections\nOrderedDict\n", "builtins\neval\n")));
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(zip); },
                                      {zip, "global 'builtins.eval' is not allowed"}));
}

TEST(TorchCheckpointErrors, CorruptPickles) {
  testing::TempFolder dir("torch_corrupt_pickle");
  const std::string pkl = zip_pickle();
  // A view that reaches past its storage: conv.bias (4 elements) given size 5.
  const std::string past = replace_once(pkl, std::string("K\x04\x85", 3), std::string("K\x05\x85", 3));
  const std::string past_path = temp_file(dir, "past.pth", zip_with_pickle(past));
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::inspect_torch_checkpoint(past_path); },
                                      {past_path, "reaches past the end of its storage"}));
  // An empty tensor whose other dimensions overflow int64: conv.bias given size (0, 2^62, 4).
  std::string huge = replace_once(pkl, std::string("K\x04\x85", 3),
                                  std::string("K\x00\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x40K\x04\x87", 15));
  huge = replace_once(huge, std::string("K\x01\x85", 3), std::string("K\x01K\x01K\x01\x87", 7));
  const std::string huge_path = temp_file(dir, "huge.pth", zip_with_pickle(huge));
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(huge_path); },
                                      {huge_path, "tensor 'conv.bias'", "is too large"}));
  // An opcode the reader does not know.
  std::string bad_op = pkl;
  bad_op[pkl.size() - 1] = '\xff';  // STOP -> 0xff
  const std::string op_path = temp_file(dir, "op.pth", zip_with_pickle(bad_op));
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(op_path); },
                                      {op_path, "unsupported pickle opcode 0xff", "byte offset"}));
  // A state dict that is a list.
  const std::string list_path = temp_file(dir, "list.pth", zip_with_pickle(std::string("\x80\x02]q\x00.", 6)));
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(list_path); },
                                      {list_path, "not a state dict", "list"}));
  // A memo entry that was never stored.
  const std::string memo_path = temp_file(dir, "memo.pth", zip_with_pickle(std::string("\x80\x02h\x07.", 5)));
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(memo_path); },
                                      {memo_path, "memo entry 7 was never stored"}));
  // A missing storage member.
  const std::string missing =
      replace_once(pkl, std::string("X\x01\x00\x00\x00", 5) + "1", std::string("X\x01\x00\x00\x00", 5) + "x");
  const std::string missing_path = temp_file(dir, "missing.pth", zip_with_pickle(missing));
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(missing_path); },
                                      {missing_path, "storage 'x' has no member"}));
}

TEST(TorchCheckpointErrors, CorruptZipDirectory) {
  testing::TempFolder dir("torch_corrupt_zip");
  const std::string full = io::read_file(kZip);
  const size_t directory = full.rfind(std::string("PK\x01\x02", 4));
  ASSERT_NE(directory, std::string::npos);
  std::string bad_signature = full;
  bad_signature[directory + 2] = 'X';
  const std::string sig_path = temp_file(dir, "signature.pth", bad_signature);
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(sig_path); },
                                      {sig_path, "wrong signature", "corrupt directory"}));
  // The last member's local header offset moved past the end of the file.
  std::string bad_offset = full;
  const uint32_t far = static_cast<uint32_t>(full.size() + 100);
  std::memcpy(bad_offset.data() + directory + 42, &far, 4);
  const std::string offset_path = temp_file(dir, "offset.pth", bad_offset);
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(offset_path); },
                                      {offset_path, "runs past the end of the archive"}));
  // A storage byte flipped: the member's CRC-32 no longer matches.
  const io::TorchCheckpointInfo info = io::inspect_torch_checkpoint(kZip);
  std::string flipped = full;
  flipped[info.storages[0].data_offset] ^= 0x40;
  const std::string crc_path = temp_file(dir, "crc.pth", flipped);
  EXPECT_TRUE(
      throws_error_mentioning([&] { (void)io::load_torch_checkpoint(crc_path); }, {crc_path, "CRC-32", "corrupt"}));
}

TEST(TorchCheckpointErrors, UnsupportedStorageTypeIsNamed) {
  testing::TempFolder dir("torch_storage_type");
  const std::string pkl = replace_once(zip_pickle(), "torch\nFloatStorage\n", "torch\nHalfStorage\n");
  const std::string path = temp_file(dir, "half.pth", zip_with_pickle(pkl));
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_torch_checkpoint(path); },
                                      {path, "storage type HalfStorage is not supported"}));
}

}  // namespace
}  // namespace gantry
