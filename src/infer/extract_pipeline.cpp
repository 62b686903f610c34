// The extraction pipeline: decode thread -> forward pass (calling thread) -> write thread.
#include "infer/extract_pipeline.h"

#include <algorithm>
#include <cstring>

#include <atomic>
#include <exception>
#include <map>
#include <thread>

#include "infer/bounded_queue.h"
#include "ishannot/common/error.h"
#include "ishannot/common/process_clock.h"
#include "ishannot/features/feature_store.h"

namespace ishannot::detail {

std::string problem_of(const std::string& path, const std::string& message) {
  const std::string prefix = path + ": ";
  return message.compare(0, prefix.size(), prefix) == 0 ? message.substr(prefix.size()) : message;
}

TapMaps forward_padded(FeatureNet& net, const FloatArray& input, int64_t batch) {
  const int64_t n = input.shape.at(0);
  if (n >= batch) return net.forward(input);
  std::vector<int64_t> shape = input.shape;
  shape[0] = batch;
  FloatArray padded = FloatArray::allocate(shape, /*zero=*/true);
  std::memcpy(padded.data, input.data, static_cast<size_t>(input.size()) * sizeof(float));
  TapMaps outputs = net.forward_padded(padded, n);
  for (auto& [tap, out] : outputs) out = out.first(n);
  return outputs;
}

namespace {

// Torch's adaptive pooling window along one axis: [floor(i * in / out), ceil((i + 1) * in / out)).
int64_t window_start(int64_t i, int64_t in, int64_t out) {
  return i * in / out;
}
int64_t window_end(int64_t i, int64_t in, int64_t out) {
  return ((i + 1) * in + out - 1) / out;
}

// One H x W plane pooled to rows x cols cells (row-major), as torch's CPU kernels do: a max, or
// a float sum divided by the window's height, then its width.
void pool_plane(const float* in, int64_t h, int64_t w, const PoolGrid& grid, float* out) {
  const bool avg = grid.op == "avg";
  for (int64_t r = 0; r < grid.rows; ++r) {
    const int64_t y0 = window_start(r, h, grid.rows), y1 = window_end(r, h, grid.rows);
    for (int64_t c = 0; c < grid.cols; ++c) {
      const int64_t x0 = window_start(c, w, grid.cols), x1 = window_end(c, w, grid.cols);
      float acc = avg ? 0.0f : in[y0 * w + x0];
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t x = x0; x < x1; ++x)
          acc = avg ? acc + in[y * w + x] : std::max(acc, in[y * w + x]);
      *out++ = avg ? acc / static_cast<float>(y1 - y0) / static_cast<float>(x1 - x0) : acc;
    }
  }
}

}  // namespace

// Unpooled maps are already contiguous: no copy.
FloatArray tap_rows(const FloatArray& map, const ExtractParams& p) {
  const int64_t n = map.shape.at(0);
  if (!p.pool.pooled() || map.shape.size() != 4) {
    FloatArray rows = map;
    rows.shape = {n, n > 0 ? map.size() / n : 0};
    return rows;
  }
  const int64_t channels = map.shape[1], h = map.shape[2], w = map.shape[3];
  const int64_t cells = int64_t{p.pool.rows} * p.pool.cols;
  FloatArray rows = FloatArray::allocate({n, channels * cells});
  for (int64_t plane = 0; plane < n * channels; ++plane)
    pool_plane(map.data + plane * h * w, h, w, p.pool, rows.data + plane * cells);
  return rows;
}

namespace {

// Batches queued between the stages: enough to keep each stage busy, little memory.
constexpr size_t kQueueDepth = 2;

struct DecodedBatch {
  std::vector<std::string> ids;
  FloatArray input;                   // no data when no image of the batch could be used
  std::vector<SkippedImage> skipped;  // met while filling this batch
  std::exception_ptr error;           // strict mode or an unexpected failure: stop here
};

struct RowBatch {
  std::vector<std::string> ids;
  std::map<std::string, FloatArray> rows;  // layer -> ids.size() x dim, kept alive until written
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
void decode_batches(const std::vector<const ImageRecord*>& todo,
                    const PixelPreprocessing& preprocessing, const InputGeometry& geometry,
                    const ExtractParams& params, BoundedQueue<DecodedBatch>& out) {
  FloatArrayPool pool;  // the batches' memory, back from the forward pass
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
      if (!images.empty()) batch.input = to_input(images, preprocessing, &pool);
    } catch (...) {
      batch.ids.clear();
      batch.input = FloatArray();
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
      for (const auto& [name, rows] : batch->rows) data[name] = rows.data;
      writer.append(batch->ids, data);
      threads.written += static_cast<int64_t>(batch->ids.size());
    }
  } catch (...) {
    threads.write_error = std::current_exception();
    threads.rows.close();  // the forward pass sees push() fail and stops
  }
}

}  // namespace

PipelineResult run_extract_pipeline(const std::vector<const ImageRecord*>& todo,
                                    RowExtractor& extractor, const InputGeometry& geometry,
                                    const ExtractParams& params, FeatureStoreWriter& writer,
                                    const std::function<void(int64_t)>& on_written) {
  PipelineResult result;
  PipelineThreads threads;
  threads.decoder = std::thread([&] {
    decode_batches(todo, extractor.net().identity().preprocessing, geometry, params,
                   threads.decoded);
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
    if (!batch->input.data) continue;
    RowBatch rows;
    rows.rows = extractor.rows(batch->input);
    if (result.first_batch_at < 0) result.first_batch_at = seconds_since_process_start();
    rows.ids = std::move(batch->ids);
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
