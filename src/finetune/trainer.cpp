// The fine-tuning loop: mini-batch SGD/Adam over the training genes' images, validation on held-out
// training genes after every epoch (loss, per-term AUC), early stopping on the validation loss,
// an atomic checkpoint per epoch, and the cached-trunk fast path.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <set>

#include "detail/checkpoint.h"
#include "detail/rng.h"
#include "ishannot/common/error.h"
#include "ishannot/common/format.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/common/seed.h"
#include "ishannot/eval/metrics.h"
#include "ishannot/image/image.h"
#include "ishannot/version.h"

namespace ishannot {

namespace {

using detail::TrainingState;

// Independent random streams, one per purpose, all from the run's seed (common/seed.h).
uint64_t sub_seed(uint64_t seed, SeedStream purpose, uint64_t index) {
  return derive_seed(seed, {stream(purpose), index});
}

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

void write_curve_tsv(const std::string& path, const std::vector<EpochRecord>& curve,
                     const std::vector<std::string>& terms) {
  std::string text = "epoch\tmetric\tterm\tvalue\n";
  auto row = [&](int epoch, const std::string& metric, const std::string& term, double v) {
    text += std::to_string(epoch) + "\t" + metric + "\t" + term + "\t" + format_exact(v) + "\n";
  };
  for (const EpochRecord& e : curve) {
    row(e.epoch, "train_loss", "", e.train_loss);
    row(e.epoch, "val_loss", "", e.val_loss);
    row(e.epoch, "mean_val_auc", "", e.mean_val_auc);
    for (size_t t = 0; t < terms.size() && t < e.val_auc.size(); ++t)
      row(e.epoch, "val_auc", terms[t], e.val_auc[t]);
    row(e.epoch, "seconds", "", e.seconds);
    row(e.epoch, "cpu_seconds", "", e.cpu_seconds);
  }
  write_text_atomically(path, text);
}

// Runs the frozen trunk over images in batches (no autograd); result on the CPU.
torch::Tensor trunk_outputs(MultiTaskNet& net, const std::vector<cv::Mat>& images, int batch,
                            const torch::Device& device, const Reporter& reporter,
                            const std::string& stage) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (size_t begin = 0; begin < images.size(); begin += static_cast<size_t>(batch)) {
    const size_t end = std::min(images.size(), begin + static_cast<size_t>(batch));
    std::vector<cv::Mat> slice(images.begin() + static_cast<long>(begin),
                               images.begin() + static_cast<long>(end));
    parts.push_back(net.trunk(net.backbone().to_input(slice).to(device)).to(torch::kCPU));
    reporter.report(stage, static_cast<int64_t>(end), static_cast<int64_t>(images.size()));
  }
  return torch::cat(parts);
}

}  // namespace

FinetuneResult finetune(const Dataset& dataset, const StageProblem& problem,
                        const std::vector<int>& allowed_rows, std::shared_ptr<Backbone> backbone,
                        const FinetuneParams& params, const std::string& out_path,
                        const Reporter& reporter) {
  if (auto p = params.check(); !p.empty()) throw Error("finetune: " + p);
  if (allowed_rows.empty()) throw Error("finetune: no training image in " + problem.stage_range);
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(params.device);
  } catch (const c10::Error&) {
    throw Error("--device " + params.device + ": expected cpu, cuda or cuda:N");
  }
  if (device.is_cuda() && !torch::cuda::is_available()) {
    throw Error("--device " + params.device +
                ": this libtorch build has no CUDA or sees no GPU (use --device cpu)");
  }
  const int k = static_cast<int>(problem.terms.size());
  auto image_of = [&](int row) -> const ImageRecord& {
    return dataset.images[static_cast<size_t>(problem.image_indices[static_cast<size_t>(row)])];
  };

  // Training and validation rows: whole genes, all among the allowed rows.
  FinetuneResult result;
  result.terms = problem.terms;
  std::vector<int> train_rows, val_rows;
  split_validation(dataset, problem, allowed_rows, params.val_fraction, params.seed, &train_rows,
                   &val_rows);
  if (train_rows.empty()) throw Error("finetune: the validation split left no training image");
  {
    std::set<std::string> tg, vg;
    for (int r : train_rows) tg.insert(image_of(r).gene);
    for (int r : val_rows) vg.insert(image_of(r).gene);
    result.train_genes.assign(tg.begin(), tg.end());
    result.val_genes.assign(vg.begin(), vg.end());
  }
  result.train_images = static_cast<int>(train_rows.size());
  result.val_images = static_cast<int>(val_rows.size());
  const bool has_val = !val_rows.empty();

  // Images at the network's input size, decoded once.
  int width = 0, height = 0;
  ResizePolicy policy;
  parse_input_size(params.input_size, &width, &height, &policy);
  auto load = [&](const std::vector<int>& rows, const std::string& stage) {
    std::vector<cv::Mat> out;
    for (int r : rows) {
      cv::Mat img = read_image_bgr(image_of(r).path);
      if (policy == ResizePolicy::kNative && width == 0) {
        width = img.cols;
        height = img.rows;
      }
      if (policy == ResizePolicy::kNative && (img.cols != width || img.rows != height))
        throw file_error(
            image_of(r).path,
            "has another size than the first image (--input-size native needs one size)");
      out.push_back(resize_for_network(img, width, height, policy));
      reporter.report(stage, static_cast<int64_t>(out.size()), static_cast<int64_t>(rows.size()));
    }
    return out;
  };
  const std::vector<cv::Mat> train_images = load(train_rows, "read training images");
  const std::vector<cv::Mat> val_images = load(val_rows, "read validation images");
  const torch::Tensor train_targets = targets_of(problem, train_rows);
  const torch::Tensor val_targets = targets_of(problem, val_rows);

  // Class weights from the training images only.
  torch::Tensor pos_weight;
  if (params.pos_weight) {
    const torch::Tensor pos = train_targets.sum(0);
    const torch::Tensor neg = static_cast<double>(train_rows.size()) - pos;
    pos_weight = torch::where(pos > 0, neg / pos.clamp_min(1), torch::ones_like(pos))
                     .clamp(1.0, params.max_pos_weight)
                     .to(device);
  }

  torch::manual_seed(params.seed);
  auto net = std::make_shared<MultiTaskNet>(backbone, params.head, k, width, height);
  net->to(device);
  auto optimizer = make_optimizer(*net, params);

  nlohmann::json identity = {
      {"params", finetune_params_json(params)},       {"terms", problem.terms},
      {"stage_range", problem.stage_range},           {"backbone", backbone->arch()},
      {"weights_sha256", backbone->weights_sha256()}, {"input", {width, height}}};
  for (int r : train_rows) identity["train_ids"].push_back(image_of(r).id);
  for (int r : val_rows) identity["val_ids"].push_back(image_of(r).id);
  TrainingState state;
  state.fingerprint = sha256_bytes(identity.dump());
  std::vector<torch::Tensor> best;
  for (auto& p : detail::trainable_parameters(*net)) best.push_back(p.detach().clone());

  const std::string checkpoint_path = out_path + ".checkpoint";
  if (params.resume && std::filesystem::exists(checkpoint_path)) {
    detail::load_checkpoint(checkpoint_path, state.fingerprint, *net, *optimizer, &best, &state,
                            device);
    reporter.info("resuming " + checkpoint_path + " after epoch " +
                  std::to_string(state.epochs_done));
  } else if (params.resume) {
    reporter.info("no checkpoint " + checkpoint_path + ": starting from epoch 1");
  }
  const int first = net->frozen_through() + 1;
  reporter.info("fine-tuning " + backbone->arch() + " stages " +
                (first <= net->cut() ? backbone->layers()[static_cast<size_t>(first)].name + ".." +
                                           backbone->layers()[static_cast<size_t>(net->cut())].name
                                     : std::string("none")) +
                " + head (" + std::to_string(net->head_input_dim()) + " -> " +
                std::to_string(params.head.hidden) + " -> " + std::to_string(k) + ") on " +
                std::to_string(train_rows.size()) + " images of " +
                std::to_string(result.train_genes.size()) + " genes, validation " +
                std::to_string(val_rows.size()) + " images of " +
                std::to_string(result.val_genes.size()) + " genes, " + std::to_string(width) + "x" +
                std::to_string(height));

  // Fast path: the frozen trunk's outputs, once.
  const bool use_cache = params.cache_trunk && net->frozen_through() >= 0;
  const bool more = !state.stopped && state.epochs_done < params.epochs;
  std::vector<torch::Tensor> train_cache;
  torch::Tensor val_cache;
  const int variants = params.augment.enabled ? params.cache_variants : 1;
  if (use_cache && more) {
    const auto cache_start = std::chrono::steady_clock::now();
    const std::clock_t cache_cpu_start = std::clock();
    for (int v = 0; v < variants; ++v) {
      std::vector<cv::Mat> copy = train_images;
      for (size_t i = 0; v > 0 && i < copy.size(); ++i)
        copy[i] = apply_augmentation(
            copy[i],
            draw_augmentation(params.augment, sub_seed(params.seed, SeedStream::kCacheAugment, 0),
                              static_cast<uint64_t>(v) * copy.size() + i));
      train_cache.push_back(trunk_outputs(*net, copy, params.batch, device, reporter,
                                          "cache trunk (copy " + std::to_string(v + 1) + ")"));
    }
    if (has_val)
      val_cache = trunk_outputs(*net, val_images, params.batch, device, reporter,
                                "cache trunk (validation)");
    result.cache_cpu_seconds = cpu_seconds_since(cache_cpu_start);
    result.cache_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - cache_start).count();
    const double mb = static_cast<double>(train_cache[0].numel()) * 4 * variants / 1e6 +
                      (has_val ? static_cast<double>(val_cache.numel()) * 4 / 1e6 : 0);
    reporter.info("cached the frozen trunk (through " +
                  backbone->layers()[static_cast<size_t>(net->frozen_through())].name +
                  "): " + std::to_string(static_cast<int>(mb)) + " MB in " +
                  std::to_string(std::lround(result.cache_seconds)) + " s (CPU " +
                  std::to_string(std::lround(result.cache_cpu_seconds)) + " s)");
  }

  const int64_t n = static_cast<int64_t>(train_rows.size());
  int epochs_this_run = 0;
  for (int epoch = state.epochs_done + 1; epoch <= params.epochs && !state.stopped; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    const std::string stage =
        "epoch " + std::to_string(epoch) + "/" + std::to_string(params.epochs);
    EpochRecord record;
    record.epoch = epoch;
    net->train();
    torch::manual_seed(sub_seed(params.seed, SeedStream::kDropout, static_cast<uint64_t>(epoch)));
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    detail::Rng order_rng(
        sub_seed(params.seed, SeedStream::kTrainingOrder, static_cast<uint64_t>(epoch)));
    order_rng.shuffle(order);
    double loss_sum = 0;
    for (int64_t begin = 0; begin < n; begin += params.batch) {
      const int64_t end = std::min<int64_t>(n, begin + params.batch);
      std::vector<int64_t> idx(order.begin() + begin, order.begin() + end);
      const torch::Tensor index = torch::tensor(idx, torch::kLong);
      torch::Tensor trunk_out;
      if (use_cache) {
        trunk_out =
            train_cache[static_cast<size_t>((epoch - 1) % variants)].index_select(0, index).to(
                device);
      } else {
        std::vector<cv::Mat> batch;
        for (int64_t i : idx)
          batch.push_back(apply_augmentation(
              train_images[static_cast<size_t>(i)],
              draw_augmentation(params.augment, sub_seed(params.seed, SeedStream::kAugment, 0),
                                static_cast<uint64_t>(epoch - 1) * static_cast<uint64_t>(n) +
                                    static_cast<uint64_t>(i))));
        trunk_out = net->trunk(backbone->to_input(batch).to(device));
      }
      const torch::Tensor loss = multitask_loss(
          net->upper(trunk_out), train_targets.index_select(0, index).to(device), pos_weight);
      optimizer->zero_grad();
      loss.backward();
      optimizer->step();
      loss_sum += loss.item<double>() * static_cast<double>(end - begin);
      reporter.report(stage, end, n);
    }
    record.train_loss = loss_sum / static_cast<double>(n);

    record.val_loss = record.mean_val_auc = std::nan("");
    record.val_auc.assign(static_cast<size_t>(k), std::nan(""));
    if (has_val) {
      net->eval();
      torch::NoGradGuard no_grad;
      std::vector<torch::Tensor> parts;
      const int64_t nv = static_cast<int64_t>(val_rows.size());
      for (int64_t begin = 0; begin < nv; begin += params.batch) {
        const int64_t end = std::min<int64_t>(nv, begin + params.batch);
        torch::Tensor trunk_out;
        if (use_cache) {
          trunk_out = val_cache.slice(0, begin, end).to(device);
        } else {
          std::vector<cv::Mat> batch(val_images.begin() + begin, val_images.begin() + end);
          trunk_out = net->trunk(backbone->to_input(batch).to(device));
        }
        parts.push_back(net->upper(trunk_out).to(torch::kCPU));
      }
      const torch::Tensor logits = torch::cat(parts);
      record.val_loss =
          multitask_loss(logits, val_targets, pos_weight.defined() ? pos_weight.cpu() : pos_weight)
              .item<double>();
      const torch::Tensor scores = logits.to(torch::kDouble).contiguous();
      const auto sa = scores.accessor<double, 2>();
      double sum = 0;
      int defined = 0;
      for (int t = 0; t < k; ++t) {
        std::vector<double> s(static_cast<size_t>(nv));
        std::vector<uint8_t> y(static_cast<size_t>(nv));
        for (int64_t i = 0; i < nv; ++i) {
          s[static_cast<size_t>(i)] = sa[i][t];
          y[static_cast<size_t>(i)] = problem.label(val_rows[static_cast<size_t>(i)], t);
        }
        if (auto auc = roc_auc(s, y)) {
          record.val_auc[static_cast<size_t>(t)] = *auc;
          sum += *auc;
          ++defined;
        }
      }
      if (defined > 0) record.mean_val_auc = sum / defined;
    }

    // Early stopping on the validation loss; without validation the last epoch is kept.
    const bool improved = !has_val || record.val_loss < state.best_val_loss;
    if (improved) {
      state.best_val_loss = has_val ? record.val_loss : state.best_val_loss;
      state.best_epoch = epoch;
      state.bad_epochs = 0;
      best.clear();
      for (auto& p : detail::trainable_parameters(*net)) best.push_back(p.detach().clone());
    } else if (++state.bad_epochs >= params.patience) {
      state.stopped = true;
    }
    record.cpu_seconds = cpu_seconds_since(cpu_start);
    record.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.curve.push_back(record);
    state.epochs_done = epoch;

    char line[200];
    std::snprintf(line, sizeof line,
                  "epoch %d/%d: train loss %.4f, val loss %.4f, mean val AUC %.4f%s, %.1f s", epoch,
                  params.epochs, record.train_loss, record.val_loss, record.mean_val_auc,
                  improved && has_val ? " (best)" : "", record.seconds);
    reporter.info(line);
    write_curve_tsv(out_path + ".curve.tsv", state.curve, problem.terms);
    detail::save_checkpoint(checkpoint_path, *net, *optimizer, best, state);
    if (state.stopped)
      reporter.info("early stop: no better validation loss for " + std::to_string(params.patience) +
                    " epochs; keeping epoch " + std::to_string(state.best_epoch));
    if (params.stop_after > 0 && ++epochs_this_run >= params.stop_after && !state.stopped &&
        epoch < params.epochs) {
      result.curve = state.curve;
      result.best_epoch = state.best_epoch;
      reporter.info("stopped after " + std::to_string(epochs_this_run) +
                    " epochs (--stop-after); continue with --resume");
      return result;
    }
  }

  // The best epoch's weights, saved on the CPU so that any machine can read them.
  {
    torch::NoGradGuard no_grad;
    auto params_now = detail::trainable_parameters(*net);
    for (size_t i = 0; i < params_now.size(); ++i) params_now[i].copy_(best[i]);
  }
  net->to(torch::kCPU);
  net->eval();
  result.finished = true;
  result.best_epoch = state.best_epoch;
  result.early_stopped = state.stopped;
  result.curve = state.curve;

  nlohmann::json sidecar = {
      {"format", "ishannot-finetuned-model"},
      {"format_version", 1},
      {"tool_version", ISHANNOT_VERSION},
      {"backbone", backbone->arch()},
      {"base_weights_path", backbone->weights_path()},
      {"base_weights_sha256", backbone->weights_sha256()},
      {"head",
       {{"cut", backbone->layers()[static_cast<size_t>(net->cut())].name},
        {"freeze_through",
         net->frozen_through() < 0
             ? std::string("none")
             : backbone->layers()[static_cast<size_t>(net->frozen_through())].name},
        {"pool", params.head.pool},
        {"hidden", params.head.hidden},
        {"dropout", params.head.dropout},
        {"input_dim", net->head_input_dim()}}},
      {"input_size", params.input_size},
      {"input_width", width},
      {"input_height", height},
      {"preprocessing",
       {{"name", backbone->preprocessing().name},
        {"rgb", backbone->preprocessing().rgb},
        {"scale", backbone->preprocessing().scale},
        {"mean", backbone->preprocessing().mean},
        {"std", backbone->preprocessing().stdev}}},
      {"stage_range", problem.stage_range},
      {"terms", problem.terms},
      {"data_source", dataset.source},
      {"train_genes", result.train_genes},
      {"val_genes", result.val_genes},
      {"train_images", result.train_images},
      {"val_images", result.val_images},
      {"params", finetune_params_json(params)},
      {"best_epoch", state.best_epoch},
      {"early_stopped", state.stopped},
      {"curve", detail::curve_to_json(state.curve)},
      {"command_line", params.command_line}};
  detail::save_model(out_path, *net, sidecar);
  std::filesystem::remove(checkpoint_path);
  return result;
}

}  // namespace ishannot
