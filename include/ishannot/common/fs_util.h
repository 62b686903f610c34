#pragma once
// File-system helpers shared by every reader and writer: atomic writes (temp file + rename),
// reading a file with a message that says why it cannot be read, the guard that an output is
// never one of the inputs, SHA-256 of files and bytes, absolute paths for provenance, and the
// per-user cache folder for downloaded models, photos and plotting bundles.
#include <functional>
#include <string>
#include <vector>

namespace ishannot {

/// Writes a file atomically: `write` fills `tmp_path` (PATH.partial), then it is renamed to
/// `path`. On an exception the temp file is removed and the exception propagates.
void write_atomically(const std::string& path,
                      const std::function<void(const std::string& tmp_path)>& write);

/// Writes `text` to `path` atomically.
void write_text_atomically(const std::string& path, const std::string& text);

/// Why `path` cannot be opened for reading, in words: "no such file", "is a folder, not a file",
/// "symbolic link loop (...)", "broken symbolic link", "cannot be read (permission?)".
std::string describe_unreadable(const std::string& path);

/// Reads a whole file; throws Error naming the file when it cannot be read.
std::string read_text_file(const std::string& path);

/// A file a command reads, and what it is for messages ("the manifest", "an input image").
struct NamedPath {
  std::string path;
  std::string what;
};

/// Throws Error "OUTPUT: is also an input (WHAT, PATH): refusing to overwrite it" when `output`
/// names the same file as one of `inputs` (same device and inode, however it is spelled or
/// linked). Nothing to check when `output` does not exist yet.
void refuse_inputs_as_output(const std::string& output, const std::vector<NamedPath>& inputs);

/// The cache folder: $ISHANNOT_HOME, else $HOME/.cache/ishannot.
std::string cache_dir();

/// SHA-256 of a file's bytes, lower-case hex. Throws Error if unreadable.
std::string sha256_file(const std::string& path);

/// `path` made absolute against the current folder and normalised ("" stays ""): how outputs name
/// the files they came from, so that they can be found from another folder (report, notebooks).
std::string absolute_path(const std::string& path);

/// SHA-256 of a byte string, lower-case hex.
std::string sha256_bytes(const std::string& bytes);

}  // namespace ishannot
