// `ishannot extract` without libtorch: the first run of the default ResNet50 loads it through the
// CNN module (which writes the prepared-weights cache); the next runs read the cache and never
// load libtorch nor the module (the module is pointed at a missing file, and the dynamic
// loader's own log, LD_DEBUG=files, names no libtorch). Their stores equal the libtorch path's
// bit for bit (h5py, the independent reader), pooled and flat, fp32 and float16; a corrupt cache
// is said in one line and rebuilt through libtorch.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ishannot/common/fs_util.h"
#include "support/cli_util.h"
#include "support/nets_support.h"
#include "support/test_util.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST(ExtractTorchFree, WarmRunsSkipLibtorchAndWriteTheSameStore) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  ISHANNOT_SKIP_WITHOUT_H5PY();
  const std::string dir = test::temp_dir("extract-torch-free");
  const std::string cache = "ISHANNOT_WEIGHTS_CACHE=" + dir + "/prepared ";
  const std::string bin = test::ishannot_binary() + " --quiet ";
  ASSERT_EQ(test::run_status(bin + "synth --out " + dir + "/syn --images 12 --stages 13-16 > " +
                             "/dev/null"),
            0);
  const std::string common =
      " extract --data " + dir + "/syn/images.csv --layers res3d,res4f --input-size 96x64";
  for (const std::string variant : {" --pool max:2x3", " --dtype float16"}) {
    SCOPED_TRACE(variant);
    const std::string cold = dir + "/cold.h5", warm = dir + "/warm.h5";
    fs::remove_all(dir + "/prepared");
    fs::remove(cold);
    fs::remove(warm);
    // Cold: through the module; it writes the cache.
    ASSERT_EQ(test::run_status(cache + bin + common + variant + " --out " + cold), 0);
    ASSERT_TRUE(fs::exists(dir + "/prepared"));
    // Warm: no module (a missing file), no libtorch in the loader's log.
    const std::string log = dir + "/loader.log";
    ASSERT_EQ(
        test::run_status(cache + "ISHANNOT_CNN_MODULE=/nonexistent/module.so LD_DEBUG=files " +
                         bin + common + variant + " --out " + warm + " 2> " + log),
        0)
        << read_text_file(log).substr(0, 2000);
    const std::string loaded = read_text_file(log);
    EXPECT_TRUE(contains(loaded, "libishannot_cli")) << "the log names no library of ours";
    EXPECT_FALSE(contains(loaded, "libtorch")) << "libtorch was loaded";
    EXPECT_EQ(test::run_status("/usr/bin/python3 " + test::source_dir() +
                               "/tests/support/h5py_same_store.py " + cold + " " + warm),
              0);
  }
}

TEST(ExtractTorchFree, ACorruptCacheIsSaidAndRebuilt) {
  ISHANNOT_SKIP_WITHOUT_WEIGHTS();
  const std::string dir = test::temp_dir("extract-torch-free-corrupt");
  const std::string env = "ISHANNOT_WEIGHTS_CACHE=" + dir + "/prepared ";
  const std::string bin = test::ishannot_binary() + " ";
  ASSERT_EQ(test::run_status(bin + "--quiet synth --out " + dir + "/syn --images 4 --stages 13-16" +
                             " > /dev/null"),
            0);
  const std::string args = " extract --data " + dir +
                           "/syn/images.csv --layers res3d --input-size 64x64 --out " + dir +
                           "/f.h5 --restart";
  ASSERT_EQ(test::run_status(env + bin + args + " 2> /dev/null"), 0);
  std::string file;
  for (const auto& e : fs::directory_iterator(dir + "/prepared"))
    if (e.path().extension() == ".bin") file = e.path().string();
  ASSERT_FALSE(file.empty());
  fs::resize_file(file, fs::file_size(file) - 64);  // truncated
  const std::string log = dir + "/err.log";
  ASSERT_EQ(test::run_status(env + bin + args + " 2> " + log), 0) << read_text_file(log);
  EXPECT_TRUE(contains(read_text_file(log), file + ": corrupt: size differs from its header; "
                                                   "rebuilding them"))
      << read_text_file(log);
  // Rebuilt: the next run is torch-free again.
  EXPECT_EQ(test::run_status(env + "ISHANNOT_CNN_MODULE=/nonexistent/module.so " + bin + args +
                             " 2> /dev/null"),
            0);
}
