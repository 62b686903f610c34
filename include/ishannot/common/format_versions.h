#pragma once
// The versions of the JSON files ishannot writes, one place each (bump when a reader of the old
// layout would misread the new). The HDF5 formats keep theirs beside their layouts:
// kFeatureStoreFormatVersion (features/feature_store.h), kModelBundleFormatVersion
// (annotate/model_bundle.h).
namespace ishannot {

constexpr int kEvaluationRunFormatVersion = 1;   ///< evaluate's run.json ("ishannot-evaluation")
constexpr int kAnnotationRunFormatVersion = 1;   ///< annotate's run.json ("ishannot-annotation")
constexpr int kReportFormatVersion = 1;          ///< the report's provenance ("ishannot-report")
constexpr int kFinetunedModelFormatVersion = 1;  ///< a fine-tuned model's sidecar JSON

}  // namespace ishannot
