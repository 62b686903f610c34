// The model card (model_card.h): a bundle described for people.
#include "ishannot/annotate/model_card.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace ishannot {

namespace {

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "-";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

std::string lpad(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

// The kind of a note: quoted names and parenthesised details dropped, digit runs as '#'.
std::string note_kind(const std::string& note) {
  std::string key;
  char skip_until = 0;
  int depth = 0;
  for (char c : note) {
    if (skip_until == '\'') {
      if (c == '\'') skip_until = 0;
      continue;
    }
    if (depth > 0) {
      depth += c == '(' ? 1 : c == ')' ? -1 : 0;
      continue;
    }
    if (c == '\'') {
      skip_until = '\'';
      key += "'*'";
    } else if (c == '(') {
      depth = 1;
      key += "(*)";
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      if (key.empty() || key.back() != '#') key += '#';
    } else {
      key += c;
    }
  }
  return key;
}

// The first quoted name of a note ("" when none).
std::string quoted(const std::string& note) {
  const auto a = note.find('\'');
  if (a == std::string::npos) return "";
  const auto b = note.find('\'', a + 1);
  return b == std::string::npos ? "" : note.substr(a, b - a + 1);
}

std::string attribute(const ModelBundle& b, const std::string& key) {
  const auto at = b.attributes.find(key);
  return at == b.attributes.end() ? "-" : at->second;
}

std::string recipe(const ModelBundle& b, const std::string& key) {
  const auto at = b.recipe.attributes.find(key);
  return at == b.recipe.attributes.end() ? "-" : at->second;
}

}  // namespace

std::vector<std::string> collapse_notes(const std::vector<std::string>& notes) {
  std::vector<std::string> kinds;
  std::map<std::string, std::vector<const std::string*>> by_kind;
  for (const auto& n : notes) {
    const std::string k = note_kind(n);
    if (!by_kind.count(k)) kinds.push_back(k);
    by_kind[k].push_back(&n);
  }
  std::vector<std::string> out;
  for (const auto& k : kinds) {
    const auto& list = by_kind[k];
    if (list.size() == 1) {
      out.push_back(*list.front());
      continue;
    }
    std::string line = std::to_string(list.size()) + " x " + *list.front();
    std::string also;
    size_t named = 0;
    for (size_t i = 1; i < list.size(); ++i) {
      const std::string q = quoted(*list[i]);
      if (q.empty()) continue;
      if (named++ < 6) also += (also.empty() ? "" : ", ") + q;
    }
    if (named > 6) also += ", ... (" + std::to_string(named - 6) + " more)";
    out.push_back(line + (also.empty() ? "" : " (also: " + also + ")"));
  }
  return out;
}

std::string model_card_terms(const ModelBundle& bundle, const CallBand& band) {
  size_t width = 4;
  for (const auto& s : bundle.stages)
    for (const auto& t : s.terms) width = std::max(width, std::min<size_t>(t.term.size(), 48));
  std::ostringstream out;
  out << pad("stage", 6) << " " << pad("term", width) << "  cv_auc folds pos_genes positives"
      << "  calibration          validated\n";
  int terms = 0, validated = 0, single_gene = 0;
  for (const auto& s : bundle.stages)
    for (const auto& t : s.terms) {
      const bool ok = term_validated(t, band);
      ++terms;
      validated += ok;
      single_gene += t.positive_genes < 2;
      const std::string cal = bundle.calibrated
                                  ? calibration_method_name(t.calibration.method) + " (" +
                                        std::to_string(t.calibration.samples) + ")"
                                  : "- (old bundle)";
      out << pad(s.stage_range, 6) << " " << pad(t.term, width) << "  "
          << lpad(fixed(t.cv.auc, 3), 6) << " " << lpad(std::to_string(t.cv.folds), 5) << " "
          << lpad(std::to_string(t.positive_genes), 9) << " "
          << lpad(std::to_string(t.positives), 9) << "  " << pad(cal, 20) << " "
          << (ok ? "yes" : "no") << "\n";
    }
  out << validated << " of " << terms
      << " terms validated (cross-validated AUC >= " << fixed(band.min_auc, 2)
      << " on >= 2 folds): annotate calls the others 'uncertain'";
  if (single_gene > 0)
    out << "; " << single_gene << " learnt from a single positive gene (no CV AUC possible)";
  out << "\n";
  return out.str();
}

// What learnt the terms: the paper's ensembles (by image or by pooled bag) or attention MIL.
std::string classifier_line(const ModelBundle& bundle) {
  const auto unit = bundle.attributes.find("unit");
  const bool bag = unit != bundle.attributes.end() && unit->second == "bag";
  const std::string pool = bag ? attribute(bundle, "bag_pool") : "";
  if (pool == "attention")
    return "gated-attention MIL on gene x stage-range bags, one model per stage range for all its "
           "terms, " +
           attribute(bundle, "mil_components") + " kernel-PCA coordinates per image, loss " +
           attribute(bundle, "mil_loss") + ", at most " + attribute(bundle, "mil_epochs") +
           " epochs";
  return std::to_string(bundle.models) + " l2 logistic regressions per term (under-sampled" +
         (bag ? ", on " + pool + "-pooled gene x stage-range bags" : std::string()) + "), C grid " +
         attribute(bundle, "c_grid") + ", inner folds " + attribute(bundle, "inner_folds");
}

std::string model_card(const ModelBundle& bundle, const CallBand& band) {
  std::ostringstream out;
  out << "model bundle  " << bundle.path << " (format " << attribute(bundle, "format") << " "
      << attribute(bundle, "format_version") << ")\n"
      << "created       " << attribute(bundle, "created_utc") << " by ishannot "
      << attribute(bundle, "tool_version") << "\n"
      << "command       " << attribute(bundle, "created_by") << "\n"
      << "data          " << attribute(bundle, "training_data") << " ("
      << attribute(bundle, "training_scope") << ")\n"
      << "features      " << attribute(bundle, "features") << " (method "
      << attribute(bundle, "method") << ")\n"
      << "terms         " << attribute(bundle, "term_selection") << "\n"
      << "classifier    " << classifier_line(bundle) << ", preprocessing "
      << preprocessing_name(bundle.preprocessing) << ", seed " << attribute(bundle, "seed") << "\n"
      << "quality       evaluate's grouped CV, " << attribute(bundle, "cv_folds") << " folds\n"
      << "calibration   "
      << (bundle.calibrated
              ? attribute(bundle, "calibration") + " on each term's out-of-fold CV scores"
              : "none (bundle written before calibration: retrain)")
      << "\n"
      << "recipe        " << recipe(bundle, "backbone") << ", weights sha256 "
      << recipe(bundle, "weights_sha256").substr(0, 16) << "..., input "
      << recipe(bundle, "input_size") << " (" << recipe(bundle, "resize_policy") << "), pooling "
      << recipe(bundle, "pooling") << ", layers";
  for (const auto& l : bundle.recipe.layers)
    out << " " << l.name << (l.shape.empty() ? "" : " [" + l.shape + "]") << " (" << l.dim << ")";
  out << "\nstage ranges ";
  for (const auto& s : bundle.stages)
    out << " " << s.stage_range << " (" << s.images << " images, " << s.genes.size() << " genes)";
  out << "\n\n" << model_card_terms(bundle, band);
  std::vector<std::string> notes;
  for (const auto& s : bundle.stages)
    for (const auto& n : s.notes) notes.push_back(s.stage_range + ": " + n);
  const auto collapsed = collapse_notes(notes);
  if (!collapsed.empty()) out << "\nnotes (" << notes.size() << ")\n";
  for (const auto& n : collapsed) out << "  " << n << "\n";
  return out.str();
}

}  // namespace ishannot
