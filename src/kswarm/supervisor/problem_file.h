// Reading problem and candidate files from disk into store records.
#pragma once

#include <optional>
#include <string>

#include "kswarm/store/store.h"
#include "kswarm/util/status.h"

namespace kswarm::supervisor {

// N of the nearest enclosing folder named `levelN` (e.g. problems/level2/x.py -> 2), if any.
std::optional<int> LevelFromPath(const std::string& path);

// Reads a problem file: absolute path, name (file stem), level, source and its hash.
// kInvalidArgument naming the file when it is missing, unreadable or not a .py file.
Result<store::ProblemRecord> ReadProblemFile(const std::string& path);

// Reads a candidate source file; kInvalidArgument naming the file when it cannot be read.
Result<store::CandidateRecord> ReadCandidateFile(const std::string& path,
                                                 const std::string& generator);

}  // namespace kswarm::supervisor
