// Reading NumPy .npz archives: files numpy.savez and savez_compressed wrote
// (tests/golden/make_torch_checkpoint_fixtures.py) against their expected values, round trips through
// save_npz (pytorch-fid's statistics shapes among them), and the clear errors of bad members.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "engine/io/atomic_file.h"
#include "engine/io/npz.h"
#include "engine/io/safetensors.h"
#include "engine/io/zip_archive.h"
#include "engine/ops/ops.h"
#include "tests/support/error_matchers.h"
#include "tests/support/temp_folder.h"
#include "tests/support/test_util.h"

namespace gantry {
namespace {

namespace fs = std::filesystem;
using testing::throws_error_mentioning;
using Arrays = std::vector<std::pair<std::string, Tensor>>;

const std::string kData = GANTRY_TEST_DATA_DIR;

::testing::AssertionResult same_arrays(const Arrays& actual, const Arrays& expected) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure() << actual.size() << " arrays vs " << expected.size();
  for (size_t i = 0; i < actual.size(); ++i) {
    const auto& [name, a] = actual[i];
    const Tensor e = expected[i].second.contiguous();
    if (name != expected[i].first)
      return ::testing::AssertionFailure() << "name " << name << " vs " << expected[i].first;
    if (a.dtype() != e.dtype() || a.shape() != e.shape())
      return ::testing::AssertionFailure() << name << ": " << dtype_name(a.dtype()) << shape_str(a.shape()) << " vs "
                                           << dtype_name(e.dtype()) << shape_str(e.shape());
    if (!a.is_contiguous()) return ::testing::AssertionFailure() << name << " is not contiguous";
    if (a.nbytes() > 0 && std::memcmp(a.raw_data(), e.raw_data(), a.nbytes()) != 0)
      return ::testing::AssertionFailure() << name << ": values differ";
  }
  return ::testing::AssertionSuccess();
}

Arrays expected_arrays() {
  Arrays out;
  for (const auto& [name, t] : io::load_safetensors(kData + "/torch_checkpoint_expected.safetensors").tensors)
    if (name.starts_with("npz.")) out.emplace_back(name.substr(4), t);
  return out;
}

TEST(NpzRead, NumpySavezMatchesTheExpectedValues) {
  const Arrays expected = expected_arrays();
  ASSERT_EQ(expected.size(), 9u);
  EXPECT_TRUE(same_arrays(io::load_npz(kData + "/npz_savez.npz"), expected));
}

TEST(NpzRead, NumpySavezCompressedMatchesTheExpectedValues) {
  EXPECT_TRUE(same_arrays(io::load_npz(kData + "/npz_savez_compressed.npz"), expected_arrays()));
}

TEST(NpzRead, FortranOrderArrayComesBackInCOrder) {
  const Arrays arrays = io::load_npz(kData + "/npz_savez.npz");
  const Tensor& f = arrays[6].second;
  ASSERT_EQ(arrays[6].first, "fortran");
  EXPECT_EQ(f.shape(), (Shape{3, 4, 2}));
  // Element [1][2][1] of the expected C-order array, read directly.
  const Tensor e = expected_arrays()[6].second;
  EXPECT_EQ(f.data_ptr<float>()[1 * 8 + 2 * 2 + 1], e.data_ptr<float>()[1 * 8 + 2 * 2 + 1]);
}

TEST(NpzRead, RoundTripsThroughSaveNpz) {
  testing::TempFolder dir("npz_round_trip");
  fs::create_directories(dir.path());
  // pytorch-fid's statistics: mu [2048], sigma [2048, 2048], float64.
  const Tensor mu = testing::random_uniform({2048}, 11, -1, 1, DType::f64);
  const Tensor sigma = testing::random_uniform({2048, 2048}, 12, -1, 1, DType::f64);
  const Arrays stats = {{"mu", mu}, {"sigma", sigma}};
  io::save_npz(dir.sub("stats.npz"), stats);
  EXPECT_TRUE(same_arrays(io::load_npz(dir.sub("stats.npz")), stats));
  // Every dtype, a 0-d, an empty and a non-contiguous tensor.
  const Arrays all = {{"f32", testing::random_uniform({3, 4}, 1, -1, 1, DType::f32)},
                      {"i64", from_vector(std::vector<int64_t>{-5, 1LL << 50}, {2})},
                      {"u8", from_vector(std::vector<int64_t>{0, 7, 255}, {3, 1}).to(DType::u8)},
                      {"scalar", full({}, 2.5)},
                      {"empty", zeros({0, 3})},
                      {"transposed", testing::random_uniform({3, 5}, 2, -1, 1, DType::f64).t()}};
  io::save_npz(dir.sub("all.npz"), all);
  EXPECT_TRUE(same_arrays(io::load_npz(dir.sub("all.npz")), all));
  // What NumPy wrote survives a save and load by the engine.
  const Arrays numpy = io::load_npz(kData + "/npz_savez_compressed.npz");
  io::save_npz(dir.sub("again.npz"), numpy);
  EXPECT_TRUE(same_arrays(io::load_npz(dir.sub("again.npz")), numpy));
}

// ---- bad input ----

std::string npz_with_member(const std::string& member, const std::string& npy) {
  io::ZipWriter zip("test");
  zip.add_stored("good.npy", io::npy_bytes(ones({2})));
  zip.add_stored(member, npy);
  return zip.finish();
}

// A .npy file with this header text (padded as NumPy pads it) and data.
std::string npy_with_header(std::string header, const std::string& data) {
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  return out + header + data;
}

void expect_member_error(const std::string& npy, const std::vector<std::string>& fragments, const std::string& name) {
  testing::TempFolder dir("npz_bad_" + name);
  fs::create_directories(dir.path());
  const std::string path = dir.sub(name + ".npz");
  io::write_file_atomic(path, npz_with_member("bad.npy", npy));
  std::vector<std::string> all = {path, "member 'bad.npy'"};
  all.insert(all.end(), fragments.begin(), fragments.end());
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_npz(path); }, all)) << name;
}

TEST(NpzReadErrors, BadMemberHeaders) {
  const std::string eight(8, '\0');
  expect_member_error(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, }", eight), {"bad header"},
                      "unclosed_tuple");
  expect_member_error(npy_with_header("{'descr': '<f4', 'shape': (2,), }", eight), {"bad header", "lacks"}, "no_order");
  expect_member_error(npy_with_header("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", eight),
                      {"dtype '>f4' is not supported"}, "big_endian");
  expect_member_error(npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", eight),
                      {"dtype '|O'", "pickled"}, "object");
  expect_member_error(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", eight),
                      {"truncated", "needs 12 data bytes but 8"}, "short_data");
  expect_member_error(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", eight),
                      {"4 unexpected bytes after the data"}, "long_data");
  expect_member_error(
      npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4), }", eight),
      {"too large"}, "huge_shape");
  expect_member_error("\x93NUMPZ\x01\x00" + eight, {"magic"}, "magic");
  expect_member_error(std::string("\x93NUMPY\x01\x00\xff\x00{", 11), {"truncated"}, "header_past_end");
}

TEST(NpzReadErrors, NotAnNpz) {
  testing::TempFolder dir("npz_not");
  fs::create_directories(dir.path());
  const std::string text = dir.sub("text.npz");
  io::write_file_atomic(text, "hello");
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_npz(text); }, {text, "not a zip archive"}));
  const std::string other = dir.sub("other.npz");
  io::ZipWriter zip("t");
  zip.add_stored("readme.txt", "hi");
  io::write_file_atomic(other, zip.finish());
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_npz(other); }, {other, "'readme.txt' is not a .npy"}));
  // Truncated compressed archive.
  const std::string full = io::read_file(kData + "/npz_savez_compressed.npz");
  const std::string cut = dir.sub("cut.npz");
  io::write_file_atomic(cut, full.substr(0, full.size() - 40));
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_npz(cut); }, {cut, "truncated"}));
  // A deflated member's bytes corrupted: it no longer inflates (or fails its CRC).
  std::string bent = full;
  bent[60] ^= 0x5a;
  const std::string bent_path = dir.sub("bent.npz");
  io::write_file_atomic(bent_path, bent);
  EXPECT_TRUE(throws_error_mentioning([&] { (void)io::load_npz(bent_path); }, {bent_path, "corrupt"}));
}

}  // namespace
}  // namespace gantry
