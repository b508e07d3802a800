#include "kswarm/agents/builtin_agents.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "kswarm/agents/recipe_search.h"

namespace kswarm::agents {
namespace {

const char* kLinearProblem = R"py(import torch
import torch.nn as nn

class Model(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.lin = nn.Linear(n, n)
    def forward(self, x):
        return self.lin(x)

def get_inputs():
    return [torch.randn(4, 8)]

def get_init_inputs():
    return [8]
)py";

const char* kConvProblem = "import torch.nn as nn\nclass Model(nn.Module):\n"
                           "    def __init__(self):\n        super().__init__()\n"
                           "        self.c = nn.Conv2d(3, 8, 3)\n";

AgentRequest Request(const char* source, const std::string& device) {
  AgentRequest r;
  r.problem.name = "p";
  r.problem.source = source;
  r.device.type = device;
  return r;
}

std::unique_ptr<Agent> Make(const std::string& name, bool reduced = false) {
  auto agents = MakeBuiltinAgents({name}, reduced);
  EXPECT_TRUE(agents.has_value()) << agents.error().ToString();
  return std::move((*agents)[0]);
}

TEST(BuiltinAgentsTest, CandidateCarriesTheProblemAndAModelNewSubclass) {
  auto agent = Make("torch_compile");
  auto p = agent->Propose(Request(kLinearProblem, "cpu"));
  ASSERT_TRUE(p.has_value());
  ASSERT_TRUE(p->has_value());
  const std::string& src = (*p)->source;
  EXPECT_NE(src.find(kLinearProblem), std::string::npos);
  EXPECT_NE(src.find("class ModelNew(Model):"), std::string::npos);
  EXPECT_NE(src.find("kswarm built-in agent 'torch_compile'"), std::string::npos);
  EXPECT_NE(src.find("_ks_torch.compile("), std::string::npos);
}

// Three models of the torch_compile recipe in one process, each compiled, none recompiling
// torch.compile's code for another: with a limit of one compilation per code object and a hard
// failure past it, a recipe whose compiled code were shared between models (as a
// functools.partial's wrapper is) fails at the second model.
TEST(BuiltinAgentsTest, TorchCompileModelsOfOneProcessEachCompileTheirOwnCode) {
  auto p = Make("torch_compile")->Propose(Request(kLinearProblem, "cpu"));
  ASSERT_TRUE(p.has_value() && p->has_value());
  namespace fs = std::filesystem;
  fs::path dir = fs::path(::testing::TempDir()) / ("kswarm_tc_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "candidate.py") << (*p)->source;
  std::ofstream(dir / "check.py") << R"py(import functools, importlib.util, sys, torch
torch._dynamo.config.recompile_limit = 1
torch._dynamo.config.fail_on_recompile_limit_hit = True
torch.compile = functools.partial(torch.compile, backend="eager")  # Dynamo alone: no C++ build
for i in range(3):
    spec = importlib.util.spec_from_file_location(f"candidate_{i}", sys.argv[1])
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.ModelNew(*module.get_init_inputs())
    x = torch.randn(4, 8)
    with torch.no_grad():
        assert torch.equal(model(x), module.Model.forward(model, x))
)py";
  const char* python = std::getenv("KSWARM_PYTHON");
  std::string command = std::string(python && *python ? python : KSWARM_TEST_PYTHON) + " " +
                        (dir / "check.py").string() + " " + (dir / "candidate.py").string();
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  fs::remove_all(dir);
}

TEST(BuiltinAgentsTest, OneAttemptPerProblem) {
  auto agent = Make("torch_compile");
  AgentRequest r = Request(kLinearProblem, "cpu");
  r.history.push_back(Attempt{"x", core::Outcome::kPassed, "ok", 1.2, ""});
  auto p = agent->Propose(r);
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(p->has_value());
}

TEST(BuiltinAgentsTest, DeviceAndConvolutionFilters) {
  EXPECT_FALSE(Make("cuda_graph")->Propose(Request(kLinearProblem, "cpu"))->has_value());
  EXPECT_TRUE(Make("cuda_graph")->Propose(Request(kLinearProblem, "cuda"))->has_value());
  EXPECT_FALSE(Make("channels_last")->Propose(Request(kLinearProblem, "cpu"))->has_value());
  EXPECT_TRUE(Make("channels_last")->Propose(Request(kConvProblem, "cpu"))->has_value());
}

TEST(BuiltinAgentsTest, BatchNormFoldingNeedsAConvolutionAndABatchNorm) {
  auto agent = Make("fold_batchnorm");
  EXPECT_FALSE(agent->Propose(Request(kConvProblem, "cpu"))->has_value());
  EXPECT_FALSE(agent->Propose(Request("x = F.batch_norm(x, m, v)\n", "cpu"))->has_value());
  std::string both = std::string(kConvProblem) + "        self.bn = nn.BatchNorm2d(8)\n";
  auto p = agent->Propose(Request(both.c_str(), "cuda"));
  ASSERT_TRUE(p->has_value());
  EXPECT_NE((*p)->source.find("_ks_fold_batchnorm"), std::string::npos);
  // Other built-ins do not carry the folding helpers.
  auto other = Make("torch_compile")->Propose(Request(both.c_str(), "cpu"));
  EXPECT_EQ((*other)->source.find("_ks_fold_batchnorm"), std::string::npos);
}

const std::string kConvBnProblem = std::string(kConvProblem) + "        self.bn = nn.BatchNorm2d(8)\n";

TEST(BuiltinAgentsTest, CombinationsAreNamedByTheirIngredientsInOneOrder) {
  auto agent = Make("torch_compile_freezing+channels_last");
  EXPECT_EQ(agent->name(), "channels_last+torch_compile_freezing");
  auto p = agent->Propose(Request(kConvProblem, "cpu"));
  ASSERT_TRUE(p.has_value() && p->has_value());
  EXPECT_NE((*p)->source.find("\n# kswarm recipe: channels_last+torch_compile_freezing\n"),
            std::string::npos);
  EXPECT_NE((*p)->source.find("single_thread=False, channels_last=True, fold_batchnorm=False,\n"
                              "            cudnn_benchmark=False, cuda_graph=False, "
                              "compile=\"freezing\""),
            std::string::npos);
  // Each ingredient's needs hold for the combination.
  EXPECT_FALSE(Make("fold_batchnorm+torch_compile")->Propose(Request(kConvProblem, "cpu"))
                   ->has_value());
  EXPECT_TRUE(Make("fold_batchnorm+torch_compile")
                  ->Propose(Request(kConvBnProblem.c_str(), "cpu"))
                  ->has_value());
  for (const char* name : {"channels_last+tf32", "torch_compile+torch_compile_max_autotune",
                           "single_thread+cuda_graph"}) {
    auto bad = MakeBuiltinAgents({name}, true);
    ASSERT_FALSE(bad.has_value()) << name;
    EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(bad.error().message().find("cudnn_benchmark, cuda_graph"), std::string::npos);
  }
}

TEST(BuiltinAgentsTest, CombinationsWithACudaIngredientProposeOnCudaOnly) {
  auto agent = Make("cuda_graph+channels_last+torch_compile_max_autotune");
  EXPECT_EQ(agent->name(), "channels_last+cuda_graph+torch_compile_max_autotune");
  EXPECT_FALSE(agent->Propose(Request(kConvProblem, "cpu"))->has_value());
  auto p = agent->Propose(Request(kConvProblem, "cuda"));
  ASSERT_TRUE(p.has_value() && p->has_value());
  EXPECT_NE((*p)->source.find("single_thread=False, channels_last=True, fold_batchnorm=False,\n"
                              "            cudnn_benchmark=False, cuda_graph=True, "
                              "compile=\"max_autotune\""),
            std::string::npos);
  // One thread is for the CPU only.
  EXPECT_TRUE(Make("single_thread+channels_last")->Propose(Request(kConvProblem, "cpu"))
                  ->has_value());
  EXPECT_FALSE(Make("single_thread")->Propose(Request(kConvProblem, "cuda"))->has_value());
  // The listed agent of two ingredients is that combination, under its own name.
  auto listed = Make("channels_last_cudnn_benchmark")->Propose(Request(kConvProblem, "cuda"));
  ASSERT_TRUE(listed.has_value() && listed->has_value());
  EXPECT_NE((*listed)->source.find("# kswarm recipe: channels_last+cudnn_benchmark\n"),
            std::string::npos);
}

// Their candidates run as kswarm's own recipes (shared caches): no other name may pass for one.
TEST(BuiltinAgentsTest, OnlyBuiltinsAndCombinationsAreBuiltin) {
  for (const char* name : {"torch_compile", "recipe_search", "fold_batchnorm+channels_last",
                           "channels_last+torch_compile"}) {
    EXPECT_TRUE(IsBuiltinAgent(name)) << name;
  }
  for (const char* name : {"hand-written", "gpt+reference", "channels_last+reference", "",
                           "channels_last+"}) {
    EXPECT_FALSE(IsBuiltinAgent(name)) << name;
  }
}

// The search reads its own attempts back (which recipe, how it did, what it cost) and stops at
// its budget: the policy itself is tested in recipe_search_test.cc.
TEST(BuiltinAgentsTest, RecipeSearchTakesItsNextStepFromItsHistory) {
  auto agent = MakeBuiltinAgents({"recipe_search"}, false, {/*recipe_budget_s=*/10});
  ASSERT_TRUE(agent.has_value());
  Agent& search = *agent->front();
  EXPECT_EQ(search.max_attempts(), kMaxSearchSteps);
  AgentRequest r = Request(kConvBnProblem.c_str(), "cpu");
  auto first = search.Propose(r);
  ASSERT_TRUE(first.has_value() && first->has_value());
  EXPECT_NE((*first)->source.find("# kswarm recipe: single_thread\n"), std::string::npos);
  // single_thread's own candidate, to the byte: a run with both evaluates it once.
  EXPECT_EQ((*first)->source, (*Make("single_thread")->Propose(r))->source);
  r.history.push_back(Attempt{(*first)->source, core::Outcome::kPassed, "", 1.2, "", 4});
  auto second = search.Propose(r);
  ASSERT_TRUE(second.has_value() && second->has_value());
  EXPECT_NE((*second)->source.find("# kswarm recipe: single_thread+channels_last\n"),
            std::string::npos);
  r.history.push_back(Attempt{(*second)->source, core::Outcome::kWrong, "", std::nullopt, "", 7});
  auto done = search.Propose(r);  // 11 s of 10 spent
  ASSERT_TRUE(done.has_value());
  EXPECT_FALSE(done->has_value());
  // On a CUDA device a graph comes first, written as the cuda_graph agent writes it.
  AgentRequest elementwise = Request("y = torch.relu(x)\n", "cuda");
  auto graph = search.Propose(elementwise);
  ASSERT_TRUE(graph.has_value() && graph->has_value());
  EXPECT_EQ((*graph)->source, (*Make("cuda_graph")->Propose(elementwise))->source);
}

TEST(BuiltinAgentsTest, ReducedPrecisionNeedsThePolicy) {
  auto refused = MakeBuiltinAgents({"tf32"}, /*allow_reduced_precision=*/false);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.error().message().find("--precision reduced"), std::string::npos);
  EXPECT_TRUE(Make("tf32", /*reduced=*/true)->reduced_precision());
  EXPECT_FALSE(Make("torch_compile")->reduced_precision());
}

TEST(BuiltinAgentsTest, UnknownNameListsTheKnownOnes) {
  auto agents = MakeBuiltinAgents({"magic"}, true);
  ASSERT_FALSE(agents.has_value());
  EXPECT_NE(agents.error().message().find("cuda_graph"), std::string::npos);
}

TEST(BuiltinAgentsTest, DefaultsExistAndFitTheDevice) {
  for (const std::string device : {"cuda", "cpu"}) {
    auto names = DefaultBuiltinNames(device);
    ASSERT_FALSE(names.empty());
    auto agents = MakeBuiltinAgents(names, /*allow_reduced_precision=*/false);
    ASSERT_TRUE(agents.has_value()) << device;
    for (const BuiltinInfo& info : BuiltinAgents()) {
      if (device == "cpu" && info.cuda_only) {
        EXPECT_EQ(std::find(names.begin(), names.end(), info.name), names.end()) << info.name;
      }
    }
  }
}

}  // namespace
}  // namespace kswarm::agents
