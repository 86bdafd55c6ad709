#include "engine/ask.h"

#include <algorithm>

namespace scaffold::engine {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::optional<bool> YesNo(const std::string& text) {
  static const char* kYes[] = {"y", "yes", "true", "approve", "approved", "ok"};
  static const char* kNo[] = {"n", "no", "false", "reject", "rejected", "deny"};
  std::string t = Lower(text);
  for (const char* y : kYes) {
    if (t == y) return true;
  }
  for (const char* n : kNo) {
    if (t == n) return false;
  }
  return std::nullopt;
}

}  // namespace

std::string AskId(const std::string& phase, int visit) {
  return visit <= 1 ? phase : phase + "#" + std::to_string(visit);
}

Result<AskAnswer> NormalizeAnswer(const AskSpec& ask, const Json& value,
                                  std::optional<bool> approved) {
  switch (ask.type) {
    case AskType::kApproval: {
      if (approved) return AskAnswer{value, approved};
      if (value.is_boolean()) return AskAnswer{nullptr, value.get<bool>()};
      if (value.is_string()) {
        if (auto yes = YesNo(value.get<std::string>())) return AskAnswer{value, *yes};
      }
      return InvalidArgument("an approval needs yes or no, got " + DumpJson(value));
    }
    case AskType::kChoice: {
      if (value.is_string()) {
        const auto& text = value.get_ref<const std::string&>();
        if (std::find(ask.options.begin(), ask.options.end(), text) != ask.options.end())
          return AskAnswer{value, {}};
        if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
            text.size() < 9) {
          size_t n = std::stoul(text);
          if (n >= 1 && n <= ask.options.size()) return AskAnswer{ask.options[n - 1], {}};
        }
      } else if (value.is_number_integer()) {
        int64_t n = value.get<int64_t>();
        if (n >= 1 && n <= static_cast<int64_t>(ask.options.size()))
          return AskAnswer{ask.options[n - 1], {}};
      }
      std::string options;
      for (size_t i = 0; i < ask.options.size(); ++i) {
        options += (i ? ", " : "") + std::to_string(i + 1) + ") " + ask.options[i];
      }
      return InvalidArgument("choose one of " + options + "; got " + DumpJson(value));
    }
    case AskType::kText:
      if (value.is_string()) return AskAnswer{value, {}};
      return InvalidArgument(std::string("expected text, got ") + JsonTypeName(value));
    case AskType::kJson:
      if (ask.schema) {
        auto violations = ask.schema->Validate(value);
        if (!violations.empty())
          return InvalidArgument("the answer does not match the schema: " +
                                 DescribeViolations(violations));
      }
      return AskAnswer{value, {}};
  }
  return InvalidArgument("unknown ask type");
}

AskAnswer DefaultAnswer(const AskSpec& ask) {
  const Json& d = *ask.default_value;
  if (ask.type == AskType::kApproval) return AskAnswer{nullptr, d.is_boolean() && d.get<bool>()};
  return AskAnswer{d, {}};
}

Json AskOutput(const AskSpec& ask, const AskAnswer& answer) {
  if (ask.type == AskType::kApproval) {
    return Json{{"approved", answer.approved.value_or(false)}, {"value", answer.value}};
  }
  return answer.value;
}

Result<Json> ParseTypedAnswer(const AskSpec& ask, const std::string& text) {
  if (!IsValidUtf8(text)) return InvalidArgument("the answer is not valid UTF-8 text");
  if (ask.type != AskType::kJson) return Json(text);
  auto parsed = ParseJson(text);
  if (!parsed.ok()) return InvalidArgument("the answer is not usable JSON: " + parsed.status().message());
  return parsed;
}

}  // namespace scaffold::engine
