// Small file-system helpers.
#pragma once

#include <string>
#include <string_view>

#include "kswarm/util/status.h"

namespace kswarm {

// Reads a whole file. kNotFound when it does not exist, kIoError when it cannot be read.
Result<std::string> ReadFile(const std::string& path);

// Writes `text` as the whole file (created or truncated); kIoError naming the path on failure.
Status WriteFile(const std::string& path, std::string_view text);

// Lowercase hex SHA-256 of the bytes.
std::string Sha256Hex(std::string_view bytes);

}  // namespace kswarm
