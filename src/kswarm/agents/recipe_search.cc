#include "kswarm/agents/recipe_search.h"

#include <algorithm>
#include <array>
#include <regex>
#include <sstream>

namespace kswarm::agents {
namespace {

// The ingredients, cheapest first: a thread count, a layout, a fold or a backend flag costs an
// evaluation, a CUDA graph one capture; a compile costs one more compile, freezing compiles again
// whenever the weights change (the drop-in check changes them once), and max-autotune benchmarks
// kernel templates for each GEMM and convolution, so it goes last, and only for convolutions: on
// fp32 GEMMs cuBLAS was as fast (bench/results/2026-12-06-h100-cuda-recipe-search.md). Names,
// order and search moves all come from this one table.
enum class Device { kAny, kCpu, kCuda };

struct Ingredient {
  const char* name;
  bool compiles;
  Device device;                          // where it runs at all
  bool (*applies)(const ProblemTraits&);  // where it can pay, on that device
  bool (*in)(const Ingredients&);
  void (*add)(Ingredients&);
};

template <CompileMode mode>
constexpr Ingredient Compile(const char* name, Device device,
                             bool (*applies)(const ProblemTraits&)) {
  return {name, true, device, applies, [](const Ingredients& i) { return i.compile == mode; },
          [](Ingredients& i) { i.compile = mode; }};
}

constexpr bool Always(const ProblemTraits&) { return true; }

constexpr std::array<Ingredient, kMaxSearchSteps> kIngredients = {{
    {"single_thread", false, Device::kCpu, Always,
     [](const Ingredients& i) { return i.single_thread; },
     [](Ingredients& i) { i.single_thread = true; }},
    {"channels_last", false, Device::kAny, [](const ProblemTraits& t) { return t.convolution; },
     [](const Ingredients& i) { return i.channels_last; },
     [](Ingredients& i) { i.channels_last = true; }},
    {"fold_batchnorm", false, Device::kAny,
     [](const ProblemTraits& t) { return t.convolution && t.batch_norm; },
     [](const Ingredients& i) { return i.fold_batchnorm; },
     [](Ingredients& i) { i.fold_batchnorm = true; }},
    {"cudnn_benchmark", false, Device::kCuda, [](const ProblemTraits& t) { return t.convolution; },
     [](const Ingredients& i) { return i.cudnn_benchmark; },
     [](Ingredients& i) { i.cudnn_benchmark = true; }},
    {"cuda_graph", false, Device::kCuda, Always,
     [](const Ingredients& i) { return i.cuda_graph; },
     [](Ingredients& i) { i.cuda_graph = true; }},
    Compile<CompileMode::kDefault>("torch_compile", Device::kAny, Always),
    Compile<CompileMode::kFreezing>("torch_compile_freezing", Device::kAny,
                                    [](const ProblemTraits& t) { return t.weights; }),
    Compile<CompileMode::kMaxAutotune>("torch_compile_max_autotune", Device::kCuda,
                                       [](const ProblemTraits& t) { return t.convolution; }),
}};

const SearchStep* Find(const std::vector<SearchStep>& tried, const Ingredients& recipe) {
  auto it = std::find_if(tried.begin(), tried.end(),
                         [&](const SearchStep& s) { return s.recipe == recipe; });
  return it == tried.end() ? nullptr : &*it;
}

// What a step like this one cost so far: the longest evaluation of its kind (compiling or not).
double CostEstimate(const std::vector<SearchStep>& tried, bool compiles) {
  double most = 0;
  for (const SearchStep& s : tried) {
    if ((s.recipe.compile != CompileMode::kNone) == compiles) most = std::max(most, s.seconds);
  }
  return most;
}

}  // namespace

std::vector<std::string> IngredientNames(const Ingredients& recipe) {
  std::vector<std::string> names;
  for (const Ingredient& i : kIngredients) {
    if (i.in(recipe)) names.push_back(i.name);
  }
  return names;
}

bool RunsOnlyOn(const Ingredients& recipe, Device device) {
  return std::any_of(kIngredients.begin(), kIngredients.end(),
                     [&](const Ingredient& i) { return i.device == device && i.in(recipe); });
}

bool CudaOnly(const Ingredients& recipe) { return RunsOnlyOn(recipe, Device::kCuda); }
bool CpuOnly(const Ingredients& recipe) { return RunsOnlyOn(recipe, Device::kCpu); }

std::string IngredientList() {
  std::string out = kIngredients.front().name;
  for (size_t k = 1; k < kIngredients.size(); ++k) {
    out += std::string(k + 1 < kIngredients.size() ? ", " : " and ") + kIngredients[k].name;
  }
  return out;
}

std::string IngredientsName(const Ingredients& recipe) {
  std::vector<std::string> names = IngredientNames(recipe);
  if (names.empty()) return "eager";
  std::string name = names[0];
  for (size_t k = 1; k < names.size(); ++k) name += "+" + names[k];
  return name;
}

std::optional<Ingredients> ParseIngredients(const std::string& name) {
  if (name.empty() || name.front() == '+' || name.back() == '+') return std::nullopt;
  Ingredients out;
  std::stringstream in(name);
  std::string part;
  while (std::getline(in, part, '+')) {
    auto it = std::find_if(kIngredients.begin(), kIngredients.end(),
                           [&](const Ingredient& i) { return part == i.name; });
    if (it == kIngredients.end() || it->in(out)) return std::nullopt;  // unknown or repeated
    if (it->compiles && out.compile != CompileMode::kNone) return std::nullopt;  // two compiles
    it->add(out);
  }
  if (CudaOnly(out) && CpuOnly(out)) return std::nullopt;  // runs nowhere
  return out;
}

ProblemTraits TraitsOf(const std::string& source, bool cuda) {
  static const std::regex kConv(
      R"(\b(Conv[123]d|ConvTranspose[123]d|conv[123]d|conv_transpose[123]d)\b)");
  static const std::regex kBatchNorm(R"(\b(BatchNorm[123]d|batch_norm)\b)");
  static const std::regex kWeights(
      R"(\b(Linear|Bilinear|Conv[123]d|ConvTranspose[123]d|LSTM|GRU|RNN|Embedding|)"
      R"(MultiheadAttention|Transformer\w*|Parameter)\b)");
  return {std::regex_search(source, kConv), std::regex_search(source, kBatchNorm),
          std::regex_search(source, kWeights), cuda};
}

std::optional<Ingredients> NextRecipe(const ProblemTraits& traits,
                                      const std::vector<SearchStep>& tried, double budget_s) {
  double spent = 0;
  for (const SearchStep& s : tried) spent += s.seconds;
  if (spent >= budget_s) return std::nullopt;
  Ingredients best;  // eager, speed-up 1 by definition
  double best_speedup = 1.0;
  const Device here = traits.cuda ? Device::kCuda : Device::kCpu;
  for (const Ingredient& ingredient : kIngredients) {
    if (ingredient.device != Device::kAny && ingredient.device != here) continue;
    if (!ingredient.applies(traits)) continue;
    Ingredients next = best;
    ingredient.add(next);
    if (next == best || next == Ingredients{.compile = CompileMode::kDefault}) continue;
    const SearchStep* step = Find(tried, next);
    if (step == nullptr) {
      if (spent + CostEstimate(tried, ingredient.compiles) > budget_s) continue;
      return next;
    }
    if (step->passed && step->speedup && *step->speedup >= best_speedup * (1 + kAdoptGain)) {
      best = next;
      best_speedup = *step->speedup;
    }
  }
  return std::nullopt;
}

}  // namespace kswarm::agents
