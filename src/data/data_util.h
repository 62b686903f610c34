#pragma once
// Internal helpers shared by the dataset readers.
#include <string>

namespace ishannot::detail {

/// "lateral" | "dorsal" | "ventral" | "" from any case; throws Error("WHERE: unknown view ...").
std::string normalise_view(const std::string& text, const std::string& where);

}  // namespace ishannot::detail
