// Dictionary learning on planted dictionaries, and the file format round trip.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "ishannot/common/error.h"
#include "ishannot/sparse/dictionary.h"
#include "ishannot/sparse/sparse_coding.h"
#include "support/test_paths.h"

#include "support/test_util.h"

using namespace ishannot;

namespace {

Eigen::MatrixXf planted_atoms(int d, int k, std::mt19937_64& rng) {
  return test::random_unit_columns(d, k, rng);
}

Eigen::MatrixXf planted_samples(const Eigen::MatrixXf& D, int n, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> atom(0, static_cast<int>(D.cols()) - 1);
  std::uniform_real_distribution<float> weight(0.5f, 1.0f);
  std::normal_distribution<float> noise(0, 0.01f);
  Eigen::MatrixXf X(D.rows(), n);
  for (int j = 0; j < n; ++j) {
    X.col(j) = weight(rng) * D.col(atom(rng));
    if (j % 2) X.col(j) += 0.5f * weight(rng) * D.col(atom(rng));
    for (int i = 0; i < D.rows(); ++i) X(i, j) += noise(rng);
    X.col(j).normalize();
  }
  return X;
}

double mean_objective(const Eigen::MatrixXf& D, const Eigen::MatrixXf& X, double lambda) {
  SparseCodingParams p;
  p.lambda = lambda;
  const Eigen::MatrixXf A = SparseCoder(D, p).encode(X).dense();
  double total = 0;
  for (int j = 0; j < X.cols(); ++j) total += lasso_objective(D, X.col(j), A.col(j), lambda);
  return total / X.cols();
}

}  // namespace

TEST(Dictionary, LearnsPlantedAtomsWithUnitNorm) {
  std::mt19937_64 rng(7);
  const Eigen::MatrixXf truth = planted_atoms(20, 12, rng);
  const Eigen::MatrixXf X = planted_samples(truth, 3000, rng);
  auto recovered = [&](const Eigen::MatrixXf& atoms) {
    int count = 0;  // planted atoms with a learned atom within ~11 degrees (|cos| > 0.98)
    for (int j = 0; j < truth.cols(); ++j) {
      count += (atoms.transpose() * truth.col(j)).cwiseAbs().maxCoeff() > 0.98;
    }
    return count;
  };
  int total = 0, total_start = 0;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    DictionaryLearningParams p;
    p.atoms = 12;
    p.lambda = 0.1;
    p.batch_size = 64;
    p.epochs = 3;
    p.kmeans_iterations = 0;  // k-means++ seeds only: the online updates must do the work
    p.seed = seed;
    const Dictionary dict = learn_dictionary(X, p);
    ASSERT_EQ(dict.size(), 12);
    ASSERT_EQ(dict.dimension(), 20);
    for (int j = 0; j < dict.size(); ++j) EXPECT_NEAR(dict.atoms.col(j).norm(), 1.0, 1e-5);
    const Eigen::MatrixXf start = kmeans_atoms(X, 12, 0, p.seed);
    EXPECT_GE(recovered(dict.atoms), recovered(start)) << "seed " << seed;
    total += recovered(dict.atoms);
    total_start += recovered(start);
    // Learning lowers the lasso objective below the start.
    EXPECT_LT(mean_objective(dict.atoms, X, p.lambda), mean_objective(start, X, p.lambda));
  }
  // Online learning is non-convex: a run may end in a local minimum with an atom or two merged,
  // so count over seeds. The k-means++ seeds alone recover about half of the 96 planted atoms.
  EXPECT_GE(total, 86);  // 90 %
  EXPECT_LT(total_start, 70);
}

TEST(Dictionary, SameSeedSameDictionary) {
  std::mt19937_64 rng(3);
  const Eigen::MatrixXf X = planted_samples(planted_atoms(16, 8, rng), 500, rng);
  DictionaryLearningParams p;
  p.atoms = 8;
  p.batch_size = 32;
  const Dictionary a = learn_dictionary(X, p), b = learn_dictionary(X, p);
  EXPECT_EQ(a.atoms, b.atoms);
  p.seed = 99;
  EXPECT_NE(learn_dictionary(X, p).atoms, a.atoms);
}

TEST(Dictionary, TooFewInformativeSamplesThrows) {
  Eigen::MatrixXf X = Eigen::MatrixXf::Zero(8, 50);  // all low contrast
  X.col(0).setOnes();
  DictionaryLearningParams p;
  p.atoms = 4;
  EXPECT_THROW(learn_dictionary(X, p), Error);
}

TEST(Dictionary, FileRoundTripsBitExact) {
  const auto dir = test::temp_dir("dictionary");
  std::mt19937_64 rng(5);
  Dictionary dict;
  dict.atoms = planted_atoms(128, 40, rng);
  dict.atoms(0, 0) = 0.1f;
  dict.atoms(1, 0) = std::numeric_limits<float>::denorm_min();
  dict.atoms(2, 0) = -std::numeric_limits<float>::max();
  dict.atoms(3, 0) = 1.0f / 3.0f;
  dict.provenance["sift_step"] = "8";
  const std::string path = dir + "/d.txt";
  save_dictionary(path, dict);
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  const Dictionary back = load_dictionary(path);
  ASSERT_EQ(back.atoms.rows(), 128);
  ASSERT_EQ(back.atoms.cols(), 40);
  EXPECT_EQ(std::memcmp(back.atoms.data(), dict.atoms.data(), sizeof(float) * dict.atoms.size()),
            0);
  EXPECT_EQ(back.provenance.at("sift_step"), "8");
  EXPECT_TRUE(back.provenance.count("tool_version"));
}

TEST(Dictionary, BadFilesGiveErrorsNamingTheFile) {
  const auto dir = test::temp_dir("dictionary-bad");
  auto message = [](const std::string& path) -> std::string {
    try {
      load_dictionary(path);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  const std::string wrong = dir + "/wrong.txt", version = dir + "/version.txt",
                    cut = dir + "/cut.txt";
  std::ofstream(wrong) << "hello\n";
  std::ofstream(version) << "ishannot-sc-dictionary 7\n{}\n1 1\n0.5\n";
  std::ofstream(cut) << "ishannot-sc-dictionary 1\n{}\n2 2\n0.5 0.5\n0.5\n";
  EXPECT_NE(message(wrong).find(wrong), std::string::npos);
  EXPECT_NE(message(version).find("version 7"), std::string::npos);
  EXPECT_NE(message(cut).find("truncated"), std::string::npos);
  EXPECT_NE(message(dir + "/missing.txt").find("missing.txt"), std::string::npos);
}

TEST(Dictionary, KmeansStartFindsClusterCentres) {
  // Descriptors that are noisy copies of 6 atoms: k-means alone must find the 6 directions.
  std::mt19937_64 rng(9);
  const Eigen::MatrixXf truth = planted_atoms(16, 6, rng);
  std::normal_distribution<float> noise(0, 0.02f);
  Eigen::MatrixXf X(16, 600);
  for (int j = 0; j < 600; ++j) {
    X.col(j) = truth.col(j % 6);
    for (int i = 0; i < 16; ++i) X(i, j) += noise(rng);
  }
  // Every start, not a lucky one: plain k-means++ put two centres into one cluster for 19 of 200
  // seeds here (found when the seed streams changed); the greedy seeding for none.
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const Eigen::MatrixXf atoms = kmeans_atoms(X, 6, 20, seed);
    for (int j = 0; j < 6; ++j) {
      EXPECT_GT((atoms.transpose() * truth.col(j)).maxCoeff(), 0.99)
          << "seed " << seed << " atom " << j;
      EXPECT_NEAR(atoms.col(j).norm(), 1.0, 1e-5);
    }
  }
}
