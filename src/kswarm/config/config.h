// The configuration file (docs/config.md): TOML, read once at start. Flags on the command line
// override what it says.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kswarm/util/status.h"

namespace kswarm::config {

struct RunConfig {
  std::optional<std::vector<std::string>> agents;  // [run] agents
  std::optional<std::string> precision;            // [run] precision: "fp32" or "reduced"
  std::optional<double> min_gain;                  // [run] min_gain: a fraction in [0, 10]
};

struct Config {
  RunConfig run;
};

// Parses TOML text; `origin` names it in error messages. kInvalidArgument for a syntax error or
// a value of the wrong type or range (the message gives the file, line and key).
Result<Config> ParseConfig(const std::string& text, const std::string& origin);

// Reads `path`; when `path` is empty, ./kswarm.toml if it exists, else an empty Config.
Result<Config> LoadConfig(const std::string& path);

}  // namespace kswarm::config
