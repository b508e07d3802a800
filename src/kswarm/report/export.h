// Hands a run's winners over as drop-in modules: for every problem where a candidate beat eager,
// DIR/level<L>_<problem>.py holds that candidate (it defines ModelNew with Model's constructor)
// under a comment saying where it was measured, and DIR/manifest.json says what each one is, how
// fast, and where (device, versions, shape set) that was measured.
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

// The comment that heads an exported module: whose candidate it is, its speed-up over eager, and
// the device and shape set (ShapesNote) that speed-up was measured at.
std::string ModuleHeader(const std::string& agent, const std::string& problem,
                         const std::string& run, double speedup, const std::string& device,
                         const std::string& shapes);

// `source` with `header` inserted after its shebang and encoding lines, which Python reads only
// on a module's first two lines.
std::string WithHeader(const std::string& source, const std::string& header);

// Copies the kswarm_rt package (its .py files) from `runtime_dir` into out_dir/kswarm_rt.
Status CopyRuntime(const std::string& runtime_dir, const std::string& out_dir);

// `runtime_dir` is the folder holding the kswarm_rt package (the worker's folder): when a winner
// imports kswarm_rt, DIR/kswarm_rt/ is copied from there so that the modules run as they are.
Result<ExportResult> ExportRun(store::Store& store, const store::RunRecord& run,
                               const std::string& out_dir, const std::string& runtime_dir);

}  // namespace kswarm::report
