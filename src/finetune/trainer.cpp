// The fine-tuning run as named steps: split the allowed rows into training and validation genes,
// decode the images once, build the network (or resume its checkpoint), cache the frozen trunk,
// then epochs of mini-batch SGD/Adam with validation (loss, per-term AUC), early stopping on the
// validation loss and an atomic checkpoint per epoch; finally the best epoch's weights are saved.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <set>

#include "detail/rng.h"
#include "finetune/checkpoint.h"
#include "finetune/finetune_run.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/common/seed.h"
#include "ishannot/eval/metrics.h"
#include "ishannot/image/image.h"
#include "ishannot/nets/inference.h"

namespace ishannot {

namespace {

using detail::FinetuneRun;
using detail::save_best_model;
using detail::TrainingState;
using detail::write_curve_tsv;

torch::Tensor targets_of(const StageProblem& problem, const std::vector<int>& rows) {
  const int64_t k = static_cast<int64_t>(problem.terms.size());
  torch::Tensor t = torch::zeros({static_cast<int64_t>(rows.size()), k});
  auto a = t.accessor<float, 2>();
  for (size_t i = 0; i < rows.size(); ++i)
    for (int64_t j = 0; j < k; ++j)
      a[static_cast<int64_t>(i)][j] = problem.label(rows[i], static_cast<int>(j));
  return t;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(MultiTaskNet& net,
                                                        const FinetuneParams& p) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  auto options = [&](double lr) -> std::unique_ptr<torch::optim::OptimizerOptions> {
    if (p.optimizer == "adam")
      return std::make_unique<torch::optim::AdamOptions>(
          torch::optim::AdamOptions(lr).weight_decay(p.weight_decay));
    return std::make_unique<torch::optim::SGDOptions>(
        torch::optim::SGDOptions(lr).momentum(p.momentum).weight_decay(p.weight_decay));
  };
  groups.emplace_back(net.head_parameters(), options(p.lr));
  auto transferred = net.transferred_parameters();
  if (!transferred.empty() && p.transfer_lr_factor > 0)
    groups.emplace_back(transferred, options(p.lr * p.transfer_lr_factor));
  if (p.transfer_lr_factor == 0)
    for (auto& t : transferred) t.set_requires_grad(false);
  if (p.optimizer == "adam")
    return std::make_unique<torch::optim::Adam>(std::move(groups), torch::optim::AdamOptions(p.lr));
  return std::make_unique<torch::optim::SGD>(std::move(groups), torch::optim::SGDOptions(p.lr));
}

// Process CPU time (all threads) since `start`.
double cpu_seconds_since(std::clock_t start) {
  return static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
}

// The frozen trunk's output for a preprocessed batch (no autograd). On the CPU it runs through an
// InferenceEngine (oneDNN, fused: see nets/inference.h); the trunk's weights never change during
// a run, so the engine's copy of them stays valid.
torch::Tensor run_trunk(MultiTaskNet& net, InferenceEngine* engine, const torch::Tensor& input,
                        const torch::Device& device) {
  if (engine && net.frozen_through() >= 0 && device.is_cpu()) {
    torch::NoGradGuard no_grad;
    return engine->forward(input).at(net.frozen_through());
  }
  return net.trunk(input.to(device));
}

// Runs the frozen trunk over images in batches (no autograd); result on the CPU.
torch::Tensor trunk_outputs(MultiTaskNet& net, InferenceEngine* engine,
                            const std::vector<cv::Mat>& images, int batch,
                            const torch::Device& device, const Reporter& reporter,
                            const std::string& stage) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (size_t begin = 0; begin < images.size(); begin += static_cast<size_t>(batch)) {
    const size_t end = std::min(images.size(), begin + static_cast<size_t>(batch));
    std::vector<cv::Mat> slice(images.begin() + static_cast<long>(begin),
                               images.begin() + static_cast<long>(end));
    parts.push_back(run_trunk(net, engine, net.backbone().to_input(slice), device).to(torch::kCPU));
    reporter.report(stage, static_cast<int64_t>(end), static_cast<int64_t>(images.size()));
  }
  return torch::cat(parts);
}

torch::Device resolve_device(const std::string& name) {
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(name);
  } catch (const c10::Error&) {
    throw Error("--device " + name + ": expected cpu, cuda or cuda:N");
  }
  if (device.is_cuda() && !torch::cuda::is_available())
    throw Error("--device " + name +
                ": this libtorch build has no CUDA or sees no GPU (use --device cpu)");
  return device;
}

// Training and validation rows: whole genes, all among the allowed rows.
void split_rows(FinetuneRun& run, const std::vector<int>& allowed_rows, FinetuneResult& result) {
  split_validation(run.dataset, run.problem, allowed_rows, run.params.val_fraction, run.params.seed,
                   &run.train_rows, &run.val_rows);
  if (run.train_rows.empty()) throw Error("finetune: the validation split left no training image");
  std::set<std::string> train_genes, val_genes;
  for (int r : run.train_rows) train_genes.insert(run.image_of(r).gene);
  for (int r : run.val_rows) val_genes.insert(run.image_of(r).gene);
  result.train_genes.assign(train_genes.begin(), train_genes.end());
  result.val_genes.assign(val_genes.begin(), val_genes.end());
  result.train_images = static_cast<int>(run.train_rows.size());
  result.val_images = static_cast<int>(run.val_rows.size());
}

// Images at the network's input size, decoded once.
std::vector<cv::Mat> load_images(FinetuneRun& run, const std::vector<int>& rows,
                                 const std::string& stage) {
  std::vector<cv::Mat> out;
  for (int r : rows) {
    cv::Mat img = read_image_bgr(run.image_of(r).path);
    if (run.policy == ResizePolicy::kNative && run.width == 0) {
      run.width = img.cols;
      run.height = img.rows;
    }
    if (run.policy == ResizePolicy::kNative && (img.cols != run.width || img.rows != run.height))
      throw file_error(run.image_of(r).path,
                       "has another size than the first image (--input-size native needs one "
                       "size)");
    out.push_back(resize_for_network(img, run.width, run.height, run.policy));
    run.reporter.report(stage, static_cast<int64_t>(out.size()), static_cast<int64_t>(rows.size()));
  }
  return out;
}

void load_training_data(FinetuneRun& run) {
  parse_input_size(run.params.input_size, &run.width, &run.height, &run.policy);
  run.train_images = load_images(run, run.train_rows, "read training images");
  run.val_images = load_images(run, run.val_rows, "read validation images");
  run.train_targets = targets_of(run.problem, run.train_rows);
  run.val_targets = targets_of(run.problem, run.val_rows);
  // Class weights from the training images only.
  if (run.params.pos_weight) {
    const torch::Tensor pos = run.train_targets.sum(0);
    const torch::Tensor neg = static_cast<double>(run.train_rows.size()) - pos;
    run.pos_weight = torch::where(pos > 0, neg / pos.clamp_min(1), torch::ones_like(pos))
                         .clamp(1.0, run.params.max_pos_weight)
                         .to(run.device);
  }
}

// The network and optimizer, and the state of an interrupted run when there is one.
void build_net(FinetuneRun& run, const std::string& checkpoint_path) {
  torch::manual_seed(run.params.seed);
  run.net =
      std::make_shared<MultiTaskNet>(run.backbone, run.params.head, run.k, run.width, run.height);
  run.net->to(run.device);
  // On the CPU, channels-last (NHWC) tensors let libtorch's oneDNN convolutions train without
  // reordering every activation to a blocked layout and back (forward and backward).
  if (run.device.is_cpu()) run.backbone->use_channels_last(true);
  run.optimizer = make_optimizer(*run.net, run.params);
  nlohmann::json identity = {
      {"params", finetune_params_json(run.params)},       {"terms", run.problem.terms},
      {"stage_range", run.problem.stage_range},           {"backbone", run.backbone->arch()},
      {"weights_sha256", run.backbone->weights_sha256()}, {"input", {run.width, run.height}}};
  for (int r : run.train_rows) identity["train_ids"].push_back(run.image_of(r).id);
  for (int r : run.val_rows) identity["val_ids"].push_back(run.image_of(r).id);
  run.state.fingerprint = sha256_bytes(identity.dump());
  for (auto& p : detail::trainable_parameters(*run.net)) run.best.push_back(p.detach().clone());
  if (run.params.resume && std::filesystem::exists(checkpoint_path)) {
    detail::load_checkpoint(checkpoint_path, run.state.fingerprint, *run.net, *run.optimizer,
                            &run.best, &run.state, run.device);
    run.reporter.info("resuming " + checkpoint_path + " after epoch " +
                      std::to_string(run.state.epochs_done));
  }
  if (run.net->frozen_through() >= 0 && run.device.is_cpu())
    run.trunk_engine = std::make_unique<InferenceEngine>(
        *run.backbone, std::vector<int>{run.net->frozen_through()});
}

void describe_run(const FinetuneRun& run, const FinetuneResult& result) {
  const auto& layers = run.backbone->layers();
  const int first = run.net->frozen_through() + 1;
  const std::string trained = first <= run.net->cut()
                                  ? layers[static_cast<size_t>(first)].name + ".." +
                                        layers[static_cast<size_t>(run.net->cut())].name
                                  : std::string("none");
  run.reporter.info("fine-tuning " + run.backbone->arch() + " stages " + trained + " + head (" +
                    std::to_string(run.net->head_input_dim()) + " -> " +
                    std::to_string(run.params.head.hidden) + " -> " + std::to_string(run.k) +
                    ") on " + std::to_string(run.train_rows.size()) + " images of " +
                    std::to_string(result.train_genes.size()) + " genes, validation " +
                    std::to_string(run.val_rows.size()) + " images of " +
                    std::to_string(result.val_genes.size()) + " genes, " +
                    std::to_string(run.width) + "x" + std::to_string(run.height));
}

// Fast path: the frozen trunk's outputs, computed once (V copies with augmentation).
void fill_trunk_cache(FinetuneRun& run, FinetuneResult& result) {
  run.use_cache = run.params.cache_trunk && run.net->frozen_through() >= 0;
  run.variants = run.params.augment.enabled ? run.params.cache_variants : 1;
  const bool more = !run.state.stopped && run.state.epochs_done < run.params.epochs;
  if (!run.use_cache || !more) return;
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  for (int v = 0; v < run.variants; ++v) {
    std::vector<cv::Mat> copy = run.train_images;
    for (size_t i = 0; v > 0 && i < copy.size(); ++i)
      copy[i] = apply_augmentation(
          copy[i], draw_augmentation(run.params.augment,
                                     derive_seed(run.params.seed, SeedStream::kCacheAugment, {0}),
                                     static_cast<uint64_t>(v) * copy.size() + i));
    run.train_cache.push_back(trunk_outputs(*run.net, run.trunk_engine.get(), copy,
                                            run.params.batch, run.device, run.reporter,
                                            "cache trunk (copy " + std::to_string(v + 1) + ")"));
  }
  if (run.has_val())
    run.val_cache =
        trunk_outputs(*run.net, run.trunk_engine.get(), run.val_images, run.params.batch,
                      run.device, run.reporter, "cache trunk (validation)");
  result.cache_cpu_seconds = cpu_seconds_since(cpu_start);
  result.cache_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double mb = static_cast<double>(run.train_cache[0].numel()) * 4 * run.variants / 1e6 +
                    (run.has_val() ? static_cast<double>(run.val_cache.numel()) * 4 / 1e6 : 0);
  run.reporter.info("cached the frozen trunk (through " +
                    run.backbone->layers()[static_cast<size_t>(run.net->frozen_through())].name +
                    "): " + std::to_string(static_cast<int>(mb)) + " MB in " +
                    format_duration(result.cache_seconds) + " (CPU " +
                    format_duration(result.cache_cpu_seconds) + ")");
}

// A loss or score that is no longer a number: the run diverged. Stop with a message that says
// so (the checkpoint of the last good epoch stays) rather than train or validate on NaN.
Error diverged(const FinetuneRun& run, const std::string& what, int epoch) {
  char rates[160];
  std::snprintf(rates, sizeof rates, "lower --lr (now %g) or --transfer-lr-factor (now %g)",
                run.params.lr, run.params.transfer_lr_factor);
  return Error("finetune: the " + what + " became NaN/Inf in epoch " + std::to_string(epoch) +
               ": training diverged; " + rates + " and rerun with --restart");
}

// One pass over the training images in a seeded order; returns the mean training loss.
double train_epoch(FinetuneRun& run, int epoch) {
  const auto& p = run.params;
  const int64_t n = static_cast<int64_t>(run.train_rows.size());
  const std::string stage = "epoch " + std::to_string(epoch) + "/" + std::to_string(p.epochs);
  run.net->train();
  torch::manual_seed(derive_seed(p.seed, SeedStream::kDropout, {static_cast<uint64_t>(epoch)}));
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  detail::Rng order_rng(p.seed, SeedStream::kTrainingOrder, {static_cast<uint64_t>(epoch)});
  order_rng.shuffle(order);
  double loss_sum = 0;
  for (int64_t begin = 0; begin < n; begin += p.batch) {
    const int64_t end = std::min<int64_t>(n, begin + p.batch);
    std::vector<int64_t> idx(order.begin() + begin, order.begin() + end);
    const torch::Tensor index = torch::tensor(idx, torch::kLong);
    torch::Tensor trunk_out;
    if (run.use_cache) {
      trunk_out = run.train_cache[static_cast<size_t>((epoch - 1) % run.variants)]
                      .index_select(0, index)
                      .to(run.device);
      if (run.backbone->channels_last())
        trunk_out = trunk_out.contiguous(torch::MemoryFormat::ChannelsLast);
    } else {
      std::vector<cv::Mat> batch;
      for (int64_t i : idx)
        batch.push_back(apply_augmentation(
            run.train_images[static_cast<size_t>(i)],
            draw_augmentation(p.augment, derive_seed(p.seed, SeedStream::kAugment, {0}),
                              static_cast<uint64_t>(epoch - 1) * static_cast<uint64_t>(n) +
                                  static_cast<uint64_t>(i))));
      trunk_out =
          run_trunk(*run.net, run.trunk_engine.get(), run.backbone->to_input(batch), run.device);
    }
    const torch::Tensor loss =
        multitask_loss(run.net->upper(trunk_out),
                       run.train_targets.index_select(0, index).to(run.device), run.pos_weight);
    const double value = loss.item<double>();
    if (!std::isfinite(value)) throw diverged(run, "training loss", epoch);
    run.optimizer->zero_grad();
    loss.backward();
    run.optimizer->step();
    loss_sum += value * static_cast<double>(end - begin);
    run.reporter.report(stage, end, n);
  }
  return loss_sum / static_cast<double>(n);
}

// Validation loss and per-term AUC on the held-out training genes (NaN without validation).
void validate(FinetuneRun& run, EpochRecord& record) {
  record.val_loss = record.mean_val_auc = std::nan("");
  record.val_auc.assign(static_cast<size_t>(run.k), std::nan(""));
  if (!run.has_val()) return;
  run.net->eval();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  const int64_t nv = static_cast<int64_t>(run.val_rows.size());
  for (int64_t begin = 0; begin < nv; begin += run.params.batch) {
    const int64_t end = std::min<int64_t>(nv, begin + run.params.batch);
    torch::Tensor trunk_out;
    if (run.use_cache) {
      trunk_out = run.val_cache.slice(0, begin, end).to(run.device);
    } else {
      std::vector<cv::Mat> batch(run.val_images.begin() + begin, run.val_images.begin() + end);
      trunk_out =
          run_trunk(*run.net, run.trunk_engine.get(), run.backbone->to_input(batch), run.device);
    }
    parts.push_back(run.net->upper(trunk_out).to(torch::kCPU));
  }
  const torch::Tensor logits = torch::cat(parts);
  if (!torch::isfinite(logits).all().item<bool>())
    throw diverged(run, "validation scores", record.epoch);
  record.val_loss = multitask_loss(logits, run.val_targets,
                                   run.pos_weight.defined() ? run.pos_weight.cpu() : run.pos_weight)
                        .item<double>();
  if (!std::isfinite(record.val_loss)) throw diverged(run, "validation loss", record.epoch);
  const torch::Tensor scores = logits.to(torch::kDouble).contiguous();
  const auto sa = scores.accessor<double, 2>();
  double sum = 0;
  int defined = 0;
  for (int t = 0; t < run.k; ++t) {
    std::vector<double> s(static_cast<size_t>(nv));
    std::vector<uint8_t> y(static_cast<size_t>(nv));
    for (int64_t i = 0; i < nv; ++i) {
      s[static_cast<size_t>(i)] = sa[i][t];
      y[static_cast<size_t>(i)] = run.problem.label(run.val_rows[static_cast<size_t>(i)], t);
    }
    if (auto auc = roc_auc(s, y)) {
      record.val_auc[static_cast<size_t>(t)] = *auc;
      sum += *auc;
      ++defined;
    }
  }
  if (defined > 0) record.mean_val_auc = sum / defined;
}

// Early stopping on the validation loss; without validation the last epoch is kept. Returns
// whether this epoch is the best so far.
bool update_best(FinetuneRun& run, const EpochRecord& record) {
  const bool improved = !run.has_val() || record.val_loss < run.state.best_val_loss;
  if (improved) {
    run.state.best_val_loss = run.has_val() ? record.val_loss : run.state.best_val_loss;
    run.state.best_epoch = record.epoch;
    run.state.bad_epochs = 0;
    run.best.clear();
    for (auto& p : detail::trainable_parameters(*run.net)) run.best.push_back(p.detach().clone());
  } else if (++run.state.bad_epochs >= run.params.patience) {
    run.state.stopped = true;
  }
  return improved;
}

// Trains epochs until the last, early stopping, or --stop-after. Returns false when
// --stop-after ended the run (checkpoint kept).
bool run_epochs(FinetuneRun& run, const std::string& out_path, const std::string& checkpoint_path) {
  const auto& p = run.params;
  int epochs_this_run = 0;
  for (int epoch = run.state.epochs_done + 1; epoch <= p.epochs && !run.state.stopped; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    EpochRecord record;
    record.epoch = epoch;
    record.train_loss = train_epoch(run, epoch);
    validate(run, record);
    const bool improved = update_best(run, record);
    record.cpu_seconds = cpu_seconds_since(cpu_start);
    record.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    run.state.curve.push_back(record);
    run.state.epochs_done = epoch;
    char line[200];
    std::snprintf(line, sizeof line,
                  "epoch %d/%d: train loss %.4f, val loss %.4f, mean val AUC %.4f%s, ", epoch,
                  p.epochs, record.train_loss, record.val_loss, record.mean_val_auc,
                  improved && run.has_val() ? " (best)" : "");
    run.reporter.info(line + format_duration(record.seconds));
    write_curve_tsv(out_path + ".curve.tsv", run.state.curve, run.problem.terms);
    detail::save_checkpoint(checkpoint_path, *run.net, *run.optimizer, run.best, run.state);
    if (run.state.stopped)
      run.reporter.info("early stop: no better validation loss for " + std::to_string(p.patience) +
                        " epochs; keeping epoch " + std::to_string(run.state.best_epoch));
    if (p.stop_after > 0 && ++epochs_this_run >= p.stop_after && !run.state.stopped &&
        epoch < p.epochs) {
      run.reporter.info("stopped after " + std::to_string(epochs_this_run) +
                        " epochs (--stop-after); continue with --resume");
      return false;
    }
  }
  return true;
}

}  // namespace

FinetuneResult finetune(const Dataset& dataset, const StageProblem& problem,
                        const std::vector<int>& allowed_rows, std::shared_ptr<Backbone> backbone,
                        const FinetuneParams& params, const std::string& out_path,
                        const Reporter& reporter) {
  if (auto p = params.check(); !p.empty()) throw Error("finetune: " + p);
  if (allowed_rows.empty()) throw Error("finetune: no training image in " + problem.stage_range);
  check_model_output(out_path);
  FinetuneRun run(dataset, problem, params, reporter, std::move(backbone));
  run.device = resolve_device(params.device);
  run.k = static_cast<int>(problem.terms.size());
  FinetuneResult result;
  result.terms = problem.terms;
  split_rows(run, allowed_rows, result);
  load_training_data(run);
  const std::string checkpoint_path = out_path + ".checkpoint";
  build_net(run, checkpoint_path);
  describe_run(run, result);
  fill_trunk_cache(run, result);
  const bool finished = run_epochs(run, out_path, checkpoint_path);
  result.curve = run.state.curve;
  result.best_epoch = run.state.best_epoch;
  if (!finished) return result;
  save_best_model(run, result, out_path);
  std::filesystem::remove(checkpoint_path);
  return result;
}

}  // namespace ishannot
