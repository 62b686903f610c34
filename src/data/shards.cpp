#include "ishannot/data/shards.h"

#include <map>

#include "ishannot/common/assert.h"
#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"

namespace ishannot {

ShardSpec parse_shard_spec(const std::string& text) {
  const Error bad("--shard '" + text + "': expected i/N with 0 <= i < N and N >= 1, e.g. 0/4");
  const auto slash = text.find('/');
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 9 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (slash == std::string::npos || !digits(text.substr(0, slash)) ||
      !digits(text.substr(slash + 1)))
    throw bad;
  ShardSpec spec;
  spec.index = std::stoi(text.substr(0, slash));
  spec.count = std::stoi(text.substr(slash + 1));
  if (spec.count < 1 || spec.index >= spec.count) throw bad;
  return spec;
}

std::string shard_text(const ShardSpec& shard) {
  return std::to_string(shard.index) + "/" + std::to_string(shard.count);
}

ShardRows shard_rows(int64_t n, const ShardSpec& shard) {
  ISHANNOT_ASSERT(n >= 0 && n < (int64_t{1} << 32) && shard.count >= 1 && shard.index >= 0 &&
                      shard.index < shard.count,
                  "shard " + shard_text(shard) + " of " + std::to_string(n) + " rows");
  // n < 2^32 and i <= N < 2^31 keep i * n below 2^63.
  auto cut = [&](int64_t i) { return i * n / shard.count; };
  return {cut(shard.index), cut(shard.index + 1)};
}

std::string ids_sha256(const std::vector<std::string>& ids) {
  std::string joined;
  for (const auto& id : ids) joined += id + "\n";
  return sha256_bytes(joined);
}

Dataset shard_of(const Dataset& dataset, const ShardSpec& shard) {
  const int64_t n = static_cast<int64_t>(dataset.images.size());
  const ShardRows rows = shard_rows(n, shard);
  if (rows.size() == 0)
    throw file_error(dataset.source, "shard " + shard_text(shard) + " of " + std::to_string(n) +
                                         " images is empty (use at most " + std::to_string(n) +
                                         " shards)");
  Dataset part = dataset;
  part.images.assign(dataset.images.begin() + rows.begin, dataset.images.begin() + rows.end);
  return part;
}

std::map<std::string, std::string> shard_attributes(const Dataset& dataset,
                                                    const ShardSpec& shard) {
  std::vector<std::string> ids;
  ids.reserve(dataset.images.size());
  for (const auto& image : dataset.images) ids.push_back(image.id);
  return {{"shard", shard_text(shard)},
          {"shard_total_images", std::to_string(ids.size())},
          {"shard_ids_sha256", ids_sha256(ids)}};
}

}  // namespace ishannot
