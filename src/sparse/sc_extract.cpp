// write_sc_features: the batch loop from image records to the feature store.
#include <chrono>
#include <exception>

#include "detail/parallel.h"
#include "ishannot/common/error.h"
#include "ishannot/image/image.h"
#include "ishannot/sparse/sc_baseline.h"

namespace ishannot {

ScRunSummary write_sc_features(const std::vector<ImageRecord>& images, const ScEncoder& encoder,
                               FeatureStoreWriter& writer, int batch, const Reporter& reporter) {
  if (batch < 1) throw Error("SC baseline: batch size must be >= 1");
  const auto start = std::chrono::steady_clock::now();
  ScRunSummary summary;
  const auto& existing = writer.existing_ids();
  if (existing.size() > images.size()) {
    throw Error("SC baseline: the store to resume holds more images than the dataset");
  }
  for (size_t i = 0; i < existing.size(); ++i) {
    if (existing[i] != images[i].id) {
      throw Error("SC baseline: the store to resume holds '" + existing[i] + "' at row " +
                  std::to_string(i) + " where the dataset has '" + images[i].id +
                  "' (not the same dataset or order)");
    }
  }
  summary.resumed = static_cast<int64_t>(existing.size());
  const auto layers = encoder.layers();
  const int64_t dim = encoder.dim();
  const int64_t total = static_cast<int64_t>(images.size());
  for (int64_t begin = summary.resumed; begin < total; begin += batch) {
    const int n = static_cast<int>(std::min<int64_t>(batch, total - begin));
    std::vector<std::vector<float>> data(layers.size(), std::vector<float>(size_t(n) * dim));
    std::vector<int> informative(n);
    detail::LoopErrors errors;
#pragma omp parallel for schedule(dynamic)
    for (int i = 0; i < n; ++i) {
      errors.run(i, [&] {
        const auto& rec = images[begin + i];
        const cv::Mat bgr = read_image_bgr(rec.path);  // its errors name the file
        ScImageFeatures f;
        try {
          f = encoder.encode(bgr);
        } catch (const Error& e) {
          throw file_error(rec.path, e.what());
        }
        informative[i] = f.informative;
        for (size_t l = 0; l < layers.size(); ++l) {
          std::copy(f.pooled[l].begin(), f.pooled[l].end(), data[l].begin() + size_t(i) * dim);
        }
      });
    }
    errors.rethrow();
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(images[begin + i].id);
      if (informative[i] == 0) {
        summary.blank_ids.push_back(ids.back());
        reporter.info(images[begin + i].path +
                      ": blank image (no SIFT descriptor above the contrast threshold): its SC "
                      "features are all zero");
      }
    }
    std::map<std::string, const float*> rows;
    for (size_t l = 0; l < layers.size(); ++l) rows[layers[l].name] = data[l].data();
    writer.append(ids, rows);
    summary.written += n;
    reporter.report("SC features", begin + n, total);
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace ishannot
