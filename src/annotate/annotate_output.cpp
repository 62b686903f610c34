// The output folder of an annotate run (detail/annotate_output.h): partial files, progress record,
// resume, groups.tsv, contact sheets, renames.
#include "annotate/annotate_output.h"
#include "detail/tsv.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "ishannot/annotate/heatmap.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/common/output_columns.h"
#include "ishannot/data/dataset.h"
#include "ishannot/image/image.h"

namespace ishannot::detail {

namespace fs = std::filesystem;

namespace {

const std::string kAnnotationsHeader = tsv_header(OutputKind::kAnnotate, "annotations.tsv");
const std::string kIndexHeader = tsv_header(OutputKind::kAnnotate, "heatmaps/index.tsv");
const std::string kSkippedHeader = tsv_header(OutputKind::kAnnotate, "skipped.tsv");
const size_t kAnnotationColumns = column_names(OutputKind::kAnnotate, "annotations.tsv").size();
constexpr int kSheetTileWidth = 240;  // pixels per image on a contact sheet

// An overlay at contact-sheet size (empty for an empty overlay).
cv::Mat sheet_thumbnail(const cv::Mat& overlay) {
  cv::Mat thumbnail;
  if (!overlay.empty())
    cv::resize(overlay, thumbnail,
               {kSheetTileWidth, std::max(1, overlay.rows * kSheetTileWidth / overlay.cols)}, 0, 0,
               cv::INTER_AREA);
  return thumbnail;
}

// The thumbnail of a heat map written by an earlier (resumed) run: the overlay is the figure's
// top-left corner of the image's size (heatmap_figure); the whole figure when the image cannot
// be read any more.
cv::Mat resumed_thumbnail(const std::string& figure_file, const std::string& image_path) {
  const cv::Mat figure = read_image_bgr(figure_file);
  cv::Mat image;
  try {
    if (!image_path.empty()) image = read_image_bgr(image_path);
  } catch (const Error&) {
  }
  if (image.empty() || image.cols > figure.cols || image.rows > figure.rows)
    return sheet_thumbnail(figure);
  return sheet_thumbnail(figure(cv::Rect(0, 0, image.cols, image.rows)));
}

// The rows of a partial TSV of the interrupted run (cut back to its last checkpoint: whole rows),
// through the shared reader; none when the run never created the file.
std::vector<std::vector<std::string>> read_rows(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  if (!fs::exists(path)) return rows;
  detail::TsvReader reader(path);
  while (reader.next()) rows.push_back(reader.cells());
  return rows;
}

void open_append(std::ofstream& out, const std::string& path) {
  out.open(path, std::ios::app);
  if (!out) throw file_error(path, "cannot open for writing");
}

}  // namespace

std::string optional_number(double v) {
  return std::isfinite(v) ? format_exact(v) : "";
}

TermTrust trust_of(const TermModel& term, const CallBand& band) {
  return {term.cv.auc, term.cv.folds, term.positive_genes, term.positives,
          term_validated(term, band)};
}

std::string trust_fields(const TermTrust& t) {
  return '\t' + optional_number(t.auc) + '\t' + std::to_string(t.folds) + '\t' +
         std::to_string(t.positive_genes) + '\t' + std::to_string(t.positives) + '\t' +
         (t.validated ? "1" : "0");
}

AnnotateOutput::AnnotateOutput(const std::string& out_dir, const std::string& fingerprint,
                               bool resume, const ModelBundle& bundle, const OutputConfig& config)
    : dir_(out_dir),
      fingerprint_(fingerprint),
      rule_(config.rule),
      sheet_images_(config.sheet_images),
      config_(config) {
  for (const auto& stage : bundle.stages)
    for (const auto& t : stage.terms)
      trust_[{stage.stage_range, t.term}] = trust_of(t, config.band);
  std::error_code ec;
  fs::create_directories(fs::path(dir_) / "heatmaps", ec);
  if (ec) throw file_error(dir_, "cannot create the output folder: " + ec.message());
  if (!(resume && restore(fingerprint))) start_over();
  open_append(annotations_, dir_ + "/annotations.tsv.partial");
  open_append(index_, dir_ + "/heatmaps/index.tsv.partial");
  open_append(skips_, dir_ + "/skipped.tsv.partial");
}

// What an earlier run of annotate left in the folder: its outputs, heat maps and sheets (only
// files of annotate's own names: nothing else in the folder is touched; terms.tsv is the CLI's
// --ontology output).
void remove_earlier_outputs(const std::string& dir) {
  std::error_code ec;
  for (const char* name :
       {"annotations.tsv", "groups.tsv", "skipped.tsv", "run.json", "validation.tsv",
        "reliability.tsv", "columns.tsv", "group_evidence.tsv", "registration.tsv", "terms.tsv",
        "heatmaps/index.tsv", "heatmaps/README.txt"})
    fs::remove(fs::path(dir) / name, ec);
  const fs::path maps = fs::path(dir) / "heatmaps";
  auto png = [](const fs::path& p) { return p.extension() == ".png"; };
  for (const auto& entry : fs::directory_iterator(maps, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file(ec) && png(entry.path()) && name.rfind("sheet_", 0) == 0)
      fs::remove(entry.path(), ec);
    const auto& stages = stage_range_names();
    if (entry.is_directory(ec) && std::find(stages.begin(), stages.end(), name) != stages.end())
      for (const auto& map : fs::directory_iterator(entry.path(), ec))
        if (map.is_regular_file(ec) && (png(map.path()) || map.path().extension() == ".npy"))
          fs::remove(map.path(), ec);  // heat maps and their evidence grids
  }
}

void AnnotateOutput::start_over() {
  remove_earlier_outputs(dir_);
  write_text_atomically(dir_ + "/annotations.tsv.partial", kAnnotationsHeader);
  write_text_atomically(dir_ + "/heatmaps/index.tsv.partial", kIndexHeader);
  write_text_atomically(dir_ + "/skipped.tsv.partial", kSkippedHeader);
  fs::remove(dir_ + "/annotate.progress");
}

// Back to the last complete batch of an interrupted run with the same fingerprint.
bool AnnotateOutput::restore(const std::string& fingerprint) {
  const std::string progress = dir_ + "/annotate.progress";
  if (!fs::exists(progress)) return false;
  nlohmann::json p;
  try {
    p = nlohmann::json::parse(read_text_file(progress));
  } catch (const std::exception&) {
    return false;  // unreadable record: start over
  }
  if (!p.is_object() || !p.contains("fingerprint") || p["fingerprint"] != fingerprint)
    throw file_error(progress,
                     "cannot resume: an interrupted run with another bundle, images, features or "
                     "options (--restart to start over)");
  try {
    fs::resize_file(dir_ + "/annotations.tsv.partial", p.at("annotations_bytes").get<uint64_t>());
    fs::resize_file(dir_ + "/heatmaps/index.tsv.partial", p.at("index_bytes").get<uint64_t>());
    fs::resize_file(dir_ + "/skipped.tsv.partial", p.at("skipped_bytes").get<uint64_t>());
  } catch (const std::exception&) {
    return false;  // unreadable record or missing files: start over
  }
  done_ = p.at("done").get<int64_t>();
  std::map<std::string, std::string> gene_of, path_of;  // for the contact sheets
  for (const auto& r : read_rows(dir_ + "/annotations.tsv.partial")) {
    if (r.size() < kAnnotationColumns) continue;
    gene_of[r[0]] = r[2];
    path_of[r[0]] = r[1];
    ++rows_;
    if (r[0] != last_image_) ++images_;
    last_image_ = r[0];
    add_row(r[0], r[3], r[2], r[5], std::stod(r[6]), std::stoi(r[7]), std::stoi(r[8]),
            std::stoi(r[9]), r[10].empty() ? std::nan("") : std::stod(r[10]), r[11]);
  }
  for (const auto& r : read_rows(dir_ + "/heatmaps/index.tsv.partial")) {
    if (r.size() < 5) continue;
    ImageRecord image;
    image.id = r[0];
    if (auto it = gene_of.find(image.id); it != gene_of.end()) image.gene = it->second;
    if (auto it = path_of.find(image.id); it != path_of.end()) image.path = it->second;
    heatmap(image, r[1], r[2], std::stod(r[3]), r[4]);  // the index is not open yet
  }
  skipped_ = static_cast<int64_t>(read_rows(dir_ + "/skipped.tsv.partial").size());
  return true;
}

const TermTrust& AnnotateOutput::trust(const std::string& stage, const std::string& term) const {
  static const TermTrust none;
  const auto at = trust_.find({stage, term});
  return at == trust_.end() ? none : at->second;
}

// A row's effects beyond the file: its group, and the validation when the data carry terms.
void AnnotateOutput::add_row(const std::string& image, const std::string& stage,
                             const std::string& gene, const std::string& term, double score,
                             int votes, int members, int predicted, double probability,
                             const std::string& call) {
  bool truth = false;
  if (config_.truth) {
    const auto at = config_.truth->find(image);
    if (at != config_.truth->end()) {
      truth = std::find(at->second.begin(), at->second.end(), term) != at->second.end();
      validation_.add("image", stage, term, trust(stage, term).validated,
                      {score, probability, call, predicted, static_cast<uint8_t>(truth)});
    }
  }
  if (gene.empty()) return;
  GroupState& g = groups_[{stage, gene}][term];
  g.scores.add(score, votes, members, predicted);
  g.truth = g.truth || truth;
  if (std::isfinite(probability)) {
    g.probability_sum += probability;
    g.probability_max =
        g.probabilities == 0 ? probability : std::max(g.probability_max, probability);
    ++g.probabilities;
  }
}

void AnnotateOutput::reserve_groups(
    const std::vector<const ImageRecord*>& images,
    const std::map<std::string, std::vector<std::string>>& stage_terms) {
  for (const ImageRecord* image : images) {
    const auto terms = stage_terms.find(image->stage_range);
    if (image->gene.empty() || terms == stage_terms.end()) continue;
    auto& by_term = groups_[{image->stage_range, image->gene}];
    if (by_term.size() < terms->second.size())
      for (const auto& term : terms->second) by_term.emplace(term, GroupState{});
  }
}

void AnnotateOutput::annotation(const ImageRecord& image, const std::string& stage,
                                const std::string& term, double score, int votes, int members,
                                int predicted, double probability, const std::string& call) {
  // An absolute path: the file is read later from elsewhere (ishannot report, a notebook).
  const std::string path = absolute_path(image.path);
  const TermTrust& t = trust(stage, term);
  annotations_ << tsv_field(image.id) << '\t' << tsv_field(path) << '\t' << tsv_field(image.gene)
               << '\t' << stage << '\t' << stage_order(stage) << '\t' << tsv_field(term) << '\t'
               << format_exact(score) << '\t' << votes << '\t' << members << '\t' << predicted
               << '\t' << optional_number(probability) << '\t' << call << trust_fields(t) << '\n';
  ++rows_;
  if (image.id != last_image_) ++images_;
  last_image_ = image.id;
  add_row(image.id, stage, image.gene, term, score, votes, members, predicted, probability, call);
}

void AnnotateOutput::heatmap(const ImageRecord& image, const std::string& stage,
                             const std::string& term, double score, const std::string& file,
                             const cv::Mat& overlay) {
  if (index_.is_open())
    index_ << tsv_field(image.id) << '\t' << stage << '\t' << tsv_field(term) << '\t'
           << format_exact(score) << '\t' << tsv_field(file) << '\n';
  ++heatmaps_;
  auto& best = sheets_[{stage, term}];
  if (static_cast<int>(best.size()) >= sheet_images_ && score <= best.back().score) return;
  SheetEntry entry{score, image.id, image.gene, file, image.path, sheet_thumbnail(overlay)};
  best.insert(
      std::upper_bound(best.begin(), best.end(), entry,
                       [](const SheetEntry& a, const SheetEntry& b) { return a.score > b.score; }),
      std::move(entry));
  if (static_cast<int>(best.size()) > sheet_images_) best.pop_back();
}

void AnnotateOutput::skipped(const std::string& file, const std::string& reason) {
  skips_ << tsv_field(file) << '\t' << tsv_field(reason) << '\n';
  ++skipped_;
}

void AnnotateOutput::end_batch(int64_t images) {
  for (auto* out : {&annotations_, &index_, &skips_}) {
    out->flush();
    if (!*out) throw file_error(dir_, "cannot write the outputs (disk full?)");
  }
  done_ = images;
  nlohmann::json p;
  p["fingerprint"] = fingerprint_;
  p["done"] = done_;
  p["annotations_bytes"] = fs::file_size(dir_ + "/annotations.tsv.partial");
  p["index_bytes"] = fs::file_size(dir_ + "/heatmaps/index.tsv.partial");
  p["skipped_bytes"] = fs::file_size(dir_ + "/skipped.tsv.partial");
  write_text_atomically(dir_ + "/annotate.progress", p.dump() + "\n");
}

std::string heatmap_file(const std::string& stage, const std::string& image,
                         const std::string& slug) {
  std::string name = image;
  for (char& c : name)
    if (c == '/' || c == '\\' || c == '\t' || c == '\n' || c == '\r') c = '_';
  if (name.empty() || name.front() == '.') name = "_" + name;
  return stage + "/" + name + "." + slug + ".png";
}

std::vector<std::string> term_slugs(const std::vector<std::string>& terms) {
  std::vector<std::string> out;
  for (const auto& term : terms) {
    std::string s;
    for (char c : term) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '-')
        s += c;
      else if (!s.empty() && s.back() != '_')
        s += '_';
    }
    while (!s.empty() && s.back() == '_') s.pop_back();
    if (s.empty()) s = "term";
    std::string unique = s;
    for (int k = 2; std::find(out.begin(), out.end(), unique) != out.end(); ++k)
      unique = s + "_" + std::to_string(k);
    out.push_back(unique);
  }
  return out;
}

// groups.tsv; with truth, the group-level validation items too.
std::string AnnotateOutput::groups_tsv(
    const std::map<std::string, std::vector<std::string>>& stage_terms) {
  std::ostringstream groups;
  groups << tsv_header(OutputKind::kAnnotate, "groups.tsv");
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& [key, terms] : groups_) keys.push_back(key);
  std::stable_sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) {
    return stage_order(a.first) < stage_order(b.first);
  });
  int64_t written_groups = 0;
  for (const auto& key : keys) {
    const auto& by_term = groups_.at(key);
    const auto terms = stage_terms.find(key.first);
    if (terms == stage_terms.end()) continue;
    bool any = false;
    for (const auto& term : terms->second) {
      auto at = by_term.find(term);
      if (at == by_term.end() || at->second.scores.images == 0) continue;  // reserved, never fed
      const GroupState& g = at->second;
      const TermTrust& t = trust(key.first, term);
      const double probability = g.probabilities == 0 ? std::nan("")
                                 : rule_ == GroupRule::kMax
                                     ? g.probability_max
                                     : g.probability_sum / static_cast<double>(g.probabilities);
      const std::string call = call_of(probability, t.validated, config_.band);
      const double score = g.scores.score(rule_);
      const int predicted = g.scores.label(rule_);
      groups << tsv_field(key.second) << '\t' << key.first << '\t' << stage_order(key.first) << '\t'
             << tsv_field(term) << '\t' << format_exact(score) << '\t' << predicted << '\t'
             << g.scores.images << '\t' << group_rule_name(rule_) << '\t'
             << optional_number(probability) << '\t' << call << trust_fields(t) << '\n';
      any = true;
      if (config_.truth)
        validation_.add("group", key.first, term, t.validated,
                        {score, probability, call, predicted, static_cast<uint8_t>(g.truth)});
    }
    written_groups += any;
  }
  written_groups_ = written_groups;
  return groups.str();
}

void AnnotateOutput::finish(AnnotateSummary& summary,
                            const std::map<std::string, std::vector<std::string>>& stage_terms) {
  write_text_atomically(dir_ + "/groups.tsv", groups_tsv(stage_terms));
  if (config_.truth && !validation_.empty()) {
    write_text_atomically(dir_ + "/validation.tsv", validation_.validation_tsv());
    write_text_atomically(dir_ + "/reliability.tsv", validation_.reliability_tsv());
    summary.validated = true;
  }
  std::vector<std::string> files = {"annotations.tsv", "groups.tsv", "heatmaps/index.tsv",
                                    "skipped.tsv", "run.json"};
  if (summary.validated) files.insert(files.begin() + 2, {"validation.tsv", "reliability.tsv"});
  if (config_.registration) files.push_back("registration.tsv");
  write_columns_tsv(dir_, OutputKind::kAnnotate, files);
  for (const auto& [key, entries] : sheets_) {
    const auto terms = stage_terms.find(key.first);
    if (terms == stage_terms.end()) continue;
    const auto at = std::find(terms->second.begin(), terms->second.end(), key.second);
    if (at == terms->second.end()) continue;
    const std::string name =
        term_slugs(terms->second)[static_cast<size_t>(at - terms->second.begin())];
    std::vector<SheetTile> tiles;
    for (const auto& e : entries) {
      SheetTile tile;
      tile.bgr = e.thumbnail.empty() ? resumed_thumbnail(dir_ + "/heatmaps/" + e.file, e.path)
                                     : e.thumbnail;
      char score[32];
      std::snprintf(score, sizeof score, "%.3f", e.score);
      tile.caption = {e.image,
                      (e.gene.empty() ? std::string("") : e.gene + "  ") + "score " + score};
      tiles.push_back(std::move(tile));
    }
    write_contact_sheet_png(dir_ + "/heatmaps/sheet_" + key.first + "_" + name + ".png",
                            key.first + "  " + key.second + ": the " +
                                std::to_string(tiles.size()) + " highest-scoring images",
                            tiles, 4, kSheetTileWidth);
  }
  for (auto* out : {&annotations_, &index_, &skips_}) out->close();
  fs::rename(dir_ + "/annotations.tsv.partial", dir_ + "/annotations.tsv");
  fs::rename(dir_ + "/heatmaps/index.tsv.partial", dir_ + "/heatmaps/index.tsv");
  fs::rename(dir_ + "/skipped.tsv.partial", dir_ + "/skipped.tsv");
  fs::remove(dir_ + "/annotate.progress");
  summary.images = images_;
  summary.skipped = skipped_;
  summary.rows = rows_;
  summary.heatmaps = heatmaps_;
  summary.groups = written_groups_;  // counted by groups_tsv: groups with a fed term
}

}  // namespace ishannot::detail
