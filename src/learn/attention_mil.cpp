// Gated-attention MIL (attention_mil.h): forward pass, hand-derived gradient, Adam with early
// stopping.
#include "ishannot/learn/attention_mil.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "detail/rng.h"
#include "ishannot/common/enum_names.h"
#include "ishannot/common/error.h"
#include "ishannot/common/seed.h"

namespace ishannot {

constexpr EnumName<MilWeighting> kMilWeightingNames[] = {{MilWeighting::kBalanced, "balanced"},
                                                         {MilWeighting::kNone, "none"}};

MilWeighting parse_mil_weighting(const std::string& name) {
  return parse_enum(kMilWeightingNames, name, "MIL loss weighting");
}

std::string mil_weighting_name(MilWeighting weighting) {
  return enum_name(kMilWeightingNames, weighting);
}

std::string AttentionMilParams::check() const {
  if (hidden < 1 || attention < 1) return "attention MIL layer sizes must be >= 1";
  if (max_epochs < 1) return "attention MIL epochs must be >= 1";
  if (patience < 1) return "attention MIL patience must be >= 1";
  if (batch_bags < 1) return "attention MIL batch must be >= 1 bag";
  if (!(learning_rate > 0) || !std::isfinite(learning_rate))
    return "attention MIL learning rate must be positive";
  if (!(weight_decay >= 0) || !std::isfinite(weight_decay))
    return "attention MIL weight decay must be >= 0";
  if (!(validation_fraction > 0) || !(validation_fraction < 1))
    return "attention MIL validation fraction must be in (0, 1)";
  return "";
}

std::vector<Eigen::MatrixXd*> AttentionMil::parameters() {
  return {&A, &a, &V, &v, &U, &u, &W, &C, &b};
}

std::vector<const Eigen::MatrixXd*> AttentionMil::parameters() const {
  return {&A, &a, &V, &v, &U, &u, &W, &C, &b};
}

namespace {

// Weight matrices (decayed) among parameters(): A, V, U, W, C.
bool is_weight(size_t index) {
  return index == 0 || index == 2 || index == 4 || index >= 6;
}

Eigen::MatrixXd glorot(int rows, int cols, detail::Rng& rng) {
  const double limit = std::sqrt(6.0 / (rows + cols));
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index c = 0; c < m.cols(); ++c)
    for (Eigen::Index r = 0; r < m.rows(); ++r) m(r, c) = rng.uniform(-limit, limit);
  return m;
}

Eigen::MatrixXd sigmoid(const Eigen::MatrixXd& x) {
  return (1.0 + (-x.array()).exp()).inverse().matrix();
}

// Row-wise softmax of a terms x n matrix.
Eigen::MatrixXd softmax_rows(const Eigen::MatrixXd& e) {
  Eigen::MatrixXd out = e;
  for (Eigen::Index t = 0; t < e.rows(); ++t) {
    out.row(t).array() = (e.row(t).array() - e.row(t).maxCoeff()).exp();
    out.row(t) /= out.row(t).sum();
  }
  return out;
}

// Everything the backward pass of one bag needs.
struct BagPass {
  Eigen::MatrixXd pre, h, q_tanh, r_sigmoid, s, attention, pooled;  // pooled: terms x hidden
  Eigen::VectorXd logits;
};

BagPass forward(const AttentionMil& m, const Eigen::MatrixXd& z) {
  BagPass p;
  p.pre = (m.A * z).colwise() + m.a.col(0);
  p.h = p.pre.cwiseMax(0.0);
  p.q_tanh = ((m.V * p.h).colwise() + m.v.col(0)).array().tanh().matrix();
  p.r_sigmoid = sigmoid((m.U * p.h).colwise() + m.u.col(0));
  p.s = p.q_tanh.cwiseProduct(p.r_sigmoid);
  p.attention = softmax_rows(m.W * p.s);
  p.pooled = p.attention * p.h.transpose();
  p.logits = m.C.cwiseProduct(p.pooled).rowwise().sum() + m.b.col(0);
  return p;
}

// Adds the gradient of sum_t delta_t * logit_t (delta = dLoss/dlogit) of one bag to `g`.
void backward(const AttentionMil& m, const Eigen::MatrixXd& z, const BagPass& p,
              const Eigen::VectorXd& delta, AttentionMil& g) {
  g.C += delta.asDiagonal() * p.pooled;
  g.b.col(0) += delta;
  const Eigen::MatrixXd d_pooled = delta.asDiagonal() * m.C;  // terms x hidden
  const Eigen::MatrixXd d_attention = d_pooled * p.h;         // terms x n
  Eigen::MatrixXd d_h = d_pooled.transpose() * p.attention;   // hidden x n
  const Eigen::VectorXd inner = p.attention.cwiseProduct(d_attention).rowwise().sum();
  const Eigen::MatrixXd d_e =
      p.attention.cwiseProduct(d_attention - inner.replicate(1, d_attention.cols()));
  g.W += d_e * p.s.transpose();
  const Eigen::MatrixXd d_s = m.W.transpose() * d_e;  // attention x n
  const Eigen::MatrixXd d_q =
      d_s.cwiseProduct(p.r_sigmoid).cwiseProduct((1.0 - p.q_tanh.array().square()).matrix());
  const Eigen::MatrixXd d_r = d_s.cwiseProduct(p.q_tanh).cwiseProduct(
      (p.r_sigmoid.array() * (1.0 - p.r_sigmoid.array())).matrix());
  g.V += d_q * p.h.transpose();
  g.v.col(0) += d_q.rowwise().sum();
  g.U += d_r * p.h.transpose();
  g.u.col(0) += d_r.rowwise().sum();
  d_h += m.V.transpose() * d_q + m.U.transpose() * d_r;
  const Eigen::MatrixXd d_pre = d_h.cwiseProduct((p.pre.array() > 0).cast<double>().matrix());
  g.A += d_pre * z.transpose();
  g.a.col(0) += d_pre.rowwise().sum();
}

// Numerically stable BCE of a logit.
double bce(double logit, double y) {
  return std::max(logit, 0.0) - logit * y + std::log1p(std::exp(-std::abs(logit)));
}

Eigen::MatrixXd bag_inputs(const MilData& data, int bag) {
  const auto& rows = data.bags[static_cast<size_t>(bag)];
  Eigen::MatrixXd z(data.inputs.rows(), static_cast<Eigen::Index>(rows.size()));
  for (size_t i = 0; i < rows.size(); ++i)
    z.col(static_cast<Eigen::Index>(i)) = data.inputs.col(rows[i]);
  return z;
}

AttentionMil zeros_like(const AttentionMil& m) {
  AttentionMil z = m;
  for (auto* p : z.parameters()) p->setZero();
  return z;
}

}  // namespace

AttentionMil init_attention_mil(int inputs, int terms, const AttentionMilParams& params,
                                uint64_t seed) {
  if (auto problem = params.check(); !problem.empty()) throw Error(problem);
  if (inputs < 1 || terms < 1) throw Error("attention MIL needs >= 1 input and >= 1 term");
  detail::Rng rng(seed, SeedStream::kAttentionMil, {0});
  AttentionMil m;
  m.A = glorot(params.hidden, inputs, rng);
  m.a = Eigen::MatrixXd::Zero(params.hidden, 1);
  m.V = glorot(params.attention, params.hidden, rng);
  m.v = Eigen::MatrixXd::Zero(params.attention, 1);
  m.U = glorot(params.attention, params.hidden, rng);
  m.u = Eigen::MatrixXd::Zero(params.attention, 1);
  m.W = glorot(terms, params.attention, rng);
  m.C = glorot(terms, params.hidden, rng);
  m.b = Eigen::MatrixXd::Zero(terms, 1);
  return m;
}

MilOutput attention_mil_forward(const AttentionMil& model, const Eigen::MatrixXd& z) {
  if (z.cols() < 1 || z.rows() != model.inputs())
    throw Error("attention MIL: a bag of " + std::to_string(z.cols()) + " images with " +
                std::to_string(z.rows()) + " inputs, the model has " +
                std::to_string(model.inputs()));
  BagPass p = forward(model, z);
  return {std::move(p.logits), std::move(p.attention)};
}

Eigen::MatrixXd mil_term_weights(const MilData& data, const std::vector<int>& bags,
                                 MilWeighting weighting) {
  const auto terms = data.labels.cols();
  Eigen::MatrixXd w = Eigen::MatrixXd::Ones(2, terms);
  if (weighting == MilWeighting::kNone || bags.empty()) return w;
  const double n = static_cast<double>(bags.size());
  for (Eigen::Index t = 0; t < terms; ++t) {
    double positives = 0;
    for (int b : bags) positives += data.labels(b, t) > 0.5 ? 1 : 0;
    if (positives > 0 && positives < n) {
      w(0, t) = n / (2 * (n - positives));
      w(1, t) = n / (2 * positives);
    }
  }
  return w;
}

double attention_mil_loss(const AttentionMil& model, const MilData& data,
                          const std::vector<int>& batch, const Eigen::MatrixXd& term_weights,
                          double weight_decay, AttentionMil* gradient) {
  if (gradient) *gradient = zeros_like(model);
  double loss = 0;
  const double scale = batch.empty() ? 0.0 : 1.0 / static_cast<double>(batch.size());
  for (int bag : batch) {
    const Eigen::MatrixXd z = bag_inputs(data, bag);
    const BagPass p = forward(model, z);
    Eigen::VectorXd delta(p.logits.size());
    for (Eigen::Index t = 0; t < p.logits.size(); ++t) {
      const double y = data.labels(bag, t);
      const double w = term_weights(y > 0.5 ? 1 : 0, t) * scale;
      loss += w * bce(p.logits(t), y);
      delta(t) = w * (1.0 / (1.0 + std::exp(-p.logits(t))) - y);
    }
    if (gradient) backward(model, z, p, delta, *gradient);
  }
  const auto params = model.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    if (!is_weight(i) || weight_decay == 0) continue;
    loss += 0.5 * weight_decay * params[i]->squaredNorm();
    if (gradient) *gradient->parameters()[i] += weight_decay * *params[i];
  }
  return loss;
}

namespace {

// Adam's state and step (Kingma & Ba 2015, defaults beta1 0.9, beta2 0.999, eps 1e-8).
struct Adam {
  AttentionMil first, second;
  int steps = 0;
  explicit Adam(const AttentionMil& m) : first(zeros_like(m)), second(zeros_like(m)) {}
  void step(AttentionMil& model, AttentionMil& gradient, double rate) {
    ++steps;
    const double c1 = 1 - std::pow(0.9, steps), c2 = 1 - std::pow(0.999, steps);
    auto p = model.parameters();
    auto g = gradient.parameters();
    auto m1 = first.parameters();
    auto m2 = second.parameters();
    for (size_t i = 0; i < p.size(); ++i) {
      *m1[i] = 0.9 * *m1[i] + 0.1 * *g[i];
      *m2[i] = 0.999 * *m2[i] + 0.001 * g[i]->cwiseAbs2();
      p[i]->array() -= rate * (m1[i]->array() / c1) / ((m2[i]->array() / c2).sqrt() + 1e-8);
    }
  }
};

// Splits the training bags by gene: validation gets ~fraction of the genes (none when fewer
// than 4 genes).
void split_validation(const MilData& data, const std::vector<int>& train,
                      const AttentionMilParams& params, uint64_t seed, std::vector<int>& fit,
                      std::vector<int>& validation, std::string& note) {
  std::vector<std::string> genes;
  for (int b : train) {
    const auto& g = data.genes[static_cast<size_t>(b)];
    if (std::find(genes.begin(), genes.end(), g) == genes.end()) genes.push_back(g);
  }
  if (genes.size() < 4) {
    fit = train;
    note = "too few training genes (" + std::to_string(genes.size()) +
           ") for a validation split: trained " + std::to_string(params.max_epochs / 4) +
           " epochs without early stopping";
    return;
  }
  detail::Rng rng(seed, SeedStream::kAttentionMil, {1});
  rng.shuffle(genes);
  const auto count =
      std::max<size_t>(1, static_cast<size_t>(std::lround(params.validation_fraction *
                                                          static_cast<double>(genes.size()))));
  std::map<std::string, bool> held;
  for (size_t i = 0; i < genes.size(); ++i) held[genes[i]] = i < count;
  for (int b : train) (held[data.genes[static_cast<size_t>(b)]] ? validation : fit).push_back(b);
}

}  // namespace

MilTraining train_attention_mil(const MilData& data, const std::vector<int>& train,
                                const AttentionMilParams& params, uint64_t seed) {
  if (train.empty()) throw Error("attention MIL: no training bag");
  MilTraining out;
  std::vector<int> fit, validation;
  split_validation(data, train, params, seed, fit, validation, out.note);
  out.validation_bags = static_cast<int>(validation.size());
  const Eigen::MatrixXd weights = mil_term_weights(data, fit, params.weighting);
  AttentionMil model = init_attention_mil(static_cast<int>(data.inputs.rows()),
                                          static_cast<int>(data.labels.cols()), params, seed);
  Adam adam(model);
  AttentionMil gradient;
  const int epochs = validation.empty() ? std::max(1, params.max_epochs / 4) : params.max_epochs;
  out.model = model;
  out.validation_loss = std::numeric_limits<double>::quiet_NaN();
  double best = std::numeric_limits<double>::infinity();
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    std::vector<int> order = fit;
    detail::Rng rng(seed, SeedStream::kAttentionMil, {2, static_cast<uint64_t>(epoch)});
    rng.shuffle(order);
    for (size_t start = 0; start < order.size(); start += static_cast<size_t>(params.batch_bags)) {
      const std::vector<int> batch(
          order.begin() + static_cast<std::ptrdiff_t>(start),
          order.begin() + static_cast<std::ptrdiff_t>(std::min(
                              order.size(), start + static_cast<size_t>(params.batch_bags))));
      attention_mil_loss(model, data, batch, weights, params.weight_decay, &gradient);
      adam.step(model, gradient, params.learning_rate);
    }
    out.epochs = epoch;
    if (validation.empty()) {
      out.model = model;
      out.best_epoch = epoch;
      continue;
    }
    const double loss = attention_mil_loss(model, data, validation, weights, 0.0, nullptr);
    if (loss < best) {
      best = loss;
      out.model = model;
      out.best_epoch = epoch;
      out.validation_loss = loss;
    } else if (epoch - out.best_epoch >= params.patience) {
      break;
    }
  }
  return out;
}

}  // namespace ishannot
