#include "ishannot/common/fs_util.h"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "ishannot/common/error.h"
#include "ishannot/common/sha256.h"

namespace ishannot {
namespace fs = std::filesystem;

std::string describe_unreadable(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec == std::errc::too_many_symbolic_link_levels)
    return "symbolic link loop (too many levels of symbolic links)";
  if (ec && ec != std::errc::no_such_file_or_directory) return "cannot be read: " + ec.message();
  if (!fs::exists(status)) {
    if (fs::is_symlink(fs::symlink_status(path, ec))) return "broken symbolic link (no target)";
    return "no such file";
  }
  if (fs::is_directory(status)) return "is a folder, not a file";
  return "cannot be read (permission?)";
}

void write_atomically(const std::string& path,
                      const std::function<void(const std::string& tmp_path)>& write) {
  const std::string tmp = path + ".partial";
  try {
    write(tmp);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw file_error(path, "cannot rename " + tmp + " into place: " + ec.message());
}

void write_text_atomically(const std::string& path, const std::string& text) {
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw file_error(tmp, "cannot open for writing");
    out << text;
    out.close();
    if (!out) throw file_error(tmp, "write failed (disk full?)");
  });
}

void refuse_inputs_as_output(const std::string& output, const std::vector<NamedPath>& inputs) {
  struct stat out {};
  if (stat(output.c_str(), &out) != 0) return;
  for (const auto& input : inputs) {
    struct stat in {};
    if (stat(input.path.c_str(), &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino)
      throw file_error(output, "is also an input (" + input.what +
                                   (input.path == output ? "" : ", " + input.path) +
                                   "): refusing to overwrite it; choose another output");
  }
}

std::string read_text_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw file_error(path, "is a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path, describe_unreadable(path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string cache_dir() {
  if (const char* home = std::getenv("ISHANNOT_HOME"); home && *home) return home;
  const char* user_home = std::getenv("HOME");
  return std::string(user_home && *user_home ? user_home : ".") + "/.cache/ishannot";
}

namespace {

// SHA-256 through OpenSSL's EVP interface (Debian libssl): a well-kept implementation rather
// than one of our own.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  void update(const void* data, size_t size) { EVP_DigestUpdate(ctx_, data, size); }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx_, digest, &length);
    std::string out;
    char byte[3];
    for (unsigned int i = 0; i < length; ++i) {
      std::snprintf(byte, sizeof byte, "%02x", digest[i]);
      out += byte;
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path, describe_unreadable(path));
  Sha256 hash;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hash.update(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  return hash.hex();
}

std::string sha256_bytes(const std::string& bytes) {
  return sha256_data(bytes.data(), bytes.size());
}

std::string sha256_data(const void* data, size_t size) {
  Sha256 hash;
  hash.update(data, size);
  return hash.hex();
}

std::string absolute_path(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

}  // namespace ishannot
