#include "kswarm/agents/recipe_search.h"

#include <gtest/gtest.h>

namespace kswarm::agents {
namespace {

Ingredients R(const std::string& name) {
  auto parsed = ParseIngredients(name);
  EXPECT_TRUE(parsed.has_value()) << name;
  return parsed.value_or(Ingredients{});
}

SearchStep Step(const std::string& name, double speedup, double seconds, bool passed = true) {
  return SearchStep{R(name), passed, speedup, seconds};
}

const ProblemTraits kConvBn{true, true, true};
const ProblemTraits kConv{true, false, true};
const ProblemTraits kLinear{false, false, true};
const ProblemTraits kElementwise{false, false, false};
const SearchStep kOneThreadLost{Ingredients{.single_thread = true}, true, 0.95, 1};
const ProblemTraits kCudaConvBn{true, true, true, true};
const ProblemTraits kCudaConv{true, false, true, true};
const ProblemTraits kCudaLinear{false, false, true, true};
const ProblemTraits kCudaElementwise{false, false, false, true};

struct Case {
  const char* what;
  ProblemTraits traits;
  std::vector<SearchStep> tried;
  double budget_s;
  const char* next;  // nullptr: the search is done
};

TEST(RecipeSearchTest, NextRecipeTable) {
  const std::vector<Case> cases = {
      {"on the CPU every problem starts with one thread", kElementwise, {}, 60, "single_thread"},
      {"one thread that is faster stays under what comes next", kConvBn,
       {Step("single_thread", 1.3, 2)}, 60, "single_thread+channels_last"},
      {"a single thread is not a CUDA ingredient", kCudaElementwise, {}, 60, "cuda_graph"},
      // The CPU cases below start after one thread that lost.
      {"a convolution with batch norms then tries the cheapest layout", kConvBn, {kOneThreadLost},
       60,
       "channels_last"},
      {"a faster layout stays, and the fold is tried on top of it", kConvBn,
       {kOneThreadLost, Step("channels_last", 1.2, 5)}, 60, "channels_last+fold_batchnorm"},
      {"a fold that is slower on top of it is dropped; the compile comes next", kConvBn,
       {kOneThreadLost, Step("channels_last", 1.2, 5),
        Step("channels_last+fold_batchnorm", 1.1, 5)},
       60,
       "channels_last+torch_compile"},
      {"a faster compile stays, and freezing replaces it", kConvBn,
       {kOneThreadLost, Step("channels_last", 1.2, 5), Step("channels_last+fold_batchnorm", 1.1, 5),
        Step("channels_last+torch_compile", 1.5, 12)},
       60, "channels_last+torch_compile_freezing"},
      {"every ingredient tried once: done", kConvBn,
       {kOneThreadLost, Step("channels_last", 1.2, 5), Step("channels_last+fold_batchnorm", 1.1, 5),
        Step("channels_last+torch_compile", 1.5, 12),
        Step("channels_last+torch_compile_freezing", 1.4, 15)},
       60, nullptr},
      {"a slower layout leaves eager as the base; compiling alone is torch_compile's", kConv,
       {kOneThreadLost, Step("channels_last", 0.9, 5)}, 60, "torch_compile_freezing"},
      {"a wrong candidate is never the base, however fast", kConvBn,
       {kOneThreadLost, Step("channels_last", 3.0, 5, /*passed=*/false)}, 60, "fold_batchnorm"},
      {"a gain under the adopt gain is not adopted", kConvBn,
       {kOneThreadLost, Step("channels_last", 1.005, 5)}, 60, "fold_batchnorm"},
      {"a gain at the adopt gain is", kConvBn, {kOneThreadLost, Step("channels_last", 1.0101, 5)},
       60,
       "channels_last+fold_batchnorm"},
      {"layers with weights and no convolution: freezing alone", kLinear, {kOneThreadLost}, 60,
       "torch_compile_freezing"},
      {"element-wise work: nothing beyond torch_compile", kElementwise, {kOneThreadLost}, 60,
       nullptr},
      {"the budget spent: done", kConvBn, {kOneThreadLost, Step("channels_last", 1.2, 61)}, 60,
       nullptr},
      {"a compile that could not finish within what is left is skipped", kConvBn,
       {kOneThreadLost, Step("channels_last", 1.2, 5), Step("channels_last+fold_batchnorm", 1.3, 5),
        Step("channels_last+fold_batchnorm+torch_compile", 1.1, 25)},
       40, nullptr},
      {"a failed compile still says what compiling costs", kConv,
       {kOneThreadLost, Step("channels_last", 1.2, 5),
        Step("channels_last+torch_compile", 0, 30, false)},
       50,
       nullptr},
      // On a CUDA device the backend flag, the graph and max-autotune join in.
      {"CUDA: element-wise work starts with a graph", kCudaElementwise, {}, 60, "cuda_graph"},
      {"CUDA: a faster graph gets a compile inside it", kCudaElementwise,
       {Step("cuda_graph", 1.5, 3)}, 60, "cuda_graph+torch_compile"},
      {"CUDA: a slower graph on element-wise work: nothing beyond torch_compile",
       kCudaElementwise, {Step("cuda_graph", 0.9, 3)}, 60, nullptr},
      {"CUDA: a slower layout leaves cuDNN autotuning alone next", kCudaConv,
       {Step("channels_last", 0.9, 5)}, 60, "cudnn_benchmark"},
      {"CUDA: a faster layout gets autotuning on top", kCudaConvBn,
       {Step("channels_last", 1.2, 5), Step("channels_last+fold_batchnorm", 1.1, 5)}, 60,
       "channels_last+cudnn_benchmark"},
      {"CUDA: layers with weights, after a slower graph, freeze", kCudaLinear,
       {Step("cuda_graph", 0.95, 3)}, 60, "torch_compile_freezing"},
      {"CUDA: max-autotune replaces the compile it is tried against", kCudaConv,
       {Step("channels_last", 0.9, 1), Step("cudnn_benchmark", 1.0, 1), Step("cuda_graph", 1.1, 3),
        Step("cuda_graph+torch_compile", 1.3, 20),
        Step("cuda_graph+torch_compile_freezing", 1.2, 20)},
       90, "cuda_graph+torch_compile_max_autotune"},
      {"CUDA: max-autotune is skipped where the budget left is under the longest compile",
       kCudaConv,
       {Step("channels_last", 0.9, 1), Step("cudnn_benchmark", 1.0, 1), Step("cuda_graph", 1.1, 3),
        Step("cuda_graph+torch_compile", 1.3, 20),
        Step("cuda_graph+torch_compile_freezing", 1.2, 20)},
       60, nullptr},
      {"CUDA: max-autotune is for convolutions: an fp32 GEMM is cuBLAS's at its best", kCudaLinear,
       {Step("cuda_graph", 1.1, 3), Step("cuda_graph+torch_compile", 1.3, 20),
        Step("cuda_graph+torch_compile_freezing", 1.2, 20)},
       600, nullptr},
      {"CUDA: and never for element-wise work", kCudaElementwise,
       {Step("cuda_graph", 1.5, 3), Step("cuda_graph+torch_compile", 2.0, 20)}, 600, nullptr},
  };
  for (const Case& c : cases) {
    auto next = NextRecipe(c.traits, c.tried, c.budget_s);
    std::string got = next ? IngredientsName(*next) : "done";
    EXPECT_EQ(got, c.next ? c.next : "done") << c.what;
  }
}

// The agent's attempts are capped at kMaxSearchSteps: no search may need more.
TEST(RecipeSearchTest, EveryIngredientWinningTakesTheMostSteps) {
  auto walk = [](const ProblemTraits& traits) {
    std::vector<SearchStep> tried;
    double speedup = 1;
    while (auto next = NextRecipe(traits, tried, 1e9)) {
      speedup *= 1.5;
      tried.push_back({*next, true, speedup, 1});
    }
    return tried;
  };
  auto cuda = walk(kCudaConvBn);
  EXPECT_EQ(cuda.size(), 7u);
  EXPECT_EQ(IngredientsName(cuda.back().recipe),
            "channels_last+fold_batchnorm+cudnn_benchmark+cuda_graph+torch_compile_max_autotune");
  auto cpu = walk(kConvBn);
  EXPECT_EQ(cpu.size(), 5u);
  EXPECT_EQ(IngredientsName(cpu.back().recipe),
            "single_thread+channels_last+fold_batchnorm+torch_compile_freezing");
  EXPECT_LE(static_cast<int>(std::max(cuda.size(), cpu.size())), kMaxSearchSteps);
}

TEST(RecipeSearchTest, NamesRoundTripInOneOrder) {
  EXPECT_EQ(IngredientsName(R("torch_compile_freezing+channels_last")),
            "channels_last+torch_compile_freezing");
  EXPECT_EQ(IngredientsName(Ingredients{}), "eager");
  Ingredients all{.channels_last = true, .fold_batchnorm = true, .cudnn_benchmark = true,
                  .cuda_graph = true, .compile = CompileMode::kFreezing};
  EXPECT_EQ(R(IngredientsName(all)), all);
  for (const char* bad : {"", "channels_last+channels_last", "torch_compile+torch_compile_freezing",
                          "torch_compile_freezing+torch_compile_max_autotune",
                          "cuda_graph+cuda_graph",
                          "channels_last+tf32", "single_thread+cuda_graph", "channels_last+",
                          "+fold_batchnorm"}) {
    EXPECT_FALSE(ParseIngredients(bad).has_value()) << bad;
  }
}

TEST(RecipeSearchTest, TraitsComeFromTheProblemsLayers) {
  ProblemTraits t = TraitsOf("self.conv = nn.Conv2d(3, 8, 3)\nself.bn = nn.BatchNorm2d(8)\n", true);
  EXPECT_TRUE(t.convolution && t.batch_norm && t.weights && t.cuda);
  t = TraitsOf("self.fc = nn.Linear(8, 8)\n", false);
  EXPECT_TRUE(!t.convolution && !t.batch_norm && t.weights && !t.cuda);
  t = TraitsOf("return torch.nn.functional.gelu(x)\n", false);
  EXPECT_TRUE(!t.convolution && !t.batch_norm && !t.weights);
}

}  // namespace
}  // namespace kswarm::agents
