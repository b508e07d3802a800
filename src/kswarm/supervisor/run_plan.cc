#include "kswarm/supervisor/run_plan.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kswarm::supervisor {
namespace {

using json = nlohmann::json;

// Reads `key` into `out` when present; false when it has the wrong type.
template <typename T>
bool Read(const json& j, const char* key, T& out) {
  if (!j.contains(key) || j[key].is_null()) return true;
  try {
    out = j[key].get<T>();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

}  // namespace

std::string RunPlanJson(const RunPlan& p) {
  json members = json::array();
  for (const RunMember& m : p.members) {
    members.push_back({{"agent", m.agent}, {"model", m.model}, {"context", m.context}});
  }
  json j = {{"paths", p.paths},
            {"device", p.device},
            {"agents", p.agents},
            {"replay", p.replay},
            {"models", p.models},
            {"members", members},
            {"precision", p.precision},
            {"trials", p.trials},
            {"tolerance", p.tolerance},
            {"shapes", p.shapes},
            {"timeout_s", p.timeout_s},
            {"static_check", p.static_check},
            {"reference", p.reference},
            {"min_gain", p.min_gain},
            {"selection", p.selection},
            {"recipe_budget_s", p.recipe_budget_s}};
  if (p.verdict) j["verdict"] = json::parse(VerdictRuleJson(*p.verdict));
  if (!p.optimize_dir.empty()) j["optimize_dir"] = p.optimize_dir;
  if (p.budget.tokens || p.budget.usd || p.budget.wall_s) {
    json b = json::object();
    if (p.budget.tokens) b["max_tokens"] = *p.budget.tokens;
    if (p.budget.usd) b["max_usd"] = *p.budget.usd;
    if (p.budget.wall_s) b["max_wall_s"] = *p.budget.wall_s;
    j["budget"] = b;
  }
  return j.dump();
}

Result<RunPlan> ParseRunPlan(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) {
    return Error(StatusCode::kInvalidArgument, "the run's stored plan is not a JSON object");
  }
  RunPlan p;
  auto bad = [](const char* key) {
    return Error(StatusCode::kInvalidArgument,
                 fmt::format("the run's stored plan has a damaged \"{}\"", key));
  };
  if (!Read(j, "paths", p.paths)) return bad("paths");
  if (!Read(j, "device", p.device)) return bad("device");
  if (!Read(j, "agents", p.agents)) return bad("agents");
  if (!Read(j, "replay", p.replay)) return bad("replay");
  if (!Read(j, "models", p.models)) return bad("models");
  if (!Read(j, "precision", p.precision)) return bad("precision");
  if (!Read(j, "trials", p.trials)) return bad("trials");
  if (!Read(j, "tolerance", p.tolerance)) return bad("tolerance");
  if (!Read(j, "shapes", p.shapes)) return bad("shapes");
  if (!Read(j, "timeout_s", p.timeout_s)) return bad("timeout_s");
  if (!Read(j, "static_check", p.static_check)) return bad("static_check");
  if (!Read(j, "reference", p.reference)) return bad("reference");
  if (!Read(j, "min_gain", p.min_gain)) return bad("min_gain");
  if (!Read(j, "selection", p.selection)) return bad("selection");
  if (!Read(j, "recipe_budget_s", p.recipe_budget_s)) return bad("recipe_budget_s");
  if (!Read(j, "optimize_dir", p.optimize_dir)) return bad("optimize_dir");
  if (j.contains("members")) {
    if (!j["members"].is_array()) return bad("members");
    for (const json& m : j["members"]) {
      RunMember member;
      if (!m.is_object() || !Read(m, "agent", member.agent) || !Read(m, "model", member.model) ||
          !Read(m, "context", member.context)) {
        return bad("members");
      }
      if (member.context.empty()) member.context = "none";
      p.members.push_back(std::move(member));
    }
  }
  if (j.contains("budget")) {
    const json& b = j["budget"];
    if (!b.is_object()) return bad("budget");
    int64_t tokens = 0;
    double usd = 0, wall = 0;
    if (!Read(b, "max_tokens", tokens) || !Read(b, "max_usd", usd) ||
        !Read(b, "max_wall_s", wall)) {
      return bad("budget");
    }
    if (tokens > 0) p.budget.tokens = tokens;
    if (usd > 0) p.budget.usd = usd;
    if (wall > 0) p.budget.wall_s = wall;
  }
  if (j.contains("verdict")) {
    auto rule = ParseVerdictRule(j["verdict"].dump());
    if (!rule) {
      return Error(StatusCode::kInvalidArgument,
                   fmt::format("the run's stored plan has a damaged \"verdict\": {}",
                               rule.error().message()));
    }
    p.verdict = *rule;
  }
  return p;
}

}  // namespace kswarm::supervisor
