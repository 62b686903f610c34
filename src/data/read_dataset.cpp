// Plain image folders, dispatch by what a path is, and the decode check.
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/bdgp.h"
#include "ishannot/data/dataset.h"
#include "ishannot/image/image.h"

namespace ishannot {
namespace fs = std::filesystem;

bool is_image_file_name(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* e : {".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".bmp"})
    if (ext == e) return true;
  return false;
}

Dataset read_dataset(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) {
    const std::string why = describe_unreadable(path);
    throw file_error(path, why == "no such file" ? "no such file or folder" : why);
  }
  if (!fs::is_directory(status)) return read_manifest(path);
  if (is_bdgp_table_folder(path)) {
    BdgpReadParams params;
    if (fs::is_directory(fs::path(path) / "images"))
      params.image_folder = (fs::path(path) / "images").string();
    return read_bdgp_tables(path, params);
  }
  if (fs::is_regular_file(fs::path(path) / "images.csv"))
    return read_manifest((fs::path(path) / "images.csv").string());
  return read_image_folder(path);
}

Dataset drop_unreadable_images(const Dataset& dataset, const Reporter& reporter) {
  Dataset out = dataset;
  out.images.clear();
  const int64_t total = static_cast<int64_t>(dataset.images.size());
  int64_t done = 0;
  for (const auto& im : dataset.images) {
    // Whatever goes wrong with one image (a decoder's own exception, memory for an absurd size)
    // counts it as unreadable; the check goes on.
    std::string problem;
    try {
      if (im.path.empty()) throw Error(im.id + ": no image file (metadata-only dataset)");
      (void)read_image_bgr(im.path);
      out.images.push_back(im);
    } catch (const Error& e) {
      problem = e.what();
    } catch (const std::exception& e) {
      problem = im.path + ": cannot be decoded: " + std::string(e.what()).substr(0, 200);
    }
    if (!problem.empty()) {
      reporter.info("unreadable image: " + problem.substr(0, problem.find('\n')));
      out.add_skip("unreadable image");
    }
    reporter.report("checking images", ++done, total);
  }
  return out;
}

}  // namespace ishannot
