#pragma once
// `ishannot fetch bdgp`: downloads the images that BDGP's annotation tables (data/bdgp.h) list,
// from BDGP's public image store or a mirror in its layout, and writes our manifest for them.
//
// Layout (BDGP's, kept under DIR/images/):
//   BASE_URL/img_dir_<N>/insitu<ID>.jpe   with N = ID div 1000 (insitu44978 -> img_dir_44)
// Outputs in DIR (the contract; docs/DATA.md "Getting BDGP's images"):
//   images/img_dir_<N>/insitu<ID>.jpe   one file per image, downloaded to NAME.partial and renamed
//                                       when complete and checked (HTTP 200, the announced size,
//                                       JPEG/PNG/BMP/GIF/TIFF magic bytes)
//   fetched.tsv  image, file, bytes, sha256, url: one row per file on disk (appended as each
//                completes, so a killed run loses nothing; rewritten sorted at the end)
//   failed.tsv   image, url, attempts, reason: what could not be fetched in this run
//   images.csv   our manifest (image,gene,fbgn,stage_range,terms,view; data/dataset.h
//                write_manifest) of the tables' rows whose image is on disk
// Resume: a rerun keeps every complete file (listed in fetched.tsv with its size, or present
// under its final name: hashed and listed) and fetches only the others; .partial files are redone.
// Politeness: at most `parallel` transfers at once, at most `rate` new requests per second,
// retries with exponential back-off on 5xx, 429, timeouts, truncated bodies and connection errors;
// 4xx (other than 408/429) is final. Every loop is bounded: (1 + retries) tries per image, each
// within timeout_seconds.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ishannot/common/progress.h"
#include "ishannot/data/dataset.h"

namespace ishannot {

/// BDGP's public image store (the part of an image URL before img_dir_<N>/).
inline constexpr const char* kBdgpImageBaseUrl = "https://insitu.fruitfly.org/insitu_image_storage";

struct BdgpFetchParams {
  std::string meta;                          ///< BDGP table folder (standard_*.csv)
  std::string out;                           ///< output folder
  std::string base_url = kBdgpImageBaseUrl;  ///< http:// or https:// only
  std::vector<std::string> stages;           ///< normalised stage ranges; empty = all
  std::string views = "lateral";             ///< lateral | all
  std::vector<std::string> genes;            ///< gene symbols; empty = all
  int64_t limit = 0;                         ///< at most this many images (table order); 0 = all
  int parallel = 4;                          ///< transfers at once (1..16)
  double rate = 4.0;                         ///< new requests per second at most (> 0)
  int retries = 4;                           ///< further tries after the first (0..20)
  double backoff_seconds = 2.0;              ///< wait before the first retry; doubled each time
  double timeout_seconds = 120.0;            ///< one transfer, connection included
  double connect_timeout_seconds = 20.0;     ///< connecting
  std::string user_agent;                    ///< "" = bdgp_user_agent()
  /// "" when valid, else what is wrong (a bad value, an unsupported URL scheme).
  std::string check() const;
};

/// "ishannot/VERSION (+https://github.com/...; Drosophila ISH annotation)".
std::string bdgp_user_agent();

/// One image to fetch.
struct FetchItem {
  std::string image;  ///< BDGP's file stem, "insitu44978" (the manifest's id)
  int64_t number = 0;
  std::string url;   ///< BASE_URL/img_dir_44/insitu44978.jpe
  std::string file;  ///< relative to the output folder: images/img_dir_44/insitu44978.jpe
};

/// The image of BDGP id `number` in BDGP's layout under `base_url` (no trailing slash needed).
FetchItem bdgp_fetch_item(const std::string& base_url, int64_t number);

/// The images of `tables` (read_bdgp_tables, metadata-only) selected by stages, views, genes
/// and limit, in table order, each once. Error when an image id is not "insitu<digits>".
std::vector<FetchItem> plan_bdgp_fetch(const Dataset& tables, const BdgpFetchParams& params);

struct FetchFailure {
  std::string image, url;
  int attempts = 0;
  std::string reason;  ///< "HTTP 404", "HTTP 500", "timeout (...)", "truncated: ...", ...
};

struct BdgpFetchResult {
  int64_t planned = 0;          ///< images selected
  int64_t already_present = 0;  ///< complete from an earlier run (not downloaded again)
  int64_t fetched = 0;          ///< downloaded by this run
  int64_t bytes = 0;            ///< bytes downloaded by this run
  int64_t requests = 0;         ///< HTTP requests made (retries included)
  double seconds = 0;
  std::vector<FetchFailure> failures;
  int64_t manifest_rows = 0;  ///< rows of DIR/images.csv
  std::string manifest;       ///< DIR/images.csv
};

/// Fetches the selected images into params.out, writes fetched.tsv, failed.tsv and images.csv
/// (see the top of this file). Progress as stage "fetch" (images done of planned). Throws Error
/// for unreadable tables, an output folder that cannot be written, or when nothing could be
/// fetched (no image selected, or every selected one failed: failed.tsv is written first).
BdgpFetchResult fetch_bdgp(const BdgpFetchParams& params, const Reporter& reporter = {});

}  // namespace ishannot
