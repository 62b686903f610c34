#pragma once
// Multi-task fine-tuning (the paper's TL+MTL): train a MultiTaskNet (nets/multitask.h) on the
// images of one stage range with all its selected terms as tasks at once, then save it so that
// `ishannot extract --model` reads features from the fine-tuned backbone.
//
// What a run may see: the caller passes the rows (of the stage range's StageProblem) that are
// allowed — the training genes of an outer fold. Nothing else is read: images of other rows are
// never opened, and their labels never reach the loss, the validation split or the class
// weights. The validation split (early stopping) is made of whole genes among the allowed rows.
// Term selection itself (which k terms) is the stage range's, as in `evaluate`.
//
// Reproducibility: one seed drives the head's initial weights, the validation split, the batch
// order (per epoch), the augmentation draws (per epoch and image) and dropout (per epoch). A run
// writes an atomic checkpoint after every epoch (OUT.checkpoint); with `resume` a killed run
// continues from it to the same weights as an uninterrupted run.
//
// Fast path: when stages are frozen (freeze_through), their output is computed once per image and
// kept in memory (cache_trunk); the epochs then run only the trainable stages and the head. With
// augmentation the cache holds `cache_variants` copies per image (copy 0 unaugmented, the others
// augmented) and epoch e uses copy e mod V.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ishannot/common/progress.h"
#include "ishannot/common/provenance.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/terms.h"
#include "ishannot/nets/augment.h"
#include "ishannot/nets/multitask.h"

namespace ishannot {

struct FinetuneParams {
  MultiTaskSpec head;                  ///< cut point, frozen part, hidden layer
  std::string input_size = "224x224";  ///< WxH (squash) or "native"
  std::string optimizer = "sgd";       ///< sgd (with momentum) | adam
  double lr = 0.01;                    ///< learning rate of the new head
  double transfer_lr_factor = 0.1;     ///< transferred stages learn at lr * this
  double momentum = 0.9;               ///< sgd only
  double weight_decay = 5e-4;          ///< l2 on every trained parameter
  int batch = 16;                      ///< images per step
  int epochs = 30;                     ///< at most
  int patience = 5;                    ///< stop after this many epochs without a better val loss
  double val_fraction = 0.2;           ///< of the training genes; 0 = no validation, all epochs
  bool pos_weight = false;             ///< weight each term's positives by negatives/positives
  double max_pos_weight = 10;          ///< cap of that weight
  AugmentParams augment;               ///< training-time augmentation
  bool cache_trunk = true;     ///< cache the frozen trunk's outputs (when something is frozen)
  int cache_variants = 1;      ///< cached copies per image (1 = unaugmented only)
  std::string device = "cpu";  ///< cpu | cuda | cuda:N
  uint64_t seed = 1234;
  bool resume = false;    ///< continue OUT.checkpoint when it exists
  int stop_after = 0;     ///< end this run after so many epochs (checkpoint kept); 0 = no
  Provenance provenance;  ///< written into the model's sidecar JSON

  std::string check() const;
};

/// One epoch of the training curve.
struct EpochRecord {
  int epoch = 0;                ///< 1-based
  double train_loss = 0;        ///< mean over the epoch's batches (augmented, dropout on)
  double val_loss = 0;          ///< NaN without validation
  std::vector<double> val_auc;  ///< per term; NaN where the validation genes lack a class
  double mean_val_auc = 0;      ///< over the defined ones; NaN if none
  double seconds = 0;           ///< wall-clock time of the epoch (training + validation)
  double cpu_seconds =
      0;  ///< process CPU time of the epoch, all threads (robust to a busy machine)
};

struct FinetuneResult {
  bool finished = false;  ///< false when stop_after ended the run early (resume to go on)
  int best_epoch = 0;     ///< epoch whose weights were saved (last epoch without validation)
  bool early_stopped = false;
  std::vector<EpochRecord> curve;
  std::vector<std::string> terms;
  std::vector<std::string> train_genes, val_genes;
  int train_images = 0, val_images = 0;
  double cache_seconds = 0;      ///< time to fill the trunk cache (0 without it)
  double cache_cpu_seconds = 0;  ///< its process CPU time
};

/// Splits allowed rows into training and validation rows by gene: validation = fold 0 of
/// grouped_inner_kfold with round(1 / val_fraction) folds. val_fraction 0: all rows train.
void split_validation(const Dataset& dataset, const StageProblem& problem,
                      const std::vector<int>& allowed_rows, double val_fraction, uint64_t seed,
                      std::vector<int>* train_rows, std::vector<int>* val_rows);

/// Fine-tunes `backbone` (modified in place) on the allowed rows of `problem` and writes
/// `out_path` (libtorch archive of the whole MultiTaskNet) with `out_path`.json (sidecar) and
/// `out_path`.curve.tsv. Throws Error for bad parameters, unreadable images, a resume checkpoint
/// from another configuration or damaged (one line), --device cuda without CUDA, an output
/// check_model_output refuses, and a run that diverges (a NaN/Inf loss or validation score:
/// "training diverged; lower --lr ...", the last good epoch's checkpoint kept).
FinetuneResult finetune(const Dataset& dataset, const StageProblem& problem,
                        const std::vector<int>& allowed_rows, std::shared_ptr<Backbone> backbone,
                        const FinetuneParams& params, const std::string& out_path,
                        const Reporter& reporter = {});

/// Refuses (Error naming the path) a model output that is a folder, sits in a missing folder,
/// or would overwrite a file that is not one of our models (a MODEL or MODEL.json without our
/// sidecar format): checked by finetune() before any work.
void check_model_output(const std::string& path);

/// A fine-tuned model read back.
struct FinetunedModel {
  std::shared_ptr<MultiTaskNet> net;
  std::string sidecar_json;  ///< the sidecar's text
  std::string input_size;    ///< as trained ("224x224" or "native")
  std::vector<std::string> terms;
  std::string stage_range;
  /// Every gene whose images fine-tuning read (training and validation genes): `extract --model`
  /// records them so `evaluate` can refuse a store whose net saw a test gene.
  std::vector<std::string> seen_genes;
  std::string file_sha256;  ///< SHA-256 of the model file (checked against the sidecar's)
};

/// Reads MODEL and MODEL.json. The architecture is rebuilt from `base` when given, else from the
/// sidecar's backbone and weight file (load_backbone; `weights` overrides the recorded path);
/// every parameter is then replaced by the archive's.
FinetunedModel load_finetuned_model(const std::string& path, std::shared_ptr<Backbone> base = {},
                                    const std::string& weights = "");

}  // namespace ishannot
