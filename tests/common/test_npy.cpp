// write_npy: files NumPy reads back (python3-numpy, an independent reader) with the same shape
// and the same bits, and a header laid out as NumPy's format 1.0 says (checked by hand).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "ishannot/common/error.h"
#include "ishannot/common/fs_util.h"
#include "ishannot/common/npy.h"
#include "support/cli_util.h"
#include "support/test_paths.h"

using namespace ishannot;

namespace {

bool have_numpy() {
  static const bool ok = std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
  return ok;
}

// numpy.load of each path (one python3 run): (shape, dtype, Fortran order) and the values (repr:
// the shortest text that reads back to the same double).
struct NumpyView {
  std::string header;
  std::vector<double> values;
};

std::vector<NumpyView> numpy_views(const std::vector<std::string>& paths, const std::string& dir) {
  const std::string out = dir + "/numpy.txt";
  const std::string script =
      "import numpy, sys\n"
      "for p in sys.argv[1:]:\n"
      "    a = numpy.load(p)\n"
      "    print(a.shape, a.dtype, numpy.isfortran(a) and a.ndim > 1)\n"
      "    print(' '.join(repr(float(v)) for v in a.ravel()))\n";
  std::ofstream(dir + "/view.py") << script;
  std::string args;
  for (const auto& p : paths) args += " " + p;
  const int status =
      test::run_status("/usr/bin/python3 " + dir + "/view.py" + args + " > " + out + " 2>&1");
  std::istringstream text(read_text_file(out));
  EXPECT_EQ(status, 0) << text.str();
  std::vector<NumpyView> views(paths.size());
  for (auto& view : views) {
    std::getline(text, view.header);
    std::string line, word;
    std::getline(text, line);
    std::istringstream words(line);
    while (words >> word) view.values.push_back(std::strtod(word.c_str(), nullptr));
  }
  return views;
}

void expect_same(const NumpyView& view, const std::string& header,
                 const std::vector<double>& values) {
  EXPECT_EQ(view.header, header);
  ASSERT_EQ(view.values.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(view.values[i], values[i]) << i;
}

}  // namespace

TEST(Npy, HeaderIsNumpyFormatOnePointZero) {
  const std::string h = npy_header_f8({4, 10});
  ASSERT_EQ(h.size() % 64, 0u);
  EXPECT_EQ(h.substr(0, 6), "\x93NUMPY");
  EXPECT_EQ(h[6], '\x01');
  EXPECT_EQ(h[7], '\x00');
  const size_t length = static_cast<unsigned char>(h[8]) + 256u * static_cast<unsigned char>(h[9]);
  EXPECT_EQ(length + 10, h.size());
  EXPECT_EQ(h.substr(10, 60), "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 10), }");
  EXPECT_EQ(h.back(), '\n');
  EXPECT_NE(npy_header_f8({7}).find("'shape': (7,), }"), std::string::npos);
  EXPECT_NE(npy_header_f8({}).find("'shape': (), }"), std::string::npos);
}

TEST(Npy, NumpyReadsBackTheSameValuesAndShape) {
  if (!have_numpy()) GTEST_SKIP() << "python3-numpy is not installed (scripts/setup.sh does)";
  const std::string dir = test::temp_dir("npy");
  std::vector<double> grid;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 10; ++c) grid.push_back((r * 10 + c + 1) * (c % 2 ? -0.1 : 1.0 / 3));
  grid[7] = std::numeric_limits<double>::denorm_min();
  grid[8] = 1e300;
  write_npy(dir + "/grid.npy", grid, {4, 10});
  const std::vector<double> cube = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  write_npy(dir + "/cube.npy", cube, {2, 3, 2});
  write_npy(dir + "/line.npy", {0.5, -2.25, 3}, {3});
  const auto views = numpy_views({dir + "/grid.npy", dir + "/cube.npy", dir + "/line.npy"}, dir);
  expect_same(views[0], "(4, 10) float64 False", grid);
  expect_same(views[1], "(2, 3, 2) float64 False", cube);
  expect_same(views[2], "(3,) float64 False", {0.5, -2.25, 3});
}

TEST(Npy, WrongCountIsAnErrorNamingTheFile) {
  const std::string dir = test::temp_dir("npy-bad");
  try {
    write_npy(dir + "/x.npy", {1, 2, 3}, {2, 2});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.npy"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/x.npy"));
}
