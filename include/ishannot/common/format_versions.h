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

/// What `synth` draws from a seed (synth.json's generator_version): bumped when the same seed and
/// parameters give other images. 2: named seed streams (common/seed.h). 1 used literal stream ids
/// that collided: image 26,369's seed was the first draw of the built-in plan's first stage range.
constexpr int kSynthGeneratorVersion = 2;

}  // namespace ishannot
