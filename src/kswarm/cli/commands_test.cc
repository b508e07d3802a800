#include "kswarm/cli/commands.h"

#include <gtest/gtest.h>

namespace kswarm::cli {
namespace {

TEST(HostBusyTest, Table) {
  struct Case {
    double load;
    int cores;
    bool busy;
  };
  for (const Case& c : std::vector<Case>{{0.1, 2, false},
                                         {1.0, 2, false},
                                         {1.01, 2, true},
                                         {4.2, 2, true},
                                         {7.9, 16, false},
                                         {8.5, 16, true},
                                         {3.0, 0, false}}) {
    EXPECT_EQ(HostBusy(c.load, c.cores), c.busy) << c.load << " on " << c.cores;
  }
}

TEST(RunHeaderTest, NamesTheDeviceAndAgentsWithNothingDangling) {
  core::Environment env;
  env.device_type = "cpu";
  env.device_name = "AMD EPYC";
  EXPECT_EQ(RunHeader("r", 1, env, 1, {"torch_compile"}),
            "kswarm: run 'r': 1 problem on cpu (AMD EPYC); agents: torch_compile\n");
  env.device_type = "cuda";
  env.device_name = "NVIDIA H200";
  EXPECT_EQ(RunHeader("r", 39, env, 2, {"torch_compile", "gpt-5", "gpt-5+profile"}),
            "kswarm: run 'r': 39 problems on cuda (NVIDIA H200) x2; agents: torch_compile, "
            "gpt-5, gpt-5+profile\n");
  env.device_name.clear();
  EXPECT_EQ(RunHeader("r", 2, env, 1, {"torch_compile"}),
            "kswarm: run 'r': 2 problems on cuda; agents: torch_compile\n");
}

}  // namespace
}  // namespace kswarm::cli
