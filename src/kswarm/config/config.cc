#include "kswarm/config/config.h"

#include <filesystem>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "kswarm/util/files.h"

namespace kswarm::config {

Result<Config> ParseConfig(const std::string& text, const std::string& origin) {
  toml::table table;
  try {
    table = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return Error(StatusCode::kInvalidArgument,
                 fmt::format("{}:{}: {}", origin, e.source().begin.line, e.description()));
  }
  Config config;
  auto bad = [&](const char* key, const char* want) {
    return Error(StatusCode::kInvalidArgument, fmt::format("{}: [run] {} must be {}", origin, key,
                                                           want));
  };
  if (auto run = table["run"]; run) {
    if (!run.is_table()) return bad("", "a table");
    if (auto agents = run["agents"]; agents) {
      auto* list = agents.as_array();
      if (!list) return bad("agents", "a list of agent names");
      std::vector<std::string> names;
      for (const auto& item : *list) {
        auto name = item.value<std::string>();
        if (!name) return bad("agents", "a list of agent names");
        names.push_back(*name);
      }
      config.run.agents = std::move(names);
    }
    if (auto precision = run["precision"]; precision) {
      auto value = precision.value<std::string>();
      if (!value || (*value != "fp32" && *value != "reduced")) {
        return bad("precision", "\"fp32\" or \"reduced\"");
      }
      config.run.precision = *value;
    }
    if (auto min_gain = run["min_gain"]; min_gain) {
      auto value = min_gain.value<double>();
      if (!value || *value < 0 || *value > 10) return bad("min_gain", "a number from 0 to 10");
      config.run.min_gain = *value;
    }
  }
  return config;
}

Result<Config> LoadConfig(const std::string& path) {
  std::string file = path;
  if (file.empty()) {
    if (!std::filesystem::exists("kswarm.toml")) return Config{};
    file = "kswarm.toml";
  }
  auto text = ReadFile(file);
  if (!text) {
    return Error(StatusCode::kInvalidArgument,
                 fmt::format("config file {}", text.error().message()));
  }
  return ParseConfig(*text, file);
}

}  // namespace kswarm::config
