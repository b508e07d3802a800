// fake_llm_server SCRIPT.json LOG.jsonl: serves the script's replies in order on 127.0.0.1,
// prints the port on the first line of standard output, appends every request it receives to
// LOG.jsonl ({"path", "body"}), and stops when standard input closes.
//
// SCRIPT.json: {"replies": [REPLY...]} where REPLY is either
//   {"api": "openai"|"openai-compatible"|"openai-responses"|"anthropic", "text": "...",
//    "tokens_in": N, "tokens_out": N}
// or {"status": 429, "error_type": "rate_limit_error", "message": "...", "retry_after": "1"}.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "testing/fake_llm_server.h"

int main(int argc, char** argv) {
  using nlohmann::json;
  if (argc != 3) {
    std::fprintf(stderr, "usage: fake_llm_server SCRIPT.json LOG.jsonl\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  json script = json::parse(in, nullptr, false);
  if (!script.is_object() || !script["replies"].is_array()) {
    std::fprintf(stderr, "fake_llm_server: %s is not {\"replies\": [...]}\n", argv[1]);
    return 2;
  }
  kswarm::testing::FakeLlmServer server;
  for (const json& r : script["replies"]) {
    if (r.contains("status")) {
      server.Push(kswarm::testing::ErrorReply(r["status"].get<int>(), r.value("error_type", "error"),
                                              r.value("message", ""), r.value("retry_after", "")));
    } else {
      server.Push(kswarm::testing::StreamedReply(r.value("api", "openai"), r.value("text", ""),
                                                 r.value("tokens_in", 0L),
                                                 r.value("tokens_out", 0L)));
    }
  }
  std::printf("%d\n", server.port());
  std::fflush(stdout);

  std::thread logger([&] {
    size_t written = 0;
    for (;;) {
      auto requests = server.requests();
      if (requests.size() > written) {
        std::ofstream log(argv[2], std::ios::app);
        for (; written < requests.size(); ++written) {
          log << json{{"path", requests[written].path}, {"body", requests[written].body}}.dump()
              << "\n";
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  logger.detach();
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(120));  // let the logger catch up
  return 0;
}
