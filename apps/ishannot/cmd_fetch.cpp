// `ishannot fetch bdgp --meta BDGP_TABLES --out DIR`: downloads the images BDGP's tables list
// (fetch/bdgp_fetch.h: BDGP's layout, resumable, polite) and writes DIR/images.csv for them;
// with --standardize, registers them too (DIR/standardized/, `ishannot standardize`).
#include <iostream>

#include "commands.h"
#include "ishannot/common/format.h"
#include "ishannot/fetch/bdgp_fetch.h"
#include "options.h"

namespace ishannot::cli {

namespace {

struct FetchOptions {
  BdgpFetchParams params;
  std::vector<std::string> stages;
  bool standardize = false;
};

std::string megabytes(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

void run_fetch_bdgp(FetchOptions& o, const GlobalOptions& options) {
  const Reporter reporter = make_reporter(options);
  o.params.stages = normalised_stages(o.stages);
  require_valid("fetch bdgp", o.params.check());
  const BdgpFetchResult r = fetch_bdgp(o.params, reporter);
  const double rate = r.seconds > 0 ? static_cast<double>(r.bytes) / 1e6 / r.seconds : 0;
  char speed[32];
  std::snprintf(speed, sizeof speed, "%.2f MB/s", rate);
  reporter.info("fetch: " + std::to_string(r.planned) +
                " images selected: " + std::to_string(r.fetched) + " downloaded (" +
                megabytes(r.bytes) + ", " + speed + ", " + std::to_string(r.requests) +
                " requests), " + std::to_string(r.already_present) + " already there, " +
                std::to_string(r.failures.size()) + " failed (" + o.params.out + "/failed.tsv), " +
                format_duration(r.seconds));
  if (o.standardize) {
    const std::string out = o.params.out + "/standardized";
    run_standardize_command(r.manifest, out, options);
    std::cout << out << "/images.csv\n";
    return;
  }
  std::cout << r.manifest << "\n";
}

}  // namespace

void add_fetch_command(CLI::App& app, GlobalOptions& options) {
  auto o = std::make_shared<FetchOptions>();
  auto* fetch = app.add_subcommand("fetch", "download public images (fetch bdgp: BDGP's images)");
  fetch->require_subcommand(1);
  auto* cmd = fetch->add_subcommand(
      "bdgp", "download the images BDGP's annotation tables list, and write a manifest for them");
  BdgpFetchParams& p = o->params;
  cmd->add_option("--meta", p.meta,
                  "BDGP table folder (standard_annotations.csv, "
                  "standard_images.csv), e.g. ../shared/data/bdgp-meta")
      ->required();
  add_out_option(cmd, p.out,
                 "output folder: images/img_dir_N/*.jpe, images.csv, fetched.tsv, failed.tsv "
                 "(a rerun resumes)");
  add_stages_option(cmd, o->stages, "the ones to fetch (default: all)");
  cmd->add_option("--views", p.views, "lateral | all")
      ->check(CLI::IsMember({"lateral", "all"}))
      ->capture_default_str();
  cmd->add_option("--genes", p.genes, "only these genes (comma-separated)")->delimiter(',');
  cmd->add_option("--limit", p.limit, "at most N images, in table order (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--base-url", p.base_url,
                  "image store: the URL part before img_dir_N/ (a mirror or local copy)")
      ->capture_default_str();
  cmd->add_option("--parallel", p.parallel, "transfers at once")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  cmd->add_option("--rate", p.rate, "new requests per second at most")->capture_default_str();
  cmd->add_option("--retries", p.retries, "further tries on 5xx, timeouts, truncated transfers")
      ->check(CLI::Range(0, 20))
      ->capture_default_str();
  cmd->add_option("--backoff", p.backoff_seconds, "seconds before the first retry (doubled each)")
      ->capture_default_str();
  cmd->add_option("--timeout", p.timeout_seconds, "seconds for one transfer")
      ->capture_default_str();
  cmd->add_flag("--standardize", o->standardize,
                "also register each image (ishannot standardize) into OUT/standardized/");
  cmd->callback([o, &options] { run_fetch_bdgp(*o, options); });
}

}  // namespace ishannot::cli
