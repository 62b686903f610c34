// Bad input and bad options through the CLI (issues 15.7, 15.8, 16.5): exit codes (2 for usage,
// 1 for data), one-line messages that name the file and the problem, and the decode check that
// counts bad images and writes a clean manifest. References: the files made bad here (which one
// is a folder, a loop, an image declaring 100000x100000 pixels) and the documented exit codes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>

#include "ishannot/common/fs_util.h"
#include "ishannot/data/dataset.h"
#include "ishannot/image/image.h"
#include "support/cli_util.h"
#include "support/test_util.h"

using namespace ishannot;
namespace fs = std::filesystem;

namespace {

int lines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// Runs the binary with `args`; returns the exit status and fills `err` with stderr.
int run_cli(const std::string& args, std::string* err, const std::string& dir) {
  const int status = test::run_status(test::ishannot_binary() + " " + args + " > " + dir +
                                      "/stdout.txt 2> " + dir + "/stderr.txt");
  *err = read_text_file(dir + "/stderr.txt");
  return status;
}

uint32_t crc32(const std::string& bytes) {  // the PNG/zlib CRC, bit by bit
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string chunk(const std::string& type, const std::string& data) {
  return be32(static_cast<uint32_t>(data.size())) + type + data + be32(crc32(type + data));
}

// A well-formed PNG header declaring width x height RGB pixels, with IEND (not "truncated").
void write_png_header(const std::string& path, uint32_t width, uint32_t height) {
  const std::string ihdr = be32(width) + be32(height) + std::string("\x08\x02\x00\x00\x00", 5);
  std::ofstream(path, std::ios::binary)
      << std::string("\x89PNG\r\n\x1a\n", 8) << chunk("IHDR", ihdr)
      << chunk("IDAT", std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8)) << chunk("IEND", "");
}

void write_image(const std::string& path) {
  cv::Mat img(16, 24, CV_8UC3, cv::Scalar(10, 200, 30));
  ASSERT_TRUE(cv::imwrite(path, img));
}

}  // namespace

// 16.5: `ishannot predict --help` printed the main help and exited 0.
TEST(CliFaults, UnknownSubcommandExits2AndListsTheKnownOnes) {
  const std::string dir = test::temp_dir("cli-unknown");
  std::string err;
  EXPECT_EQ(run_cli("predict --help", &err, dir), 2);
  EXPECT_NE(err.find("unknown subcommand 'predict'"), std::string::npos) << err;
  EXPECT_NE(err.find("evaluate"), std::string::npos) << err;
  EXPECT_EQ(lines(err), 1) << err;
  EXPECT_EQ(run_cli("--threads 2 predict", &err, dir), 2);
}

// 15.7: --seed beyond 2^64-1 was clamped; negative --threads accepted. 15.8: usage errors exit 2.
TEST(CliFaults, BadGlobalOptionsAndUsageErrorsExit2) {
  const std::string dir = test::temp_dir("cli-usage");
  const std::string manifest = test::write_small_manifest(dir);
  std::string err;
  EXPECT_EQ(run_cli("--seed 18446744073709551616 dataset --data " + manifest, &err, dir), 2);
  EXPECT_NE(err.find("--seed"), std::string::npos) << err;
  EXPECT_EQ(
      run_cli("--seed 18446744073709551615 synth --out " + dir + "/s --images 12 --stages 13-16",
              &err, dir),
      0)
      << err;
  EXPECT_EQ(run_cli("--seed -1 dataset --data " + manifest, &err, dir), 2);
  EXPECT_EQ(run_cli("--threads -1 dataset --data " + manifest, &err, dir), 2);
  EXPECT_EQ(
      run_cli("evaluate --data " + manifest + " --features x.h5 --out o --folds 1", &err, dir), 2)
      << err;
  EXPECT_EQ(
      run_cli("evaluate --data " + manifest + " --features x.h5 --out o --stages 5-9", &err, dir),
      2)
      << err;
  EXPECT_EQ(run_cli("evaluate --data " + manifest + " --out o", &err, dir), 2) << err;
  EXPECT_EQ(run_cli("baseline --data " + manifest + " --out o.h5 --pool nonsense", &err, dir), 2);
  EXPECT_EQ(run_cli("baseline --data " + manifest + " --out o.h5 --pyramid 0x3", &err, dir), 2)
      << err;
  EXPECT_EQ(lines(err), 1) << err;
}

// 15.7: a duplicated manifest column was accepted (the last one won).
TEST(CliFaults, ADuplicatedManifestColumnIsRefused) {
  const std::string dir = test::temp_dir("cli-dup-column");
  std::ofstream(dir + "/m.csv") << "image,gene,stage_range,terms,gene\n"
                                   "a.png,g1,13-16,t,g2\n";
  const std::string message = test::error_text([&] { read_manifest(dir + "/m.csv", false); });
  EXPECT_NE(message.find("m.csv"), std::string::npos) << message;
  EXPECT_NE(message.find("'gene'"), std::string::npos) << message;
  EXPECT_NE(message.find("twice"), std::string::npos) << message;
}

// 15.8: a folder listed as an image was reported as missing; a symlink loop gave a raw
// filesystem error.
TEST(CliFaults, FoldersAndSymlinkLoopsAreNamedForWhatTheyAre) {
  const std::string dir = test::temp_dir("cli-folder-loop");
  fs::create_directories(dir + "/images/b.png");  // a folder with an image's name
  write_image(dir + "/images/a.png");
  std::ofstream(dir + "/m.csv") << "image,gene,stage_range,terms\n"
                                   "a.png,g1,13-16,t\nb.png,g2,13-16,t\n";
  std::string message = test::error_text([&] { read_manifest(dir + "/m.csv"); });
  EXPECT_NE(message.find("b.png"), std::string::npos) << message;
  EXPECT_NE(message.find("folder"), std::string::npos) << message;
  message = test::error_text([&] { read_image_bgr(dir + "/images/b.png"); });
  EXPECT_NE(message.find("folder"), std::string::npos) << message;

  fs::create_symlink("loop.png", dir + "/images/loop.png");  // points at itself
  std::ofstream(dir + "/m2.csv") << "image,gene,stage_range,terms\nloop.png,g1,13-16,t\n";
  message = test::error_text([&] { read_manifest(dir + "/m2.csv"); });
  EXPECT_NE(message.find("loop.png"), std::string::npos) << message;
  EXPECT_NE(message.find("symbolic link"), std::string::npos) << message;
  message = test::error_text([&] { read_image_bgr(dir + "/images/loop.png"); });
  EXPECT_NE(message.find("symbolic link"), std::string::npos) << message;

  fs::create_symlink("data-loop", dir + "/data-loop");
  std::string err;
  EXPECT_EQ(run_cli("dataset --data " + dir + "/data-loop", &err, dir), 1);
  EXPECT_EQ(lines(err), 1) << err;
  EXPECT_NE(err.find("data-loop: "), std::string::npos) << err;
  EXPECT_EQ(err.find("filesystem error"), std::string::npos) << err;
}

// 15.8: a PNG declaring 100000x100000 pixels gave an OpenCV assertion without the file name and
// made `dataset --check-images` abort. Now: named, counted as bad, refused above the pixel limit;
// --write-clean writes the manifest without the bad rows.
TEST(CliFaults, CheckImagesCountsBadImagesAndWritesACleanManifest) {
  const std::string dir = test::temp_dir("cli-check-images");
  fs::create_directories(dir + "/images");
  write_png_header(dir + "/images/huge.png", 100000, 100000);
  const std::string message = test::error_text([&] { read_image_bgr(dir + "/images/huge.png"); });
  EXPECT_NE(message.find("huge.png"), std::string::npos) << message;
  EXPECT_NE(message.find("100000x100000"), std::string::npos) << message;
  EXPECT_NE(message.find("pixel"), std::string::npos) << message;

  std::string csv = "image,gene,stage_range,terms\n";
  for (int i = 0; i < 4; ++i) {
    write_image(dir + "/images/ok" + std::to_string(i) + ".png");
    csv += "ok" + std::to_string(i) + ".png,gene" + std::to_string(i) + ",13-16," +
           (i == 2 ? "\"t;u, v\"" : "t") + "\n";
  }
  csv += "huge.png,gene9,13-16,t\n";
  std::ofstream(dir + "/images/cut.png") << "\x89PNG\r\n";  // truncated
  csv += "cut.png,gene8,13-16,t\n";
  std::ofstream(dir + "/images.csv") << csv;
  std::string err;
  ASSERT_EQ(run_cli("dataset --data " + dir + "/images.csv --check-images --write-clean " + dir +
                        "/clean.csv",
                    &err, dir),
            0)
      << err;
  EXPECT_NE(err.find("huge.png"), std::string::npos) << err;
  EXPECT_NE(err.find("cut.png"), std::string::npos) << err;
  EXPECT_NE(err.find("2 unreadable"), std::string::npos) << err;
  const Dataset clean = read_manifest(dir + "/clean.csv");
  ASSERT_EQ(clean.images.size(), 4u);
  const Dataset all = read_manifest(dir + "/images.csv");
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(clean.images[i].id, all.images[i].id);
    EXPECT_EQ(fs::canonical(clean.images[i].path), fs::canonical(all.images[i].path));
    EXPECT_EQ(clean.images[i].terms, all.images[i].terms);
    EXPECT_EQ(clean.images[i].gene, all.images[i].gene);
  }
}

// 15.5: baseline --out equal to an input (the manifest, an image, the dictionary it reads) was
// accepted and overwrote it; 15.8: --out DIR is refused before the dictionary is learned.
TEST(CliFaults, BaselineRefusesOutputsThatAreInputs) {
  const std::string dir = test::temp_dir("cli-baseline-out");
  fs::create_directories(dir + "/images");
  std::string csv = "image,gene,stage_range,terms\n";
  for (int i = 0; i < 4; ++i) {
    write_image(dir + "/images/b" + std::to_string(i) + ".png");
    csv += "b" + std::to_string(i) + ".png,gene" + std::to_string(i) + ",13-16,t\n";
  }
  std::ofstream(dir + "/images.csv") << csv;
  std::ofstream(dir + "/dict.txt") << "not really a dictionary\n";
  const std::map<std::string, std::string> cases = {
      {"--out " + dir + "/images.csv", "input"},
      {"--out " + dir + "/images/b1.png", "input"},
      {"--dictionary " + dir + "/dict.txt --out " + dir + "/dict.txt", "input"},
      {"--out " + dir + "/images", "folder"}};
  for (const auto& [args, needle] : cases) {
    const std::string before = read_text_file(dir + "/images.csv");
    std::string err;
    EXPECT_EQ(run_cli("baseline --data " + dir + "/images.csv " + args, &err, dir), 1) << args;
    EXPECT_EQ(lines(err), 1) << err;
    EXPECT_NE(err.find(needle), std::string::npos) << args << ": " << err;
    EXPECT_EQ(read_text_file(dir + "/images.csv"), before);
  }
  EXPECT_EQ(read_text_file(dir + "/dict.txt"), "not really a dictionary\n");
  EXPECT_FALSE(fs::exists(dir + "/images.partial"));
}
