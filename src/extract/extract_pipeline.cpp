// The extraction pipeline: decode thread -> forward pass (calling thread) -> write thread.
#include "extract/extract_pipeline.h"

#include <torch/torch.h>

#include <atomic>
#include <exception>
#include <map>
#include <thread>

#include "extract/bounded_queue.h"
#include "ishannot/common/error.h"
#include "ishannot/common/process_clock.h"
#include "ishannot/features/feature_store.h"
#include "ishannot/nets/backbone.h"
#include "ishannot/nets/inference.h"

namespace ishannot::detail {

std::string problem_of(const std::string& path, const std::string& message) {
  const std::string prefix = path + ": ";
  return message.compare(0, prefix.size(), prefix) == 0 ? message.substr(prefix.size()) : message;
}

std::map<int, torch::Tensor> forward_padded(InferenceEngine& engine, const torch::Tensor& input,
                                            int64_t batch) {
  const int64_t n = input.size(0);
  if (n >= batch) return engine.forward(input);
  std::map<int, torch::Tensor> outputs = engine.forward(
      torch::cat({input, torch::zeros({batch - n, input.size(1), input.size(2), input.size(3)})}));
  for (auto& [tap, out] : outputs) out = out.slice(0, 0, n);
  return outputs;
}

// Unpooled maps are already contiguous: no copy.
torch::Tensor tap_rows(const torch::Tensor& map, const ExtractParams& p) {
  torch::Tensor x = map;
  if (p.pool.pooled() && x.dim() == 4) {
    const std::vector<int64_t> cells = {p.pool.rows, p.pool.cols};
    x = p.pool.op == "avg" ? torch::adaptive_avg_pool2d(x, cells)
                           : std::get<0>(torch::adaptive_max_pool2d(x, cells));
  }
  return x.flatten(1).contiguous();
}

namespace {

// Batches queued between the stages: enough to keep each stage busy, little memory.
constexpr size_t kQueueDepth = 2;

struct DecodedBatch {
  std::vector<std::string> ids;
  torch::Tensor input;                // undefined when no image of the batch could be used
  std::vector<SkippedImage> skipped;  // met while filling this batch
  std::exception_ptr error;           // strict mode or an unexpected failure: stop here
};

struct RowBatch {
  std::vector<std::string> ids;
  std::map<std::string, torch::Tensor> rows;  // layer -> ids.size() x dim, kept alive until written
};

// One image decoded and brought to the network's input size; Error when it cannot be used.
cv::Mat load_image(const ImageRecord& record, const InputGeometry& g) {
  cv::Mat img;
  try {
    img = read_image_bgr(record.path);
  } catch (const cv::Exception& e) {
    throw file_error(record.path, "cannot be decoded (OpenCV: " + e.err + ")");
  }
  if (g.policy == ResizePolicy::kNative && (img.cols != g.width || img.rows != g.height)) {
    throw file_error(record.path, "is " + std::to_string(img.cols) + "x" +
                                      std::to_string(img.rows) + ", the other images " +
                                      std::to_string(g.width) + "x" + std::to_string(g.height) +
                                      " (--input-size native needs one size)");
  }
  return resize_for_network(img, g.width, g.height, g.policy);
}

// Decode thread: fills batches of params.batch usable images, in order.
void decode_batches(const std::vector<const ImageRecord*>& todo, const Backbone& net,
                    const InputGeometry& geometry, const ExtractParams& params,
                    BoundedQueue<DecodedBatch>& out) {
  size_t next = 0;
  while (next < todo.size()) {
    DecodedBatch batch;
    try {
      std::vector<cv::Mat> images;
      while (next < todo.size() && images.size() < static_cast<size_t>(params.batch)) {
        const ImageRecord& record = *todo[next++];
        try {
          images.push_back(load_image(record, geometry));
          batch.ids.push_back(record.id);
        } catch (const Error& e) {
          if (params.strict) throw;
          batch.skipped.push_back({record.path, problem_of(record.path, e.what())});
        }
      }
      if (!images.empty()) batch.input = net.to_input(images);
    } catch (...) {
      batch.ids.clear();
      batch.input = torch::Tensor();
      batch.error = std::current_exception();
      out.push(std::move(batch));
      return;
    }
    if (!out.push(std::move(batch))) return;  // the consumer stopped
  }
}

// The two helper threads and their queues; the destructor stops and joins them (also when the
// forward pass throws), after which the writer may be closed or abandoned.
struct PipelineThreads {
  BoundedQueue<DecodedBatch> decoded{kQueueDepth};
  BoundedQueue<RowBatch> rows{kQueueDepth};
  std::thread decoder, writer;
  std::atomic<int64_t> written{0};
  std::exception_ptr write_error;

  void stop() {
    decoded.close();
    rows.close();
    if (decoder.joinable()) decoder.join();
    if (writer.joinable()) writer.join();
  }
  ~PipelineThreads() { stop(); }
};

void write_batches(FeatureStoreWriter& writer, PipelineThreads& threads) {
  try {
    while (auto batch = threads.rows.pop()) {
      std::map<std::string, const float*> data;
      for (const auto& [name, rows] : batch->rows) data[name] = rows.data_ptr<float>();
      writer.append(batch->ids, data);
      threads.written += static_cast<int64_t>(batch->ids.size());
    }
  } catch (...) {
    threads.write_error = std::current_exception();
    threads.rows.close();  // the forward pass sees push() fail and stops
  }
}

}  // namespace

PipelineResult run_extract_pipeline(const std::vector<const ImageRecord*>& todo, Backbone& net,
                                    InferenceEngine& engine, const std::vector<int>& taps,
                                    const InputGeometry& geometry, const ExtractParams& params,
                                    FeatureStoreWriter& writer,
                                    const std::function<void(int64_t)>& on_written) {
  PipelineResult result;
  PipelineThreads threads;
  threads.decoder = std::thread([&] {
    decode_batches(todo, net, geometry, params, threads.decoded);
    threads.decoded.close();  // the end: pop() returns nullopt once the queue is drained
  });
  threads.writer = std::thread(write_batches, std::ref(writer), std::ref(threads));
  std::exception_ptr decode_error;
  while (auto batch = threads.decoded.pop()) {
    result.skipped.insert(result.skipped.end(), batch->skipped.begin(), batch->skipped.end());
    if (batch->error) {
      decode_error = batch->error;
      break;
    }
    if (!batch->input.defined()) continue;
    const std::map<int, torch::Tensor> outputs = forward_padded(engine, batch->input, params.batch);
    if (result.first_batch_at < 0) result.first_batch_at = seconds_since_process_start();
    RowBatch rows;
    rows.ids = std::move(batch->ids);
    for (int t : taps)
      rows.rows[net.layers()[static_cast<size_t>(t)].name] = tap_rows(outputs.at(t), params);
    if (!threads.rows.push(std::move(rows))) break;  // the writer failed
    on_written(threads.written.load());
  }
  threads.stop();  // the writer drains what is queued
  if (threads.write_error) std::rethrow_exception(threads.write_error);
  if (decode_error) std::rethrow_exception(decode_error);
  result.written = threads.written.load();
  on_written(result.written);
  return result;
}

}  // namespace ishannot::detail
