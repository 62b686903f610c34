// ModelBundleWriter: the bundle (model_bundle.h) written stage by stage to PATH.partial, resumable,
// renamed into place by close().
#include <ctime>
#include <exception>
#include <filesystem>

#include "detail/half.h"
#include "detail/hdf5_util.h"
#include "detail/model_bundle_io.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"

namespace ishannot {

using detail::check_id;
using detail::check_status;
using detail::Hid;

struct ModelBundleWriter::Impl {
  std::string path, tmp;
  Hid file, stages;
  std::vector<StageModel> completed;
  ModelBundle header;
  int uncaught_at_construction = 0;
  bool closed = false;

  void create();
  bool reopen();
};

namespace {

void write_recipe(hid_t file, const FeatureRecipe& recipe, const std::string& path) {
  Hid group(check_id(H5Gcreate2(file, "/recipe", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path,
                     "cannot create /recipe"));
  for (const auto& [key, value] : recipe.attributes)
    if (key != "format_version") detail::write_string_attribute(group.get(), key, value, path);
  std::vector<std::string> names, shapes;
  std::vector<int64_t> dims;
  for (const auto& l : recipe.layers) {
    names.push_back(l.name);
    shapes.push_back(l.shape);
    dims.push_back(l.dim);
  }
  detail::write_strings(group.get(), "layers", names, path);
  detail::write_int64s(group.get(), "layer_dims", dims, path);
  detail::write_strings(group.get(), "layer_shapes", shapes, path);
}

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return stamp;
}

}  // namespace

void ModelBundleWriter::Impl::create() {
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS));
  check_status(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST), tmp,
               "cannot set the HDF5 format version");
  file = Hid(check_id(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), tmp,
                      "cannot create the model bundle"));
  detail::write_string_attribute(file.get(), "format", kModelBundleFormat, tmp);
  detail::write_int_attribute(file.get(), "format_version", kModelBundleFormatVersion, tmp);
  for (const auto& [key, value] : header.attributes)
    if (key != "format" && key != "format_version" && key != "created_utc")
      detail::write_string_attribute(file.get(), key, value, tmp);
  detail::write_string_attribute(file.get(), "created_utc", utc_now(), tmp);
  detail::write_string_attribute(file.get(), "preprocessing",
                                 preprocessing_name(header.preprocessing), tmp);
  detail::write_int_attribute(file.get(), "models", header.models, tmp);
  detail::write_int_attribute(file.get(), "vote_threshold", header.vote_threshold, tmp);
  detail::write_string_attribute(
      file.get(), "weights_dtype",
      header.weights_dtype == FeatureDtype::kFloat16 ? "float16" : "float32", tmp);
  write_recipe(file.get(), header.recipe, tmp);
  stages = Hid(check_id(H5Gcreate2(file.get(), "/stages", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                        tmp, "cannot create /stages"));
}

// Reopens PATH.partial when it was written by the same configuration; false otherwise.
bool ModelBundleWriter::Impl::reopen() {
  if (H5Fis_hdf5(tmp.c_str()) <= 0) return false;
  Hid f(H5Fopen(tmp.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
  if (!f.valid()) return false;
  const auto stored = detail::read_attributes(f.get(), tmp);
  const auto want = header.attributes.find("train_fingerprint");
  const auto have = stored.find("train_fingerprint");
  if (want == header.attributes.end() || have == stored.end() || have->second != want->second)
    return false;
  file = std::move(f);
  stages = Hid(check_id(H5Gopen2(file.get(), "/stages", H5P_DEFAULT), tmp, "no /stages"));
  completed =
      detail::read_completed_stages(file.get(), tmp, header.recipe.dim(), header.models, true);
  return true;
}

ModelBundleWriter::ModelBundleWriter(const std::string& path, const ModelBundle& header,
                                     bool resume)
    : impl_(std::make_unique<Impl>()) {
  detail::silence_hdf5();
  impl_->path = path;
  impl_->tmp = path + ".partial";
  impl_->header = header;
  impl_->uncaught_at_construction = std::uncaught_exceptions();
  if (!(resume && std::filesystem::exists(impl_->tmp) && impl_->reopen())) impl_->create();
}

ModelBundleWriter::~ModelBundleWriter() {
  if (!impl_ || impl_->closed) return;
  if (std::uncaught_exceptions() > impl_->uncaught_at_construction) {
    impl_->stages.reset();
    impl_->file.reset();  // PATH.partial stays, for resume
    return;
  }
  try {
    close();
  } catch (...) {
  }
}

const std::vector<StageModel>& ModelBundleWriter::completed() const {
  return impl_->completed;
}

void ModelBundleWriter::add_stage(const StageModel& stage) {
  const std::string& tmp = impl_->tmp;
  const auto& header = impl_->header;
  const size_t n_terms = stage.terms.size();
  const auto m = static_cast<size_t>(header.models);
  if (static_cast<size_t>(stage.weights.rows()) != n_terms * m ||
      stage.weights.cols() != header.recipe.dim())
    throw Error(tmp + ": stage " + stage.stage_range + ": weights of the wrong shape");
  Hid group(check_id(H5Gcreate2(impl_->stages.get(), stage.stage_range.c_str(), H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT),
                     tmp, "cannot create /stages/" + stage.stage_range));
  const hid_t g = group.get();
  detail::write_int_attribute(g, "images", stage.images, tmp);
  detail::write_int_attribute(g, "genes", static_cast<int64_t>(stage.genes.size()), tmp);
  std::vector<std::string> terms;
  std::vector<double> bias, c, auc, acc, sens, spec;
  std::vector<int64_t> pos, neg, pos_genes, folds;
  for (const auto& t : stage.terms) {
    terms.push_back(t.term);
    bias.insert(bias.end(), t.bias.begin(), t.bias.end());
    c.push_back(t.C);
    auc.push_back(t.cv.auc);
    acc.push_back(t.cv.accuracy);
    sens.push_back(t.cv.sensitivity);
    spec.push_back(t.cv.specificity);
    pos.push_back(t.positives);
    neg.push_back(t.negatives);
    pos_genes.push_back(t.positive_genes);
    folds.push_back(t.cv.folds);
  }
  detail::write_strings(g, "terms", terms, tmp);
  detail::write_doubles(g, "bias", bias, {n_terms, m}, tmp);
  detail::write_doubles(g, "C", c, {n_terms}, tmp);
  detail::write_doubles(g, "cv_auc", auc, {n_terms}, tmp);
  detail::write_doubles(g, "cv_accuracy", acc, {n_terms}, tmp);
  detail::write_doubles(g, "cv_sensitivity", sens, {n_terms}, tmp);
  detail::write_doubles(g, "cv_specificity", spec, {n_terms}, tmp);
  detail::write_int64s(g, "positives", pos, tmp);
  detail::write_int64s(g, "negatives", neg, tmp);
  detail::write_int64s(g, "positive_genes", pos_genes, tmp);
  detail::write_int64s(g, "cv_folds", folds, tmp);
  detail::write_strings(g, "genes", stage.genes, tmp);
  detail::write_strings(g, "notes", stage.notes, tmp);
  detail::write_stage_calibration(g, stage, tmp);

  // Weights: float32 as they are, or float16 converted by us (round to nearest even).
  const hsize_t dims[2] = {static_cast<hsize_t>(stage.weights.rows()),
                           static_cast<hsize_t>(stage.weights.cols())};
  Hid space(H5Screate_simple(2, dims, nullptr));
  const bool half = header.weights_dtype == FeatureDtype::kFloat16;
  Hid half_type = detail::make_half_type();
  Hid weights(check_id(H5Dcreate2(g, "weights", half ? half_type.get() : H5T_IEEE_F32LE,
                                  space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       tmp, "cannot create the weights of " + stage.stage_range));
  if (half) {
    std::vector<uint16_t> converted(static_cast<size_t>(stage.weights.size()));
    for (size_t i = 0; i < converted.size(); ++i)
      converted[i] = detail::float_to_half(stage.weights.data()[i]);
    check_status(
        H5Dwrite(weights.get(), half_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, converted.data()),
        tmp, "cannot write weights (disk full?)");
  } else if (stage.weights.size() > 0) {
    check_status(H5Dwrite(weights.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                          stage.weights.data()),
                 tmp, "cannot write weights (disk full?)");
  }
  if (header.preprocessing == Preprocessing::kStandardise) {
    std::vector<double> mean(stage.mean.data(), stage.mean.data() + stage.mean.size());
    std::vector<double> scale(stage.scale.data(), stage.scale.data() + stage.scale.size());
    // Stored as float32 (what training used), written through double for the helper.
    for (const char* name : {"mean", "scale"}) {
      const auto& values = std::string(name) == "mean" ? mean : scale;
      Hid s(H5Screate_simple(1, &dims[1], nullptr));
      Hid d(check_id(
          H5Dcreate2(g, name, H5T_IEEE_F32LE, s.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), tmp,
          std::string("cannot create ") + name));
      check_status(
          H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), tmp,
          std::string("cannot write ") + name);
    }
  }
  detail::write_int_attribute(g, "complete", 1, tmp);  // last: the stage is whole
  check_status(H5Fflush(impl_->file.get(), H5F_SCOPE_LOCAL), tmp, "cannot flush");
}

void ModelBundleWriter::close() {
  if (impl_->closed) return;
  impl_->closed = true;
  impl_->stages.reset();
  if (impl_->file.valid()) {
    const herr_t status = H5Fclose(impl_->file.get());
    impl_->file = Hid();
    check_status(status, impl_->tmp, "cannot close the model bundle");
  }
  std::error_code ec;
  std::filesystem::rename(impl_->tmp, impl_->path, ec);
  if (ec)
    throw file_error(impl_->path, "cannot rename " + impl_->tmp + " into place: " + ec.message());
}

}  // namespace ishannot
