#include "kswarm/llm/sse.h"

#include <gtest/gtest.h>

namespace kswarm::llm {
namespace {

TEST(SseTest, EventsSplitAcrossChunksAndLineEndingsOfEveryKind) {
  std::string stream =
      ": keep-alive comment\n"
      "event: content_block_delta\r\n"
      "data: {\"a\":1}\r\n\r\n"
      "data: first\rdata:second\r\r"
      "data: [DONE]\n\n";
  // Every split point gives the same events.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SseParser p;
    auto events = p.Feed(std::string_view(stream).substr(0, cut));
    auto rest = p.Feed(std::string_view(stream).substr(cut));
    events.insert(events.end(), rest.begin(), rest.end());
    ASSERT_EQ(events.size(), 3u) << "cut at " << cut;
    EXPECT_EQ(events[0].event, "content_block_delta");
    EXPECT_EQ(events[0].data, "{\"a\":1}");
    EXPECT_EQ(events[1].event, "message");
    EXPECT_EQ(events[1].data, "first\nsecond");
    EXPECT_EQ(events[2].data, "[DONE]");
    EXPECT_FALSE(p.pending());
  }
}

TEST(SseTest, AStreamCutMidEventIsPending) {
  SseParser p;
  EXPECT_TRUE(p.Feed("data: {\"partial\"").empty());
  EXPECT_TRUE(p.pending());
  EXPECT_TRUE(p.Feed("\n").empty());
  EXPECT_TRUE(p.pending());  // data without the blank line that dispatches it
}

}  // namespace
}  // namespace kswarm::llm
