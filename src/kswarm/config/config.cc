#include "kswarm/config/config.h"

#include <algorithm>
#include <filesystem>
#include <tuple>
#include <utility>

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
    if (auto budget = run["recipe_budget_s"]; budget) {
      auto value = budget.value<double>();
      if (!value || *value <= 0) return bad("recipe_budget_s", "a number of seconds above 0");
      config.run.recipe_budget_s = *value;
    }
  }
  if (auto models = table["models"]; models) {
    auto* list = models.as_array();
    if (!list) {
      return Error(StatusCode::kInvalidArgument,
                   fmt::format("{}: models must be an array of tables ([[models]])", origin));
    }
    for (size_t i = 0; i < list->size(); ++i) {
      auto* t = list->get(i)->as_table();
      auto bad_model = [&](const std::string& key, const char* want) {
        return Error(StatusCode::kInvalidArgument,
                     fmt::format("{}: [[models]] #{} {} must be {}", origin, i + 1, key, want));
      };
      if (!t) return bad_model("", "a table");
      ModelConfig m;
      auto str = [&](const char* key, std::string& out, bool required) -> Status {
        auto node = (*t)[key];
        if (!node) {
          return required ? Status(StatusCode::kInvalidArgument,
                                   fmt::format("{}: [[models]] #{} needs {}", origin, i + 1, key))
                          : Status::Ok();
        }
        auto v = node.value<std::string>();
        if (!v) return bad_model(key, "a string").value();
        out = *v;
        return Status::Ok();
      };
      auto num = [&](const char* key, double& out, double lo, double hi) -> Status {
        auto node = (*t)[key];
        if (!node) return Status::Ok();
        auto v = node.value<double>();
        if (!v || *v < lo || *v > hi) {
          return bad_model(key, fmt::format("a number from {} to {}", lo, hi).c_str()).value();
        }
        out = *v;
        return Status::Ok();
      };
      double max_out = m.max_output_tokens, concurrency = m.concurrency, attempts = m.attempts,
             retries = m.max_retries;
      for (Status st : {str("name", m.name, true), str("api", m.api, true),
                        str("model", m.model, true), str("base_url", m.base_url, false),
                        str("key_env", m.key_env, false),
                        str("reasoning_effort", m.reasoning_effort, false),
                        num("max_output_tokens", max_out, 1, 1e7),
                        num("usd_per_mtok_in", m.usd_per_mtok_in, 0, 1e6),
                        num("usd_per_mtok_out", m.usd_per_mtok_out, 0, 1e6),
                        num("concurrency", concurrency, 1, 1024), num("attempts", attempts, 1, 100),
                        num("max_retries", retries, 0, 100),
                        num("stall_timeout_s", m.stall_timeout_s, 1, 86400)}) {
        if (!st.ok()) return Error(st);
      }
      for (Status st : {str("profile_helper", m.profile_helper, false)}) {
        if (!st.ok()) return Error(st);
      }
      if (auto contexts = (*t)["contexts"]; contexts) {
        auto* items = contexts.as_array();
        if (!items || items->empty()) {
          return bad_model("contexts", "a list of \"none\", \"reference\", \"profile\", \"both\"");
        }
        m.contexts.clear();
        for (const auto& item : *items) {
          auto v = item.value<std::string>();
          if (!v || (*v != "none" && *v != "reference" && *v != "profile" && *v != "both")) {
            return bad_model("contexts",
                             "a list of \"none\", \"reference\", \"profile\", \"both\"");
          }
          if (std::find(m.contexts.begin(), m.contexts.end(), *v) != m.contexts.end()) {
            return bad_model("contexts", "a list without repeats");
          }
          m.contexts.push_back(*v);
        }
      }
      if (auto v = (*t)["max_tokens"]; v) {
        auto n = v.value<int64_t>();
        if (!n || *n <= 0) return bad_model("max_tokens", "a positive integer");
        m.max_tokens = *n;
      }
      if (auto v = (*t)["max_usd"]; v) {
        auto n = v.value<double>();
        if (!n || *n <= 0) return bad_model("max_usd", "a positive number");
        m.max_usd = *n;
      }
      m.max_output_tokens = static_cast<int>(max_out);
      m.concurrency = static_cast<int>(concurrency);
      m.attempts = static_cast<int>(attempts);
      m.max_retries = static_cast<int>(retries);
      if (m.api != "openai" && m.api != "openai-compatible" && m.api != "openai-responses" &&
          m.api != "anthropic") {
        return bad_model("api", "\"openai\", \"openai-compatible\", \"openai-responses\" or "
                                "\"anthropic\"");
      }
      if (!m.reasoning_effort.empty() && m.reasoning_effort != "low" &&
          m.reasoning_effort != "medium" && m.reasoning_effort != "high") {
        return bad_model("reasoning_effort", "\"low\", \"medium\" or \"high\"");
      }
      for (const ModelConfig& other : config.models) {
        if (other.name == m.name) return bad_model("name", "unique");
      }
      config.models.push_back(std::move(m));
    }
  }
  if (auto budget = table["budget"]; budget) {
    auto bad_budget = [&](const char* key) {
      return Error(StatusCode::kInvalidArgument,
                   fmt::format("{}: [budget] {} must be a positive number", origin, key));
    };
    if (auto v = budget["max_tokens"]; v) {
      auto n = v.value<int64_t>();
      if (!n || *n <= 0) return bad_budget("max_tokens");
      config.budget.max_tokens = *n;
    }
    if (auto v = budget["max_usd"]; v) {
      auto n = v.value<double>();
      if (!n || *n <= 0) return bad_budget("max_usd");
      config.budget.max_usd = *n;
    }
    if (auto v = budget["max_wall_s"]; v) {
      auto n = v.value<double>();
      if (!n || *n <= 0) return bad_budget("max_wall_s");
      config.budget.max_wall_s = *n;
    }
  }
  for (const ModelConfig& m : config.models) {
    if (m.profile_helper.empty()) continue;
    bool known = std::any_of(config.models.begin(), config.models.end(),
                             [&](const ModelConfig& o) { return o.name == m.profile_helper; });
    if (!known) {
      return Error(StatusCode::kInvalidArgument,
                   fmt::format("{}: [[models]] '{}' profile_helper names no [[models]] ('{}')",
                               origin, m.name, m.profile_helper));
    }
  }
  if (auto executor = table["executor"]; executor) {
    auto bad_executor = [&](const char* key, const char* want) {
      return Error(StatusCode::kInvalidArgument,
                   fmt::format("{}: [executor] {} must be {}", origin, key, want));
    };
    if (!executor.is_table()) return bad_executor("", "a table");
    ExecutorConfig& e = config.executor;
    if (auto v = executor["kind"]; v) {
      auto kind = v.value<std::string>();
      if (!kind || (*kind != "local" && *kind != "slurm")) {
        return bad_executor("kind", "\"local\" or \"slurm\"");
      }
      e.kind = *kind;
    }
    for (auto [key, field] : {std::pair{"partition", &e.partition},
                              std::pair{"account", &e.account},
                              std::pair{"time_limit", &e.time_limit}}) {
      if (auto v = executor[key]; v) {
        auto text = v.value<std::string>();
        if (!text) return bad_executor(key, "a string");
        *field = *text;
      }
    }
    for (auto [key, field, least] : {std::tuple{"workers", &e.workers, 1},
                                     std::tuple{"gpus_per_worker", &e.gpus_per_worker, 0},
                                     std::tuple{"cpus_per_worker", &e.cpus_per_worker, 1}}) {
      if (auto v = executor[key]; v) {
        auto n = v.value<int64_t>();
        if (!n || *n < least || *n > 4096) {
          return bad_executor(key, least ? "a whole number from 1 to 4096"
                                         : "a whole number from 0 to 4096");
        }
        *field = static_cast<int>(*n);
      }
    }
    if (auto v = executor["start_timeout_s"]; v) {
      auto n = v.value<double>();
      if (!n || *n <= 0) return bad_executor("start_timeout_s", "a positive number of seconds");
      e.start_timeout_s = *n;
    }
    if (auto v = executor["srun_args"]; v) {
      auto* list = v.as_array();
      if (!list) return bad_executor("srun_args", "a list of strings");
      for (const auto& item : *list) {
        auto arg = item.value<std::string>();
        if (!arg) return bad_executor("srun_args", "a list of strings");
        e.srun_args.push_back(*arg);
      }
    }
  }
  if (auto context = table["context"]; context) {
    auto bad_context = [&](const char* key, const char* want) {
      return Error(StatusCode::kInvalidArgument,
                   fmt::format("{}: [context] {} must be {}", origin, key, want));
    };
    if (!context.is_table()) return bad_context("", "a table");
    if (auto v = context["reference"]; v) {
      auto path = v.value<std::string>();
      if (!path) return bad_context("reference", "a path (a file or a folder)");
      config.context.reference = *path;
    }
    if (auto v = context["inductor"]; v) {
      auto flag = v.value<bool>();
      if (!flag) return bad_context("inductor", "true or false");
      config.context.inductor = *flag;
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
