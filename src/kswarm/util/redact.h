// Secret values (the API keys kswarm reads from the environment) that must never be stored, shown
// or sent to an agent. Each configured key's value is registered once; Redact() takes them out of
// any text that came back from a worker, whatever a candidate managed to put there.
//
// Thread-safe.
#pragma once

#include <string>

namespace kswarm {

inline constexpr const char* kRedacted = "[redacted]";

// Registers a value to remove; values shorter than 8 characters are ignored (they would match by
// chance, and no API key is that short).
void AddSecret(const std::string& value);

// `text` with every registered value, and its reverse, replaced by kRedacted.
std::string Redact(std::string text);

// Forgets every registered value (tests).
void ClearSecrets();

}  // namespace kswarm
