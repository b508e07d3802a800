// The whole-model figures of `kswarm optimize`: per part its share of the model's time and the
// speed-up of what was kept for it, the whole model's speed-up those predict, and the one measured
// end to end (docs/optimize.md, "The report").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kswarm/util/status.h"

namespace kswarm::report {

struct ModelPart {
  std::string problem;
  std::string cls;      // the submodule's class
  int modules = 0;      // submodules of the model this problem stands for
  double share = 0;     // of the model's time, all those submodules' calls together
  std::string kept;     // the kept agent, or "eager"
  double speedup = 1;   // of the kept candidate over eager (1 when eager is kept)
  std::string dropped;  // a winner the end-to-end check took out, and why; empty when none
};

struct MeasuredModel {
  // of the end-to-end evaluation: passed, wrong, ...; "unchanged" when no winner is applied
  std::string outcome;
  std::string message;
  std::optional<double> raw_speedup{};  // eager over the patched model, when it passed
  std::optional<double> eager_ms{}, patched_ms{};
  // eager over the unpatched model evaluated the same way (the control, docs/optimize.md); none
  // when that evaluation did not pass
  std::optional<double> control_speedup{};
  std::string control_message{};  // why there is no control figure

  // The patched model over the original, both contained alike: raw / control (raw alone when
  // there is no control figure); none unless the patched model passed.
  std::optional<double> Speedup() const;
};

struct ModelReport {
  int64_t run_id = 0;        // the run over its parts
  std::string model;
  std::string device_type;
  double model_ms = 0;       // one forward of the original, as the split measured it
  std::vector<ModelPart> parts;
  std::optional<MeasuredModel> measured;
};

// Amdahl's law over the parts: the time outside them unchanged, each part's divided by its
// speed-up. Shares above 1 in total (overlapping timings) are scaled down to 1.
double PredictedSpeedup(const std::vector<ModelPart>& parts);

// The report from the split's parts.json and the export's manifest.json (joined on each problem's
// hash); kInvalidArgument naming what is malformed.
Result<ModelReport> ReadModelReport(const std::string& parts_json,
                                    const std::string& manifest_json);

// Which winner the end-to-end check takes out next (docs/optimize.md, step 4):
// none when the patched model passed, unflagged and not slower than the original (Speedup() of
// 1 or more), or when no winner is left; else the kept part that saves the least of the model's
// time.
std::optional<std::string> WinnerToDrop(const std::vector<ModelPart>& parts,
                                        const MeasuredModel& measured);

std::string RenderModelText(const ModelReport& report);
// DIR/report.json; ParseModelReportJson reads it back (for `kswarm report` of the run).
std::string RenderModelJson(const ModelReport& report);
Result<ModelReport> ParseModelReportJson(const std::string& text);

}  // namespace kswarm::report
