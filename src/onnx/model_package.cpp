// The export package (include/ishannot/onnx/model_package.h): files, rdf.yaml, README, cover.
#include "ishannot/onnx/model_package.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/image/image.h"
#include "ishannot/onnx/annotator_graph.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace ishannot {

namespace {

template <typename T>
void npy(const std::string& path, const std::vector<int64_t>& shape, const T* data,
         const char* descr) {
  std::string dims;
  size_t count = 1;
  for (int64_t d : shape) {
    dims += std::to_string(d) + ", ";
    count *= static_cast<size_t>(d);
  }
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  std::string header =
      std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  header.append(63 - (10 + header.size()) % 64, ' ');  // total 10 + len multiple of 64
  header += '\n';
  std::string magic = "\x93NUMPY\x01";
  magic += '\0';
  magic += static_cast<char>(header.size() & 0xff);
  magic += static_cast<char>(header.size() >> 8);
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out << magic << header;
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(T)));
    if (!out) throw file_error(path, "cannot write");
  });
}

// YAML from JSON values: block mappings and sequences, scalars as JSON (a JSON string is a YAML
// double-quoted string).
void yaml(std::ostream& out, const json& v, int indent, bool in_sequence) {
  const std::string pad(indent, ' ');
  if (v.is_object() && !v.empty()) {
    bool first = true;
    for (const auto& [key, value] : v.items()) {
      if (!(first && in_sequence)) out << pad;
      first = false;
      out << key << ":";
      if ((value.is_object() || value.is_array()) && !value.empty()) {
        out << "\n";
        yaml(out, value, indent + 2, false);
      } else {
        out << " " << value.dump() << "\n";
      }
    }
  } else if (v.is_array() && !v.empty()) {
    for (const auto& item : v) {
      out << pad << "- ";
      if ((item.is_object() || item.is_array()) && !item.empty()) {
        if (item.is_array()) out << "\n" << std::string(indent + 2, ' ');
        yaml(out, item, indent + 2, true);
      } else {
        out << item.dump() << "\n";
      }
    }
  } else {
    out << pad << v.dump() << "\n";
  }
}

std::string term_id_of(const ModelPackage& pkg, const std::string& term) {
  const auto at = pkg.term_ids.find(term);
  return at == pkg.term_ids.end() ? "" : at->second;
}

// A heat map of the test scores: one row per test image, one column per term of the first stage
// range, viridis, 2:1.
cv::Mat cover_image(const ModelBundle& bundle, const ModelPackage& pkg) {
  const StageModel& s = bundle.stages.front();
  const auto& scores = pkg.test_scores.at(s.stage_range);
  const int n = static_cast<int>(pkg.test_images.size()), t = static_cast<int>(s.terms.size());
  cv::Mat grey(std::max(n, 1), std::max(t, 1), CV_8UC1, cv::Scalar(0));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < t; ++j)
      grey.at<uint8_t>(i, j) = static_cast<uint8_t>(
          std::lround(255.0 * std::clamp<double>(scores[static_cast<size_t>(i) * t + j], 0, 1)));
  cv::Mat big, colour;
  cv::resize(grey, big, {512, 256}, 0, 0, cv::INTER_NEAREST);
  cv::applyColorMap(big, colour, cv::COLORMAP_VIRIDIS);
  return colour;
}

json file_entry(const std::string& dir, const std::string& name) {
  return {{"source", name}, {"sha256", sha256_file(dir + "/" + name)}};
}

json input_descr(const std::string& dir, const ModelPackage& pkg) {
  return {
      {"id", "image"},
      // At most 128 characters (the schema): the pixel preprocessing is in README.md and
      // config.ishannot.pixel_preprocessing.
      {"description", "RGB images resized to " + std::to_string(pkg.width) + "x" +
                          std::to_string(pkg.height) +
                          " (W x H); the graph does the pixel preprocessing"},
      {"axes",
       json::array({{{"type", "batch"}},
                    {{"type", "space"}, {"id", "y"}, {"size", pkg.height}},
                    {{"type", "space"}, {"id", "x"}, {"size", pkg.width}},
                    {{"type", "channel"}, {"channel_names", json::array({"r", "g", "b"})}}})},
      {"test_tensor", file_entry(dir, "test_input.npy")},
      {"data", {{"type", "uint8"}, {"range", json::array({0, 255})}}},
      {"preprocessing", json::array({{{"id", "ensure_dtype"}, {"kwargs", {{"dtype", "uint8"}}}}})}};
}

json output_descr(const std::string& dir, const StageModel& s, const ModelPackage& pkg) {
  json names = json::array();
  for (const auto& t : s.terms) names.push_back(t.term);
  const std::string id = score_output_name(s.stage_range);
  return {{"id", id},
          {"description", "term scores of stage range " + s.stage_range +
                              ": ensemble mean of sigmoid(decision), annotate's score"},
          {"axes", json::array({{{"type", "batch"}},
                                {{"type", "channel"}, {"id", "term"}, {"channel_names", names}}})},
          {"test_tensor", file_entry(dir, "test_output_" + s.stage_range + ".npy")},
          {"data", {{"type", "float32"}, {"range", json::array({0.0, 1.0})}}}};
}

json rdf(const std::string& dir, const ModelBundle& bundle, const ModelPackage& pkg) {
  json cite = json::array(
      {{{"text",
         "Zhang W, Li R, Zeng T, Sun Q, Kumar S, Ye J, Ji S. Deep model based transfer and "
         "multi-task learning for biological image analysis. KDD 2015."},
        {"doi", "10.1145/2783258.2783304"}},
       {{"text",
         "He K, Zhang X, Ren S, Sun J. Deep residual learning for image recognition. "
         "CVPR 2016 (the ResNet50 backbone)."},
        {"doi", "10.1109/CVPR.2016.90"}}});
  if (!pkg.ontology.empty())
    cite.push_back({{"text",
                     "Costa M, Reeve S, Grumbling G, Osumi-Sutherland D. The Drosophila "
                     "anatomy ontology. J Biomed Semantics 4:32 (2013) (term ids: " +
                         pkg.ontology + ")"},
                    {"doi", "10.1186/2041-1480-4-32"}});
  json outputs = json::array(), terms = json::array();
  for (const auto& s : bundle.stages) {
    outputs.push_back(output_descr(dir, s, pkg));
    for (const auto& t : s.terms)
      terms.push_back(
          {{"stage_range", s.stage_range}, {"term", t.term}, {"term_id", term_id_of(pkg, t.term)}});
  }
  json method = bundle.attributes.count("method") ? bundle.attributes.at("method") : "TL";
  return {{"format_version", "0.5.7"},
          {"type", "model"},
          {"name", "ishannot Drosophila embryo ISH annotator (" + method.get<std::string>() + ")"},
          {"description",
           "Annotates Drosophila embryo in situ hybridization images (BDGP) with anatomical "
           "controlled-vocabulary terms, per stage range: an ImageNet " +
               pkg.arch +
               " as feature extractor and per term an ensemble of l2 logistic regressions "
               "(Zhang et al. KDD 2015), exported by ishannot " +
               pkg.tool_version + "."},
          {"authors", json::array({{{"name", "ishannot contributors"}}})},
          {"cite", cite},
          {"license", "CC-BY-4.0"},
          {"tags", json::array({"drosophila", "in-situ-hybridization", "bdgp", "annotation",
                                "transfer-learning", "onnx", "fbbt"})},
          {"documentation", "README.md"},
          {"covers", json::array({"cover.png"})},
          {"attachments", json::array({file_entry(dir, "terms.tsv")})},
          {"inputs", json::array({input_descr(dir, pkg)})},
          {"outputs", outputs},
          {"weights",
           {{"onnx",
             {{"source", "model.onnx"},
              {"sha256", sha256_file(dir + "/model.onnx")},
              {"opset_version", 13}}}}},
          {"config",
           {{"bioimageio",
             {{"reproducibility_tolerance",
               json::array({{{"absolute_tolerance", 1e-4}, {"relative_tolerance", 1e-3}}})}}},
            {"ishannot",
             {{"bundle_format_version", kModelBundleFormatVersion},
              {"pixel_preprocessing", pkg.pixel_preprocessing},
              {"created_by", pkg.created_by},
              {"ontology", pkg.ontology},
              {"terms", terms},
              {"test_images", pkg.test_images}}}}}};
}

std::string readme(const ModelBundle& bundle, const ModelPackage& pkg) {
  std::ostringstream r;
  r << "# ishannot annotator (ONNX)\n\n"
    << "Exported by `" << pkg.created_by << "` (ishannot " << pkg.tool_version << ") from the "
    << "model bundle `" << bundle.path << "`.\n\n"
    << "**Input** `image`: uint8 `[batch, " << pkg.height << ", " << pkg.width
    << ", 3]`, RGB, each image already resized to " << pkg.width << "x" << pkg.height
    << " (W x H). The graph does the rest: " << pkg.pixel_preprocessing << "\n\n"
    << "**Outputs**: one per stage range, `scores_<stage>` float `[batch, terms]`: the mean over "
    << "the ensemble's members of sigmoid(decision), the `score` column of `ishannot annotate`. "
    << "Feed an image to the output of its own stage range. Terms and FBbt ids: `terms.tsv` "
    << "(also rdf.yaml's channel names).\n\n"
    << "Run it with ONNX Runtime (Python):\n\n```python\nimport numpy as np, onnxruntime as ort\n"
    << "s = ort.InferenceSession('model.onnx')\nx = np.load('test_input.npy')\n"
    << "print(s.run(None, {'image': x}))\n```\n\n"
    << "Test tensors: `test_input.npy` (the test images as the graph takes them) and "
    << "`test_output_<stage>.npy` (ishannot's own scores of them). rdf.yaml follows the "
    << "bioimage.io model description 0.5 (`bioimageio test rdf.yaml`).\n\n"
    << "Cite Zhang et al., KDD 2015 (doi:10.1145/2783258.2783304). Licence: CC-BY-4.0.\n";
  return r.str();
}

}  // namespace

void write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data) {
  npy(path, shape, data, "<f4");
}
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const uint8_t* data) {
  npy(path, shape, data, "|u1");
}

std::vector<std::string> write_model_package(const std::string& dir, const ModelBundle& bundle,
                                             const ModelPackage& pkg, bool force) {
  if (fs::exists(dir) && !force)
    throw file_error(dir, "already exists (give --force to replace it)");
  const std::string tmp = dir + ".partial";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  write_text_atomically(tmp + "/model.onnx", pkg.onnx);
  const auto n = static_cast<int64_t>(pkg.test_images.size());
  write_npy(tmp + "/test_input.npy", {n, pkg.height, pkg.width, 3}, pkg.test_input.data());
  std::ostringstream terms;
  terms << "stage_range\toutput\tindex\tterm\tterm_id\n";
  for (const auto& s : bundle.stages) {
    write_npy(tmp + "/test_output_" + s.stage_range + ".npy",
              {n, static_cast<int64_t>(s.terms.size())}, pkg.test_scores.at(s.stage_range).data());
    for (size_t i = 0; i < s.terms.size(); ++i)
      terms << s.stage_range << '\t' << score_output_name(s.stage_range) << '\t' << i << '\t'
            << s.terms[i].term << '\t' << term_id_of(pkg, s.terms[i].term) << '\n';
  }
  write_text_atomically(tmp + "/terms.tsv", terms.str());
  write_text_atomically(tmp + "/README.md", readme(bundle, pkg));
  write_png(tmp + "/cover.png", cover_image(bundle, pkg));
  std::ostringstream y;
  y << "# bioimage.io model description, written by ishannot export (docs/SHARING.md)\n";
  yaml(y, rdf(tmp, bundle, pkg), 0, false);
  write_text_atomically(tmp + "/rdf.yaml", y.str());
  if (fs::exists(dir)) fs::remove_all(dir);
  fs::rename(tmp, dir);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace ishannot
