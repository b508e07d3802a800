// Drives real build processes (KSWARM_PYTHON, with torch) on the CPU. Candidates compile CUDA
// kernels through kswarm_rt (NVRTC needs no GPU) for an sm_90 target, which keeps every build here
// well under a second; the C++-extension path through the pool is covered end to end in
// tests/e2e/test_build.py.
#include "kswarm/evaluator/build_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "kswarm/util/files.h"

namespace kswarm::evaluator {
namespace {

namespace fs = std::filesystem;
using Kind = BuildOutcome::Kind;

constexpr const char* kRtCandidate = R"py(
import kswarm_rt, torch.nn as nn
SRC = r'''extern "C" __global__ void twice(const float* x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = {body};
}'''
kernel = kswarm_rt.kernel(SRC, "twice")
class ModelNew(nn.Module):
    def forward(self, x):
        return x * 2
)py";

class BuildPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           fmt::format("kswarm_build_pool_{}_{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "nvrtc");
  }
  void TearDown() override { fs::remove_all(dir_); }

  BuildPoolConfig Config(int jobs = 1, double timeout_s = 120) {
    BuildPoolConfig config;
    config.worker = DefaultWorkerConfig();
    // Builds may write the test's folder: markers are how they tell the test what they did.
    config.worker.extra_env = {"TORCH_EXTENSIONS_DIR=" + (dir_ / "ext").string(),
                               "KSWARM_RT_CACHE=" + (dir_ / "nvrtc").string(),
                               "KSWARM_JAIL_WRITABLE=" + dir_.string()};
    config.build_arch = "sm_90";
    config.jobs = jobs;
    config.timeout_s = timeout_s;
    return config;
  }

  // Writes a candidate; returns {path, sha256}.
  std::pair<std::string, std::string> Write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return {p.string(), Sha256Hex(text)};
  }

  static std::string RtCandidate(const std::string& body) {
    std::string text = kRtCandidate;
    text.replace(text.find("{body}"), 6, body);
    return text;
  }

  // Kernels a build compiled, in the candidates' own folders (the only place it may write).
  size_t Cubins() {
    size_t n = 0;
    if (!fs::exists(dir_ / "ext")) return 0;
    for (const auto& e : fs::recursive_directory_iterator(dir_ / "ext")) {
      n += e.path().extension() == ".cubin";
    }
    return n;
  }

  fs::path dir_;
};

TEST(CompilesOnImportTest, ExtensionsAndKswarmRtButNotPlainTorch) {
  EXPECT_TRUE(CompilesOnImport("from torch.utils.cpp_extension import load_inline\n"));
  EXPECT_TRUE(CompilesOnImport("import kswarm_rt\n"));
  EXPECT_FALSE(CompilesOnImport("import torch\nclass ModelNew(torch.nn.Module): pass\n"));
}

TEST_F(BuildPoolTest, BuildsIntoTheCacheOncePerContent) {
  BuildPool pool(Config());
  auto [path, sha] = Write("a.py", RtCandidate("2.0f * x[i]"));
  pool.Submit(path, sha);
  pool.Submit(path, sha);  // the same content again: no second build
  auto built = pool.Wait(sha);
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->kind, Kind::kBuilt) << built->message;
  EXPECT_EQ(pool.builds_started(), 1);
  EXPECT_EQ(Cubins(), 1u);
  EXPECT_FALSE(pool.Wait("never submitted").has_value());
}

TEST_F(BuildPoolTest, ACompileErrorIsAVerdictWithTheCompilersMessage) {
  BuildPool pool(Config());
  auto [path, sha] = Write("bad.py", RtCandidate("2.0f * undefined_value"));
  pool.Submit(path, sha);
  auto built = pool.Wait(sha);
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->kind, Kind::kCompileError);
  EXPECT_NE(built->message.find("undefined_value"), std::string::npos) << built->message;
}

TEST_F(BuildPoolTest, ACandidateTheStaticCheckRejectsIsNeverImported) {
  BuildPool pool(Config());
  fs::path marker = dir_ / "imported";
  auto [path, sha] = Write("db.py", fmt::format("import sqlite3\nopen({:?}, 'w').write('x')\n",
                                                marker.string()));
  pool.Submit(path, sha);
  auto built = pool.Wait(sha);
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->kind, Kind::kSkipped);
  EXPECT_FALSE(fs::exists(marker));
}

TEST_F(BuildPoolTest, AHangingBuildIsKilledAtItsDeadline) {
  BuildPool pool(Config(1, /*timeout_s=*/3));
  auto [path, sha] = Write("hang.py", "import time\ntime.sleep(600)\n");
  auto started = std::chrono::steady_clock::now();
  pool.Submit(path, sha);
  auto built = pool.Wait(sha);
  double waited_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(built->kind, Kind::kTimeout);
  EXPECT_LT(waited_s, 30);
}

TEST_F(BuildPoolTest, BuildsRunSideBySide) {
  // Each candidate announces itself and waits (up to 60 s) to see the other's announcement: with
  // two slots both see each other; one at a time, the first would give up and say so.
  BuildPool pool(Config(/*jobs=*/2));
  auto text = [&](const char* me, const char* other) {
    return fmt::format(
        "import os, time\nopen({:?}, 'w').close()\nfor _ in range(600):\n"
        "    if os.path.exists({:?}):\n        break\n    time.sleep(0.1)\nelse:\n"
        "    raise RuntimeError('built alone')\n",
        (dir_ / me).string(), (dir_ / other).string());
  };
  auto [a, sha_a] = Write("a.py", text("a_started", "b_started"));
  auto [b, sha_b] = Write("b.py", text("b_started", "a_started"));
  pool.Submit(a, sha_a);
  pool.Submit(b, sha_b);
  pool.WaitAll();
  EXPECT_EQ(pool.Wait(sha_a)->kind, Kind::kBuilt) << pool.Wait(sha_a)->message;
  EXPECT_EQ(pool.Wait(sha_b)->kind, Kind::kBuilt) << pool.Wait(sha_b)->message;
  EXPECT_EQ(pool.builds_started(), 2);
}

}  // namespace
}  // namespace kswarm::evaluator
