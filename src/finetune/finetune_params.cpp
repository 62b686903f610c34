// FinetuneParams: validation and its JSON form (sidecar provenance and resume fingerprint).
#include <nlohmann/json.hpp>

#include "ishannot/nets/finetune.h"

namespace ishannot {

std::string FinetuneParams::check() const {
  if (auto p = head.check(); !p.empty()) return p;
  if (auto p = augment.check(); !p.empty()) return "augmentation: " + p;
  if (optimizer != "sgd" && optimizer != "adam") return "optimizer must be sgd or adam";
  if (!(lr > 0 && lr < 10)) return "learning rate must be in (0, 10)";
  if (!(transfer_lr_factor >= 0 && transfer_lr_factor <= 10))
    return "transfer learning-rate factor must be in [0, 10]";
  if (momentum < 0 || momentum >= 1) return "momentum must be in [0, 1)";
  if (weight_decay < 0 || weight_decay > 1) return "weight decay must be in [0, 1]";
  if (batch < 1 || batch > 4096) return "batch must be in 1..4096";
  if (epochs < 1 || epochs > 100000) return "epochs must be in 1..100000";
  if (patience < 1) return "patience must be >= 1";
  if (val_fraction < 0 || val_fraction > 0.5) return "validation fraction must be in [0, 0.5]";
  if (!(max_pos_weight >= 1)) return "max positive weight must be >= 1";
  if (cache_variants < 1 || cache_variants > 64) return "cache variants must be in 1..64";
  if (stop_after < 0) return "stop-after must be >= 0";
  if (device != "cpu" && device.rfind("cuda", 0) != 0) return "device must be cpu or cuda[:N]";
  return "";
}

// Everything that changes the trained weights (not: device, resume, stop_after, command line).
nlohmann::json finetune_params_json(const FinetuneParams& p) {
  const AugmentParams& a = p.augment;
  return {{"head",
           {{"cut", p.head.cut},
            {"freeze_through", p.head.freeze_through},
            {"pool", p.head.pool},
            {"hidden", p.head.hidden},
            {"dropout", p.head.dropout}}},
          {"input_size", p.input_size},
          {"optimizer", p.optimizer},
          {"lr", p.lr},
          {"transfer_lr_factor", p.transfer_lr_factor},
          {"momentum", p.momentum},
          {"weight_decay", p.weight_decay},
          {"batch", p.batch},
          {"epochs", p.epochs},
          {"patience", p.patience},
          {"val_fraction", p.val_fraction},
          {"pos_weight", p.pos_weight},
          {"max_pos_weight", p.max_pos_weight},
          {"augment",
           {{"enabled", a.enabled},
            {"shift", a.shift},
            {"scale", a.scale},
            {"brightness", a.brightness},
            {"contrast", a.contrast},
            {"stain", a.stain},
            {"flip_horizontal", a.flip_horizontal},
            {"flip_vertical", a.flip_vertical}}},
          {"cache_trunk", p.cache_trunk},
          {"cache_variants", p.cache_variants},
          {"seed", p.seed}};
}

}  // namespace ishannot
