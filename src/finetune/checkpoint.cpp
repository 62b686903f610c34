#include "finetune/checkpoint.h"

#include <cmath>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"

namespace ishannot::detail {

namespace {

constexpr int kCheckpointVersion = 1;

// JSON has no NaN: undefined values are written as null and read back as NaN.
nlohmann::json number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}
double number_from(const nlohmann::json& j) {
  return j.is_null() ? std::nan("") : j.get<double>();
}

// The first line of an exception's message, without libtorch's stack trace.
std::string first_line(const std::exception& e) {
  const auto* torch_error = dynamic_cast<const c10::Error*>(&e);
  const std::string text = torch_error ? torch_error->what_without_backtrace() : e.what();
  return text.substr(0, text.find_first_of("\r\n"));
}

}  // namespace

nlohmann::json curve_to_json(const std::vector<EpochRecord>& curve) {
  nlohmann::json out = nlohmann::json::array();
  for (const EpochRecord& e : curve) {
    nlohmann::json auc = nlohmann::json::array();
    for (double a : e.val_auc) auc.push_back(number(a));
    out.push_back({{"epoch", e.epoch},
                   {"train_loss", number(e.train_loss)},
                   {"val_loss", number(e.val_loss)},
                   {"val_auc", auc},
                   {"mean_val_auc", number(e.mean_val_auc)},
                   {"seconds", e.seconds},
                   {"cpu_seconds", e.cpu_seconds}});
  }
  return out;
}

std::vector<EpochRecord> curve_from_json(const nlohmann::json& j) {
  std::vector<EpochRecord> curve;
  for (const auto& e : j) {
    EpochRecord r;
    r.epoch = e.at("epoch").get<int>();
    r.train_loss = number_from(e.at("train_loss"));
    r.val_loss = number_from(e.at("val_loss"));
    for (const auto& a : e.at("val_auc")) r.val_auc.push_back(number_from(a));
    r.mean_val_auc = number_from(e.at("mean_val_auc"));
    r.seconds = e.at("seconds").get<double>();
    r.cpu_seconds = e.value("cpu_seconds", 0.0);
    curve.push_back(r);
  }
  return curve;
}

std::vector<torch::Tensor> trainable_parameters(MultiTaskNet& net) {
  std::vector<torch::Tensor> out;
  for (auto& p : net.parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

void save_checkpoint(const std::string& path, MultiTaskNet& net, torch::optim::Optimizer& optimizer,
                     const std::vector<torch::Tensor>& best, const TrainingState& state) {
  torch::serialize::OutputArchive archive, net_archive, optimizer_archive, best_archive;
  net.save(net_archive);
  optimizer.save(optimizer_archive);
  for (size_t i = 0; i < best.size(); ++i)
    best_archive.write("p" + std::to_string(i), best[i].to(torch::kCPU));
  const nlohmann::json meta = {{"format", "ishannot-finetune-checkpoint"},
                               {"version", kCheckpointVersion},
                               {"epochs_done", state.epochs_done},
                               {"best_epoch", state.best_epoch},
                               {"best_val_loss", number(state.best_val_loss)},
                               {"bad_epochs", state.bad_epochs},
                               {"stopped", state.stopped},
                               {"best_count", best.size()},
                               {"fingerprint", state.fingerprint},
                               {"curve", curve_to_json(state.curve)}};
  archive.write("net", net_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("best", best_archive);
  archive.write("state", c10::IValue(meta.dump()));
  write_atomically(path, [&](const std::string& tmp) { archive.save_to(tmp); });
}

void load_checkpoint(const std::string& path, const std::string& fingerprint, MultiTaskNet& net,
                     torch::optim::Optimizer& optimizer, std::vector<torch::Tensor>* best,
                     TrainingState* state, const torch::Device& device) {
  torch::serialize::InputArchive archive, net_archive, optimizer_archive, best_archive;
  nlohmann::json meta;
  try {
    archive.load_from(path, device);  // optimizer state next to the parameters
    c10::IValue text;
    archive.read("state", text);
    meta = nlohmann::json::parse(text.toStringRef());
  } catch (const std::exception& e) {
    // One line: libtorch's messages carry a stack trace (a truncated file, another format).
    throw file_error(path, "not a readable fine-tuning checkpoint (truncated or damaged?): " +
                               first_line(e) + "; --restart to start over");
  }
  if (meta.value("format", "") != "ishannot-finetune-checkpoint" ||
      meta.value("version", 0) != kCheckpointVersion) {
    throw file_error(path, "not an ishannot fine-tuning checkpoint of version " +
                               std::to_string(kCheckpointVersion));
  }
  if (meta.value("fingerprint", "") != fingerprint) {
    throw file_error(path,
                     "checkpoint of a different configuration (data, terms, genes or options "
                     "changed): --restart to start over");
  }
  try {
    archive.read("net", net_archive);
    net.load(net_archive);
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    archive.read("best", best_archive);
    best->clear();
    const size_t count = meta.at("best_count").get<size_t>();
    for (size_t i = 0; i < count; ++i) {
      torch::Tensor t;
      best_archive.read("p" + std::to_string(i), t);
      best->push_back(t);
    }
  } catch (const std::exception& e) {
    throw file_error(path, "checkpoint does not fit this network: " + first_line(e) +
                               "; --restart to start over");
  }
  state->epochs_done = meta.at("epochs_done").get<int>();
  state->best_epoch = meta.at("best_epoch").get<int>();
  state->best_val_loss = number_from(meta.at("best_val_loss"));
  if (std::isnan(state->best_val_loss)) state->best_val_loss = INFINITY;
  state->bad_epochs = meta.at("bad_epochs").get<int>();
  state->stopped = meta.at("stopped").get<bool>();
  state->fingerprint = fingerprint;
  state->curve = curve_from_json(meta.at("curve"));
}

}  // namespace ishannot::detail
