#include "kswarm/util/redact.h"

#include <gtest/gtest.h>

namespace kswarm {
namespace {

TEST(RedactTest, Table) {
  ClearSecrets();
  AddSecret("sk-test-0123456789abcdef");
  AddSecret("short");  // ignored
  struct Case {
    std::string in, out;
  };
  for (const Case& c : std::vector<Case>{
           {"no secret here", "no secret here"},
           {"key=sk-test-0123456789abcdef!", "key=[redacted]!"},
           {"twice sk-test-0123456789abcdef sk-test-0123456789abcdef",
            "twice [redacted] [redacted]"},
           {"reversed fedcba9876543210-tset-ks", "reversed [redacted]"},
           {"a short value stays: short", "a short value stays: short"},
       }) {
    EXPECT_EQ(Redact(c.in), c.out);
  }
  ClearSecrets();
  EXPECT_EQ(Redact("sk-test-0123456789abcdef"), "sk-test-0123456789abcdef");
}

}  // namespace
}  // namespace kswarm
