#pragma once
// Numbers and durations as text, one way everywhere. Numbers in files are written in the C locale
// with the shortest representation that reads back bit-exact (docs/STYLE.md 6); durations shown to
// people use one style in every command.
#include <string>
#include <vector>

namespace ishannot {

/// The shortest decimal text that parses back (strtod, std::from_chars, Python float()) to exactly
/// `value`; locale-independent. "nan", "inf" and "-inf" for the non-finite values.
std::string format_exact(double value);

/// A duration for people, one style everywhere: "0.42 s", "12.3 s", "2 min 05 s", "1 h 02 min".
std::string format_duration(double seconds);

/// The items separated by `separator`: join({"a", "b"}) = "a, b"; none = "".
std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");

/// The current time in UTC as ISO 8601, "2026-12-06T07:01:02Z" (thread-safe: gmtime_r).
std::string utc_timestamp();

}  // namespace ishannot
