// Term selection and the Table-1 summary, against hand-counted and independently computed values.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "ishannot/common/error.h"
#include "ishannot/data/dataset.h"
#include "ishannot/data/summary.h"
#include "ishannot/data/terms.h"
#include "support/test_paths.h"

using namespace ishannot;

namespace {

Dataset hand_dataset() {
  Dataset ds;
  ds.source = "hand";
  auto add = [&](const char* gene, const char* stage, const char* view,
                 std::vector<std::string> terms) {
    ImageRecord r;
    r.id = "i" + std::to_string(ds.images.size());
    r.gene = gene;
    r.stage_range = stage;
    r.view = view;
    r.terms = std::move(terms);
    ds.images.push_back(r);
  };
  add("g1", "4-6", "lateral", {"a", "b"});
  add("g1", "4-6", "lateral", {"a", "b"});
  add("g2", "4-6", "dorsal", {"a", "c"});
  add("g3", "4-6", "", {"c"});
  add("g4", "4-6", "lateral", {"b", "ubiquitous"});
  add("g5", "7-8", "lateral", {"a"});
  return ds;
}

}  // namespace

TEST(Terms, TopKByImagesTiesByNameViewFilterAndExclusions) {
  const Dataset ds = hand_dataset();
  TermSelectionParams p;
  p.top_k = 2;  // lateral + unknown view: rows 0, 1, 3, 4 -> b 3, a 2, c 1, ubiquitous 1
  StageProblem sp = select_terms(ds, "4-6", p);
  EXPECT_EQ(sp.image_indices, (std::vector<int>{0, 1, 3, 4}));
  EXPECT_EQ(sp.terms, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(sp.positives, (std::vector<int>{3, 2}));
  EXPECT_EQ(sp.labels, (std::vector<uint8_t>{1, 1, 1, 1, 0, 0, 1, 0}));
  p.top_k = 3;
  EXPECT_EQ(select_terms(ds, "4-6", p).terms, (std::vector<std::string>{"b", "a", "c"}));
  p.exclude = {"c"};
  EXPECT_EQ(select_terms(ds, "4-6", p).terms, (std::vector<std::string>{"b", "a", "ubiquitous"}));
  p.exclude = non_spatial_terms();
  p.view = "";  // all views: a 3, b 3, c 2
  sp = select_terms(ds, "4-6", p);
  EXPECT_EQ(sp.terms, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(sp.positives, (std::vector<int>{3, 3, 2}));
  EXPECT_EQ(sp.rows(), 5);
  EXPECT_EQ(sp.label(2, 2), 1);  // image 2 has c
  EXPECT_EQ(sp.label(3, 0), 0);
  EXPECT_THROW(select_terms(ds, "13-16", p), Error);
  p.top_k = 0;
  EXPECT_FALSE(p.check().empty());
  EXPECT_THROW(select_terms(ds, "4-6", p), Error);
}

TEST(Summary, HandCountedTable) {
  const Dataset ds = hand_dataset();
  TermSelectionParams p;
  p.top_k = 2;
  const auto rows = summarise_dataset(ds, p);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].stage_range, "4-6");
  EXPECT_EQ(rows[0].images, 4);
  EXPECT_EQ(rows[0].listed, 4);
  EXPECT_EQ(rows[0].groups, 3);  // g1, g3, g4
  EXPECT_EQ(rows[0].terms, 4);
  EXPECT_EQ(rows[1].stage_range, "7-8");
  EXPECT_EQ(rows[1].images, 1);
  const std::string tsv = summary_tsv(rows);
  EXPECT_NE(tsv.find("4-6\tpositives\tb\t3\n"), std::string::npos);
  EXPECT_NE(tsv.find("4-6\tgroups\t\t3\n"), std::string::npos);
  EXPECT_EQ(summarise_dataset(ds, p, {"7-8"}).size(), 1u);
}

TEST(Summary, BdgpMetaTable1) {
  ISHANNOT_SKIP_WITHOUT_SHARED();
  const Dataset ds = read_dataset(test::shared_data_dir() + "/bdgp-meta");
  const auto rows = summarise_dataset(ds, TermSelectionParams{});
  ASSERT_EQ(rows.size(), 6u);
  const int listed[] = {2723, 4964, 2572, 2467, 7597, 7580};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(rows[i].listed, listed[i]) << rows[i].stage_range;
  // 4-6 and 13-16 against Python (csv + ast, first listing of an image kept).
  EXPECT_EQ(rows[1].images, 4579);
  EXPECT_EQ(rows[1].groups, 1542);
  EXPECT_EQ(rows[1].terms, 45);
  EXPECT_EQ(rows[1].top_terms[0], "cellular blastoderm");
  EXPECT_EQ(rows[1].positives[0], 2205);
  EXPECT_EQ(rows[1].top_terms[9], "mesoderm anlage in statu nascendi");
  EXPECT_EQ(rows[1].positives[9], 548);
  EXPECT_EQ(rows[5].images, 7035);
  EXPECT_EQ(rows[5].groups, 2647);
  EXPECT_EQ(rows[5].terms, 123);
  const std::vector<int> top13 = {2505, 2166, 2040, 1940, 1777, 1746, 1479, 1392, 1315, 1159};
  EXPECT_EQ(rows[5].positives, top13);
  EXPECT_EQ(rows[5].top_terms[7], "embryonic/larval muscle system");
  TermSelectionParams spatial;
  spatial.exclude = non_spatial_terms();
  const auto rows2 = summarise_dataset(ds, spatial, {"4-6"});
  ASSERT_EQ(rows2.size(), 1u);
  EXPECT_EQ(rows2[0].top_terms[1], "dorsal ectoderm anlage in statu nascendi");
  EXPECT_EQ(rows2[0].positives[1], 1491);
}

TEST(Summary, CliReproducesLateralCounts) {
  ISHANNOT_SKIP_WITHOUT_SHARED();
  // $ISHANNOT_BINARY, else the `ishannot` next to this test binary (same build folder).
  const char* env = std::getenv("ISHANNOT_BINARY");
  const std::string binary =
      env ? env
          : (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "ishannot").string();
  if (!std::filesystem::exists(binary)) GTEST_SKIP() << "no ishannot binary at " << binary;
  const std::string cmd =
      binary + " --quiet dataset --data " + test::shared_data_dir() + "/bdgp-meta --tsv -";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  ASSERT_TRUE(pipe);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
  for (const char* line :
       {"4-6\tlisted\t\t4964\n", "7-8\tlisted\t\t2572\n", "9-10\tlisted\t\t2467\n",
        "11-12\tlisted\t\t7597\n", "13-16\tlisted\t\t7580\n"})
    EXPECT_NE(out.find(line), std::string::npos) << line;
}
