// Merging extraction shards: header checks (every shard once, same dataset, same provenance), then
// a streamed, resumable row-block copy into OUT.partial, renamed when complete.
#include "ishannot/features/merge.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>

#include "ishannot/common/error.h"
#include "ishannot/data/shards.h"

namespace ishannot {

namespace {

// Attributes that describe the slice, not the extraction: they may (must) differ between shards.
const std::set<std::string> kShardKeys = {"shard", "shard_total_images", "shard_ids_sha256"};
// Attributes of one run over a slice (the writer's row count, the command line, the images that
// slice skipped): they may differ too; the merged store gets its own.
const std::set<std::string> kRunKeys = {"complete_rows", "created_by", "skipped_images"};

std::string attribute(const std::map<std::string, std::string>& attributes, const std::string& key,
                      const std::string& path) {
  auto it = attributes.find(key);
  if (it == attributes.end())
    throw file_error(path, "not a shard: no " + key +
                               " attribute (shards are written by 'ishannot extract --shard i/N')");
  return it->second;
}

// Everything but the shard description and the command line must be the same in every shard.
void check_same_provenance(const FeatureStoreReader& first, const FeatureStoreReader& other) {
  auto comparable = [](std::map<std::string, std::string> a) {
    for (const auto& key : kShardKeys) a.erase(key);
    for (const auto& key : kRunKeys) a.erase(key);
    // The manifest is compared by its SHA-256: "./syn/images.csv" and "syn/images.csv" (or the
    // same manifest at another place) are one manifest.
    if (a.count("manifest_sha256") && !a["manifest_sha256"].empty()) a.erase("manifest_path");
    return a;
  };
  const auto a = comparable(first.attributes()), b = comparable(other.attributes());
  std::set<std::string> keys;
  for (const auto& [key, value] : a) keys.insert(key);
  for (const auto& [key, value] : b) keys.insert(key);
  for (const auto& key : keys) {
    const auto ia = a.find(key), ib = b.find(key);
    const std::string va = ia == a.end() ? "(missing)" : "'" + ia->second + "'";
    const std::string vb = ib == b.end() ? "(missing)" : "'" + ib->second + "'";
    if (va != vb)
      throw file_error(other.path(), "attribute " + key + " is " + vb + ", but " + va + " in " +
                                         first.path() + " (shards of different extractions?)");
  }
}

void check_same_layers(const FeatureStoreReader& first, const FeatureStoreReader& other) {
  auto describe = [](const FeatureStoreReader& store) {
    std::string text;
    for (const auto& l : store.layers())
      text += (text.empty() ? "" : ", ") + l.name + " " + std::to_string(l.dim) + " [" + l.shape +
              "] " + (store.dtype(l.name) == FeatureDtype::kFloat16 ? "float16" : "float32");
    return text;
  };
  const std::string a = describe(first), b = describe(other);
  if (a != b)
    throw file_error(other.path(), "layers " + b + " differ from " + first.path() + "'s: " + a);
}

// Every index 0..N-1 exactly once; returns the readers in index order.
std::vector<std::unique_ptr<FeatureStoreReader>> in_index_order(
    std::vector<std::unique_ptr<FeatureStoreReader>> stores) {
  const std::string& first = stores.front()->path();
  const ShardSpec spec0 = parse_shard_spec(attribute(stores.front()->attributes(), "shard", first));
  std::vector<std::unique_ptr<FeatureStoreReader>> ordered(static_cast<size_t>(spec0.count));
  for (auto& store : stores) {
    const std::string text = attribute(store->attributes(), "shard", store->path());
    ShardSpec spec;
    try {
      spec = parse_shard_spec(text);
    } catch (const Error& e) {
      throw file_error(store->path(), std::string("bad shard attribute: ") + e.what());
    }
    if (spec.count != spec0.count)
      throw file_error(store->path(), "is shard " + text + ", but " + first + " is shard " +
                                          shard_text(spec0) + " (different shard counts)");
    auto& slot = ordered[static_cast<size_t>(spec.index)];
    if (slot)
      throw file_error(store->path(),
                       "shard " + text + " given twice (also " + slot->path() + "): overlap");
    slot = std::move(store);
  }
  for (int i = 0; i < spec0.count; ++i)
    if (!ordered[static_cast<size_t>(i)])
      throw file_error(first, "shard " + shard_text({i, spec0.count}) +
                                  " is missing (gap): give all " + std::to_string(spec0.count) +
                                  " shards");
  return ordered;
}

std::map<std::string, std::string> merged_attributes(
    const std::vector<std::unique_ptr<FeatureStoreReader>>& shards, const MergeParams& params) {
  auto attributes = shards.front()->attributes();
  std::string merged_from, skipped;
  for (const auto& shard : shards) {
    const auto a = shard->attributes();
    const auto created_by = a.find("created_by");
    merged_from +=
        a.at("shard") + ": " + (created_by == a.end() ? shard->path() : created_by->second) + "\n";
    // skipped_images is "file\treason\n" then one line per image: the shards' lines, one header.
    if (const auto s = a.find("skipped_images"); s != a.end()) {
      const size_t body = s->second.find('\n');
      if (body != std::string::npos) skipped += s->second.substr(body + 1);
    }
  }
  for (const auto& key : kShardKeys) attributes.erase(key);
  for (const auto& key : kRunKeys) attributes.erase(key);
  if (!params.provenance.command_line.empty())
    attributes["created_by"] = params.provenance.command_line;
  if (!skipped.empty()) attributes["skipped_images"] = "file\treason\n" + skipped;
  attributes["merged_from"] = merged_from;
  return attributes;
}

std::vector<std::unique_ptr<FeatureStoreReader>> open_checked(
    const std::vector<std::string>& paths) {
  if (paths.empty()) throw Error("merge: no shard given");
  std::vector<std::unique_ptr<FeatureStoreReader>> stores;
  for (const auto& path : paths) stores.push_back(std::make_unique<FeatureStoreReader>(path));
  for (const auto& store : stores) {
    check_same_provenance(*stores.front(), *store);
    check_same_layers(*stores.front(), *store);
  }
  return in_index_order(std::move(stores));
}

// The rows an interrupted merge left in OUT.partial must be the first rows of this merge.
void check_resumed_prefix(const std::vector<std::string>& existing, const ShardSet& set,
                          const std::string& out_path) {
  if (existing.empty()) return;
  size_t at = 0;
  for (const auto& path : set.paths) {
    const FeatureStoreReader shard(path);
    for (const auto& id : shard.ids()) {
      if (at == existing.size()) return;
      if (existing[at] != id)
        throw file_error(out_path + ".partial", "cannot resume: row " + std::to_string(at) +
                                                    " is " + existing[at] + ", the shards have " +
                                                    id + " (delete the file to start over)");
      ++at;
    }
  }
  if (at < existing.size())
    throw file_error(out_path + ".partial", "cannot resume: more rows than the shards hold");
}

}  // namespace

std::string MergeParams::check() const {
  if (block_bytes < 1) return "block_bytes must be >= 1";
  return "";
}

ShardSet check_shards(const std::vector<std::string>& paths, const MergeParams& params) {
  if (auto problem = params.check(); !problem.empty()) throw Error("merge: " + problem);
  const auto shards = open_checked(paths);
  const auto& attributes0 = shards.front()->attributes();
  const std::string& path0 = shards.front()->path();
  const std::string total_text = attribute(attributes0, "shard_total_images", path0);
  const std::string ids_hash = attribute(attributes0, "shard_ids_sha256", path0);
  int64_t total = 0;
  try {
    total = std::stoll(total_text);
  } catch (const std::exception&) {
    throw file_error(path0, "bad shard_total_images attribute '" + total_text + "'");
  }
  ShardSet set;
  std::set<std::string> seen;
  std::vector<std::string> ids;
  for (const auto& shard : shards) {
    const auto attributes = shard->attributes();
    for (const auto& [key, value] :
         {std::pair{"shard_total_images", total_text}, std::pair{"shard_ids_sha256", ids_hash}})
      if (attribute(attributes, key, shard->path()) != value)
        throw file_error(shard->path(), std::string("is a shard of another dataset than ") + path0 +
                                            " (" + key + " differs)");
    const ShardSpec spec = parse_shard_spec(attributes.at("shard"));
    const ShardRows expected = shard_rows(total, spec);
    if (shard->rows() != expected.size())
      throw file_error(shard->path(), "shard " + shard_text(spec) + " has " +
                                          std::to_string(shard->rows()) + " rows, its slice of " +
                                          total_text + " images has " +
                                          std::to_string(expected.size()));
    for (const auto& id : shard->ids()) {
      if (!seen.insert(id).second)
        throw file_error(shard->path(), "id " + id + " is also in an earlier shard (overlap)");
      ids.push_back(id);
    }
    set.paths.push_back(shard->path());
    set.rows.push_back(shard->rows());
  }
  if (ids_sha256(ids) != ids_hash)
    throw file_error(path0,
                     "the shards' ids, in shard order, are not the dataset's ids in its "
                     "order (shard_ids_sha256 differs): shards of different datasets?");
  set.total_rows = total;
  set.layers = shards.front()->layers();
  set.dtype = shards.front()->dtype(set.layers.front().name);
  for (const auto& layer : set.layers)
    if (shards.front()->dtype(layer.name) != set.dtype)
      throw file_error(path0, "layers of different dtypes cannot be merged into one store");
  set.attributes = merged_attributes(shards, params);
  return set;
}

MergeResult merge_feature_stores(const std::vector<std::string>& paths, const std::string& out_path,
                                 const MergeParams& params, const Reporter& reporter) {
  const auto start = std::chrono::steady_clock::now();
  namespace fs = std::filesystem;
  for (const auto& path : paths)
    for (const auto& out : {out_path, out_path + ".partial"})
      if (fs::weakly_canonical(path) == fs::weakly_canonical(out))
        throw file_error(out_path, "the output is also one of the shards (" + path + ")");
  const ShardSet set = check_shards(paths, params);
  FeatureStoreWriter writer(out_path, set.layers, set.dtype, set.attributes, params.resume);
  MergeResult result;
  result.shards = static_cast<int>(set.paths.size());
  result.layers = set.layers;
  result.dtype = set.dtype;
  result.already_present = static_cast<int64_t>(writer.existing_ids().size());
  check_resumed_prefix(writer.existing_ids(), set, out_path);
  if (result.already_present > 0)
    reporter.info("resuming " + out_path + ".partial: " + std::to_string(result.already_present) +
                  " rows already merged");

  int64_t row_floats = 0;
  for (const auto& layer : set.layers) row_floats += layer.dim;
  const int64_t block = std::max<int64_t>(1, params.block_bytes / (4 * row_floats));
  std::map<std::string, std::vector<float>> buffers;
  int64_t offset = 0;  // rows of the merged store before this shard
  reporter.report("merge", result.already_present, set.total_rows);
  for (const auto& path : set.paths) {
    const FeatureStoreReader shard(path);
    for (int64_t begin = 0; begin < shard.rows(); begin += block) {
      const int64_t count = std::min(block, shard.rows() - begin);
      if (offset + begin + count <= result.already_present) continue;
      // A resumed file ends on a block boundary of the previous run only if it used the same
      // block size: skip exactly the rows already present.
      const int64_t skip = std::max<int64_t>(0, result.already_present - (offset + begin));
      const auto first_id = shard.ids().begin() + begin + skip;
      const std::vector<std::string> ids(first_id, first_id + (count - skip));
      std::map<std::string, const float*> data;
      for (const auto& layer : set.layers) {
        auto& buffer = buffers[layer.name];
        buffer.resize(static_cast<size_t>((count - skip) * layer.dim));
        shard.read_rows(layer.name, begin + skip, count - skip, buffer.data());
        data[layer.name] = buffer.data();
      }
      writer.append(ids, data);
      result.written += count - skip;
      reporter.report("merge", result.already_present + result.written, set.total_rows);
    }
    offset += shard.rows();
  }
  writer.close();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace ishannot
