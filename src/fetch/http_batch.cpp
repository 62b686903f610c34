// libcurl multi loop for run_http_batch (src/fetch/http_batch.h): fresh items in order, retries
// when their back-off has passed, one new request per 1/rate seconds, at most `parallel` running.
#include "fetch/http_batch.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "ishannot/common/error.h"

namespace fs = std::filesystem;

namespace ishannot::detail {

namespace {

using Clock = std::chrono::steady_clock;

struct Try {
  size_t index = 0;
  int attempts = 0;  // tries made before this one
};

struct Transfer {
  Try item;
  CURL* easy = nullptr;
  FILE* file = nullptr;
  std::string partial;
  bool write_failed = false;
  char error[CURL_ERROR_SIZE] = {0};
};

void global_init() {
  static std::once_flag once;
  static CURLcode code = CURLE_OK;
  std::call_once(once, [] { code = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (code != CURLE_OK)
    throw Error(std::string("libcurl: cannot initialise: ") + curl_easy_strerror(code));
}

size_t write_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t written = std::fwrite(data, size, count, t->file);
  if (written != count) t->write_failed = true;
  return written * size;
}

std::chrono::milliseconds ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(seconds * 1000.0)));
}

void set_options(Transfer& t, const HttpDownload& d, const HttpBatchParams& p) {
  CURL* e = t.easy;
  curl_easy_setopt(e, CURLOPT_URL, d.url.c_str());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
  curl_easy_setopt(e, CURLOPT_USERAGENT, p.user_agent.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(e, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(ms(p.timeout_seconds).count()));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(ms(p.connect_timeout_seconds).count()));
}

std::string read_head(const std::string& path) {
  std::string head(16, '\0');
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return "";
  head.resize(std::fread(head.data(), 1, head.size(), f));
  std::fclose(f);
  return head;
}

// The batch's state: queues, running transfers, the multi handle.
class Batch {
 public:
  Batch(const std::vector<HttpDownload>& items, const HttpBatchParams& params,
        const std::function<void(size_t, const HttpOutcome&)>& done)
      : items_(items), params_(params), done_(done), multi_(curl_multi_init()) {
    if (!multi_) throw Error("libcurl: cannot create a transfer handle");
    for (size_t i = 0; i < items.size(); ++i) fresh_.push_back({i, 0});
  }
  ~Batch() {
    for (auto& t : running_) {
      curl_multi_remove_handle(multi_, t->easy);
      curl_easy_cleanup(t->easy);
      if (t->file) std::fclose(t->file);
      std::error_code ec;
      fs::remove(t->partial, ec);
    }
    curl_multi_cleanup(multi_);
  }

  int64_t run() {
    const auto interval = ms(1.0 / params_.rate);
    auto next_start = Clock::now();
    while (!fresh_.empty() || !retry_.empty() || !running_.empty()) {
      auto now = Clock::now();
      while (static_cast<int>(running_.size()) < params_.parallel && now >= next_start) {
        Try item;
        if (!next_ready(now, &item)) break;
        start(item);
        next_start = now + interval;
      }
      int still = 0;
      curl_multi_perform(multi_, &still);
      collect();
      curl_multi_poll(multi_, nullptr, 0, poll_ms(next_start), nullptr);
    }
    return requests_;
  }

 private:
  const std::vector<HttpDownload>& items_;
  const HttpBatchParams& params_;
  const std::function<void(size_t, const HttpOutcome&)>& done_;
  CURLM* multi_;
  std::deque<Try> fresh_;
  std::multimap<Clock::time_point, Try> retry_;
  std::vector<std::unique_ptr<Transfer>> running_;
  int64_t requests_ = 0;

  bool next_ready(Clock::time_point now, Try* item) {
    if (!retry_.empty() && retry_.begin()->first <= now) {
      *item = retry_.begin()->second;
      retry_.erase(retry_.begin());
      return true;
    }
    if (fresh_.empty()) return false;
    *item = fresh_.front();
    fresh_.pop_front();
    return true;
  }

  int poll_ms(Clock::time_point next_start) const {
    auto wake = Clock::now() + std::chrono::milliseconds(200);
    if (static_cast<int>(running_.size()) < params_.parallel) {
      if (!fresh_.empty()) wake = std::min(wake, next_start);
      if (!retry_.empty()) wake = std::min(wake, std::max(next_start, retry_.begin()->first));
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now());
    return static_cast<int>(std::clamp<int64_t>(wait.count(), 0, 200));
  }

  void start(const Try& item) {
    auto t = std::make_unique<Transfer>();
    t->item = item;
    t->partial = items_[item.index].path + ".partial";
    t->file = std::fopen(t->partial.c_str(), "wb");
    if (!t->file) throw file_error(t->partial, "cannot be created (permission? folder missing?)");
    t->easy = curl_easy_init();
    if (!t->easy) {
      std::fclose(t->file);
      throw Error("libcurl: cannot create a transfer for " + items_[item.index].url);
    }
    set_options(*t, items_[item.index], params_);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t.get());
    curl_multi_add_handle(multi_, t->easy);
    ++requests_;
    running_.push_back(std::move(t));
  }

  void collect() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      const auto it = std::find_if(running_.begin(), running_.end(),
                                   [&](const auto& t) { return t->easy == msg->easy_handle; });
      if (it == running_.end()) continue;
      std::unique_ptr<Transfer> t = std::move(*it);
      running_.erase(it);
      const CURLcode code = msg->data.result;
      curl_multi_remove_handle(multi_, t->easy);
      finish(*t, code);
    }
  }

  void finish(Transfer& t, CURLcode code) {
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    const bool closed = std::fclose(t.file) == 0;
    t.file = nullptr;
    const std::string error = t.error[0] ? t.error : curl_easy_strerror(code);
    curl_easy_cleanup(t.easy);
    t.easy = nullptr;
    if (t.write_failed || !closed) throw file_error(t.partial, "cannot be written (disk full?)");
    const HttpDownload& d = items_[t.item.index];
    HttpOutcome out;
    out.attempts = t.item.attempts + 1;
    if (code == CURLE_OK && status == 200) {
      std::error_code ec;
      const auto size = static_cast<int64_t>(fs::file_size(t.partial, ec));
      if (!looks_like_image(read_head(t.partial))) {
        out.reason = "not an image (" + std::to_string(size) + " bytes that start like no " +
                     "JPEG/PNG/BMP/GIF/TIFF)";
      } else {
        fs::rename(t.partial, d.path, ec);
        if (ec) throw file_error(d.path, "cannot rename the downloaded file: " + ec.message());
        out.ok = true;
        out.bytes = size;
        done_(t.item.index, out);
        return;
      }
    } else if (code == CURLE_OK) {
      out.reason = "HTTP " + std::to_string(status);
    } else {
      out.reason = (code == CURLE_PARTIAL_FILE ? "truncated: " : "") + error;
    }
    std::error_code ec;
    fs::remove(t.partial, ec);
    const bool again = !(code == CURLE_OK && status == 200) && is_retryable(code, status);
    if (again && out.attempts <= params_.retries) {
      const double wait =
          std::min(300.0, params_.backoff_seconds * std::pow(2.0, out.attempts - 1));
      retry_.emplace(Clock::now() + ms(wait), Try{t.item.index, out.attempts});
      return;
    }
    done_(t.item.index, out);
  }
};

}  // namespace

bool looks_like_image(const std::string& head) {
  auto starts = [&](const std::string& magic) { return head.compare(0, magic.size(), magic) == 0; };
  return starts("\xFF\xD8\xFF") || starts("\x89PNG\r\n\x1A\n") || starts("BM") || starts("GIF8") ||
         starts(std::string("II*\0", 4)) || starts(std::string("MM\0*", 4));
}

bool is_retryable(int curl_code, long http_status) {
  if (curl_code == CURLE_OK) return http_status >= 500 || http_status == 408 || http_status == 429;
  switch (curl_code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_WRITE_ERROR:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_OUT_OF_MEMORY:
      return false;
    default:
      return true;
  }
}

int64_t run_http_batch(const std::vector<HttpDownload>& items, const HttpBatchParams& params,
                       const std::function<void(size_t, const HttpOutcome&)>& done) {
  global_init();
  Batch batch(items, params, done);
  return batch.run();
}

}  // namespace ishannot::detail
