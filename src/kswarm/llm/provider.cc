#include "kswarm/llm/provider.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kswarm::llm {
namespace {

using nlohmann::json;

Status Malformed(const SseEvent& e) {
  return Status(StatusCode::kUnavailable,
                fmt::format("malformed stream event '{}': {}", e.event, e.data.substr(0, 200)));
}

int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// Anthropic's extended thinking budget for an effort name.
int ThinkingBudget(const std::string& effort) {
  if (effort == "low") return 2048;
  if (effort == "medium") return 8192;
  return 16384;
}

}  // namespace

std::optional<Api> ParseApi(const std::string& name) {
  if (name == "openai") return Api::kOpenAi;
  if (name == "openai-compatible") return Api::kOpenAiCompatible;
  if (name == "openai-responses") return Api::kOpenAiResponses;
  if (name == "anthropic") return Api::kAnthropic;
  return std::nullopt;
}

const char* ApiName(Api api) {
  switch (api) {
    case Api::kOpenAi: return "openai";
    case Api::kOpenAiCompatible: return "openai-compatible";
    case Api::kOpenAiResponses: return "openai-responses";
    case Api::kAnthropic: return "anthropic";
  }
  return "?";
}

std::string DefaultBaseUrl(Api api) {
  switch (api) {
    case Api::kAnthropic: return "https://api.anthropic.com/v1";
    case Api::kOpenAiCompatible: return "http://127.0.0.1:8000/v1";
    default: return "https://api.openai.com/v1";
  }
}

HttpRequest BuildHttpRequest(const Endpoint& endpoint, const ChatRequest& chat,
                             const std::string& key) {
  HttpRequest http;
  std::string base = endpoint.base_url.empty() ? DefaultBaseUrl(endpoint.api) : endpoint.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  http.headers = {"Content-Type: application/json", "Accept: text/event-stream"};
  http.stall_timeout_ms = endpoint.stall_timeout_ms;
  json body = {{"model", endpoint.model}, {"stream", true}};
  json messages = json::array();
  switch (endpoint.api) {
    case Api::kOpenAi:
    case Api::kOpenAiCompatible: {
      http.url = base + "/chat/completions";
      if (!chat.system.empty()) {
        messages.push_back({{"role", endpoint.api == Api::kOpenAi ? "developer" : "system"},
                            {"content", chat.system}});
      }
      for (const Message& m : chat.messages) {
        messages.push_back({{"role", m.role}, {"content", m.content}});
      }
      body["messages"] = messages;
      body["stream_options"] = {{"include_usage", true}};
      body[endpoint.api == Api::kOpenAi ? "max_completion_tokens" : "max_tokens"] =
          endpoint.max_output_tokens;
      if (!endpoint.reasoning_effort.empty()) body["reasoning_effort"] = endpoint.reasoning_effort;
      if (!key.empty()) http.headers.push_back("Authorization: Bearer " + key);
      break;
    }
    case Api::kOpenAiResponses: {
      http.url = base + "/responses";
      if (!chat.system.empty()) body["instructions"] = chat.system;
      for (const Message& m : chat.messages) {
        messages.push_back({{"role", m.role}, {"content", m.content}});
      }
      body["input"] = messages;
      body["max_output_tokens"] = endpoint.max_output_tokens;
      body["store"] = false;
      if (!endpoint.reasoning_effort.empty()) {
        body["reasoning"] = {{"effort", endpoint.reasoning_effort}};
      }
      if (!key.empty()) http.headers.push_back("Authorization: Bearer " + key);
      break;
    }
    case Api::kAnthropic: {
      http.url = base + "/messages";
      if (!chat.system.empty()) body["system"] = chat.system;
      for (const Message& m : chat.messages) {
        messages.push_back({{"role", m.role}, {"content", m.content}});
      }
      body["messages"] = messages;
      body["max_tokens"] = endpoint.max_output_tokens;
      if (!endpoint.reasoning_effort.empty()) {
        body["thinking"] = {{"type", "enabled"},
                            {"budget_tokens", ThinkingBudget(endpoint.reasoning_effort)}};
      }
      http.headers.push_back("anthropic-version: 2023-06-01");
      if (!key.empty()) http.headers.push_back("x-api-key: " + key);
      break;
    }
  }
  http.body = body.dump();
  return http;
}

Status StreamDecoder::OnEvent(const SseEvent& event) {
  if (api_ == Api::kOpenAi || api_ == Api::kOpenAiCompatible) {
    if (event.data == "[DONE]") {
      done_ = true;
      return Status::Ok();
    }
    json j = json::parse(event.data, nullptr, false);
    if (!j.is_object()) return Malformed(event);
    if (j.contains("error")) {
      return Status(StatusCode::kUnavailable,
                    "error in stream: " + ApiErrorMessage(event.data));
    }
    if (auto usage = j.find("usage"); usage != j.end() && usage->is_object()) {
      reply_.tokens_in = Int(*usage, "prompt_tokens");
      reply_.tokens_out = Int(*usage, "completion_tokens");
    }
    if (auto choices = j.find("choices"); choices != j.end() && choices->is_array()) {
      for (const json& choice : *choices) {
        if (!choice.is_object()) return Malformed(event);
        if (auto delta = choice.find("delta"); delta != choice.end() && delta->is_object()) {
          reply_.text += Str(*delta, "content");
        }
        std::string finish = Str(choice, "finish_reason");
        if (!finish.empty()) {
          reply_.stop_reason = finish;
          reply_.truncated = finish == "length";
        }
      }
    }
    return Status::Ok();
  }

  json j = json::parse(event.data, nullptr, false);
  if (!j.is_object()) return Malformed(event);
  std::string type = j.value("type", event.event);
  if (api_ == Api::kOpenAiResponses) {
    if (type == "response.output_text.delta") {
      reply_.text += Str(j, "delta");
    } else if (type == "response.completed" || type == "response.incomplete") {
      const json& r = j.value("response", json::object());
      const json& usage = r.value("usage", json::object());
      reply_.tokens_in = Int(usage, "input_tokens");
      reply_.tokens_out = Int(usage, "output_tokens");
      reply_.stop_reason = r.value("status", type);
      reply_.truncated = type == "response.incomplete";
      done_ = true;
    } else if (type == "error" || type == "response.failed") {
      return Status(StatusCode::kUnavailable, "error in stream: " + ApiErrorMessage(event.data));
    }
    return Status::Ok();
  }

  // Anthropic.
  if (type == "message_start") {
    const json& usage = j.value("message", json::object()).value("usage", json::object());
    reply_.tokens_in = Int(usage, "input_tokens") + Int(usage, "cache_read_input_tokens") +
                       Int(usage, "cache_creation_input_tokens");
    reply_.tokens_out = Int(usage, "output_tokens");
  } else if (type == "content_block_delta") {
    const json& delta = j.value("delta", json::object());
    if (delta.value("type", "") == "text_delta") reply_.text += Str(delta, "text");
  } else if (type == "message_delta") {
    const json& delta = j.value("delta", json::object());
    reply_.stop_reason = Str(delta, "stop_reason");
    reply_.truncated = reply_.stop_reason == "max_tokens";
    const json& usage = j.value("usage", json::object());
    if (usage.contains("output_tokens")) reply_.tokens_out = Int(usage, "output_tokens");
  } else if (type == "message_stop") {
    done_ = true;
  } else if (type == "error") {
    return Status(StatusCode::kUnavailable, "error in stream: " + ApiErrorMessage(event.data));
  }
  return Status::Ok();
}

std::string ApiErrorMessage(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_object()) {
    const json& error = j.value("error", json());
    if (error.is_object()) {
      std::string type = Str(error, "type");
      std::string message = Str(error, "message");
      if (!message.empty()) return type.empty() ? message : type + ": " + message;
    } else if (error.is_string()) {
      return error.get<std::string>();
    }
  }
  return body.substr(0, 300);
}

}  // namespace kswarm::llm
