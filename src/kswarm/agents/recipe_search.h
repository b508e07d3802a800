// Combinations of built-in recipes, and the search over them that the `recipe_search` agent walks
// per problem (docs/agents.md, "Recipe search", states the rule): a pure function of the attempts
// so far, tested as a table in recipe_search_test.cc.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace kswarm::agents {

enum class CompileMode { kNone, kDefault, kFreezing, kMaxAutotune };

// What a combination applies, each an ingredient that is also a built-in agent of its own.
struct Ingredients {
  bool single_thread = false;  // one intra-op thread for the call, the caller's count restored
  bool channels_last = false;
  bool fold_batchnorm = false;
  bool cudnn_benchmark = false;
  bool cuda_graph = false;  // the whole call (compiled or not) captured and replayed
  CompileMode compile = CompileMode::kNone;
  bool operator==(const Ingredients&) const = default;
};

// The names of its ingredients, in the search's order (each the name of a built-in agent).
std::vector<std::string> IngredientNames(const Ingredients& ingredients);
// "channels_last, fold_batchnorm, ... and torch_compile_max_autotune": every ingredient, in the
// search's order, as help and errors name them.
std::string IngredientList();
// "channels_last+fold_batchnorm+torch_compile_freezing", in the search's order; "eager" when empty.
std::string IngredientsName(const Ingredients& ingredients);
// Whether some ingredient of it runs on a CUDA device only, or on the CPU only.
bool CudaOnly(const Ingredients& ingredients);
bool CpuOnly(const Ingredients& ingredients);
// The inverse of IngredientsName for names of one ingredient or more joined by '+', in any order;
// nullopt for an unknown ingredient, a repeated one, two compile modes, or a CPU-only ingredient
// with a CUDA-only one.
std::optional<Ingredients> ParseIngredients(const std::string& name);

// What a problem's source shows, and where it runs, which decide where an ingredient can apply
// or pay.
struct ProblemTraits {
  bool convolution = false;
  bool batch_norm = false;
  bool weights = false;  // layers with weights (linear, convolution, recurrent, attention)
  bool cuda = false;     // the target is a CUDA device
};
ProblemTraits TraitsOf(const std::string& problem_source, bool cuda);

// One evaluated combination, as the agent's history tells it.
struct SearchStep {
  Ingredients recipe;
  bool passed = false;  // passed and not flagged
  std::optional<double> speedup;
  double seconds = 0;  // the evaluation's wall time, builds and compiles included
};

// The next combination to evaluate, or nullopt when the search is done. Greedy forward selection,
// cheap ingredients first: each ingredient is tried once on top of the best combination so far
// and stays when its first evaluation is at least `kAdoptGain` faster. Compiling alone is left to
// torch_compile, which every run evaluates. The search stops once the evaluations spent
// `budget_s`, and skips a compile it could not finish within what is left.
inline constexpr double kAdoptGain = 0.01;
inline constexpr int kMaxSearchSteps = 8;  // one per ingredient
std::optional<Ingredients> NextRecipe(const ProblemTraits& traits,
                                      const std::vector<SearchStep>& tried, double budget_s);

}  // namespace kswarm::agents
