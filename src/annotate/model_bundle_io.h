#pragma once
// Internal to the model bundle (src/annotate/model_bundle_*.cpp): reading stage groups back, for
// read_model_bundle and for a resumed ModelBundleWriter.
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ishannot/annotate/model_bundle.h"

namespace ishannot::detail {

/// The metadata (no weights) of every /stages/<range> group of an open bundle, in biological
/// order. A group without complete = 1 (a killed run's) is deleted when drop_incomplete, else an
/// Error naming the file. `dim` and `models` check the shape of weights and bias. `calibrated`
/// (optional) is set false when a stage has no calibration datasets.
std::vector<StageModel> read_completed_stages(hid_t file, const std::string& path, int64_t dim,
                                              int models, bool drop_incomplete,
                                              bool* calibrated = nullptr);

/// The calibration_* datasets of one stage group (model_bundle.h), written after the terms.
void write_stage_calibration(hid_t group, const StageModel& stage, const std::string& path);
/// Reads them into stage.terms[i].calibration; false (calibrations left kNone) when the group has
/// none (a bundle written before calibration existed).
bool read_stage_calibration(hid_t group, StageModel& stage, const std::string& path);

/// Reads the weights (and mean/scale when standardised) of the open stage group `group` into
/// `stage`; Error naming the file when they are missing, of another shape, unreadable, do not
/// match the group's weights_sha256 attribute (when present), or hold NaN/Inf.
void read_stage_weights(hid_t group, const std::string& path, int models, int64_t dim,
                        Preprocessing preprocessing, StageModel& stage);

/// The attention-MIL part of a stage group (model_bundle_mil.cpp; StageModel::mil): written
/// after the weights; read (shapes from the group's mil_* attributes, integrity from mil_sha256)
/// by read_stage_weights when the stage has mil_components. Error naming the file otherwise.
void write_stage_mil(hid_t group, const StageModel& stage, const std::string& path);
void read_stage_mil(hid_t group, const std::string& path, StageModel& stage);
/// Whether the stage's attention model and projection offset are finite.
bool mil_finite(const StageModel& stage);

/// What an interrupted train left in PATH.partial.
struct PartialBundle {
  /// kUnreadable: nothing usable (not HDF5, or killed before its header reached the disk);
  /// kOtherRun: a bundle of another configuration (train_fingerprint differs);
  /// kResumable: the same configuration; `stages` = its stage ranges that read back whole.
  enum State { kUnreadable, kOtherRun, kResumable } state = kUnreadable;
  std::vector<StageModel> stages;  ///< metadata and weights, in biological order
};

/// Reads an interrupted run's partial bundle for a writer with `fingerprint` (opened without
/// HDF5's own file lock: the writer holds a FileLock on it). Stage groups that are incomplete or
/// cannot be read back whole (a kill or a full disk in the middle of one) are left out.
PartialBundle read_partial_bundle(const std::string& path, const std::string& fingerprint,
                                  int64_t dim, int models, Preprocessing preprocessing);

}  // namespace ishannot::detail
