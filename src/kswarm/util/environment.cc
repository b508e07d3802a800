#include "kswarm/util/environment.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>

namespace kswarm {

bool IsSecretName(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  static constexpr std::array<std::string_view, 4> kMarkers = {"KEY", "TOKEN", "SECRET",
                                                               "PASSWORD"};
  return std::any_of(kMarkers.begin(), kMarkers.end(), [&](std::string_view marker) {
    return upper.find(marker) != std::string::npos;
  });
}

static std::string_view NameOf(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

std::vector<std::string> ScrubbedEnvironment(const char* const* environ_entries,
                                             const std::vector<std::string>& overrides) {
  std::vector<std::string> out;
  for (const char* const* e = environ_entries; e && *e; ++e) {
    std::string_view entry(*e);
    std::string_view name = NameOf(entry);
    if (IsSecretName(name)) continue;
    bool overridden = std::any_of(overrides.begin(), overrides.end(), [&](const std::string& o) {
      return NameOf(o) == name;
    });
    if (!overridden) out.emplace_back(entry);
  }
  for (size_t i = 0; i < overrides.size(); ++i) {
    std::string_view name = NameOf(overrides[i]);
    bool later = std::any_of(overrides.begin() + i + 1, overrides.end(),
                             [&](const std::string& o) { return NameOf(o) == name; });
    if (!later && !IsSecretName(name)) out.push_back(overrides[i]);
  }
  return out;
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? std::string(v) : fallback;
}

std::string CacheDir() {
  return EnvOr("XDG_CACHE_HOME", EnvOr("HOME", "/tmp") + "/.cache") + "/kswarm";
}

}  // namespace kswarm
