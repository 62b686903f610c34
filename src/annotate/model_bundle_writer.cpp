// ModelBundleWriter: the bundle (model_bundle.h) written stage by stage to PATH.partial under a
// FileLock, each stage fsync'ed, its room checked first (detail/hdf5_disk.h), resumable, renamed
// into place by close().
#include <cmath>
#include <ctime>
#include <exception>
#include <filesystem>

#include "annotate/model_bundle_io.h"
#include "detail/half.h"
#include "detail/hdf5_disk.h"
#include "detail/hdf5_util.h"
#include "ishannot/annotate/model_bundle.h"
#include "ishannot/common/error.h"
#include "ishannot/common/file_lock.h"
#include "ishannot/common/format.h"
#include "ishannot/common/fs_util.h"

namespace ishannot {

using detail::check_id;
using detail::check_status;
using detail::check_write;
using detail::Hid;

struct ModelBundleWriter::Impl {
  std::string path, tmp;
  FileLock lock;  ///< on tmp, for the writer's lifetime (declared first: released last)
  Hid file, stages;
  std::vector<StageModel> completed;
  ModelBundle header;
  int uncaught_at_construction = 0;
  bool closed = false;
  bool failed = false;  ///< a write failed: HDF5's view of the file differs from the disk
  int written = 0;      ///< stage ranges in the file (resumed or added)

  void create();
  std::vector<StageModel> resumable() const;
  void write_stage(const StageModel& stage);
  void close_file();
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

}  // namespace

void ModelBundleWriter::Impl::create() {
  Hid fapl = detail::file_access(true);  // we hold a FileLock on it
  file = Hid(check_id(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), tmp,
                      "cannot create the model bundle"));
  detail::write_string_attribute(file.get(), "format", kModelBundleFormat, tmp);
  detail::write_int_attribute(file.get(), "format_version", kModelBundleFormatVersion, tmp);
  for (const auto& [key, value] : header.attributes)
    if (key != "format" && key != "format_version" && key != "created_utc")
      detail::write_string_attribute(file.get(), key, value, tmp);
  detail::write_string_attribute(file.get(), "created_utc", utc_timestamp(), tmp);
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
  // On the disk before any stage: a run killed from here on leaves a partial that resumes.
  detail::sync_hdf5(file.get(), tmp, "cannot create the model bundle");
}

// The complete stage ranges of an interrupted run of this configuration in PATH.partial (empty
// when there is none, or it holds nothing usable); Error naming --restart when it is another
// configuration's.
std::vector<StageModel> ModelBundleWriter::Impl::resumable() const {
  std::error_code ec;
  if (!std::filesystem::exists(tmp, ec) || std::filesystem::file_size(tmp, ec) == 0) return {};
  const auto want = header.attributes.find("train_fingerprint");
  auto partial =
      detail::read_partial_bundle(tmp, want == header.attributes.end() ? "" : want->second,
                                  header.recipe.dim(), header.models, header.preprocessing);
  if (partial.state == detail::PartialBundle::kOtherRun)
    throw file_error(tmp,
                     "cannot resume: an interrupted run with other options, data or features "
                     "(--restart to start over)");
  return std::move(partial.stages);
}

ModelBundleWriter::ModelBundleWriter(const std::string& path, const ModelBundle& header,
                                     bool resume)
    : impl_(std::make_unique<Impl>()) {
  detail::silence_hdf5();
  impl_->path = path;
  impl_->tmp = path + ".partial";
  impl_->header = header;
  impl_->uncaught_at_construction = std::uncaught_exceptions();
  impl_->lock = FileLock(impl_->tmp);  // before looking inside: no other writer changes it now
  // A resumed partial is written afresh with the stage ranges that read back whole: whatever a
  // kill or a full disk left half-written in it is gone.
  std::vector<StageModel> kept = resume ? impl_->resumable() : std::vector<StageModel>{};
  try {
    impl_->create();
    for (auto& stage : kept) {
      impl_->write_stage(stage);
      stage.weights.resize(0, 0);
      stage.mean.resize(0);
      stage.scale.resize(0);
    }
  } catch (...) {
    impl_->failed = true;
    impl_->close_file();
    throw;
  }
  impl_->completed = std::move(kept);
}

ModelBundleWriter::~ModelBundleWriter() {
  if (!impl_ || impl_->closed) return;
  if (std::uncaught_exceptions() > impl_->uncaught_at_construction || impl_->failed) {
    impl_->close_file();  // PATH.partial stays, for resume
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
  if (impl_->closed || impl_->failed) throw file_error(impl_->tmp, "add_stage after close");
  const size_t n_terms = stage.terms.size();
  if (stage.weights.rows() != stage.weight_rows(impl_->header.models) ||
      stage.weights.cols() != impl_->header.recipe.dim())
    throw Error(impl_->tmp + ": stage " + stage.stage_range + ": weights of the wrong shape");
  if (stage.mil_components > 0 && !(stage.weights.allFinite() && detail::mil_finite(stage)))
    throw Error("train: stage range " + stage.stage_range +
                ": the attention model is not finite (NaN/Inf); not written to " + impl_->tmp);
  // The last guard (train drops the rows that cause it): a bundle never holds NaN/Inf.
  for (size_t t = 0; t < n_terms && stage.mil_components == 0; ++t) {
    bool finite =
        stage.weights
            .middleRows(static_cast<Eigen::Index>(t) * impl_->header.models, impl_->header.models)
            .allFinite();
    for (double b : stage.terms[t].bias) finite = finite && std::isfinite(b);
    if (!finite)
      throw Error("train: stage range " + stage.stage_range + ": the model of term '" +
                  stage.terms[t].term +
                  "' is not finite (NaN/Inf weights: features too large?); not written to " +
                  impl_->tmp);
  }
  try {
    impl_->write_stage(stage);
  } catch (...) {
    impl_->failed = true;
    throw;
  }
}

// One stage group, its room reserved first and fsync'ed last (complete = 1 is its last write).
void ModelBundleWriter::Impl::write_stage(const StageModel& stage) {
  const size_t n_terms = stage.terms.size();
  const auto m = static_cast<size_t>(header.models);
  const double element = header.weights_dtype == FeatureDtype::kFloat16 ? 2.0 : 4.0;
  double growth = 512.0 * 1024 + static_cast<double>(stage.weights.size()) * element +
                  static_cast<double>(stage.mean.size() + stage.scale.size()) * 4.0 +
                  static_cast<double>(stage.genes.size() + stage.notes.size()) * 128.0;
  detail::reserve_room(file.get(), tmp, growth, "stage range " + stage.stage_range,
                       "the " + std::to_string(written) + " stage ranges written are kept");
  Hid group(check_id(
      H5Gcreate2(stages.get(), stage.stage_range.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
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
    check_write(
        H5Dwrite(weights.get(), half_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, converted.data()),
        tmp, "cannot write the weights of stage range " + stage.stage_range);
    detail::write_string_attribute(
        g, "weights_sha256",
        sha256_bytes({reinterpret_cast<const char*>(converted.data()), converted.size() * 2}), tmp);
  } else {
    if (stage.weights.size() > 0)
      check_write(H5Dwrite(weights.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                           stage.weights.data()),
                  tmp, "cannot write the weights of stage range " + stage.stage_range);
    detail::write_string_attribute(
        g, "weights_sha256",
        sha256_bytes({reinterpret_cast<const char*>(stage.weights.data()),
                      static_cast<size_t>(stage.weights.size()) * sizeof(float)}),
        tmp);
  }
  if (stage.mil_components > 0) detail::write_stage_mil(g, stage, tmp);
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
      check_write(
          H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), tmp,
          std::string("cannot write ") + name);
    }
  }
  // The stage on the disk first, then its mark: a kill between the two leaves it unmarked.
  detail::sync_hdf5(file.get(), tmp, "cannot write stage range " + stage.stage_range);
  detail::write_int_attribute(g, "complete", 1, tmp);
  group.reset();
  detail::sync_hdf5(file.get(), tmp, "cannot write stage range " + stage.stage_range);
  ++written;
}

void ModelBundleWriter::Impl::close_file() {
  if (failed && file.valid()) detail::abandon_pending_writes(file.get());
  stages.reset();
  if (!file.valid()) return;
  const herr_t status = H5Fclose(file.get());
  file = Hid();
  detail::release_reservation(tmp);
  if (!failed) check_write(status, tmp, "cannot close the model bundle");
}

void ModelBundleWriter::close() {
  if (impl_->closed) return;
  impl_->closed = true;
  if (impl_->failed) throw file_error(impl_->tmp, "not complete: a write failed");
  impl_->close_file();
  std::error_code ec;
  std::filesystem::rename(impl_->tmp, impl_->path, ec);
  if (ec)
    throw file_error(impl_->path, "cannot rename " + impl_->tmp + " into place: " + ec.message());
  // The lock (flock on the renamed file) would make HDF5's own lock refuse a reader of PATH in
  // this process while the writer lives.
  impl_->lock.release();
}

}  // namespace ishannot
