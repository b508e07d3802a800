// The replay agent: candidates recorded by an earlier run (of kswarm or of KernelBench's own
// scripts) submitted again as their generator's attempts, so a past run can be re-evaluated on
// new hardware without calling any model.
//
// Two recorded formats are read:
//   - a JSONL file, one object per line: {"problem", "level", "generator", "code"}; "level" may
//     be omitted or null, "generator" defaults to the file's stem;
//   - a folder of `level_L_problem_P_*.py` files as KernelBench writes them; the generator is the
//     folder's name and the problem is the number P.
// A recorded problem matches a problem of the run when its name equals the problem's file stem
// (a trailing ".py" ignored), or when it is a bare number equal to the number the problem's name
// starts with; in both cases the levels must agree when both are known.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kswarm/agents/agent.h"
#include "kswarm/util/status.h"

namespace kswarm::agents {

struct RecordedCandidate {
  std::string generator;
  std::string problem;       // a name ("07_gelu") or a bare number ("7")
  std::optional<int> level;
  std::string code;
  std::string origin;        // "file:line" or the file path, for messages
};

// Reads one JSONL file or KernelBench folder. kInvalidArgument for a missing path, a line that is
// not a JSON object with string "problem" and "code", or a folder with no matching files.
Result<std::vector<RecordedCandidate>> LoadRecorded(const std::string& path);

// Whether `recorded` was written for `problem` (see the matching rule above).
bool MatchesProblem(const RecordedCandidate& recorded, const ProblemView& problem);

// One agent per generator, named after it, in order of first appearance. Each proposes its
// recorded candidates for a problem one per attempt, in recorded order, then nothing.
std::vector<std::unique_ptr<Agent>> MakeReplayAgents(std::vector<RecordedCandidate> recorded);

}  // namespace kswarm::agents
