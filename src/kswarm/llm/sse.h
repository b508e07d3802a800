// Server-sent events (the streaming format of the OpenAI and Anthropic APIs), parsed from bytes
// as they arrive. Follows the HTML standard's rules that those APIs use: lines end in LF, CR or
// CRLF; "event:" names the event, "data:" lines are joined with LF; a blank line dispatches;
// lines starting with ':' are comments; a single space after the colon is dropped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kswarm::llm {

struct SseEvent {
  std::string event;  // "message" when the stream names none
  std::string data;
};

class SseParser {
 public:
  // Feeds the next bytes; returns the events they complete, in order.
  std::vector<SseEvent> Feed(std::string_view bytes);
  // True when bytes were fed that no dispatched event consumed (a stream cut mid-event).
  bool pending() const { return !line_.empty() || has_data_ || !event_.empty(); }

 private:
  void Line(std::string_view line, std::vector<SseEvent>& out);
  std::string line_;
  std::string event_;
  std::string data_;
  bool has_data_ = false;
  bool last_was_cr_ = false;
};

}  // namespace kswarm::llm
