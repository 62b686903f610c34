#pragma once
// The model card of a bundle: what it was trained on and how, and how far to trust each term — as
// text for people (`ishannot train` ends with its term table, `ishannot inspect` prints it all;
// the library returns text, apps/ print it).
#include <string>
#include <vector>

#include "ishannot/annotate/model_bundle.h"
#include "ishannot/eval/calibration.h"

namespace ishannot {

/// One line per term: stage range, term, CV AUC (with its folds), positive genes, positive images,
/// calibration (method and the out-of-fold scores it was fitted on), validated (term_validated
/// with band.min_auc); then a count line ("7 of 50 terms validated ...").
std::string model_card_terms(const ModelBundle& bundle, const CallBand& band);

/// The whole card: file, format, provenance (tool version, command line, date), training data and
/// scope, term selection, classifier (M, C grid, inner folds, preprocessing), calibration, the
/// feature recipe (backbone, weights SHA-256, input size, layers, pooling), the term table and
/// the stage ranges' notes (collapsed by kind).
std::string model_card(const ModelBundle& bundle, const CallBand& band);

/// Notes of one kind collapsed into one line with a count. Two notes are of one kind when they
/// differ only in quoted names ('...'), parenthesised details and numbers; a collapsed line is
/// "N x <the first note> (also: 'name', 'name', ... )". Order: first appearance.
std::vector<std::string> collapse_notes(const std::vector<std::string>& notes);

}  // namespace ishannot
