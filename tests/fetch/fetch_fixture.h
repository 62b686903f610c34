#pragma once
// Test fixtures for `fetch bdgp`: a BDGP-style table folder and an image mirror in BDGP's layout
// (img_dir_<N>/insitu<ID>.jpe), built at test time from ../shared/data/bdgp-mini (its
// images_detailed.csv, read here with a plain CSV split, not with the reader under test) or, when
// ../shared is missing, from synthetic images; a child process (the loopback server, the CLI)
// that is killed when the test ends.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "detail/csv.h"
#include "ishannot/common/fs_util.h"
#include "support/test_paths.h"

extern char** environ;

namespace ishannot::test {

struct FixtureImage {
  int64_t number = 0;
  std::string gene;
  int stage = 0;     // BDGP stage number 1..6
  std::string view;  // lateral | dorsal | ventral
  std::vector<std::string> terms;
  std::string png;  // source image ("" = synthetic)
};

inline const char* kStageNames[] = {"", "1-3", "4-6", "7-8", "9-10", "11-12", "13-16"};

/// bdgp-mini's 193 images (view "" -> lateral), or 24 synthetic ones over 4 genes.
inline std::vector<FixtureImage> fixture_images() {
  std::vector<FixtureImage> out;
  const std::string shared = shared_data_dir();
  if (!shared.empty()) {
    const std::string path = shared + "/bdgp-mini/images_detailed.csv";
    const auto rows = detail::parse_csv(read_text_file(path), path);
    const auto& h = rows.at(0).fields;
    auto col = [&](const std::string& name) {
      return static_cast<size_t>(std::find(h.begin(), h.end(), name) - h.begin());
    };
    for (size_t r = 1; r < rows.size(); ++r) {
      const auto& f = rows[r].fields;
      FixtureImage im;
      im.number = std::stoll(f.at(col("bdgp_image_id")));
      im.gene = f.at(col("gene"));
      im.stage = std::stoi(f.at(col("bdgp_stage_number")));
      im.view = f.at(col("view")).empty() ? "lateral" : f.at(col("view"));
      if (!f.at(col("terms")).empty()) im.terms = detail::split(f.at(col("terms")), ';');
      im.png = shared + "/bdgp-mini/images/" + f.at(col("image"));
      out.push_back(im);
    }
    return out;
  }
  for (int g = 0; g < 4; ++g)
    for (int k = 0; k < 6; ++k) {
      FixtureImage im;
      im.number = 45000 + 997 * g + k;  // several img_dir_N folders
      im.gene = "gene" + std::to_string(g);
      im.stage = k < 3 ? 2 : 6;
      im.view = k % 3 == 2 ? "dorsal" : "lateral";
      im.terms = {"term_" + std::to_string(g % 2), std::string("it's term ") + char('a' + k % 2)};
      out.push_back(im);
    }
  return out;
}

/// A Python string literal as BDGP's tables write one.
inline std::string py_string(const std::string& s) {
  return s.find('\'') == std::string::npos ? "'" + s + "'" : "\"" + s + "\"";
}

inline std::string py_tuple(const std::vector<std::string>& items) {
  std::string t = "(";
  for (size_t i = 0; i < items.size(); ++i) t += (i ? ", " : "") + py_string(items[i]);
  return t + (items.size() == 1 ? ",)" : ")");
}

inline std::string csv_field(const std::string& s) {
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

/// standard_annotations.csv + standard_images.csv for `images`, in BDGP's format.
inline void write_tables(const std::string& dir, const std::vector<FixtureImage>& images) {
  std::filesystem::create_directories(dir);
  std::map<std::pair<std::string, int>, std::vector<std::string>> terms;
  std::map<std::tuple<std::string, int, std::string>, std::vector<std::string>> ids;
  for (const auto& im : images) {
    terms[{im.gene, im.stage}] = im.terms;
    ids[{im.gene, im.stage, im.view}].push_back(std::to_string(im.number) + "_s.bmp");
  }
  std::ofstream a(dir + "/standard_annotations.csv");
  a << "gene,stage,annotation\n";
  for (const auto& [key, t] : terms)
    a << key.first << "," << key.second << "," << csv_field(py_tuple(t)) << "\n";
  std::ofstream i(dir + "/standard_images.csv");
  i << "gene,stage,direction,image_url\n";
  for (const auto& [key, list] : ids)
    i << std::get<0>(key) << "," << std::get<1>(key) << "," << std::get<2>(key) << ","
      << csv_field(py_tuple(list)) << "\n";
}

/// The mirror path of image `number` ("/img_dir_N/insituID.jpe").
inline std::string mirror_path(int64_t number) {
  return "/img_dir_" + std::to_string(number / 1000) + "/insitu" + std::to_string(number) + ".jpe";
}

/// Writes every image as a JPEG under root in BDGP's layout; returns number -> `sha256sum` of
/// the served bytes (coreutils, independent of the code under test).
inline std::map<int64_t, std::string> write_mirror(const std::string& root,
                                                   const std::vector<FixtureImage>& images) {
  std::map<int64_t, std::string> sha;
  for (const auto& im : images) {
    cv::Mat bgr = im.png.empty() ? cv::Mat() : cv::imread(im.png, cv::IMREAD_COLOR);
    if (bgr.empty()) {
      bgr = cv::Mat(128, 320, CV_8UC3, cv::Scalar(230, 230, 230));
      cv::ellipse(bgr, {160 + static_cast<int>(im.number % 7), 64}, {130, 45}, 0, 0, 360,
                  cv::Scalar(150, 170, 190), -1);
      cv::circle(bgr, {100 + static_cast<int>(im.number % 50), 60}, 15, cv::Scalar(90, 60, 70), -1);
    }
    const std::string path = root + mirror_path(im.number);
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    cv::imwrite(path, bgr, {cv::IMWRITE_JPEG_QUALITY, 90});
  }
  const std::string list = root + "/sha256.txt";
  std::system(("cd " + root + " && find . -name '*.jpe' | xargs sha256sum > " + list).c_str());
  std::ifstream in(list);
  std::string hash, file;
  while (in >> hash >> file) {
    const auto stem = std::filesystem::path(file).stem().string();  // insituNNNNN
    sha[std::stoll(stem.substr(6))] = hash;
  }
  return sha;
}

/// A child process (posix_spawn, no shell), stdout+stderr to `log`; killed (SIGKILL) and reaped
/// when it goes out of scope.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& log) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() { kill_now(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  bool started() const { return pid_ > 0; }
  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  /// Exit status, waiting at most `seconds` (then killed: -1).
  int wait(double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill_now();
    return -1;
  }

 private:
  pid_t pid_ = -1;
};

/// The loopback server (tests/fetch/bdgp_server.py) on an ephemeral port of 127.0.0.1.
class MirrorServer {
 public:
  MirrorServer(const std::string& root, const std::string& dir, const std::string& rules = "",
               double delay = 0)
      : port_file_(dir + "/port"),
        log_(dir + "/requests.log"),
        child_({"/usr/bin/python3", source_dir() + "/tests/fetch/bdgp_server.py", root,
                "--port-file", port_file_, "--log", log_, "--lifetime", "120", "--delay",
                std::to_string(delay), "--rules", rules},
               dir + "/server.err") {
    for (int i = 0; i < 500 && !std::filesystem::exists(port_file_); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::ifstream(port_file_) >> port_;
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  /// The request log: one {path, status, complete} per line.
  std::vector<std::vector<std::string>> requests() const {
    std::vector<std::vector<std::string>> rows;
    std::ifstream in(log_);
    std::string line;
    while (std::getline(in, line)) rows.push_back(detail::split(line, '\t'));
    return rows;
  }
  int count(const std::string& path) const {
    int n = 0;
    for (const auto& r : requests()) n += r.at(0) == path;
    return n;
  }

 private:
  std::string port_file_, log_;
  Child child_;
  int port_ = 0;
};

}  // namespace ishannot::test
