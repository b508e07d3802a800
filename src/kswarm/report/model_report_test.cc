#include "kswarm/report/model_report.h"

#include <gtest/gtest.h>

namespace kswarm::report {
namespace {

ModelPart Part(double share, double speedup) {
  ModelPart p;
  p.share = share;
  p.speedup = speedup;
  return p;
}

TEST(PredictedSpeedupTest, AmdahlOverTheParts) {
  struct Case {
    const char* name;
    std::vector<ModelPart> parts;
    double want;
  } cases[] = {
      {"no parts", {}, 1.0},
      {"parts kept as eager", {Part(0.5, 1), Part(0.3, 1)}, 1.0},
      {"the whole model twice as fast", {Part(1.0, 2)}, 2.0},
      {"half the time twice as fast", {Part(0.5, 2)}, 1 / 0.75},
      {"two parts", {Part(0.4, 2), Part(0.4, 4)}, 1 / (0.2 + 0.2 + 0.1)},
      {"a slower part counts as it is", {Part(0.5, 0.5)}, 1 / 1.5},
      {"shares above 1 in total are scaled", {Part(0.8, 2), Part(0.8, 2)}, 2.0},
  };
  for (const Case& c : cases) {
    EXPECT_NEAR(PredictedSpeedup(c.parts), c.want, 1e-9) << c.name;
  }
}

ModelPart Kept(const char* problem, double share, double speedup) {
  ModelPart p = Part(share, speedup);
  p.problem = problem;
  p.kept = "torch_compile";
  return p;
}

TEST(WinnerToDropTest, TheLeastSavingWinnerGoesUntilTheWholeModelPasses) {
  MeasuredModel passed{"passed", "", 1.3, 10.0, 7.7};
  MeasuredModel slower{"passed", "", 0.98, 10.0, 10.2};
  MeasuredModel wrong{"wrong", "output 0 differs", std::nullopt, std::nullopt, std::nullopt};
  MeasuredModel flagged{"flagged", "[]", std::nullopt, std::nullopt, std::nullopt};
  MeasuredModel crashed{"crashed", "exit 1", std::nullopt, std::nullopt, std::nullopt};
  // ResNet-50 on an H100: the unpatched model measured 0.977x of eager in its own sandbox
  auto controlled = [](double raw, double control) {
    MeasuredModel m{"passed", "", raw, 6.0, 6.0 / raw};
    m.control_speedup = control;
    return m;
  };
  ModelPart eager = Part(0.5, 1);
  eager.problem = "00_eager";
  eager.kept = "eager";
  // ResNet-50 on an H100: three winners, the patched model wrong by 2.5% on 14 of 32000 logits
  std::vector<ModelPart> resnet = {eager, Kept("04_bottleneck", 0.088, 1.434),
                                   Kept("06_bottleneck", 0.083, 1.395),
                                   Kept("08_bottleneck", 0.059, 1.124)};
  struct Case {
    const char* name;
    std::vector<ModelPart> parts;
    MeasuredModel measured;
    std::optional<std::string> want;
  } cases[] = {
      {"passed and faster: nothing goes", resnet, passed, std::nullopt},
      {"passed at exactly 1x: nothing goes", resnet, MeasuredModel{"passed", "", 1.0, 1, 1},
       std::nullopt},
      {"wrong: the least saving winner goes, not the smallest share or speed-up", resnet, wrong,
       "08_bottleneck"},
      {"slower than the original", resnet, slower, "08_bottleneck"},
      {"below eager by the containment's own cost: nothing goes", resnet,
       controlled(0.985, 0.977), std::nullopt},
      {"below the control: slower", resnet, controlled(0.962, 0.977), "08_bottleneck"},
      {"above eager but below a control above it: slower", resnet, controlled(1.02, 1.04),
       "08_bottleneck"},
      {"flagged", resnet, flagged, "08_bottleneck"},
      {"crashed", resnet, crashed, "08_bottleneck"},
      {"a large share at a small gain saves less than a small share at a large one",
       {Kept("a", 0.5, 1.02), Kept("b", 0.1, 2.0)}, wrong, "a"},
      {"no winner left: nothing to take out", {eager}, wrong, std::nullopt},
      {"no parts", {}, slower, std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(WinnerToDrop(c.parts, c.measured), c.want) << c.name;
  }
}

const char* kParts = R"({"kswarm_parts": 1, "model": "/m/resnet.py", "device_type": "cpu",
  "model_ms": 10.5, "parts": [
    {"problem": "01_basicblock", "class": "torchvision.models.resnet.BasicBlock",
     "problem_sha256": "aa", "modules": ["layer1.0", "layer1.1"], "share": 0.5},
    {"problem": "02_linear", "class": "torch.nn.modules.linear.Linear",
     "problem_sha256": "bb", "modules": ["fc"], "share": 0.1}]})";

TEST(ReadModelReportTest, JoinsPartsWithWhatWasKept) {
  const char* manifest = R"({"problems": [
      {"problem_sha256": "aa", "module": "level2_01_basicblock", "kept": "torch_compile",
       "speedup": 1.5},
      {"problem_sha256": "bb", "module": null, "kept": "eager", "speedup": 1.2}]})";
  auto r = ReadModelReport(kParts, manifest);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->parts.size(), 2u);
  EXPECT_EQ(r->parts[0].kept, "torch_compile");
  EXPECT_DOUBLE_EQ(r->parts[0].speedup, 1.5);
  EXPECT_EQ(r->parts[0].modules, 2);
  EXPECT_EQ(r->parts[1].kept, "eager");  // eager stays: no speed-up, whatever the row says
  EXPECT_DOUBLE_EQ(r->parts[1].speedup, 1.0);
  EXPECT_NEAR(PredictedSpeedup(r->parts), 1 / (0.5 + 0.5 / 1.5), 1e-9);

  r->measured = MeasuredModel{"passed", "", 1.2, 10.0, 8.3};
  std::string text = RenderModelText(*r);
  EXPECT_NE(text.find("predicted by the parts 1.200x, measured end to end 1.200x"),
            std::string::npos) << text;
  EXPECT_NE(text.find("parts cover 60.0%"), std::string::npos) << text;
  EXPECT_NE(RenderModelJson(*r).find("\"predicted_speedup\": 1.2"), std::string::npos);
}

TEST(ModelReportJsonTest, ReadsBackWhatItWrites) {
  auto r = ReadModelReport(kParts, R"({"problems": [{"problem_sha256": "aa", "module": "m",
                                                     "kept": "channels_last", "speedup": 1.7}]})");
  ASSERT_TRUE(r);
  r->run_id = 7;
  r->measured = MeasuredModel{"passed", "", 1.25, 9.0, 7.2};
  auto back = ParseModelReportJson(RenderModelJson(*r));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(RenderModelText(*back), RenderModelText(*r));
  EXPECT_EQ(back->run_id, 7);
  r->measured->control_speedup = 0.98;
  back = ParseModelReportJson(RenderModelJson(*r));
  ASSERT_TRUE(back);
  EXPECT_NEAR(*back->measured->Speedup(), 1.25 / 0.98, 1e-9);
  EXPECT_EQ(RenderModelText(*back), RenderModelText(*r));
  r->measured = MeasuredModel{"wrong", "differs", std::nullopt, std::nullopt, std::nullopt};
  back = ParseModelReportJson(RenderModelJson(*r));
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->measured->Speedup());
  // A report.json written before the control: its speed-up is the raw figure.
  back = ParseModelReportJson(R"({"parts": [], "measured": {"outcome": "passed",
      "message": "", "speedup": 1.1, "eager_ms": 2.2, "patched_ms": 2.0}})");
  ASSERT_TRUE(back);
  EXPECT_DOUBLE_EQ(*back->measured->Speedup(), 1.1);
  EXPECT_EQ(ParseModelReportJson(R"({"parts": [{"problem": 1}]})").error().code(),
            StatusCode::kInvalidArgument);
}

TEST(ReadModelReportTest, AFailedEndToEndCheckIsSaid) {
  auto r = ReadModelReport(kParts, R"({"problems": []})");
  ASSERT_TRUE(r);
  r->measured = MeasuredModel{"wrong", "output 0 differs", std::nullopt, std::nullopt,
                              std::nullopt};
  EXPECT_NE(RenderModelText(*r).find("did not pass its end-to-end check (wrong): output 0"),
            std::string::npos);
}

TEST(ReadModelReportTest, TheControlIsShownBesideTheFigureItCorrects) {
  auto r = ReadModelReport(kParts, R"({"problems": []})");
  ASSERT_TRUE(r);
  r->measured = MeasuredModel{"passed", "", 0.99, 6.0, 6.06};
  r->measured->control_speedup = 0.9;
  std::string text = RenderModelText(*r);
  EXPECT_NE(text.find("measured end to end 1.100x (eager 6.000 ms, patched 6.060 ms"),
            std::string::npos) << text;
  EXPECT_NE(text.find("0.990x over eager, divided by the 0.900x of the unpatched model"),
            std::string::npos) << text;
  r->measured->control_speedup.reset();
  r->measured->control_message = "the unpatched model was wrong against itself";
  EXPECT_NE(RenderModelText(*r).find("0.990x (eager 6.000 ms, patched 6.060 ms, fastest calls; "
                                     "no control: the unpatched model was wrong"),
            std::string::npos) << RenderModelText(*r);
  r->measured = MeasuredModel{"unchanged", "no winner is applied: the model is the original"};
  EXPECT_NE(RenderModelText(*r).find("; no winner is applied"), std::string::npos);
}

TEST(ReadModelReportTest, AWinnerTakenOutIsEagerAndSaysWhy) {
  auto r = ReadModelReport(kParts, R"({"problems": [{"problem_sha256": "aa", "module": null,
      "kept": "eager", "speedup": 1.0,
      "dropped": "torch_compile 1.500x: with it the patched model was wrong"}]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->parts[0].kept, "eager");
  EXPECT_DOUBLE_EQ(PredictedSpeedup(r->parts), 1.0);
  EXPECT_NE(RenderModelText(*r).find("taken out: torch_compile 1.500x: with it the patched"),
            std::string::npos);
  auto back = ParseModelReportJson(RenderModelJson(*r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->parts[0].dropped, r->parts[0].dropped);
  EXPECT_EQ(back->parts[1].dropped, "");
}

TEST(ReadModelReportTest, MalformedFilesAreNamed) {
  EXPECT_EQ(ReadModelReport("{", R"({"problems": []})").error().code(),
            StatusCode::kInvalidArgument);
  EXPECT_NE(ReadModelReport(kParts, "[]").error().message().find("manifest.json"),
            std::string::npos);
  EXPECT_NE(ReadModelReport(R"({"parts": [{"problem": "x"}]})", R"({"problems": []})")
                .error().message().find("share"),
            std::string::npos);
}

}  // namespace
}  // namespace kswarm::report
