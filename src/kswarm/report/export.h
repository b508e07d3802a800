// Hands a run's winners over as drop-in modules: for every problem where a candidate beat eager,
// DIR/level<L>_<problem>.py holds that candidate (it defines ModelNew with Model's constructor),
// and DIR/manifest.json says what each one is, how fast, and where that was measured.
#pragma once

#include <string>

#include "kswarm/store/store.h"
#include "kswarm/util/status.h"

namespace kswarm::report {

struct ExportResult {
  int modules = 0;      // winners written
  int kept_eager = 0;   // problems where eager stays (listed in the manifest, no module)
  bool runtime = false; // kswarm_rt shipped beside them (a winner imports it)
};

// `runtime_dir` is the folder holding the kswarm_rt package (the worker's folder): when a winner
// imports kswarm_rt, DIR/kswarm_rt/ is copied from there so that the modules run as they are.
Result<ExportResult> ExportRun(store::Store& store, const store::RunRecord& run,
                               const std::string& out_dir, const std::string& runtime_dir);

}  // namespace kswarm::report
