// A scripted agent for tests: proposes the given sources in order, one per attempt.
#pragma once

#include <string>
#include <vector>

#include "kswarm/agents/agent.h"

namespace kswarm::testing {

class FakeAgent : public agents::Agent {
 public:
  FakeAgent(std::string name, std::vector<std::string> sources)
      : name_(std::move(name)), sources_(std::move(sources)) {}
  std::string name() const override { return name_; }
  int max_attempts() const override { return static_cast<int>(sources_.size()); }
  Result<std::optional<agents::Proposal>> Propose(const agents::AgentRequest& request) override {
    size_t next = request.history.size();
    if (next >= sources_.size()) return std::optional<agents::Proposal>();
    return std::optional<agents::Proposal>(agents::Proposal{sources_[next], std::nullopt});
  }

 private:
  std::string name_;
  std::vector<std::string> sources_;
};

}  // namespace kswarm::testing
