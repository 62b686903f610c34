// `ishannot fetch bdgp` against a loopback server (tests/fetch/bdgp_server.py on 127.0.0.1, an
// ephemeral port) serving a mirror in BDGP's layout built here from bdgp-mini's images (synthetic
// ones without ../shared). References: coreutils' sha256sum of the served files, the request log
// the server writes, bdgp-mini's images_detailed.csv for the manifest, URLs worked by hand.
#include <gtest/gtest.h>

#include <algorithm>

#include "fetch/fetch_fixture.h"
#include "fetch/http_batch.h"
#include "ishannot/common/error.h"
#include "ishannot/data/dataset.h"
#include "ishannot/fetch/bdgp_fetch.h"
#include "ishannot/image/image.h"
#include "support/cli_util.h"

namespace fs = std::filesystem;
using namespace ishannot;

namespace {

struct Fixture {
  std::string dir, meta, mirror;
  std::vector<test::FixtureImage> images;
  std::map<int64_t, std::string> sha;
};

Fixture make_fixture(const std::string& name, size_t max_images = 0) {
  Fixture f;
  f.dir = test::temp_dir("fetch-" + name);
  f.images = test::fixture_images();
  if (max_images > 0 && f.images.size() > max_images) f.images.resize(max_images);
  f.meta = f.dir + "/meta";
  f.mirror = f.dir + "/mirror";
  test::write_tables(f.meta, f.images);
  f.sha = test::write_mirror(f.mirror, f.images);
  return f;
}

// The CLI, fast and loopback only; stderr to DIR/err.txt.
int run_fetch(const Fixture& f, const std::string& url, const std::string& out,
              const std::string& extra = "") {
  return test::run_status(test::cli() + "fetch bdgp --meta " + f.meta + " --base-url " + url +
                          " --out " + out + " --views all --rate 200 --backoff 0.05 " + extra +
                          " 2> " + f.dir + "/err.txt");
}

std::string err_of(const Fixture& f) {
  return read_text_file(f.dir + "/err.txt");
}

// fetched.tsv as image -> sha256 (plain split, header skipped).
std::map<std::string, std::string> fetched_sha(const std::string& out) {
  std::map<std::string, std::string> rows;
  std::ifstream in(out + "/fetched.tsv");
  std::string line;
  EXPECT_TRUE(in.good()) << out << "/fetched.tsv";
  std::getline(in, line);
  EXPECT_EQ(line, "image\tfile\tbytes\tsha256\turl");
  while (std::getline(in, line)) {
    const auto c = detail::split(line, '\t');
    EXPECT_EQ(c.size(), 5u) << line;
    if (c.size() == 5) rows[c[0]] = c[3];
  }
  return rows;
}

std::vector<std::vector<std::string>> failed_rows(const std::string& out) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(out + "/failed.tsv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "image\turl\tattempts\treason");
  while (std::getline(in, line)) rows.push_back(detail::split(line, '\t'));
  return rows;
}

// Every image of `f` is under out/images/ with the served bytes' sha256, and in fetched.tsv.
void expect_all_fetched(const Fixture& f, const std::string& out) {
  const auto log = fetched_sha(out);
  EXPECT_EQ(log.size(), f.images.size());
  for (const auto& im : f.images) {
    const std::string image = "insitu" + std::to_string(im.number);
    const std::string file = out + "/images" + test::mirror_path(im.number);
    ASSERT_TRUE(fs::exists(file)) << file;
    EXPECT_EQ(sha256_file(file), f.sha.at(im.number)) << file;
    EXPECT_EQ(log.count(image) ? log.at(image) : "", f.sha.at(im.number)) << image;
    EXPECT_FALSE(fs::exists(file + ".partial"));
  }
}

}  // namespace

TEST(FetchBdgp, UrlsFollowBdgpLayout) {
  // Worked by hand from BDGP's public layout (issue 26): N = ID div 1000.
  const FetchItem a = bdgp_fetch_item("https://insitu.fruitfly.org/insitu_image_storage", 44978);
  EXPECT_EQ(a.url, "https://insitu.fruitfly.org/insitu_image_storage/img_dir_44/insitu44978.jpe");
  EXPECT_EQ(a.file, "images/img_dir_44/insitu44978.jpe");
  EXPECT_EQ(a.image, "insitu44978");
  EXPECT_EQ(bdgp_fetch_item("http://127.0.0.1:8/m/", 10383).url,
            "http://127.0.0.1:8/m/img_dir_10/insitu10383.jpe");
  EXPECT_EQ(bdgp_fetch_item("http://h", 999).file, "images/img_dir_0/insitu999.jpe");
  EXPECT_EQ(bdgp_user_agent().rfind("ishannot/", 0), 0u);
}

TEST(FetchBdgp, PlanSelectsStagesViewsGenesAndLimit) {
  Dataset d;
  d.source = "tables";
  auto add = [&](const std::string& id, const std::string& gene, const std::string& stage,
                 const std::string& view) {
    d.images.push_back({id, "", gene, stage, view, {}});
  };
  add("insitu1", "a", "4-6", "lateral");
  add("insitu2", "a", "13-16", "lateral");
  add("insitu3", "b", "13-16", "dorsal");
  add("insitu4", "b", "13-16", "lateral");
  BdgpFetchParams p;
  auto ids = [&] {
    std::string s;
    for (const auto& item : plan_bdgp_fetch(d, p)) s += item.image + " ";
    return s;
  };
  EXPECT_EQ(ids(), "insitu1 insitu2 insitu4 ");  // lateral by default
  p.views = "all";
  EXPECT_EQ(ids(), "insitu1 insitu2 insitu3 insitu4 ");
  p.stages = {"13-16"};
  EXPECT_EQ(ids(), "insitu2 insitu3 insitu4 ");
  p.genes = {"b"};
  EXPECT_EQ(ids(), "insitu3 insitu4 ");
  p.limit = 1;
  EXPECT_EQ(ids(), "insitu3 ");
  d.images.push_back({"45376_s", "", "b", "13-16", "lateral", {}});
  p.limit = 0;
  EXPECT_THROW(plan_bdgp_fetch(d, p), Error);
}

TEST(FetchBdgp, RetryRulesAndImageCheck) {
  EXPECT_TRUE(detail::is_retryable(0, 500));
  EXPECT_TRUE(detail::is_retryable(0, 503));
  EXPECT_TRUE(detail::is_retryable(0, 429));
  EXPECT_FALSE(detail::is_retryable(0, 404));
  EXPECT_FALSE(detail::is_retryable(0, 403));
  EXPECT_TRUE(detail::is_retryable(28, 0));    // CURLE_OPERATION_TIMEDOUT
  EXPECT_TRUE(detail::is_retryable(18, 200));  // CURLE_PARTIAL_FILE
  EXPECT_FALSE(detail::is_retryable(1, 0));    // CURLE_UNSUPPORTED_PROTOCOL
  EXPECT_TRUE(detail::looks_like_image("\xFF\xD8\xFF\xE0"));
  EXPECT_TRUE(detail::looks_like_image("\x89PNG\r\n\x1A\n...."));
  EXPECT_FALSE(detail::looks_like_image("<html><body>"));
  EXPECT_FALSE(detail::looks_like_image(""));
}

TEST(FetchBdgpCli, FetchesEveryImageWithItsSha256AndWritesTheManifest) {
  const Fixture f = make_fixture("all");
  test::MirrorServer server(f.mirror, f.dir);
  ASSERT_GT(server.port(), 0) << read_text_file(f.dir + "/server.err");
  const std::string out = f.dir + "/out";
  ASSERT_EQ(run_fetch(f, server.url(), out, "--parallel 4"), 0) << err_of(f);
  expect_all_fetched(f, out);
  EXPECT_TRUE(failed_rows(out).empty());
  // One request per image, each with a User-Agent naming ishannot.
  const auto requests = server.requests();
  EXPECT_EQ(requests.size(), f.images.size());
  for (const auto& r : requests) EXPECT_EQ(r.at(3).rfind("ishannot/", 0), 0u) << r.at(3);
  // The manifest: the tables' group of every image (reference: images_detailed.csv).
  const std::string manifest = out + "/images.csv";
  const auto rows = detail::parse_csv(read_text_file(manifest), manifest);
  ASSERT_EQ(rows.size(), f.images.size() + 1);
  EXPECT_EQ(rows[0].fields,
            (std::vector<std::string>{"image", "gene", "fbgn", "stage_range", "terms", "view"}));
  std::map<std::string, std::vector<std::string>> got;
  for (size_t r = 1; r < rows.size(); ++r) got[rows[r].fields.at(0)] = rows[r].fields;
  for (const auto& im : f.images) {
    const std::string file = "images" + test::mirror_path(im.number);
    ASSERT_TRUE(got.count(file)) << file;
    std::vector<std::string> terms = im.terms;
    std::sort(terms.begin(), terms.end());
    std::string joined;
    for (const auto& t : terms) joined += (joined.empty() ? "" : ";") + t;
    const auto& row = got[file];
    EXPECT_EQ(row.at(1), im.gene) << file;
    EXPECT_EQ(row.at(3), test::kStageNames[im.stage]) << file;
    EXPECT_EQ(row.at(4), joined) << file;
    EXPECT_EQ(row.at(5), im.view) << file;
  }
  // A rerun finds everything there and downloads nothing.
  ASSERT_EQ(run_fetch(f, server.url(), out), 0) << err_of(f);
  EXPECT_EQ(server.requests().size(), f.images.size());
  expect_all_fetched(f, out);
}

TEST(FetchBdgpCli, FaultsAreRetriedThenListedInFailedTsv) {
  const Fixture f = make_fixture("faults", 12);
  const auto path = [&](int k) { return test::mirror_path(f.images.at(k).number); };
  const std::string rules = f.dir + "/rules.json";
  std::ofstream(rules) << "{\"status\": {\"" << path(0) << "\": 404}, \"fail_first\": {\""
                       << path(1) << "\": [500, 99], \"" << path(2)
                       << "\": [503, 2]}, \"truncate_first\": {\"" << path(3)
                       << "\": 1}, \"slow\": [\"" << path(4) << "\"]}";
  test::MirrorServer server(f.mirror, f.dir, rules);
  ASSERT_GT(server.port(), 0) << read_text_file(f.dir + "/server.err");
  const std::string out = f.dir + "/out";
  ASSERT_EQ(run_fetch(f, server.url(), out, "--retries 2 --timeout 1"), 0) << err_of(f);
  EXPECT_EQ(server.count(path(0)), 1);  // 404 is final
  EXPECT_EQ(server.count(path(1)), 3);  // 500: 1 + 2 retries, then failed
  EXPECT_EQ(server.count(path(2)), 3);  // 503 twice, then served
  EXPECT_EQ(server.count(path(3)), 2);  // truncated once, then served
  EXPECT_EQ(server.count(path(4)), 3);  // timed out 3 times
  std::map<std::string, std::vector<std::string>> failed;
  for (const auto& r : failed_rows(out)) failed[r.at(0)] = r;
  ASSERT_EQ(failed.size(), 3u);
  const auto image = [&](int k) { return "insitu" + std::to_string(f.images.at(k).number); };
  EXPECT_EQ(failed.at(image(0)).at(2), "1");
  EXPECT_EQ(failed.at(image(0)).at(3), "HTTP 404");
  EXPECT_EQ(failed.at(image(1)).at(2), "3");
  EXPECT_EQ(failed.at(image(1)).at(3), "HTTP 500");
  EXPECT_EQ(failed.at(image(4)).at(2), "3");
  EXPECT_NE(failed.at(image(4)).at(3).find("timed out"), std::string::npos)
      << failed.at(image(4)).at(3);
  const auto log = fetched_sha(out);
  EXPECT_EQ(log.size(), f.images.size() - 3);
  for (int k : {2, 3, 5})
    EXPECT_EQ(sha256_file(out + "/images" + path(k)), f.sha.at(f.images.at(k).number));
  for (int k : {0, 1, 4}) EXPECT_FALSE(fs::exists(out + "/images" + path(k)));
  // The manifest holds only what is on disk.
  EXPECT_EQ(detail::parse_csv(read_text_file(out + "/images.csv"), "m").size(), log.size() + 1);
}

TEST(FetchBdgpCli, KilledRunResumesWithoutDownloadingAFileTwice) {
  const Fixture f = make_fixture("kill", 40);
  test::MirrorServer server(f.mirror, f.dir, "", 0.1);
  ASSERT_GT(server.port(), 0) << read_text_file(f.dir + "/server.err");
  const std::string out = f.dir + "/out";
  {
    test::Child run(
        {test::ishannot_binary(), "--quiet", "fetch", "bdgp", "--meta", f.meta, "--base-url",
         server.url(), "--out", out, "--views", "all", "--parallel", "2", "--rate", "200"},
        f.dir + "/run1.err");
    ASSERT_TRUE(run.started());
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    auto lines = [&] {
      std::ifstream in(out + "/fetched.tsv");
      return std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
    };
    while (lines() < 11 && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    run.kill_now();  // SIGKILL
  }
  std::set<std::string> complete;  // final files after the kill
  for (const auto& im : f.images)
    if (fs::exists(out + "/images" + test::mirror_path(im.number)))
      complete.insert(test::mirror_path(im.number));
  ASSERT_GE(complete.size(), 10u);
  ASSERT_LT(complete.size(), f.images.size()) << "the run ended before the kill";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // in-flight requests end
  const size_t before = server.requests().size();
  ASSERT_EQ(run_fetch(f, server.url(), out, "--parallel 2"), 0) << err_of(f);
  expect_all_fetched(f, out);
  const auto requests = server.requests();
  EXPECT_EQ(requests.size() - before, f.images.size() - complete.size());
  for (size_t i = before; i < requests.size(); ++i)
    EXPECT_FALSE(complete.count(requests[i].at(0))) << requests[i].at(0) << " fetched twice";
}

TEST(FetchBdgpCli, LimitAndNothingFetchable) {
  const Fixture f = make_fixture("limit", 8);
  test::MirrorServer server(f.mirror, f.dir);
  ASSERT_GT(server.port(), 0);
  ASSERT_EQ(run_fetch(f, server.url(), f.dir + "/lim", "--limit 3"), 0) << err_of(f);
  EXPECT_EQ(fetched_sha(f.dir + "/lim").size(), 3u);
  EXPECT_EQ(server.requests().size(), 3u);
  // Everything 404: exit 1, one line naming failed.tsv, every image listed there.
  EXPECT_EQ(run_fetch(f, server.url() + "/nowhere", f.dir + "/none", "--retries 1"), 1);
  const std::string err = err_of(f);
  EXPECT_NE(err.find("failed.tsv"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_EQ(failed_rows(f.dir + "/none").size(), f.images.size());
  // Usage errors: exit 2.
  EXPECT_EQ(run_fetch(f, "ftp://127.0.0.1/x", f.dir + "/u"), 2);
  EXPECT_EQ(run_fetch(f, server.url(), f.dir + "/u", "--views up"), 2);
  EXPECT_EQ(run_fetch(f, server.url(), f.dir + "/u", "--genes no_such_gene"), 1);
}

TEST(FetchBdgpCli, TrainRunsOnTheFetchedImages) {
  ISHANNOT_SKIP_WITHOUT_SHARED();
  const Fixture f = make_fixture("train");
  test::MirrorServer server(f.mirror, f.dir);
  ASSERT_GT(server.port(), 0);
  const std::string out = f.dir + "/out";
  ASSERT_EQ(run_fetch(f, server.url(), out, "--stages 11-12,13-16"), 0) << err_of(f);
  const std::string data = out + "/images.csv";
  ASSERT_EQ(test::run_status(test::cli() + "baseline --data " + data +
                             " --atoms 8 --pyramid 1 --pooling max --dictionary-images 20 "
                             "--descriptors-per-image 20 --out " +
                             f.dir + "/sc.h5 2> " + f.dir + "/err.txt"),
            0)
      << err_of(f);
  ASSERT_EQ(test::run_status(test::cli() + "train --data " + data + " --features " + f.dir +
                             "/sc.h5 --top-k 2 --folds 2 --models 3 --inner-models 1 --c-grid 1 "
                             "--out " +
                             f.dir + "/model.h5 2> " + f.dir + "/err.txt"),
            0)
      << err_of(f);
  EXPECT_TRUE(fs::exists(f.dir + "/model.h5"));
}

// --standardize: every fetched image registered into OUT/standardized/ (320 x 128 PNGs), one QC
// row each in standardize.tsv, and a manifest of the registered files with the tables' groups.
TEST(FetchBdgpCli, StandardizeRegistersEveryFetchedImage) {
  const Fixture f = make_fixture("standardize", 6);
  test::MirrorServer server(f.mirror, f.dir);
  ASSERT_GT(server.port(), 0) << read_text_file(f.dir + "/server.err");
  const std::string out = f.dir + "/out";
  ASSERT_EQ(run_fetch(f, server.url(), out, "--standardize"), 0) << err_of(f);
  expect_all_fetched(f, out);
  const std::string qc = read_text_file(out + "/standardized/standardize.tsv");
  EXPECT_EQ(static_cast<size_t>(std::count(qc.begin(), qc.end(), '\n')), f.images.size() + 1);
  const auto fetched = detail::parse_csv(read_text_file(out + "/images.csv"), "m");
  const auto registered = detail::parse_csv(read_text_file(out + "/standardized/images.csv"), "s");
  ASSERT_EQ(registered.size(), fetched.size());
  const Dataset ds = read_manifest(out + "/standardized/images.csv");
  ASSERT_EQ(ds.images.size(), f.images.size());
  for (const auto& image : ds.images) {
    const cv::Mat bgr = read_image_bgr(image.path);
    EXPECT_EQ(bgr.cols, 320) << image.path;
    EXPECT_EQ(bgr.rows, 128) << image.path;
  }
}
