// `ishannot merge SHARDS... --out F.h5`: the shards of one extraction (`extract --shard i/N`) into
// the store an unsharded run writes (same ids in the same order, same values bit for bit), after
// checking that every shard is there once and that they share their provenance (features/merge.h).
#include "commands.h"
#include "ishannot/common/format.h"
#include "ishannot/features/merge.h"
#include "options.h"

namespace ishannot::cli {

namespace {

struct MergeOptions {
  std::vector<std::string> shards;
  std::string out;
  int64_t block_mb = 64;
  ResumeOptions resume;
};

void run_merge(const MergeOptions& o, const GlobalOptions& options) {
  const Reporter reporter = make_reporter(options);
  MergeParams params;
  params.block_bytes = o.block_mb << 20;
  params.provenance = provenance(options);
  require_valid("merge", params.check());
  // Lock first, then restart: a second merge on this --out stops here, before it deletes.
  const ClaimedOutput claimed = claim_output(o.resume, o.out + ".partial", {o.out + ".partial"});
  params.resume = claimed.resume;
  const MergeResult r = merge_feature_stores(o.shards, o.out, params, reporter);
  std::string layers;
  for (const auto& l : r.layers) layers += " " + l.name + "[" + std::to_string(l.dim) + "]";
  reporter.info("wrote " + o.out + ": " + std::to_string(r.shards) + " shards, " +
                std::to_string(r.already_present + r.written) + " images (" +
                std::to_string(r.already_present) + " from an interrupted run), layers" + layers +
                ", " + format_duration(r.seconds));
}

}  // namespace

void add_merge_command(CLI::App& app, GlobalOptions& options) {
  auto o = std::make_shared<MergeOptions>();
  auto* cmd = app.add_subcommand(
      "merge", "merge the shards of one extraction (extract --shard i/N) into one feature store");
  cmd->add_option("shards", o->shards, "shard stores, all N of them, in any order")->required();
  add_out_option(cmd, o->out, "merged .h5 (written as OUT.partial, renamed when complete)");
  cmd->add_option("--block-mb", o->block_mb, "memory for one block of rows (MiB)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  add_resume_options(cmd, o->resume, "OUT.partial");
  cmd->callback([o, &options] { run_merge(*o, options); });
}

}  // namespace ishannot::cli
