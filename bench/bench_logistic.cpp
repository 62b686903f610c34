// Time of fit_kernel_logistic at the sample sizes of the paper's ensemble members (m ~ 300 ..
// 4,800), with the solver's statistics, on a realistic Gram: l2-normalised rows of non-negative
// features (relu of a planted class pattern + a rank-16 latent + noise), d = 8,192 > m so the
// Gram has full rank and the classes are separable at large C, as with the paper's 401,408
// features. Labels are balanced, as in an under-sampled member.
//
//   OMP_NUM_THREADS=1 ishannot_bench_logistic [--sizes 1000,2500,4700] [--cs 1,100]
//                                             [--save PREFIX | --compare PREFIX]
//                                             [--float-factor 0|1] [--path 0|1]
//                                             [--tolerance T]
//
// --save writes each fit's decision values on its training rows to PREFIX.m<m>.C<C>.bin;
// --compare reads them back and reports the largest difference (old build vs new build).
// --float-factor 0 runs the double-factor reference path (LogisticParams::float_factor).
// --path 1 fits the --cs values in order, each warm-started from the previous C's fit, as the
// inner CV's C grid is fitted (train_ensemble_path), and adds a total row per m.
#include <sys/resource.h>

#include <Eigen/Dense>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ishannot/learn/logistic.h"
#include "learn/tile_product.h"

using namespace ishannot;

namespace {

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec) + 1e-6 * usage.ru_utime.tv_usec;
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<double> parse_list(const std::string& text) {
  std::vector<double> out;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) out.push_back(std::stod(item));
  return out;
}

struct Data {
  Eigen::MatrixXd gram;  // n x n
  std::vector<uint8_t> labels;
};

// The Gram of the first m rows is the leading m x m block: one Gram serves every size.
Data make_data(int n, int d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  constexpr int kLatent = 16;
  Eigen::MatrixXf basis(kLatent, d), pattern(1, d);
  for (int j = 0; j < d; ++j) {
    for (int r = 0; r < kLatent; ++r) basis(r, j) = 0.5f * normal(rng);
    pattern(0, j) = j % 20 == 0 ? 1.0f : 0.0f;  // 5 % of the features carry the class
  }
  Data data;
  data.labels.resize(static_cast<size_t>(n));
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> x(n, d);
  for (int i = 0; i < n; ++i) {
    data.labels[static_cast<size_t>(i)] = static_cast<uint8_t>(i % 2);
    Eigen::RowVectorXf latent(kLatent);
    for (int r = 0; r < kLatent; ++r) latent[r] = normal(rng);
    x.row(i) = latent * basis + (i % 2 ? 0.35f : 0.0f) * pattern;
    for (int j = 0; j < d; ++j) x(i, j) = std::max(0.0f, x(i, j) + normal(rng));
    x.row(i).normalize();
  }
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> g(n, n);
  detail::tile_product(x.data(), d, x.data(), d, n, n, d, g.data());
  data.gram = g.cast<double>();
  data.gram = 0.5 * (data.gram + data.gram.transpose()).eval();  // exactly symmetric
  return data;
}

std::string file_name(const std::string& prefix, int m, double C) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, ".m%d.C%g.bin", m, C);
  return prefix + buffer;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<double> sizes{1000, 2500, 4700}, cs{1, 100};
  std::string save, compare;
  bool float_factor = true, path = false;
  double tolerance = LogisticParams{}.tolerance;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--sizes") {
      sizes = parse_list(value);
    } else if (flag == "--cs") {
      cs = parse_list(value);
    } else if (flag == "--save") {
      save = value;
    } else if (flag == "--compare") {
      compare = value;
    } else if (flag == "--float-factor") {
      float_factor = value != "0";
    } else if (flag == "--tolerance") {
      tolerance = std::stod(value);
    } else if (flag == "--path") {
      path = value != "0";
    } else {
      std::fprintf(stderr, "unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  Eigen::setNbThreads(1);
  int n = 0;
  for (double m : sizes) n = std::max(n, static_cast<int>(m));
  const double t0 = wall_seconds();
  const Data data = make_data(n, 8192, 7);
  std::printf("# Gram %d x %d (d = 8192) in %.1f s; AVX2 tile kernel: %s; float factor: %s\n", n, n,
              wall_seconds() - t0, detail::tile_product_uses_avx2() ? "yes" : "no",
              float_factor ? "yes" : "no");
  std::printf("| m | C | wall s | CPU s | Newton its | factorizations | CG its | max |df| |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (double size : sizes) {
    const int m = static_cast<int>(size);
    const Eigen::MatrixXd gram = data.gram.topLeftCorner(m, m);
    const std::vector<uint8_t> labels(data.labels.begin(), data.labels.begin() + m);
    KernelLogisticModel previous;
    double path_wall = 0, path_cpu = 0;
    int path_factorizations = 0, path_cg = 0, path_newton = 0;
    for (size_t c = 0; c < cs.size(); ++c) {
      const double C = cs[c];
      LogisticParams params;
      params.C = C;
      params.float_factor = float_factor;
      params.tolerance = tolerance;
      const double wall0 = wall_seconds(), cpu0 = cpu_seconds();
      const KernelLogisticModel model =
          fit_kernel_logistic(gram, labels, params, path && c > 0 ? &previous : nullptr);
      const double wall = wall_seconds() - wall0, cpu = cpu_seconds() - cpu0;
      previous = model;
      path_wall += wall;
      path_cpu += cpu;
      path_factorizations += model.factorizations;
      path_cg += model.cg_iterations;
      path_newton += model.iterations;
      const Eigen::VectorXd decision = (gram * model.coef).array() + model.bias;
      std::string diff = "-";
      if (!save.empty()) {
        std::ofstream out(file_name(save, m, C), std::ios::binary);
        out.write(reinterpret_cast<const char*>(decision.data()),
                  static_cast<std::streamsize>(sizeof(double) * static_cast<size_t>(m)));
      }
      if (!compare.empty()) {
        Eigen::VectorXd old(m);
        std::ifstream in(file_name(compare, m, C), std::ios::binary);
        in.read(reinterpret_cast<char*>(old.data()),
                static_cast<std::streamsize>(sizeof(double) * static_cast<size_t>(m)));
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.1e",
                      in ? (decision - old).cwiseAbs().maxCoeff() : -1.0);
        diff = buffer;
      }
      std::printf("| %d | %g | %.2f | %.2f | %d%s | %d | %d | %s |\n", m, C, wall, cpu,
                  model.iterations, model.converged ? "" : " (not converged)", model.factorizations,
                  model.cg_iterations, diff.c_str());
      std::fflush(stdout);
    }
    if (path)
      std::printf("| %d | path | %.2f | %.2f | %d | %d | %d | |\n", m, path_wall, path_cpu,
                  path_newton, path_factorizations, path_cg);
  }
  return 0;
}
