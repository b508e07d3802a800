#include "kswarm/util/files.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace kswarm {
namespace {

TEST(FilesTest, Sha256OfKnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(FilesTest, ReadFileReturnsContentOrNotFound) {
  std::string path = ::testing::TempDir() + "/kswarm_files_test.txt";
  std::ofstream(path) << "line one\nline two\n";
  auto content = ReadFile(path);
  ASSERT_TRUE(content.has_value());
  EXPECT_EQ(*content, "line one\nline two\n");
  std::remove(path.c_str());

  auto missing = ReadFile(path);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.error().message().find(path), std::string::npos);
}

TEST(FilesTest, WriteFileReplacesTheContentOrNamesThePath) {
  std::string path = ::testing::TempDir() + "/kswarm_files_write_test.txt";
  ASSERT_TRUE(WriteFile(path, "a longer first content").ok());
  ASSERT_TRUE(WriteFile(path, "second").ok());
  EXPECT_EQ(ReadFile(path).value(), "second");
  std::remove(path.c_str());

  Status s = WriteFile(::testing::TempDir() + "/no/such/folder/x.txt", "x");
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("no/such/folder/x.txt"), std::string::npos);
}

}  // namespace
}  // namespace kswarm
