#pragma once
// Internal: many HTTP(S) downloads through libcurl's multi interface, on the calling thread: a
// few at a time, a minimum interval between request starts, retries with exponential back-off.
// Each file is written to PATH.partial and renamed to PATH only when the transfer is complete
// (HTTP 200, no truncation) and its first bytes are an image's. Used by fetch_bdgp.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ishannot::detail {

struct HttpDownload {
  std::string url;
  std::string path;  ///< final file; its folder must exist
};

struct HttpOutcome {
  bool ok = false;
  int attempts = 0;
  int64_t bytes = 0;   ///< size of the file (ok only)
  std::string reason;  ///< why it failed (not ok only)
};

struct HttpBatchParams {
  int parallel = 4;
  double rate = 4.0;  ///< request starts per second at most
  int retries = 4;
  double backoff_seconds = 2.0;  ///< before retry k (1-based): backoff * 2^(k-1), at most 300 s
  double timeout_seconds = 120.0;
  double connect_timeout_seconds = 20.0;
  std::string user_agent;
};

/// Downloads every item; `done(i, outcome)` is called once per item, on this thread, when it is
/// final (fetched, or failed after its tries). Returns the number of HTTP requests made. Throws
/// Error when libcurl cannot be set up or a .partial file cannot be written.
int64_t run_http_batch(const std::vector<HttpDownload>& items, const HttpBatchParams& params,
                       const std::function<void(size_t, const HttpOutcome&)>& done);

/// True when `head` starts like a JPEG, PNG, BMP, GIF or TIFF file.
bool looks_like_image(const std::string& head);

/// Whether a failed try is worth repeating: 5xx, 408, 429 and transport errors (timeouts,
/// truncated bodies, refused or reset connections) are; other HTTP statuses are final.
bool is_retryable(int curl_code, long http_status);

}  // namespace ishannot::detail
