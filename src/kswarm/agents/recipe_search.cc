#include "kswarm/agents/recipe_search.h"

#include <algorithm>
#include <regex>
#include <sstream>

namespace kswarm::agents {
namespace {

struct Move {
  const char* name;
  bool compiles;
  bool (*applies)(const ProblemTraits&);
  void (*apply)(Ingredients&);
};

// Cheapest first: a layout or a fold costs an evaluation; a compile costs one more compile, and
// freezing compiles again whenever the weights change (the drop-in check changes them once).
const std::vector<Move>& Moves() {
  static const std::vector<Move> moves = {
      {"channels_last", false, [](const ProblemTraits& t) { return t.convolution; },
       [](Ingredients& i) { i.channels_last = true; }},
      {"fold_batchnorm", false,
       [](const ProblemTraits& t) { return t.convolution && t.batch_norm; },
       [](Ingredients& i) { i.fold_batchnorm = true; }},
      {"torch_compile", true, [](const ProblemTraits&) { return true; },
       [](Ingredients& i) { i.compile = CompileMode::kDefault; }},
      {"torch_compile_freezing", true, [](const ProblemTraits& t) { return t.weights; },
       [](Ingredients& i) { i.compile = CompileMode::kFreezing; }},
  };
  return moves;
}

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

std::string IngredientsName(const Ingredients& i) {
  std::vector<std::string> parts;
  if (i.channels_last) parts.push_back("channels_last");
  if (i.fold_batchnorm) parts.push_back("fold_batchnorm");
  if (i.compile == CompileMode::kDefault) parts.push_back("torch_compile");
  if (i.compile == CompileMode::kFreezing) parts.push_back("torch_compile_freezing");
  if (parts.empty()) return "eager";
  std::string name = parts[0];
  for (size_t k = 1; k < parts.size(); ++k) name += "+" + parts[k];
  return name;
}

std::optional<Ingredients> ParseIngredients(const std::string& name) {
  if (name.empty() || name.front() == '+' || name.back() == '+') return std::nullopt;
  Ingredients out;
  std::vector<std::string> seen;
  std::stringstream in(name);
  std::string part;
  while (std::getline(in, part, '+')) {
    if (std::find(seen.begin(), seen.end(), part) != seen.end()) return std::nullopt;
    seen.push_back(part);
    bool compiles = part == "torch_compile" || part == "torch_compile_freezing";
    if (compiles && out.compile != CompileMode::kNone) return std::nullopt;
    if (part == "channels_last") {
      out.channels_last = true;
    } else if (part == "fold_batchnorm") {
      out.fold_batchnorm = true;
    } else if (part == "torch_compile") {
      out.compile = CompileMode::kDefault;
    } else if (part == "torch_compile_freezing") {
      out.compile = CompileMode::kFreezing;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

ProblemTraits TraitsOf(const std::string& source) {
  static const std::regex kConv(
      R"(\b(Conv[123]d|ConvTranspose[123]d|conv[123]d|conv_transpose[123]d)\b)");
  static const std::regex kBatchNorm(R"(\b(BatchNorm[123]d|batch_norm)\b)");
  static const std::regex kWeights(
      R"(\b(Linear|Bilinear|Conv[123]d|ConvTranspose[123]d|LSTM|GRU|RNN|Embedding|)"
      R"(MultiheadAttention|Transformer\w*|Parameter)\b)");
  return {std::regex_search(source, kConv), std::regex_search(source, kBatchNorm),
          std::regex_search(source, kWeights)};
}

std::optional<Ingredients> NextRecipe(const ProblemTraits& traits,
                                      const std::vector<SearchStep>& tried, double budget_s) {
  double spent = 0;
  for (const SearchStep& s : tried) spent += s.seconds;
  if (spent >= budget_s) return std::nullopt;
  Ingredients best;  // eager, speed-up 1 by definition
  double best_speedup = 1.0;
  for (const Move& move : Moves()) {
    if (!move.applies(traits)) continue;
    Ingredients next = best;
    move.apply(next);
    if (next == best || next == Ingredients{.compile = CompileMode::kDefault}) continue;
    const SearchStep* step = Find(tried, next);
    if (step == nullptr) {
      if (spent + CostEstimate(tried, move.compiles) > budget_s) continue;
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
