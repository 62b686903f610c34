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

}  // namespace ishannot::detail
