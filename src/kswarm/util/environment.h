// The environment handed to processes that run untrusted code.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kswarm {

// True for variable names that may hold a secret: containing KEY, TOKEN, SECRET or PASSWORD in any
// case (OPENAI_API_KEY, HF_TOKEN, AWS_SECRET_ACCESS_KEY, PGPASSWORD, ...).
bool IsSecretName(std::string_view name);

// `environ`-style "NAME=value" entries without the secret ones, with `overrides` ("NAME=value")
// replacing or adding entries; of two overrides of one name, the later wins.
std::vector<std::string> ScrubbedEnvironment(const char* const* environ_entries,
                                             const std::vector<std::string>& overrides);

// The variable's value, or `fallback` when it is unset or empty.
std::string EnvOr(const char* name, const std::string& fallback);

// kswarm's cache folder: $XDG_CACHE_HOME/kswarm, else $HOME/.cache/kswarm (not created here).
std::string CacheDir();

}  // namespace kswarm
