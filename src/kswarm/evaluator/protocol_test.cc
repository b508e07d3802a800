#include "kswarm/evaluator/protocol.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kswarm::evaluator {
namespace {

using nlohmann::json;

TEST(ProtocolTest, EncodesEvaluateRequest) {
  EvalJob job;
  job.problem_path = "/p.py";
  job.candidate_path = "/c.py";
  job.settings.trials = 7;
  job.settings.tolerance = core::Tolerance::kStrict;
  job.settings.shapes = "small";
  job.seed = 99;
  json req = json::parse(EncodeEvaluate(5, job));
  EXPECT_EQ(req["protocol"], 1);
  EXPECT_EQ(req["id"], 5);
  EXPECT_EQ(req["op"], "evaluate");
  EXPECT_EQ(req["problem_path"], "/p.py");
  EXPECT_EQ(req["trials"], 7);
  EXPECT_EQ(req["tolerance"], "strict");
  EXPECT_EQ(req["shapes"], "small");
  EXPECT_EQ(req["seed"], 99);
  EXPECT_EQ(req["timing"]["max_runs"], 100);
  EXPECT_FALSE(req.contains("fresh_sandbox"));
  EXPECT_EQ(EncodeHello(1).find('\n'), std::string::npos);
  EXPECT_FALSE(req.contains("cpus"));  // no timing core: nothing pinned
  job.fresh_process = true;
  EXPECT_EQ(json::parse(EncodeEvaluate(6, job))["fresh_sandbox"], true);
  job.cpus = CpuPlan{15, {0, 1, 2}};
  json pinned = json::parse(EncodeEvaluate(7, job));
  EXPECT_EQ(pinned["cpus"]["timing"], 15);
  EXPECT_EQ(pinned["cpus"]["others"], json::array({0, 1, 2}));
  ProbeJob probe;
  probe.cpus = job.cpus;
  EXPECT_EQ(json::parse(EncodeProbe(8, probe))["cpus"]["timing"], 15);
}

TEST(ProtocolTest, EncodesProbeAndDecodesItsReply) {
  ProbeJob job;
  job.problem_path = "/p.py";
  job.settings.shapes = "small";
  job.settings.min_runs = 4;
  job.seed = 3;
  json req = json::parse(EncodeProbe(8, job));
  EXPECT_EQ(req["op"], "probe");
  EXPECT_EQ(req["shapes"], "small");
  EXPECT_EQ(req["tolerance"], "seed");
  EXPECT_EQ(req["timing"]["min_runs"], 4);

  auto reply = DecodeProbe(
      R"({"protocol":1,"id":8,"ok":true,"degenerate":["the input"],
          "work":{"input_bytes":16384,"output_bytes":16384,"flops":0},
          "peaks":{"bytes_per_s":3e10,"flops_per_s":4e11,"cache_bytes":33554432},
          "bound_ms":0.000128,"slack":4.0,
          "eager":{"median_ms":0.08,"iqr_ms":0.03,"count":10,"min_ms":0.07}})",
      8);
  ASSERT_TRUE(reply.has_value()) << reply.error().ToString();
  EXPECT_EQ(reply->degenerate, std::vector<std::string>{"the input"});
  EXPECT_DOUBLE_EQ(reply->input_bytes, 16384);
  EXPECT_DOUBLE_EQ(reply->peak_flops_per_s, 4e11);
  EXPECT_DOUBLE_EQ(reply->bound_ms, 0.000128);
  EXPECT_EQ(reply->eager.count, 10);
  EXPECT_FALSE(DecodeProbe(R"({"protocol":1,"id":8,"ok":true,"work":{}})", 8).has_value());
  auto broken = DecodeProbe(
      R"({"protocol":1,"id":8,"ok":false,"error":{"kind":"problem","message":"p.py: no Model"}})",
      8);
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().code(), StatusCode::kInvalidArgument);
}

TEST(ProtocolTest, DecodesHello) {
  auto hello = DecodeHello(
      R"({"protocol":1,"id":1,"ok":true,"worker_version":"0.1.0","python":"3.11.7",
          "torch":"2.11.0","cuda":"13.0","triton":null,
          "device":{"type":"cuda","name":"NVIDIA H100","driver":"580.1","l2_bytes":52428800},
          "backend_flags":{"cudnn_benchmark":false},"build_arch":"sm_90","device_count":2})",
      1);
  ASSERT_TRUE(hello.has_value()) << hello.error().ToString();
  EXPECT_EQ(hello->build_arch, "sm_90");
  EXPECT_EQ(hello->device_count, 2);
  const core::Environment* env = &hello->env;
  EXPECT_EQ(env->device_type, "cuda");
  EXPECT_EQ(env->device_name, "NVIDIA H100");
  EXPECT_EQ(env->driver, "580.1");
  EXPECT_EQ(env->cuda_version, "13.0");
  EXPECT_EQ(env->triton_version, "");
  EXPECT_NE(env->backend_flags_json.find("cudnn_benchmark"), std::string::npos);
}

TEST(ProtocolTest, DecodesPassedWithTimings) {
  auto reply = DecodeEvaluate(
      R"({"protocol":1,"id":3,"ok":true,"outcome":"passed","message":"ok","trials_run":100,
          "max_abs_err":1e-6,"max_rel_err":2e-5,"failure":null,
          "timing":{"baseline":{"median_ms":2.0,"iqr_ms":0.1,"count":50,"min_ms":1.9},
                    "candidate":{"median_ms":0.5,"iqr_ms":0.02,"count":50,"min_ms":0.48},
                    "rounds":50},
          "phase_ms":{"load":1,"build":2,"verify":3,"time":4},"poisoned":false})",
      3);
  ASSERT_TRUE(reply.has_value()) << reply.error().ToString();
  EXPECT_EQ(reply->evaluation.outcome, core::Outcome::kPassed);
  EXPECT_DOUBLE_EQ(*reply->evaluation.Speedup(), 1.9 / 0.48);  // the fastest calls
  EXPECT_DOUBLE_EQ(*reply->evaluation.MedianSpeedup(), 4.0);
  EXPECT_DOUBLE_EQ(reply->evaluation.candidate->min_ms, 0.48);
  EXPECT_EQ(reply->evaluation.candidate->count, 50);
  EXPECT_FALSE(reply->poisoned);
}

TEST(ProtocolTest, DecodesWrongWithFailureAndNonFiniteValues) {
  auto reply = DecodeEvaluate(
      R"({"protocol":1,"id":4,"ok":true,"outcome":"wrong","message":"trial 0 ...",
          "trials_run":1,"max_abs_err":"inf","max_rel_err":null,
          "failure":{"kind":"nan_inf","index":[0,1],"candidate":"nan","reference":1.0},
          "timing":null,"poisoned":true})",
      4);
  ASSERT_TRUE(reply.has_value()) << reply.error().ToString();
  EXPECT_EQ(reply->evaluation.outcome, core::Outcome::kWrong);
  EXPECT_FALSE(reply->evaluation.max_abs_err.has_value());
  EXPECT_NE(reply->evaluation.failure_json.find("nan_inf"), std::string::npos);
  EXPECT_TRUE(reply->poisoned);
}

TEST(ProtocolTest, ErrorsMapToStatusCodes) {
  auto problem = DecodeEvaluate(
      R"({"protocol":1,"id":2,"ok":false,"error":{"kind":"problem","message":"/p.py: missing Model"}})",
      2);
  ASSERT_FALSE(problem.has_value());
  EXPECT_EQ(problem.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(problem.error().message(), "/p.py: missing Model");

  auto internal = DecodeEvaluate(
      R"({"protocol":1,"id":2,"ok":false,"error":{"kind":"internal","message":"bug"}})", 2);
  ASSERT_FALSE(internal.has_value());
  EXPECT_EQ(internal.error().code(), StatusCode::kInternal);
}

TEST(ProtocolTest, RejectsMalformedOrMismatchedReplies) {
  EXPECT_FALSE(DecodeEvaluate("not json", 1).has_value());
  EXPECT_FALSE(DecodeEvaluate(R"({"protocol":2,"id":1,"ok":true})", 1).has_value());
  EXPECT_FALSE(DecodeEvaluate(R"({"protocol":1,"id":9,"ok":true,"outcome":"wrong"})", 1)
                   .has_value());
  // Only kswarm decides a timeout.
  EXPECT_FALSE(DecodeEvaluate(R"({"protocol":1,"id":1,"ok":true,"outcome":"timeout"})", 1)
                   .has_value());
  // A pass must carry its timings.
  EXPECT_FALSE(DecodeEvaluate(R"({"protocol":1,"id":1,"ok":true,"outcome":"passed"})", 1)
                   .has_value());
}

}  // namespace
}  // namespace kswarm::evaluator
