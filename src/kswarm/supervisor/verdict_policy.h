// What a problem keeps: the one sequential rule of docs/verification.md ("The verdict"), as a pure
// function of the problem's recorded samples. The supervisor asks Next() what to do, does it (one
// fresh evaluation of one candidate), adds the sample and asks again, until Next() decides.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kswarm/util/status.h"

namespace kswarm::supervisor {

// The rule's parameters; stored with the run (docs/schema.md, runs.config_json "verdict").
struct VerdictRule {
  double min_gain = 0.01;  // kept only when its speed-up is at least 1 + min_gain, with confidence
  double z = 2.0;          // width of every confidence bound, in standard errors
  int max_fresh = 3;       // fresh samples of one candidate against eager
  int max_challenge = 1;   // fresh samples of a candidate challenging the leader
  int max_per_problem = 6; // fresh samples of all of a problem's candidates together
  // Process-to-process noise of one sample (standard deviation of its log) before the run's
  // samples say otherwise, and how many samples that guess counts for.
  double prior_sigma = 0.05;
  double prior_weight = 1.0;
  // How many samples the run's pooled noise counts for beside a problem's own repeated samples.
  double run_weight = 4.0;
  double min_sigma = 0.002;  // no estimate goes below this: timers and clocks have a resolution
  // Trials a fresh sample checks before timing; its timed calls are re-checked as in every
  // evaluation, and its candidate passed all of the run's trials in its first evaluation.
  int fresh_trials = 10;
};

// The rule as stored with a run (a JSON object: docs/schema.md, runs.config_json "verdict"), and
// read back, so a resumed run and its report use the rule it began with. A key left out keeps its
// default; a value of the wrong type or out of range is kInvalidArgument.
std::string VerdictRuleJson(const VerdictRule& rule);
Result<VerdictRule> ParseVerdictRule(const std::string& json);

// One candidate whose first evaluation passed and may be kept. Samples are log(eager / candidate)
// from the fastest timed calls of one evaluation, each in its own process.
struct Contender {
  int64_t id = 0;             // the caller's handle: the candidate's first evaluation
  double screen = 0;          // its first evaluation's sample: it chose the candidate, so it is
                              // never part of the candidate's estimate (the winner's curse)
  std::vector<double> fresh;  // samples of later fresh evaluations that passed unflagged
  bool failed = false;        // a fresh evaluation failed or was flagged: never kept
};

// The run's repeated fresh samples: each step between two successive fresh samples of one
// candidate, |x[i] - x[i-1]|, whose spread is twice a sample's variance. Their median (not their
// mean square) says the run's noise, so that one candidate whose speed changes from process to
// process does not set every other problem's noise; that candidate's own problem sees it.
struct NoisePool {
  std::vector<double> steps;
  void Add(const std::vector<double>& samples);  // one candidate's fresh samples, in order
  // The standard deviation of one sample's log from the median step (normal noise: the median of
  // |x - y| is 0.6745 * sqrt(2) sigma); 0 without steps.
  double Sigma() const;
};

// Everything the rule reads. Contenders in the order their first evaluations ran.
struct Ledger {
  std::vector<Contender> contenders;
  NoisePool run;  // the run's other problems, decided before this one, on the same kind of device
};

struct Estimate {
  double log_gain = 0;  // mean of the fresh samples
  double low = 0;       // mean -/+ z standard errors
  double high = 0;
  int samples = 0;
};

struct VerdictAction {
  enum class Kind { kEvaluate, kKeep, kKeepEager };
  Kind kind = Kind::kKeepEager;
  int64_t candidate = 0;        // kEvaluate, kKeep: the contender's id
  std::string reason;           // one line for the ledger and the progress line
  std::optional<Estimate> estimate;  // kKeep: the kept candidate's, from its fresh samples only
  double sigma = 0;             // the noise the action was decided with
};

// The noise of one sample's log: the spread of this problem's repeated fresh samples (their mean
// square) beside the run's (NoisePool::Sigma, itself beside the prior), each weighted by the
// samples behind it; never below rule.min_sigma.
double SampleNoise(const Ledger& ledger, const VerdictRule& rule);

// The order contenders are looked at: at each step the earliest remaining one that no other
// remaining one is clearly faster than on first evaluations, so noise alone does not put a later
// one first.
std::vector<size_t> ScreenOrder(const Ledger& ledger, double sigma, const VerdictRule& rule);

// The next action on a problem.
VerdictAction NextVerdictAction(const Ledger& ledger, const VerdictRule& rule);

const char* VerdictActionName(VerdictAction::Kind kind);  // "evaluate", "keep", "keep_eager"

}  // namespace kswarm::supervisor
