// The prepared-weights cache, libtorch side (include/ishannot/nets/weights_cache.h): a hit
// becomes a Backbone over the mapped tensors; a miss loads the source and writes the cache.
#include "ishannot/nets/weights_cache.h"

#include <torch/torch.h>

#include <filesystem>

namespace ishannot {

namespace {

// The prepared tensors as a RawWeights of format kPrepared, sharing the mapping (no copy).
RawWeights as_raw_weights(const PreparedWeights& prepared) {
  RawWeights out;
  out.format = WeightFormat::kPrepared;
  out.path = prepared.path;
  out.sha256 = prepared.sha256;
  for (const auto& [name, t] : prepared.tensors) {
    auto keep = prepared.keep;  // the mapping lives as long as a tensor does
    out.tensors[name] = torch::from_blob(
        t.data, t.shape, [keep](void*) {}, torch::kFloat);
  }
  return out;
}

// The backbone's prepared tensors as the cache stores them (contiguous float32 copies kept alive
// in `keep` for the write).
PreparedWeights as_prepared(const Backbone& net, std::vector<torch::Tensor>& keep) {
  const RawWeights raw = resnet50_prepared_weights(net);
  PreparedWeights out;
  out.path = raw.path;
  out.sha256 = raw.sha256;
  for (const auto& [name, tensor] : raw.tensors) {
    keep.push_back(tensor.contiguous().to(torch::kFloat));
    out.tensors[name] = {
        std::vector<int64_t>(keep.back().sizes().begin(), keep.back().sizes().end()),
        keep.back().data_ptr<float>()};
  }
  return out;
}

}  // namespace

std::shared_ptr<Backbone> load_resnet50_cached(const std::string& weights_path,
                                               const std::string& dir,
                                               WeightsCacheOutcome* outcome) {
  WeightsCacheOutcome local;
  WeightsCacheOutcome& o = outcome ? *outcome : local;
  o = WeightsCacheOutcome{};
  if (!std::filesystem::exists(weights_path))
    return make_resnet50(load_weights(weights_path));  // its Error
  const PreparedLookup found = find_prepared_resnet50(weights_path, dir);
  o.file = found.file;
  o.rebuilt_why = found.why;
  if (found.weights) {
    o.hit = true;
    o.rebuilt_why.clear();
    return make_resnet50(as_raw_weights(*found.weights));
  }
  // From the source; then the prepared form for the next run.
  const auto net = make_resnet50(load_weights(weights_path));
  o.file = prepared_resnet50_file(dir, net->weights_sha256());
  std::vector<torch::Tensor> keep;
  o.write_failed = write_prepared_resnet50(as_prepared(*net, keep), weights_path, dir);
  return net;
}

}  // namespace ishannot
