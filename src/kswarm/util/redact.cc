#include "kswarm/util/redact.h"

#include <algorithm>
#include <mutex>
#include <vector>

namespace kswarm {
namespace {

std::mutex mu;
std::vector<std::string>& Secrets() {
  static std::vector<std::string> secrets;
  return secrets;
}

void ReplaceAll(std::string& text, const std::string& what) {
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + std::char_traits<char>::length(kRedacted))) {
    text.replace(at, what.size(), kRedacted);
  }
}

}  // namespace

void AddSecret(const std::string& value) {
  if (value.size() < 8) return;
  std::lock_guard<std::mutex> lock(mu);
  auto& secrets = Secrets();
  if (std::find(secrets.begin(), secrets.end(), value) == secrets.end()) {
    secrets.push_back(value);
    secrets.emplace_back(value.rbegin(), value.rend());
  }
}

std::string Redact(std::string text) {
  std::lock_guard<std::mutex> lock(mu);
  for (const std::string& secret : Secrets()) ReplaceAll(text, secret);
  return text;
}

void ClearSecrets() {
  std::lock_guard<std::mutex> lock(mu);
  Secrets().clear();
}

}  // namespace kswarm
