// The attention-MIL part of a bag bundle's stage group (model_bundle.h, StageModel::mil): the
// projection offset and the nine MIL parameters as float64 datasets mil_*, row-major, with their
// shapes in attributes and one SHA-256 over their bytes (mil_sha256).
#include <hdf5.h>

#include <cmath>

#include "annotate/model_bundle_io.h"
#include "detail/hdf5_util.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"

namespace ishannot {

int64_t StageModel::weight_rows(int models) const {
  return mil_components > 0 ? mil_components
                            : static_cast<int64_t>(terms.size()) * static_cast<int64_t>(models);
}

namespace detail {

namespace {

const char* const kNames[] = {"mil_A", "mil_a", "mil_V", "mil_v", "mil_U",
                              "mil_u", "mil_W", "mil_C", "mil_b"};

std::vector<double> row_major(const Eigen::MatrixXd& m) {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(m.size()));
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) out.push_back(m(r, c));
  return out;
}

void append_bytes(std::string& bytes, const std::vector<double>& values) {
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double));
}

// The shapes of the nine parameters: hidden h, attention a, inputs r, terms t.
std::vector<std::pair<Eigen::Index, Eigen::Index>> shapes(Eigen::Index h, Eigen::Index a,
                                                          Eigen::Index r, Eigen::Index t) {
  return {{h, r}, {h, 1}, {a, h}, {a, 1}, {a, h}, {a, 1}, {t, a}, {t, h}, {t, 1}};
}

}  // namespace

bool mil_finite(const StageModel& stage) {
  bool finite = stage.projection_offset.allFinite();
  for (const auto* p : stage.mil.parameters()) finite = finite && p->allFinite();
  return finite;
}

void write_stage_mil(hid_t group, const StageModel& stage, const std::string& path) {
  const auto& m = stage.mil;
  if (m.inputs() != stage.mil_components || m.terms() != static_cast<int>(stage.terms.size()) ||
      stage.projection_offset.size() != stage.mil_components)
    throw Error(path + ": stage " + stage.stage_range + ": attention model of the wrong shape");
  write_int_attribute(group, "mil_components", stage.mil_components, path);
  write_int_attribute(group, "mil_hidden", m.A.rows(), path);
  write_int_attribute(group, "mil_attention", m.V.rows(), path);
  std::string bytes;
  const std::vector<double> offset(stage.projection_offset.data(),
                                   stage.projection_offset.data() + stage.projection_offset.size());
  write_doubles(group, "mil_offset", offset, {offset.size()}, path);
  append_bytes(bytes, offset);
  const auto params = m.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    const auto values = row_major(*params[i]);
    write_doubles(
        group, kNames[i], values,
        {static_cast<hsize_t>(params[i]->rows()), static_cast<hsize_t>(params[i]->cols())}, path);
    append_bytes(bytes, values);
  }
  write_string_attribute(group, "mil_sha256", sha256_bytes(bytes), path);
}

void read_stage_mil(hid_t group, const std::string& path, StageModel& stage) {
  const std::string name = "/stages/" + stage.stage_range;
  const auto attributes = read_attributes(group, path);
  auto number = [&](const char* key) -> Eigen::Index {
    auto it = attributes.find(key);
    if (it == attributes.end()) throw file_error(path, name + " has no " + key + " attribute");
    return static_cast<Eigen::Index>(std::stoll(it->second));
  };
  const Eigen::Index r = stage.mil_components, h = number("mil_hidden"),
                     a = number("mil_attention"), t = static_cast<Eigen::Index>(stage.terms.size());
  std::string bytes;
  const auto offset = read_doubles(group, "mil_offset", static_cast<size_t>(r), path);
  append_bytes(bytes, offset);
  stage.projection_offset = Eigen::Map<const Eigen::VectorXd>(offset.data(), r);
  const auto dims = shapes(h, a, r, t);
  auto params = stage.mil.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    const auto [rows, cols] = dims[i];
    const auto values = read_doubles(group, kNames[i], static_cast<size_t>(rows * cols), path);
    append_bytes(bytes, values);
    *params[i] =
        Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            values.data(), rows, cols);
  }
  const auto sha = read_string_attribute(group, "mil_sha256", path);
  if (sha.empty() || sha.front() != sha256_bytes(bytes))
    throw file_error(path, name +
                               "'s attention model does not match its SHA-256 (damaged or "
                               "edited bundle; train it again)");
  if (!mil_finite(stage))
    throw file_error(path, name + "'s attention model holds NaN/Inf (damaged or edited bundle)");
}

}  // namespace detail
}  // namespace ishannot
