#pragma once
// The sparse-coding dictionary: K unit-norm atoms in descriptor space, learned from descriptors
// of training images only (no labels are used), and its file format.
//
// Learning: k-means++ seeds refined by VLFeat k-means (Elkan) on a sample give the initial atoms
// (normalised to unit norm), then online dictionary learning (Mairal, Bach, Ponce & Sapiro 2009,
// Algorithm 1 with mini-batches and the past-forgetting factor of their section 3.4.3): lasso-code
// a mini-batch on the current atoms, accumulate A = sum a a^T and B = sum x a^T, and update each
// atom by block coordinate descent, projecting onto the unit ball. Atoms that stay unused are
// re-seeded with a random descriptor; all atoms are renormalised to exactly unit norm at the end.
// One seed drives the sample order, the k-means start and the re-seeding.
//
// File (format version 1, text, C locale): line 1 "ishannot-sc-dictionary 1", line 2 a JSON object
// of provenance (learning parameters, SIFT parameters, tool version, training images), line 3
// "ROWS COLS", then one atom per line, values as %.9g (round-trips float32 bit-exact).
#include <Eigen/Core>
#include <cstdint>
#include <map>
#include <string>

#include "ishannot/common/progress.h"

namespace ishannot {

constexpr int kDictionaryFormatVersion = 1;

struct Dictionary {
  Eigen::MatrixXf atoms;                          ///< d x K, column k = atom k, unit l2 norm
  std::map<std::string, std::string> provenance;  ///< written to / read from the file
  int dimension() const { return static_cast<int>(atoms.rows()); }
  int size() const { return static_cast<int>(atoms.cols()); }
};

struct DictionaryLearningParams {
  int atoms = 1024;            ///< K (Sun et al. 2013 do not give it; ScSPM uses 1024)
  double lambda = 0.15;        ///< lasso penalty while learning (same as for coding by default)
  int batch_size = 256;        ///< descriptors per online step
  int epochs = 1;              ///< passes over the sample (Mairal et al.: one pass suffices)
  int kmeans_iterations = 10;  ///< Elkan k-means iterations for the initial atoms (0 = random
                               ///< descriptors as initial atoms)
  uint64_t seed = 1234;
  std::string check() const;
};

/// Learns a dictionary from samples (d x n, columns = descriptors; zero columns, i.e. low-contrast
/// descriptors, are ignored). Throws Error when fewer informative samples than atoms are given.
Dictionary learn_dictionary(const Eigen::MatrixXf& samples, const DictionaryLearningParams& params,
                            const Reporter& reporter = {});

/// Initial atoms only: greedy k-means++ seeding (each centre the best of 2 + ln K candidates;
/// stream kDictionaryInit of `seed`), VLFeat k-means (Elkan) on at most 16 K of the samples,
/// unit-normalised. iterations = 0: the k-means++ seeds themselves.
Eigen::MatrixXf kmeans_atoms(const Eigen::MatrixXf& samples, int atoms, int iterations,
                             uint64_t seed);

/// Writes the dictionary atomically (temp file + rename).
void save_dictionary(const std::string& path, const Dictionary& dictionary);

/// Reads a dictionary; throws Error naming the file for a wrong header, version, size or value.
Dictionary load_dictionary(const std::string& path);

}  // namespace ishannot
