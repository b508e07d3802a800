// Everything that proposes candidates implements Agent: the built-in agents here, LLM agents later.
//
// An agent sees the problem, the target device and the history of its own earlier attempts on that
// problem (with the evaluator's feedback), and returns candidate source: a Python file defining
// `ModelNew`. Agents never touch the store; the supervisor records what they produce and evaluates
// every candidate alike. Propose may be called from several threads for different problems; an
// agent keeps no per-problem state between calls (the history carries it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kswarm/core/evaluation.h"
#include "kswarm/util/status.h"

namespace kswarm::agents {

struct ProblemView {
  std::string name;
  std::string path;
  std::string source;
  std::optional<int> level;
};

struct DeviceView {
  std::string type;  // "cuda" or "cpu"
  std::string name;
  std::string device_json;  // the worker's device description (sm_count, l2_bytes, ...), or ""
  std::string torch_version;
  std::string cuda_version;
  std::string triton_version;
};

// One earlier attempt by this agent on this problem, and what the evaluator said.
struct Attempt {
  std::string source;
  core::Outcome outcome = core::Outcome::kRuntimeError;
  std::string message;
  std::optional<double> speedup;
  std::string profile;  // hints from profiling this attempt (profile configurations), or ""
  double seconds = 0;   // the evaluation's wall time, builds included
};

// What an agent is given beyond the problem and its own attempts (the seed's context
// configurations): an implementation of the problem in another backend, and profiles of its
// attempts that passed.
struct ContextConfig {
  bool reference = false;
  bool profile = false;
};
// "none", "reference", "profile" or "both".
std::string ContextName(ContextConfig context);
std::optional<ContextConfig> ParseContext(const std::string& name);

struct ReferenceContext {
  std::string origin;  // what it is, for the prompt: "torch.compile's generated code (cuda)"
  std::string code;
};

// What one swarm member may spend over a run (on top of the run's [budget]); unset: unlimited.
struct MemberBudget {
  std::optional<int64_t> max_tokens;
  std::optional<double> max_usd;
};

struct AgentRequest {
  ProblemView problem;
  DeviceView device;
  std::optional<ReferenceContext> reference;  // for agents whose context has a reference
  std::vector<Attempt> history;  // oldest first
  int trials = 100;              // what the evaluator will check, for prompts
  std::string tolerance = "atol = rtol = 1e-2";
};

// One model call behind a proposal or an advice (LLM agents), for the record. Never holds credentials.
struct CallRecord {
  std::string model;         // the API's model id
  std::string request_json;  // {"system": ..., "messages": [{"role", "content"}...]}
  std::string reply;         // the model's whole reply
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  double cost_usd = 0;
  double latency_ms = 0;
  int retries = 0;
  bool truncated = false;  // the reply hit the output token limit
};

struct Proposal {
  std::string source;  // a Python file defining ModelNew
  std::optional<CallRecord> call;
};

// A helper model that reads the profile of an attempt with its source and writes advice for the
// next attempt (the seed's profiling subagent). Thread-safe.
struct AdviceRequest {
  ProblemView problem;
  DeviceView device;
  std::string source;  // the profiled candidate
  std::optional<double> speedup;
  std::string tool;          // "ncu" or "torch.profiler"
  std::string metrics_json;  // the profiler's numbers
  std::string summary;       // their rule-based reading
};

struct Advice {
  std::string text;
  CallRecord call;
};

class ProfileAdvisor {
 public:
  virtual ~ProfileAdvisor() = default;
  virtual Result<Advice> Advise(const AdviceRequest& request) = 0;
};

class Agent {
 public:
  virtual ~Agent() = default;
  virtual std::string name() const = 0;
  // Candidates that trade fp32 numerics for speed (TF32, bf16) are labelled in every report and
  // only run when the precision policy allows them.
  virtual bool reduced_precision() const { return false; }
  // How many attempts the supervisor grants per problem.
  virtual int max_attempts() const { return 1; }
  // Whether proposing costs tokens and money (LLM agents): the run's budget applies, and metered
  // agents work on a problem in parallel.
  virtual bool metered() const { return false; }
  // What the supervisor gathers for this agent: a reference implementation with each request,
  // a profile of each attempt that passed (Attempt::profile).
  virtual ContextConfig context() const { return {}; }
  virtual MemberBudget budget() const { return {}; }
  // Turns profiles into advice for this agent; nullptr: the rule-based summary goes in as it is.
  virtual ProfileAdvisor* advisor() const { return nullptr; }
  // The next candidate, or nullopt when the agent has nothing (more) to offer for this problem.
  // Errors are for failures of the agent itself (an LLM endpoint down), not of its candidates.
  virtual Result<std::optional<Proposal>> Propose(const AgentRequest& request) = 0;
};

}  // namespace kswarm::agents
