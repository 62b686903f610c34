#pragma once
// Internal: running a helper program (the report's Node.js renderer) as a child process, without
// a shell, with its output captured.
#include <string>
#include <vector>

namespace ishannot::detail {

/// What a finished child left behind.
struct ChildResult {
  int exit_code = 0;  ///< its exit status; 128 + signal number when a signal ended it
  std::string out;    ///< its standard output
  std::string err;    ///< its standard error
};

/// The full path of `program` found on $PATH (or `program` itself when it contains a '/' and is
/// executable), "" when there is none.
std::string find_program(const std::string& program);

/// Runs argv[0] (a full path) with its arguments and waits for it. Standard input is /dev/null;
/// output and error are captured through temporary files. Throws Error when it cannot start.
ChildResult run_child(const std::vector<std::string>& argv);

}  // namespace ishannot::detail
