// Plain image folders with <stage>/ and <gene>/<stage>/ subfolders, and where each image's stage
// range comes from (image_folder.h).
#include "ishannot/data/image_folder.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/bdgp.h"

namespace ishannot {
namespace fs = std::filesystem;

namespace {

bool is_bare_number(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// The stage range a folder name gives, "" when it is not a stage (a gene's folder); a bare
// number is an error (BDGP's range number or a stage? the user must say).
std::string stage_of_folder(const fs::path& dir) {
  const std::string name = dir.filename().string();
  if (is_bare_number(name))
    throw file_error(dir.string(),
                     "a folder named by a bare number is ambiguous (BDGP's range "
                     "number or an embryonic stage?): rename it to the stages "
                     "(4-6, 13-16) or stageN for embryonic stage N");
  try {
    return normalise_stage_range(name, false);
  } catch (const Error&) {
    return "";
  }
}

struct FolderScan {
  std::vector<ImageRecord> images;
  Dataset* dataset;
};

// The image files directly in `dir` (sorted), with gene and stage range; subfolders are handed
// to `subfolder` (or counted as skipped when it is null).
void scan(const fs::path& dir, const std::string& gene, const std::string& stage, FolderScan& out,
          const std::function<void(const fs::path&)>& subfolder) {
  std::vector<fs::path> files, folders;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::error_code ec;
    const bool regular = e.is_regular_file(ec);
    if (ec)  // a symbolic link loop, a broken link: named, not a raw filesystem error
      out.dataset->add_skip(describe_unreadable(e.path().string()));
    else if (regular && is_image_file_name(e.path().string()))
      files.push_back(e.path());
    else if (regular)
      out.dataset->add_skip(
          "file without an image extension (png, jpg, jpeg, jpe, tif, tiff, bmp)");
    else if (e.is_directory(ec) && subfolder)
      folders.push_back(e.path());
    else if (e.is_directory(ec))
      out.dataset->add_skip("folder below <gene>/<stage>/ or <stage>/ (not searched)");
    else
      out.dataset->add_skip("not a regular file or folder");
  }
  std::sort(files.begin(), files.end());
  std::sort(folders.begin(), folders.end());
  for (const auto& p : files) {
    ImageRecord rec;
    rec.id = p.stem().string();
    rec.path = p.string();
    rec.gene = gene;
    rec.stage_range = stage;
    out.images.push_back(std::move(rec));
  }
  for (const auto& f : folders) subfolder(f);
}

}  // namespace

Dataset read_image_folder(const std::string& folder) {
  if (!fs::is_directory(folder)) throw file_error(folder, "not a folder");
  Dataset ds;
  ds.source = folder;
  FolderScan found{{}, &ds};
  scan(folder, "", "", found, [&](const fs::path& sub) {
    const std::string stage = stage_of_folder(sub);
    if (!stage.empty()) return scan(sub, "", stage, found, nullptr);
    const std::string gene = sub.filename().string();
    const size_t before = found.images.size();
    scan(sub, gene, "", found, [&](const fs::path& inner) {
      const std::string inner_stage = stage_of_folder(inner);
      if (inner_stage.empty())
        ds.add_skip("folder inside a gene's folder whose name is not a stage (not searched)");
      else
        scan(inner, gene, inner_stage, found, nullptr);
    });
    if (found.images.size() == before) ds.add_skip("folder without images");
  });
  std::map<std::string, std::string> by_id;
  for (auto& rec : found.images) {
    auto [it, fresh] = by_id.emplace(rec.id, rec.path);
    if (!fresh)
      throw file_error(
          folder, "two images share the id '" + rec.id + "': " + it->second + " and " + rec.path);
    ds.images.push_back(std::move(rec));
  }
  if (ds.images.empty())
    throw file_error(folder,
                     "no image files (png, jpg, jpeg, jpe, tif, tiff, bmp), also not in "
                     "<stage>/ or <gene>/<stage>/ subfolders");
  return ds;
}

std::string stage_origin_of(const std::string& path) {
  if (!fs::is_directory(path)) return "manifest";
  if (is_bdgp_table_folder(path)) return "BDGP tables";
  if (fs::is_regular_file(fs::path(path) / "images.csv")) return "manifest";
  return "folder";
}

StageAssignment assign_stages(Dataset& dataset, const std::string& origin,
                              const StageInputs& inputs) {
  StageAssignment out;
  std::string stage;
  if (!inputs.stage.empty()) {
    const StageMeaning m = parse_stage(inputs.stage);
    stage = m.stage_range;
    out.stage_explanation = m.explanation;
  }
  std::map<std::pair<int, std::string>, int64_t> counts;  // (stage order, origin)
  int64_t filled = 0;
  for (auto& im : dataset.images) {
    std::string from = im.stage_range.empty() ? "" : origin;
    if (im.stage_range.empty() && !stage.empty()) {
      im.stage_range = stage;
      from = "--stage";
      ++filled;
    }
    if (im.gene.empty() && !inputs.gene.empty()) {
      im.gene = inputs.gene;
      ++out.genes_from_option;
    }
    if (im.gene.empty()) ++out.without_gene;
    ++counts[{stage_order(im.stage_range), from}];
  }
  for (const auto& [key, n] : counts)
    out.counts.push_back(
        {key.first == 0 ? "" : stage_range_names()[static_cast<size_t>(key.first - 1)], key.second,
         n});
  const auto total = static_cast<int64_t>(dataset.images.size());
  if (filled > 1 && origin == "folder")
    out.warnings.push_back(
        "--stage " + inputs.stage + " applied to " +
        (filled == total ? "the whole folder (" + std::to_string(filled) + " images)"
                         : std::to_string(filled) + " of " + std::to_string(total) + " images") +
        ": if their stages differ, the calls of the wrong range are wrong; sort them into "
        "<stage>/ subfolders (e.g. 4-6/, 13-16/) or give a manifest (docs/DATA.md)");
  if (!stage.empty() && filled == 0)
    out.warnings.push_back("--stage " + inputs.stage +
                           " not used: every image's stage range "
                           "comes from the " +
                           origin);
  if (!inputs.gene.empty() && out.genes_from_option == 0)
    out.warnings.push_back("--gene " + inputs.gene +
                           " not used: every image's gene comes from "
                           "the " +
                           origin);
  return out;
}

std::string stage_assignment_text(const StageAssignment& a) {
  std::ostringstream s;
  for (const auto& c : a.counts) {
    const std::string range = c.stage_range.empty() ? "(none)" : c.stage_range;
    s << "  " << range << std::string(range.size() < 8 ? 8 - range.size() : 1, ' ') << c.images
      << " images  from " << (c.origin.empty() ? "nowhere: give --stage" : c.origin);
    if (c.origin == "--stage" && !a.stage_explanation.empty())
      s << " (" << a.stage_explanation << ")";
    s << "\n";
  }
  return s.str();
}

std::string describe_images(const Dataset& dataset, const std::string& origin) {
  std::map<int, std::pair<int64_t, std::set<std::string>>> by_stage;  // images, genes
  int64_t without_gene = 0;
  std::set<std::string> genes;
  for (const auto& im : dataset.images) {
    auto& slot = by_stage[stage_order(im.stage_range)];
    ++slot.first;
    slot.second.insert(im.gene);
    if (im.gene.empty()) ++without_gene;
    genes.insert(im.gene);
  }
  std::ostringstream s;
  s << dataset.source << ": " << dataset.images.size() << " images (" << origin << "), "
    << genes.size() - (without_gene > 0 ? 1 : 0) << " genes named\n";
  s << "  stage range  images  genes  stage range from\n";
  for (const auto& [order, slot] : by_stage) {
    const std::string range =
        order == 0 ? "(none)" : stage_range_names()[static_cast<size_t>(order - 1)];
    const size_t named = slot.second.size() - (slot.second.count("") ? 1 : 0);
    s << "  " << range << std::string(13 - std::min<size_t>(12, range.size()), ' ') << slot.first
      << std::string(8 - std::min<size_t>(7, std::to_string(slot.first).size()), ' ') << named
      << std::string(7 - std::min<size_t>(6, std::to_string(named).size()), ' ')
      << (order == 0 ? "nowhere: annotate needs --stage (or <stage>/ subfolders)" : origin) << "\n";
  }
  if (without_gene > 0)
    s << "  " << without_gene
      << " images without a gene: annotate groups them under gene '' unless --gene NAME (or "
         "<gene>/ subfolders)\n";
  for (const auto& skip : dataset.skipped)
    s << "  skipped " << skip.count << ": " << skip.reason << "\n";
  return s.str();
}

}  // namespace ishannot
