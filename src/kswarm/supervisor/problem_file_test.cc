#include "kswarm/supervisor/problem_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace kswarm::supervisor {
namespace {

TEST(ProblemFileTest, LevelComesFromNearestLevelFolder) {
  EXPECT_EQ(LevelFromPath("/x/problems/level2/01_a.py"), 2);
  EXPECT_EQ(LevelFromPath("/kb/KernelBench/level3/sub/b.py"), 3);
  EXPECT_EQ(LevelFromPath("/kb/level1/level_4/c.py"), 4);
  EXPECT_EQ(LevelFromPath("/x/problems/d.py"), std::nullopt);
  EXPECT_EQ(LevelFromPath("/x/levelup/d.py"), std::nullopt);
}

TEST(ProblemFileTest, ReadsNameLevelSourceAndHash) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(::testing::TempDir()) / "kswarm_pf" / "level1";
  fs::create_directories(dir);
  std::ofstream(dir / "07_gelu.py") << "abc";
  auto p = ReadProblemFile((dir / "07_gelu.py").string());
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_EQ(p->name, "07_gelu");
  EXPECT_EQ(p->level, 1);
  EXPECT_EQ(p->source, "abc");
  EXPECT_EQ(p->source_sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  fs::remove_all(dir.parent_path());
}

TEST(ProblemFileTest, MissingFilesAreBadInputNamingTheFile) {
  auto p = ReadProblemFile("/nonexistent/level1/p.py");
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.error().message().find("problem file /nonexistent/level1/p.py"), std::string::npos)
      << p.error().message();
  auto c = ReadCandidateFile("/nonexistent/c.py", "user");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("candidate file"), std::string::npos);
  auto d = ReadProblemFile(::testing::TempDir());
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().message().find("is a directory"), std::string::npos);
}

}  // namespace
}  // namespace kswarm::supervisor
