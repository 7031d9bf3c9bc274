// safetensors round trips and the clear errors for every kind of corrupt file.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "tests/support/test_util.h"

namespace gantry {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("gantry_st_" + std::to_string(::getpid()) + "_" + name)).string();
}

io::NamedTensors sample_tensors() {
  return {{"layer.weight", testing::random_uniform({3, 4}, 1, -1, 1, DType::f32)},
          {"layer.bias", testing::random_uniform({4}, 2, -1, 1, DType::f64)},
          {"step", from_vector(std::vector<int64_t>{7, -3}, {2})},
          {"mask", testing::random_uniform({5}, 3, 0, 200, DType::f64).to(DType::u8)},
          {"empty", zeros({0, 3})}};
}

// The header JSON of a serialised file and a rebuilt file with a replaced header.
std::string header_of(const std::string& bytes) {
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  return bytes.substr(8, n);
}
std::string with_header(const std::string& bytes, const std::string& header) {
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  std::string out(8, '\0');
  const uint64_t m = header.size();
  std::memcpy(out.data(), &m, 8);
  return out + header + bytes.substr(8 + n);
}
std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const size_t pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return s.replace(pos, from.size(), to);
}

void expect_error_containing(const std::string& bytes, const std::string& needle) {
  try {
    (void)io::parse_safetensors(bytes, "corrupt.safetensors");
    ADD_FAILURE() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Safetensors, RoundTripKeepsOrderValuesAndMetadata) {
  const io::NamedTensors in = sample_tensors();
  const std::string path = temp_path("roundtrip.safetensors");
  io::save_safetensors(path, in, {{"format", "pt"}, {"step", "12"}});
  const io::TensorFile out = io::load_safetensors(path);
  std::filesystem::remove(path);
  ASSERT_EQ(out.tensors.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out.tensors[i].first, in[i].first);
    EXPECT_EQ(out.tensors[i].second.dtype(), in[i].second.dtype());
    EXPECT_EQ(out.tensors[i].second.shape(), in[i].second.shape());
  }
  EXPECT_EQ(to_vector<float>(out.at("layer.weight")), to_vector<float>(in[0].second));
  EXPECT_EQ(to_vector<double>(out.at("layer.bias")), to_vector<double>(in[1].second));
  EXPECT_EQ(to_vector<int64_t>(out.at("step")), (std::vector<int64_t>{7, -3}));
  EXPECT_EQ(to_vector<uint8_t>(out.at("mask")), to_vector<uint8_t>(in[3].second));
  EXPECT_EQ(out.metadata.at("step"), "12");
  EXPECT_THROW(out.at("missing"), Error);
}

TEST(Safetensors, NonContiguousViewIsSavedByValue) {
  const Tensor base = testing::random_uniform({4, 3}, 5, -1, 1, DType::f64);
  const Tensor t = base.t();
  const io::TensorFile f = io::parse_safetensors(io::serialize_safetensors({{"t", t}}));
  EXPECT_EQ(f.at("t").shape(), (Shape{3, 4}));
  EXPECT_EQ(to_vector<double>(f.at("t")), to_vector<double>(t.contiguous()));
}

TEST(Safetensors, HeaderIsAlignedAndReadableByOtherTools) {
  const std::string bytes = io::serialize_safetensors(sample_tensors());
  const std::string h = header_of(bytes);
  EXPECT_EQ(h.size() % 8, 0u);
  EXPECT_NE(h.find("\"layer.weight\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,48]}"), std::string::npos)
      << h;
}

TEST(Safetensors, DuplicateNamesAreRejected) {
  const Tensor t = ones({2});
  EXPECT_THROW(io::serialize_safetensors({{"a", t}, {"a", t}}), Error);
}

TEST(Safetensors, TruncatedFilesGiveClearErrors) {
  const std::string bytes = io::serialize_safetensors(sample_tensors());
  expect_error_containing(bytes.substr(0, 5), "truncated");
  expect_error_containing(bytes.substr(0, 8 + header_of(bytes).size() / 2), "truncated");
  expect_error_containing(bytes.substr(0, bytes.size() - 3), "truncated");
  expect_error_containing(bytes + "xyz", "data section");
  // Every prefix either parses as the full file or throws gantry::Error; none crashes.
  for (size_t n = 0; n < bytes.size(); n += 7) EXPECT_THROW(io::parse_safetensors(bytes.substr(0, n)), Error);
}

TEST(Safetensors, CorruptHeadersGiveClearErrors) {
  const std::string bytes = io::serialize_safetensors(sample_tensors());
  const std::string h = header_of(bytes);
  std::string huge = bytes;
  const uint64_t big = uint64_t{1} << 40;
  std::memcpy(huge.data(), &big, 8);
  expect_error_containing(huge, "header length");
  expect_error_containing(with_header(bytes, "{not json"), "not valid JSON");
  expect_error_containing(with_header(bytes, "[1,2]"), "not a JSON object");
  expect_error_containing(with_header(bytes, replace_once(h, "\"F64\"", "\"BF16\"")), "unsupported dtype 'BF16'");
  expect_error_containing(with_header(bytes, replace_once(h, "[3,4]", "[3,5]")), "does not match shape");
  expect_error_containing(with_header(bytes, replace_once(h, "[3,4]", "[3,-4]")), "non-negative");
  expect_error_containing(with_header(bytes, replace_once(h, "\"data_offsets\":[0,48]", "\"data_offsets\":[48,0]")),
                          "end < begin");
  expect_error_containing(with_header(bytes, replace_once(h, "\"shape\":[3,4],", "")), "'shape'");
  expect_error_containing(with_header(bytes, replace_once(h, "\"dtype\":\"F32\",", "")), "'dtype'");
}

TEST(Safetensors, OverlappingAndGappedOffsetsAreRejected) {
  const io::NamedTensors two = {{"a", ones({2})}, {"b", full({2}, 3.0)}};
  const std::string bytes = io::serialize_safetensors(two);
  const std::string h = header_of(bytes);
  // b claims a's bytes: both start at 0.
  expect_error_containing(with_header(bytes, replace_once(h, "[8,16]", "[0,8]")), "overlap");
  // a gap: b starts at 12 (its length stays consistent only with a bigger file; the gap is caught first).
  std::string gapped = with_header(bytes + std::string(4, '\0'), replace_once(h, "[8,16]", "[12,20]"));
  expect_error_containing(gapped, "gap");
}

TEST(AtomicFile, ReplacesContentAndLeavesNoTemporary) {
  const std::string path = temp_path("atomic.bin");
  io::write_file_atomic(path, "first version");
  io::write_file_atomic(path, std::string("second\0version", 14));
  EXPECT_EQ(io::read_file(path), std::string("second\0version", 14));
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()))
    EXPECT_EQ(entry.path().string().find(path + ".tmp"), std::string::npos);
  std::filesystem::remove(path);
  EXPECT_THROW(io::read_file(path), Error);
  EXPECT_THROW(io::write_file_atomic("/nonexistent-dir/x.bin", "data"), Error);
}

}  // namespace
}  // namespace gantry
