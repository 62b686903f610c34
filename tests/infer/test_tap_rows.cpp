// tap_rows (src/infer/extract_pipeline.h): the torch-free pooling of a tap's map against
// libtorch's adaptive pooling (the independent reference: the extraction path used it until the
// forward pass left libtorch), on sizes that do not divide into the grid, and the unpooled rows
// against a plain flatten. forward_padded against the unpadded batch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "infer/extract_pipeline.h"

#include <array>
#include <cstring>

using namespace ishannot;

namespace {

FloatArray array_of(const torch::Tensor& t) {
  FloatArray a = FloatArray::allocate({t.sizes().begin(), t.sizes().end()});
  std::memcpy(a.data, t.contiguous().data_ptr<float>(), static_cast<size_t>(t.numel()) * 4);
  return a;
}

torch::Tensor tensor_of(const FloatArray& a) {
  return torch::from_blob(a.data, a.shape, torch::kFloat).clone();
}

}  // namespace

TEST(TapRows, PoolingMatchesTorchsAdaptivePooling) {
  torch::manual_seed(3);
  for (const auto& [h, w, rows, cols] : std::vector<std::array<int64_t, 4>>{
           {7, 13, 3, 5}, {8, 20, 4, 10}, {5, 5, 5, 5}, {9, 4, 2, 3}, {6, 11, 1, 1}}) {
    SCOPED_TRACE(std::to_string(h) + "x" + std::to_string(w) + " -> " + std::to_string(rows) + "x" +
                 std::to_string(cols));
    const torch::Tensor map = torch::randn({3, 4, h, w});
    for (const std::string op : {"avg", "max"}) {
      ExtractParams params;
      params.pool = parse_pool_grid(op + ":" + std::to_string(rows) + "x" + std::to_string(cols));
      const torch::Tensor reference =
          op == "avg" ? torch::adaptive_avg_pool2d(map, {rows, cols})
                      : std::get<0>(torch::adaptive_max_pool2d(map, {rows, cols}));
      const FloatArray got = ishannot::detail::tap_rows(array_of(map), params);
      ASSERT_EQ(got.shape, (std::vector<int64_t>{3, 4 * rows * cols})) << op;
      const torch::Tensor expected = reference.flatten(1);
      EXPECT_LE((tensor_of(got) - expected).abs().max().item<double>(),
                1e-6 * expected.abs().max().item<double>())
          << op;
    }
  }
}

TEST(TapRows, UnpooledMapsAndVectorsAreFlattenedWithoutACopy) {
  const torch::Tensor map = torch::randn({2, 3, 4, 5});
  const FloatArray in = array_of(map);
  const FloatArray rows = ishannot::detail::tap_rows(in, ExtractParams{});
  EXPECT_EQ(rows.shape, (std::vector<int64_t>{2, 60}));
  EXPECT_EQ(rows.data, in.data);
  EXPECT_TRUE(torch::equal(tensor_of(rows), map.flatten(1)));
  ExtractParams pooled;
  pooled.pool = parse_pool_grid("avg:2x2");
  const FloatArray vector = ishannot::detail::tap_rows(array_of(torch::randn({2, 7})), pooled);
  EXPECT_EQ(vector.shape, (std::vector<int64_t>{2, 7}));
}

namespace {

// A FeatureNet whose "forward pass" doubles its input and records the batch sizes it saw.
class Doubler : public FeatureNet {
 public:
  const NetIdentity& identity() const override { return identity_; }
  void set_taps(const std::vector<int>&, Precision) override {}
  std::map<int, std::vector<int64_t>> tap_shapes(int64_t, int64_t, int64_t) override { return {}; }
  TapMaps forward(const FloatArray& input) override {
    sizes.push_back(input.shape[0]);
    FloatArray out = FloatArray::allocate(input.shape);
    for (int64_t i = 0; i < input.size(); ++i) out.data[i] = 2 * input.data[i];
    return {{0, out}};
  }
  std::vector<int64_t> sizes;

 private:
  NetIdentity identity_;
};

}  // namespace

TEST(TapRows, ForwardPaddedRunsTheFullBatchAndKeepsTheRealImages) {
  Doubler net;
  const torch::Tensor input = torch::randn({3, 3, 2, 2});
  const TapMaps out = ishannot::detail::forward_padded(net, array_of(input), 8);
  EXPECT_EQ(net.sizes, (std::vector<int64_t>{8}));
  EXPECT_EQ(out.at(0).shape, (std::vector<int64_t>{3, 3, 2, 2}));
  EXPECT_TRUE(torch::equal(tensor_of(out.at(0)), input * 2));
}
