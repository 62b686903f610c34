// Reading a model bundle (model_bundle.h): header, recipe and stage metadata at once, the weights
// of one stage range on demand.
#include <algorithm>
#include <cmath>
#include <limits>

#include "annotate/model_bundle_io.h"
#include "detail/half.h"
#include "detail/hdf5_util.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/data/dataset.h"

namespace ishannot {

using detail::check_id;
using detail::check_status;
using detail::Hid;

int64_t FeatureRecipe::dim() const {
  int64_t d = 0;
  for (const auto& l : layers) d += l.dim;
  return d;
}

const StageModel* ModelBundle::stage(const std::string& stage_range) const {
  for (const auto& s : stages)
    if (s.stage_range == stage_range) return &s;
  return nullptr;
}

std::vector<std::string> ModelBundle::stage_ranges() const {
  std::vector<std::string> out;
  for (const auto& s : stages) out.push_back(s.stage_range);
  return out;
}

bool term_validated(const TermModel& term, const CallBand& band) {
  return term.cv.folds >= 2 && std::isfinite(term.cv.auc) && term.cv.auc >= band.min_auc;
}

namespace {

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

StageModel read_stage(hid_t group, const std::string& name, const std::string& path, int models,
                      bool* calibrated) {
  StageModel stage;
  stage.stage_range = name;
  const auto attributes = detail::read_attributes(group, path);
  auto number = [&](const char* key) -> int64_t {
    auto it = attributes.find(key);
    return it == attributes.end() ? 0 : std::stoll(it->second);
  };
  stage.images = number("images");
  stage.mil_components = static_cast<int>(number("mil_components"));
  const std::vector<std::string> terms = detail::read_string_dataset(group, "terms", path);
  const size_t t = terms.size(), m = static_cast<size_t>(models);
  const auto bias = detail::read_doubles(group, "bias", t * m, path);
  const auto c = detail::read_doubles(group, "C", t, path);
  const auto auc = detail::read_doubles(group, "cv_auc", t, path);
  const auto acc = detail::read_doubles(group, "cv_accuracy", t, path);
  const auto sens = detail::read_doubles(group, "cv_sensitivity", t, path);
  const auto spec = detail::read_doubles(group, "cv_specificity", t, path);
  const auto pos = detail::read_int64s(group, "positives", t, path);
  const auto neg = detail::read_int64s(group, "negatives", t, path);
  const auto pos_genes = detail::read_int64s(group, "positive_genes", t, path);
  const auto folds = detail::read_int64s(group, "cv_folds", t, path);
  for (size_t i = 0; i < t; ++i) {
    for (size_t k = 0; k < m; ++k)
      if (!std::isfinite(bias[i * m + k]))
        throw file_error(path, "stage range " + name + ": term '" + terms[i] +
                                   "' has a bias that is not a number (damaged or edited bundle)");
    TermModel term;
    term.term = terms[i];
    term.C = c[i];
    term.bias.assign(bias.begin() + static_cast<std::ptrdiff_t>(i * m),
                     bias.begin() + static_cast<std::ptrdiff_t>((i + 1) * m));
    term.positives = pos[i];
    term.negatives = neg[i];
    term.positive_genes = pos_genes[i];
    term.cv = {auc[i], acc[i], sens[i], spec[i], static_cast<int>(folds[i])};
    stage.terms.push_back(std::move(term));
  }
  stage.genes = detail::read_string_dataset(group, "genes", path);
  stage.notes = detail::read_string_dataset(group, "notes", path);
  const bool has = detail::read_stage_calibration(group, stage, path);
  if (calibrated) *calibrated = *calibrated && has;
  return stage;
}

FeatureRecipe read_recipe(hid_t file, const std::string& path) {
  if (H5Lexists(file, "/recipe", H5P_DEFAULT) <= 0) throw file_error(path, "no /recipe group");
  Hid group(check_id(H5Gopen2(file, "/recipe", H5P_DEFAULT), path, "cannot open /recipe"));
  FeatureRecipe recipe;
  recipe.attributes = detail::read_attributes(group.get(), path);
  const auto names = detail::read_string_dataset(group.get(), "layers", path);
  const auto dims = detail::read_int64s(group.get(), "layer_dims", names.size(), path);
  const auto shapes = detail::read_string_dataset(group.get(), "layer_shapes", path);
  if (names.empty() || shapes.size() != names.size())
    throw file_error(path, "/recipe lists no layer or layer shapes of another count");
  for (size_t i = 0; i < names.size(); ++i) recipe.layers.push_back({names[i], dims[i], shapes[i]});
  return recipe;
}

// Opens a bundle read-only with errors that say what the file is instead.
Hid open_bundle(const std::string& path) {
  detail::silence_hdf5();
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 < 0) throw file_error(path, "no such file or not readable");
  if (is_hdf5 == 0)
    throw file_error(path, "not an HDF5 file (expected a model bundle written by ishannot train)");
  Hid file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file.valid())
    throw file_error(path, "cannot open the HDF5 file (truncated or damaged model bundle?)");
  return file;
}

void sort_stages(std::vector<StageModel>& stages) {
  const auto& order = stage_range_names();
  auto rank = [&](const StageModel& s) {
    return std::find(order.begin(), order.end(), s.stage_range) - order.begin();
  };
  std::stable_sort(stages.begin(), stages.end(),
                   [&](const StageModel& a, const StageModel& b) { return rank(a) < rank(b); });
}

}  // namespace

namespace detail {

std::vector<StageModel> read_completed_stages(hid_t file, const std::string& path, int64_t dim,
                                              int models, bool drop_incomplete, bool* calibrated) {
  if (H5Lexists(file, "/stages", H5P_DEFAULT) <= 0) throw file_error(path, "no /stages group");
  Hid group(check_id(H5Gopen2(file, "/stages", H5P_DEFAULT), path, "cannot open /stages"));
  std::vector<std::string> names;
  hsize_t index = 0;
  check_status(H5Literate(group.get(), H5_INDEX_NAME, H5_ITER_INC, &index, collect_name, &names),
               path, "cannot list /stages");
  std::vector<StageModel> stages;
  for (const auto& name : names) {
    Hid stage(check_id(H5Gopen2(group.get(), name.c_str(), H5P_DEFAULT), path,
                       "cannot open /stages/" + name));
    if (H5Aexists(stage.get(), "complete") <= 0) {
      if (!drop_incomplete)
        throw file_error(path, "stage range " + name + " is incomplete (written by a killed run)");
      stage.reset();
      H5Ldelete(group.get(), name.c_str(), H5P_DEFAULT);
      continue;
    }
    StageModel s = read_stage(stage.get(), name, path, models, calibrated);
    Hid weights(check_id(H5Dopen2(stage.get(), "weights", H5P_DEFAULT), path,
                         "no weights for stage range " + name));
    Hid space(H5Dget_space(weights.get()));
    hsize_t dims[2] = {0, 0};
    if (H5Sget_simple_extent_ndims(space.get()) != 2 ||
        H5Sget_simple_extent_dims(space.get(), dims, nullptr) < 0 ||
        static_cast<int64_t>(dims[0]) != s.weight_rows(models) ||
        static_cast<int64_t>(dims[1]) != dim)
      throw file_error(path, "the weights of stage range " + name + " are not " +
                                 std::to_string(s.weight_rows(models)) + " x " +
                                 std::to_string(dim));
    stages.push_back(std::move(s));
  }
  sort_stages(stages);
  return stages;
}

PartialBundle read_partial_bundle(const std::string& path, const std::string& fingerprint,
                                  int64_t dim, int models, Preprocessing preprocessing) {
  PartialBundle out;
  if (H5Fis_hdf5(path.c_str()) <= 0) return out;
  Hid fapl = file_access(true);  // the writer holds a FileLock on it
  Hid file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()));
  if (!file.valid()) return out;
  std::map<std::string, std::string> attributes;
  try {
    attributes = read_attributes(file.get(), path);
  } catch (const Error&) {
    return out;
  }
  const auto format = attributes.find("format");
  const auto stored = attributes.find("train_fingerprint");
  if (format == attributes.end() || format->second != kModelBundleFormat ||
      stored == attributes.end())
    return out;  // killed before its header reached the disk
  if (stored->second != fingerprint) {
    out.state = PartialBundle::kOtherRun;
    return out;
  }
  out.state = PartialBundle::kResumable;
  if (H5Lexists(file.get(), "/stages", H5P_DEFAULT) <= 0) return out;
  Hid group(H5Gopen2(file.get(), "/stages", H5P_DEFAULT));
  if (!group.valid()) return out;
  std::vector<std::string> names;
  hsize_t index = 0;
  H5Literate(group.get(), H5_INDEX_NAME, H5_ITER_INC, &index, collect_name, &names);
  for (const auto& name : names) {
    try {  // a stage range that cannot be read back whole is trained again
      Hid stage(check_id(H5Gopen2(group.get(), name.c_str(), H5P_DEFAULT), path, name));
      if (H5Aexists(stage.get(), "complete") <= 0) continue;
      StageModel s = read_stage(stage.get(), name, path, models, nullptr);
      read_stage_weights(stage.get(), path, models, dim, preprocessing, s);
      out.stages.push_back(std::move(s));
    } catch (const Error&) {
    }
  }
  sort_stages(out.stages);
  return out;
}

}  // namespace detail

ModelBundle read_model_bundle(const std::string& path) {
  Hid file = open_bundle(path);
  ModelBundle bundle;
  bundle.path = path;
  bundle.attributes = detail::read_attributes(file.get(), path);
  const auto& a = bundle.attributes;
  if (!a.count("format") || a.at("format") != kModelBundleFormat) {
    const bool store = H5Lexists(file.get(), "/features", H5P_DEFAULT) > 0 &&
                       H5Lexists(file.get(), "/ids", H5P_DEFAULT) > 0;
    throw file_error(path, store ? "this is a feature store, not a model bundle (give the file "
                                   "ishannot train wrote with --out)"
                                 : "not an ishannot model bundle (no format attribute '" +
                                       std::string(kModelBundleFormat) + "')");
  }
  if (!a.count("format_version") ||
      a.at("format_version") != std::to_string(kModelBundleFormatVersion))
    throw file_error(path, "model bundle format_version " +
                               (a.count("format_version") ? a.at("format_version") : "missing") +
                               " is not supported (this build reads version " +
                               std::to_string(kModelBundleFormatVersion) + ")");
  try {
    bundle.preprocessing =
        parse_preprocessing(a.count("preprocessing") ? a.at("preprocessing") : "");
    bundle.models = std::stoi(a.at("models"));
    bundle.vote_threshold = std::stoi(a.at("vote_threshold"));
  } catch (const std::exception& e) {
    throw file_error(path, std::string("bad or missing bundle attribute: ") + e.what());
  }
  if (bundle.models < 1 || bundle.vote_threshold < 1 || bundle.vote_threshold > bundle.models)
    throw file_error(path, "bad models / vote_threshold attributes");
  bundle.weights_dtype = a.count("weights_dtype") && a.at("weights_dtype") == "float16"
                             ? FeatureDtype::kFloat16
                             : FeatureDtype::kFloat32;
  bundle.recipe = read_recipe(file.get(), path);
  bundle.calibrated = true;
  bundle.stages = detail::read_completed_stages(file.get(), path, bundle.recipe.dim(),
                                                bundle.models, false, &bundle.calibrated);
  if (bundle.stages.empty()) throw file_error(path, "the model bundle has no stage range");
  return bundle;
}

namespace detail {

void read_stage_weights(hid_t group, const std::string& path, int models, int64_t dim,
                        Preprocessing preprocessing, StageModel& stage) {
  const std::string name = "/stages/" + stage.stage_range;
  Hid weights(check_id(H5Dopen2(group, "weights", H5P_DEFAULT), path, "no " + name + "/weights"));
  const auto rows = static_cast<Eigen::Index>(stage.weight_rows(models));
  const auto cols = static_cast<Eigen::Index>(dim);
  stage.weights.resize(rows, cols);
  Hid type(H5Dget_type(weights.get()));
  herr_t status;
  std::string bytes;  // as stored, for the integrity check
  if (H5Tget_size(type.get()) == 2) {
    std::vector<uint16_t> halves(static_cast<size_t>(rows * cols));
    Hid half = detail::make_half_type();
    status = H5Dread(weights.get(), half.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, halves.data());
    if (status >= 0) detail::halves_to_floats(halves.data(), halves.size(), stage.weights.data());
    bytes.assign(reinterpret_cast<const char*>(halves.data()), halves.size() * 2);
  } else {
    status = H5Dread(weights.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                     stage.weights.data());
    bytes.assign(reinterpret_cast<const char*>(stage.weights.data()),
                 static_cast<size_t>(stage.weights.size()) * sizeof(float));
  }
  check_status(status, path, "cannot read " + name + "/weights (truncated or damaged bundle?)");
  const auto sha = detail::read_string_attribute(group, "weights_sha256", path);
  if (!sha.empty() && sha.front() != sha256_bytes(bytes))
    throw file_error(path, name +
                               "/weights do not match their SHA-256 (damaged or edited "
                               "bundle; train it again)");
  if (!stage.weights.allFinite())
    throw file_error(path, name + "/weights hold NaN/Inf (damaged or edited bundle)");
  if (stage.mil_components > 0) detail::read_stage_mil(group, path, stage);
  if (preprocessing != Preprocessing::kStandardise) return;
  for (const char* what : {"mean", "scale"}) {
    const auto values = detail::read_doubles(group, what, static_cast<size_t>(cols), path);
    Eigen::VectorXf& target = std::string(what) == "mean" ? stage.mean : stage.scale;
    target.resize(cols);
    for (Eigen::Index i = 0; i < cols; ++i) target[i] = static_cast<float>(values[i]);
    if (!target.allFinite())
      throw file_error(path, name + "/" + what + " holds NaN/Inf (damaged or edited bundle)");
  }
}

}  // namespace detail

void load_stage_weights(const ModelBundle& bundle, StageModel& stage) {
  Hid file = open_bundle(bundle.path);
  const std::string name = "/stages/" + stage.stage_range;
  Hid group(check_id(H5Gopen2(file.get(), name.c_str(), H5P_DEFAULT), bundle.path, "no " + name));
  detail::read_stage_weights(group.get(), bundle.path, bundle.models, bundle.recipe.dim(),
                             bundle.preprocessing, stage);
}

}  // namespace ishannot
