#include "kswarm/agents/builtin_agents.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "kswarm/agents/recipe_search.h"

namespace kswarm::agents {
namespace {

// One built-in: how ModelNew's __init__ ends and what its forward does. `init` and `forward` are
// Python statements indented for a method body; `self` is the constructed reference Model, and
// `Model.forward(self, *args)` runs the reference computation.
struct Recipe {
  BuiltinInfo info;
  const char* init;
  const char* forward;
  std::string helpers = "";  // extra helper code this recipe needs
  // An ingredient of combinations: its candidate is the combination of it alone, and init,
  // forward and helpers are unused.
  std::optional<Ingredients> ingredient = std::nullopt;
};

// Folds inference-mode batch norms that directly follow a convolution into the convolution.
constexpr const char* kFoldHelpers = R"py(

def _ks_bn_params(node, modules):
    """(mean, var, weight, bias, eps) of a batch norm in inference mode, else None."""
    import torch.nn.functional as F
    if node.op == "call_module" and isinstance(modules.get(node.target),
                                               _ks_torch.nn.modules.batchnorm._BatchNorm):
        bn = modules[node.target]
        if bn.training or not bn.track_running_stats or bn.running_mean is None:
            return None
        return bn.running_mean, bn.running_var, bn.weight, bn.bias, bn.eps
    if node.op == "call_function" and node.target is F.batch_norm:
        names = ["input", "running_mean", "running_var", "weight", "bias", "training",
                 "momentum", "eps"]
        args = dict(zip(names, node.args))
        args.update(node.kwargs)
        if args.get("training", False) is not False:
            return None
        values = []
        for key in ("running_mean", "running_var", "weight", "bias"):
            arg = args.get(key)
            if arg is None:
                values.append(None)
            elif getattr(arg, "op", None) == "get_attr":
                values.append(node.graph.owning_module.get_buffer(arg.target)
                              if arg.target in dict(node.graph.owning_module.named_buffers())
                              else node.graph.owning_module.get_parameter(arg.target))
            else:
                return None
        if values[0] is None or values[1] is None:
            return None
        return (*values, args.get("eps", 1e-5))
    return None


def _ks_fold_batchnorm(model):
    """A traced copy of model's forward with conv -> inference batch norm pairs folded, and the
    tensors the folded copies were computed from."""
    import copy
    gm = _ks_torch.fx.symbolic_trace(model)
    modules = dict(gm.named_modules())
    sources = []
    for node in list(gm.graph.nodes):
        params = _ks_bn_params(node, modules)
        if params is None or not node.args:
            continue
        conv_node = node.args[0]
        conv = modules.get(conv_node.target) if getattr(conv_node, "op", None) == "call_module" else None
        if not isinstance(conv, _ks_torch.nn.Conv2d) or len(conv_node.users) != 1:
            continue
        mean, var, weight, bias, eps = params
        sources += [t for t in (conv.weight, conv.bias, mean, var, weight, bias) if t is not None]
        scale = _ks_torch.rsqrt(var + eps)
        if weight is not None:
            scale = scale * weight
        folded = copy.deepcopy(conv)
        with _ks_torch.no_grad():
            folded.weight.mul_(scale.reshape(-1, 1, 1, 1))
            b = conv.bias if conv.bias is not None else _ks_torch.zeros_like(mean)
            new_bias = (b - mean) * scale + (bias if bias is not None else 0)
            folded.bias = _ks_torch.nn.Parameter(new_bias)
        name = conv_node.target.replace(".", "_") + "_ks_folded"
        gm.add_submodule(name, folded)
        with gm.graph.inserting_after(conv_node):
            new = gm.graph.call_module(name, conv_node.args, conv_node.kwargs)
        node.replace_all_uses_with(new)
        gm.graph.erase_node(node)
        gm.graph.erase_node(conv_node)
    gm.graph.eliminate_dead_code()
    gm.recompile()
    return gm, sources
)py";

// Whether weights changed since a copy was derived from them (folded, frozen into compiled code).
constexpr const char* kWeightsKeyHelpers = R"py(

# Any module, parameter or buffer (re)assigned anywhere in the process bumps this: a folded copy
# made before is then out of date. In-place changes show in the source tensors' versions.
_ks_registrations = [0]


def _ks_count_registration(*unused):
    _ks_registrations[0] += 1


for _ks_hook in ("module", "parameter", "buffer"):
    getattr(_ks_torch.nn.modules.module,
            f"register_module_{_ks_hook}_registration_hook")(_ks_count_registration)


def _ks_weights_key(sources):
    return _ks_registrations[0], [(id(t), t._version) for t in sources]
)py";

// A combination of recipes in one candidate (recipe_search, and agents named "a+b"): one thread
// for the call, the weights in channels-last, batch norms folded into convolutions, cuDNN
// autotuning, the forward compiled (with freezing or max-autotune), the whole call replayed from
// a CUDA graph.
constexpr const char* kCombinationHelpers = R"py(
import torch._inductor.config as _ks_inductor_config


@contextlib.contextmanager
def _ks_one_thread():
    """One intra-op thread for the candidate's own call; the host program's count comes back."""
    saved = _ks_torch.get_num_threads()
    _ks_torch.set_num_threads(1)
    try:
        yield
    finally:
        _ks_torch.set_num_threads(saved)


def _ks_as_model(module):
    """The same module seen as the reference class, so tracing runs Model.forward."""
    ref = Model.__new__(Model)
    ref.__dict__ = module.__dict__
    return ref


class _KsCombination:
    """Runs Model.forward for `module` the way the combination says, where no gradient is
    recorded. Batch norms in training mode are left as they are (their batch's statistics)."""

    def __init__(self, module, single_thread, channels_last, fold_batchnorm, cudnn_benchmark,
                 cuda_graph, compile):
        self.one_thread, self.channels_last = single_thread, channels_last
        self.fold, self.compile = fold_batchnorm, compile
        self.benchmark, self.graph = cudnn_benchmark, cuda_graph
        # Folded copies and frozen constants are derived from the weights: made again when
        # they change. Plain compiled code reads the weights as inputs, and so does a graph, at
        # the addresses it was captured with: captured again when a weight is reassigned.
        self.derived = fold_batchnorm or compile == "freezing"
        self.watch = self.derived or cuda_graph
        self.fn, self.sources, self.key = None, [], None
        if channels_last:
            module._apply(_ks_layout)  # each weight in its rank's channels-last layout

    def __call__(self, module, args):
        if _ks_torch.is_grad_enabled():  # gradients reach the module's own weights
            out = Model.forward(module, *args)
            return _ks_contiguous(out) if self.channels_last else out
        # The thread count holds while compiling too: Inductor's CPU code is written for it.
        with _ks_one_thread() if self.one_thread else contextlib.nullcontext():
            return self._call(module, args)

    def _call(self, module, args):
        stale = self.fn is None or (self.watch and _ks_weights_key(self.sources) != self.key)
        if stale:
            self.fn, self.sources = self._make(module)
        inputs = _ks_channels_last(args) if self.channels_last else args
        with (_ks_inductor_config.patch(freezing=True) if self.compile == "freezing"
              else contextlib.nullcontext()), \
             (_ks_flags(_ks_torch.backends.cudnn, benchmark=True) if self.benchmark
              else contextlib.nullcontext()):
            out = self.fn(*inputs)
        if stale:  # after the first call, which compiles and registers modules of its own
            self.key = _ks_weights_key(self.sources)
        if self.channels_last:
            return _ks_contiguous(out)
        # Only a compiler changes an output's layout; a replayed graph gives eager's.
        return out if self.compile == "none" else _ks_eager_layout(module, args, out)

    def _make(self, module):
        if self.fold:
            fn, sources = _ks_fold_batchnorm(_ks_as_model(module))
        else:
            fn = lambda *a: Model.forward(module, *a)
            sources = list(_ks_torch.nn.Module.parameters(module)) + \
                list(_ks_torch.nn.Module.buffers(module)) if self.derived else []
        if self.compile != "none":
            # A fresh compile: the lambda's code is shared between instances, and frozen
            # constants are not guarded.
            _ks_torch.compiler.reset()
            fn = _ks_torch.compile(fn, mode="max-autotune-no-cudagraphs"
                                   if self.compile == "max_autotune" else None)
        if self.graph:
            fn = _KsGraph(fn)
        return fn, sources
)py";

const std::vector<Recipe>& Recipes() {
  static const std::vector<Recipe> recipes = [] {
    std::vector<Recipe> out = {
        // torch.compile of the problem's own forward function, called with the module: a
        // functools.partial would be compiled through a wrapper torch.compile shares between all
        // partials of the process, which stops compiling after 8 recompilations (the 9th model
        // of a process then runs eagerly, without a word).
        {{"torch_compile", "torch.compile, default mode", false, false, false},
         "        self._ks_run = _ks_torch.compile(Model.forward)\n",
         "        return _ks_eager_layout(self, args, self._ks_run(self, *args))\n"},
        {{"torch_compile_max_autotune",
          "torch.compile, max-autotune without CUDA graphs (kernel templates benchmarked for each "
          "GEMM and convolution)"},
         "", "", "", Ingredients{.compile = CompileMode::kMaxAutotune}},
        {{"torch_compile_cudagraphs", "torch.compile with CUDA graphs (reduce-overhead)", true,
          false, false},
         "        self._ks_run = _ks_torch.compile(Model.forward, mode=\"reduce-overhead\")\n",
         "        return _ks_eager_layout(self, args, _ks_clone(self._ks_run(self, *args)))\n"},
        {{"cuda_graph",
          "the forward captured in a CUDA graph per input signature and replayed, captured again "
          "when a weight is reassigned"},
         "", "", "", Ingredients{.cuda_graph = true}},
        {{.name = "cudnn_benchmark",
          .description = "cuDNN autotuning for the convolutions",
          .convolution_only = true},
         "", "", "", Ingredients{.cudnn_benchmark = true}},
        {{"single_thread",
          "the forward on one intra-op thread (small calls lose more to waking threads than they "
          "gain), the host program's thread count restored after each call"},
         "", "", "", Ingredients{.single_thread = true}},
        {{.name = "channels_last",
          .description = "channels-last memory format for convolution models",
          .convolution_only = true},
         "", "", "", Ingredients{.channels_last = true}},
        {{.name = "channels_last_cudnn_benchmark",
          .description = "channels-last memory format and cuDNN autotuning",
          .convolution_only = true},
         "", "", "", Ingredients{.channels_last = true, .cudnn_benchmark = true}},
        {{"fold_batchnorm",
          "inference batch norms folded into the preceding convolution (fp32), folded again "
          "whenever the weights change",
          false, true, false, true},
         "", "", "", Ingredients{.fold_batchnorm = true}},
        {{"torch_compile_freezing",
          "torch.compile with Inductor's weight freezing (weights folded in as constants; on the "
          "CPU, oneDNN's prepacked convolutions), compiled again whenever the weights change",
          false, true, false},
         "", "", "", Ingredients{.compile = CompileMode::kFreezing}},
        {{"tf32", "TF32 matrix units for fp32 matmuls and convolutions (reduced precision)", true,
          false, true},
         "",
         "        with _ks_flags(_ks_torch.backends.cuda.matmul, allow_tf32=True), \\\n"
         "             _ks_flags(_ks_torch.backends.cudnn, allow_tf32=True):\n"
         "            return Model.forward(self, *args)\n"},
        {{"bf16_autocast", "bf16 autocast, outputs cast back (reduced precision)", true, false,
          true},
         "",
         "        with _ks_torch.autocast(\"cuda\", dtype=_ks_torch.bfloat16):\n"
         "            out = Model.forward(self, *args)\n"
         "        return _ks_to_fp32(out)\n"},
    };
    // Where an ingredient runs is its entry in recipe_search's table.
    for (Recipe& r : out) {
      if (!r.ingredient) continue;
      r.info.cuda_only = CudaOnly(*r.ingredient);
      r.info.cpu_only = CpuOnly(*r.ingredient);
    }
    return out;
  }();
  return recipes;
}

// Helpers every built-in candidate carries; small, so each candidate stays self-contained.
constexpr const char* kHelpers = R"py(import contextlib

import torch as _ks_torch


@contextlib.contextmanager
def _ks_flags(namespace, **values):
    """Sets backend flags for the candidate's own calls only."""
    saved = {k: getattr(namespace, k) for k in values}
    for k, v in values.items():
        setattr(namespace, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(namespace, k, v)


def _ks_map(fn, out):
    if isinstance(out, _ks_torch.Tensor):
        return fn(out)
    if isinstance(out, (tuple, list)):
        return type(out)(_ks_map(fn, o) for o in out)
    return out


def _ks_clone(out):
    return _ks_map(lambda t: t.clone(), out)


def _ks_contiguous(out):
    """Outputs in the default layout, as the reference's contiguous inputs give them."""
    return _ks_map(lambda t: t.contiguous(), out)


def _ks_eager_layout(module, args, out):
    """out in the layout Model.forward gives, which a compiler may change (attention's output
    transposed): learnt from one eager call per input signature and mode (eager's own layout
    can depend on it), copied where it differs."""
    key = (module.training, _ks_torch.is_grad_enabled(),
           *((tuple(a.shape), a.dtype, a.stride(), str(a.device))
             if isinstance(a, _ks_torch.Tensor) else repr(a) for a in args))
    known = module.__dict__.setdefault("_ks_strides", {})
    if key not in known:
        strides = []
        _ks_map(lambda t: strides.append((t.shape, t.stride())), Model.forward(module, *args))
        known[key] = strides
    want = iter(known[key])

    def restride(t):
        shape, stride = next(want, (None, None))
        if shape != t.shape or t.stride() == stride or not _ks_dense(shape, stride):
            return t
        return _ks_torch.empty_strided(shape, stride, dtype=t.dtype, device=t.device).copy_(t)
    return _ks_map(restride, out)


def _ks_dense(shape, stride):
    """Whether a layout is some order of dense dimensions (no overlap, no gaps)."""
    expected = 1
    dims = sorted(((n, s) for n, s in zip(shape, stride) if n > 1), key=lambda d: d[1])
    for size, step in dims:
        if step != expected:
            return False
        expected *= size
    return True


def _ks_to_fp32(out):
    return _ks_map(lambda t: t.float() if t.dtype in (_ks_torch.bfloat16, _ks_torch.float16) else t,
                   out)


def _ks_layout(t):
    """Channels-last where the rank has it (4-D, and 5-D for 3-D convolutions), else as it is."""
    if t.dim() == 4:
        return t.contiguous(memory_format=_ks_torch.channels_last)
    if t.dim() == 5:
        return t.contiguous(memory_format=_ks_torch.channels_last_3d)
    return t


def _ks_channels_last(args):
    return [_ks_layout(a) if isinstance(a, _ks_torch.Tensor) else a for a in args]


class _KsGraph:
    """Captures fn in a CUDA graph per input signature; replays it on copies of new inputs."""

    def __init__(self, fn):
        self.fn = fn
        self.graphs = {}

    def __call__(self, *args):
        key = tuple((tuple(a.shape), a.dtype, str(a.device)) if isinstance(a, _ks_torch.Tensor)
                    else a for a in args)
        entry = self.graphs.get(key)
        if entry is None:
            static_in = [a.clone() if isinstance(a, _ks_torch.Tensor) else a for a in args]
            side = _ks_torch.cuda.Stream()
            side.wait_stream(_ks_torch.cuda.current_stream())
            with _ks_torch.cuda.stream(side):
                for _ in range(2):
                    self.fn(*static_in)
            _ks_torch.cuda.current_stream().wait_stream(side)
            graph = _ks_torch.cuda.CUDAGraph()
            with _ks_torch.cuda.graph(graph):
                static_out = self.fn(*static_in)
            entry = self.graphs[key] = (graph, static_in, static_out)
        graph, static_in, static_out = entry
        for dst, src in zip(static_in, args):
            if isinstance(dst, _ks_torch.Tensor):
                dst.copy_(src)
        graph.replay()
        return _ks_clone(static_out)
)py";

// A candidate file: the problem's source unchanged, then the helpers and ModelNew.
std::string CandidateSource(const std::string& agent, const std::string& description,
                            const ProblemView& problem, const std::string& helpers,
                            const std::string& init, const std::string& forward) {
  return fmt::format(
      "# kswarm built-in agent '{}': {}.\n"
      "# The reference problem ({}) follows unchanged; ModelNew builds the same Model and\n"
      "# changes only how it runs.\n"
      "{}{}\n"
      "# ---- kswarm built-in agent '{}' ----\n"
      "{}{}\n\n"
      "class ModelNew(Model):\n"
      "    def __init__(self, *args, **kwargs):\n"
      "        super().__init__(*args, **kwargs)\n"
      "{}\n"
      "    def forward(self, *args):\n"
      "{}",
      agent, description, problem.name, problem.source,
      problem.source.empty() || problem.source.back() == '\n' ? "" : "\n", agent, kHelpers,
      helpers, init, forward);
}

// The line a combination's candidate names it by; the search reads its own attempts back by it.
constexpr const char* kRecipeLine = "# kswarm recipe: ";

std::optional<Ingredients> RecipeOf(const std::string& source) {
  size_t at = source.rfind(std::string("\n") + kRecipeLine);
  if (at == std::string::npos) return std::nullopt;
  at += 1 + std::string(kRecipeLine).size();
  return ParseIngredients(source.substr(at, source.find('\n', at) - at));
}

std::string CombinationSource(const std::string& agent, const std::string& description,
                              const Ingredients& recipe, const ProblemView& problem) {
  const char* compile = recipe.compile == CompileMode::kNone       ? "none"
                        : recipe.compile == CompileMode::kDefault  ? "default"
                        : recipe.compile == CompileMode::kFreezing ? "freezing"
                                                                   : "max_autotune";
  auto py = [](bool b) { return b ? "True" : "False"; };
  std::string name = IngredientsName(recipe);
  std::string init = fmt::format(
      "        self.__dict__[\"_ks_combination\"] = _KsCombination(\n"
      "            self, single_thread={}, channels_last={}, fold_batchnorm={},\n"
      "            cudnn_benchmark={}, cuda_graph={}, compile=\"{}\")\n",
      py(recipe.single_thread), py(recipe.channels_last), py(recipe.fold_batchnorm),
      py(recipe.cudnn_benchmark), py(recipe.cuda_graph), compile);
  return CandidateSource(agent, description, problem,
                         fmt::format("\n{}{}\n{}{}{}", kRecipeLine, name, kFoldHelpers,
                                     kWeightsKeyHelpers, kCombinationHelpers),
                         init, "        return self._ks_combination(self, args)\n");
}

// What a combination needs: a device where all its ingredients run, and of a problem what each
// ingredient, an agent of its own, needs.
BuiltinInfo CombinationInfo(const std::string& name, const Ingredients& recipe) {
  BuiltinInfo info{name, "the recipes " + name + " in one candidate"};
  info.cuda_only = CudaOnly(recipe);
  info.cpu_only = CpuOnly(recipe);
  for (const std::string& ingredient : IngredientNames(recipe)) {
    const std::optional<BuiltinInfo> needs = BuiltinInfoOf(ingredient);  // no '+': a listed agent
    if (!needs) continue;
    info.convolution_only |= needs->convolution_only;
    info.batchnorm_only |= needs->batchnorm_only;
    info.weights_only |= needs->weights_only;
  }
  return info;
}

bool Applies(const BuiltinInfo& info, const AgentRequest& request) {
  ProblemTraits traits = TraitsOf(request.problem.source, request.device.type == "cuda");
  return !(info.cuda_only && request.device.type != "cuda") &&
         !(info.cpu_only && request.device.type != "cpu") &&
         !(info.convolution_only && !traits.convolution) &&
         !(info.batchnorm_only && !traits.batch_norm) && !(info.weights_only && !traits.weights);
}

class BuiltinAgent : public Agent {
 public:
  explicit BuiltinAgent(const Recipe& recipe) : recipe_(recipe) {}
  std::string name() const override { return recipe_.info.name; }
  bool reduced_precision() const override { return recipe_.info.reduced_precision; }

  Result<std::optional<Proposal>> Propose(const AgentRequest& request) override {
    if (!request.history.empty()) return std::optional<Proposal>();  // one attempt is all
    if (!Applies(recipe_.info, request)) return std::optional<Proposal>();
    Proposal p;
    p.source = recipe_.ingredient
                   ? CombinationSource(name(), recipe_.info.description, *recipe_.ingredient,
                                       request.problem)
                   : CandidateSource(name(), recipe_.info.description, request.problem,
                                     recipe_.helpers, recipe_.init, recipe_.forward);
    return std::optional<Proposal>(std::move(p));
  }

 private:
  const Recipe& recipe_;
};

// A fixed combination, named by its ingredients ("channels_last+torch_compile").
class CombinationAgent : public Agent {
 public:
  explicit CombinationAgent(const Ingredients& recipe)
      : recipe_(recipe), info_(CombinationInfo(IngredientsName(recipe), recipe)) {}
  std::string name() const override { return info_.name; }

  Result<std::optional<Proposal>> Propose(const AgentRequest& request) override {
    if (!request.history.empty() || !Applies(info_, request)) return std::optional<Proposal>();
    return std::optional<Proposal>(Proposal{
        CombinationSource(name(), info_.description, recipe_, request.problem), std::nullopt});
  }

 private:
  Ingredients recipe_;
  BuiltinInfo info_;
};

// Walks NextRecipe over the problem, an attempt per combination, within a time budget.
class RecipeSearchAgent : public Agent {
 public:
  explicit RecipeSearchAgent(double budget_s) : budget_s_(budget_s) {}
  std::string name() const override { return kRecipeSearchAgent; }
  int max_attempts() const override { return kMaxSearchSteps; }

  Result<std::optional<Proposal>> Propose(const AgentRequest& request) override {
    std::vector<SearchStep> steps;
    for (const Attempt& a : request.history) {
      auto recipe = RecipeOf(a.source);
      if (!recipe) return Error(StatusCode::kInternal, "a recipe_search attempt names no recipe");
      steps.push_back({*recipe, a.outcome == core::Outcome::kPassed, a.speedup, a.seconds});
    }
    const bool cuda = request.device.type == "cuda";
    auto next = NextRecipe(TraitsOf(request.problem.source, cuda), steps, budget_s_);
    if (!next) return std::optional<Proposal>();
    // A step that is a listed agent's recipe is written as that agent writes it: a run with
    // both evaluates it once (the store answers the second).
    for (const Recipe& r : Recipes()) {
      if (r.ingredient == *next) {
        return std::optional<Proposal>(Proposal{
            CombinationSource(r.info.name, r.info.description, *next, request.problem),
            std::nullopt});
      }
    }
    return std::optional<Proposal>(
        Proposal{CombinationSource(name(), "the recipes " + IngredientsName(*next) +
                                               " in one candidate (recipe search)",
                                   *next, request.problem),
                 std::nullopt});
  }

 private:
  double budget_s_;
};

}  // namespace

const std::vector<BuiltinInfo>& BuiltinAgents() {
  static const std::vector<BuiltinInfo> infos = [] {
    std::vector<BuiltinInfo> out;
    for (const Recipe& r : Recipes()) out.push_back(r.info);
    out.push_back({kRecipeSearchAgent,
                   "combinations of " + IngredientList() +
                       " (those that apply to the problem and device), cheapest first, each kept "
                       "when faster, within --recipe-budget seconds of evaluation per problem"});
    return out;
  }();
  return infos;
}

std::optional<BuiltinInfo> BuiltinInfoOf(const std::string& agent_name) {
  for (const BuiltinInfo& info : BuiltinAgents()) {
    if (info.name == agent_name) return info;
  }
  if (agent_name.find('+') == std::string::npos) return std::nullopt;
  auto recipe = ParseIngredients(agent_name);
  if (!recipe) return std::nullopt;
  return CombinationInfo(IngredientsName(*recipe), *recipe);
}

bool IsReducedPrecision(const std::string& agent_name) {
  const std::optional<BuiltinInfo> info = BuiltinInfoOf(agent_name);
  return info && info->reduced_precision;
}

bool IsBuiltinAgent(const std::string& agent_name) {
  return BuiltinInfoOf(agent_name).has_value();
}

std::vector<std::string> DefaultBuiltinNames(const std::string& device_type) {
  // From the H100 sweep of the bundled suite (bench/results/2026-11-25-h100-builtin-suite.md):
  // channels_last_cudnn_benchmark kept 10 problems, cuda_graph 5, torch_compile 2 and
  // torch_compile_cudagraphs none, at the cost of a compile per problem; it stays available.
  // fold_batchnorm proposes only for convolutions followed by inference batch norms, so it costs
  // nothing elsewhere.
  if (device_type == "cuda") {
    return {"torch_compile", "cuda_graph", "channels_last_cudnn_benchmark", "fold_batchnorm"};
  }
  return {"torch_compile", "channels_last", "fold_batchnorm"};
}

Result<std::vector<std::unique_ptr<Agent>>> MakeBuiltinAgents(
    const std::vector<std::string>& names, bool allow_reduced_precision,
    const BuiltinOptions& options) {
  std::vector<std::unique_ptr<Agent>> agents;
  for (const std::string& name : names) {
    if (name == kRecipeSearchAgent) {
      agents.push_back(std::make_unique<RecipeSearchAgent>(options.recipe_budget_s));
      continue;
    }
    if (name.find('+') != std::string::npos) {
      auto recipe = ParseIngredients(name);
      if (!recipe) {
        return Error(StatusCode::kInvalidArgument,
                     fmt::format("unknown combination '{}' (two or more of {}, at most one "
                                 "of them a compile, never a CPU-only one with a CUDA-only "
                                 "one (kswarm agents), joined by '+')",
                                 name, IngredientList()));
      }
      agents.push_back(std::make_unique<CombinationAgent>(*recipe));
      continue;
    }
    auto it = std::find_if(Recipes().begin(), Recipes().end(),
                           [&](const Recipe& r) { return r.info.name == name; });
    if (it == Recipes().end()) {
      std::string known;
      for (const Recipe& r : Recipes()) known += (known.empty() ? "" : ", ") + r.info.name;
      return Error(StatusCode::kInvalidArgument,
                   fmt::format("unknown agent '{}' (built-in agents: {})", name, known));
    }
    if (it->info.reduced_precision && !allow_reduced_precision) {
      return Error(StatusCode::kInvalidArgument,
                   fmt::format("agent '{}' uses reduced precision; allow it with "
                               "--precision reduced",
                               name));
    }
    agents.push_back(std::make_unique<BuiltinAgent>(*it));
  }
  return agents;
}

}  // namespace kswarm::agents
