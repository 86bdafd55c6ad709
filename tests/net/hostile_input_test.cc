// Hostile input against a running server: every field of every WebSocket message and HTTP body
// with a value of every wrong type, nesting at the limit and past it, schemas that refer to
// themselves, long subjects for patterns. Each gets the exact error of its surface, and the
// server keeps serving: /healthz answers and another client's stream carries on.

#include <catch2/catch.hpp>

#include "tests/support/http_client.h"
#include "tests/support/test_server.h"

using scaffold::Json;
using namespace scaffold::testing;

namespace {

// One value of each JSON type; a field is tried with every one its spec does not accept.
const std::vector<std::pair<std::string, Json>>& Values() {
  static const std::vector<std::pair<std::string, Json>> kValues = {
      {"null", nullptr},     {"boolean", true},           {"number", 5},
      {"string", "text"},    {"array", Json::array({1})}, {"object", Json{{"a", 1}}},
      {"decimal", 2.5},      {"negative", -7}};
  return kValues;
}

// Whether `value` is one the field accepts: `accepts` lists JSON types ("string", "integer",
// "any", "nullable" for null).
bool Accepted(const std::vector<std::string>& accepts, const Json& value) {
  for (const auto& a : accepts) {
    if (a == "any") return true;
    if (a == "nullable" && value.is_null()) return true;
    if (a == "string" && value.is_string()) return true;
    if (a == "boolean" && value.is_boolean()) return true;
    if (a == "integer" && value.is_number_integer() && value.get<int64_t>() >= 0) return true;
    if (a == "object" && value.is_object()) return true;
    if (a == "array" && value.is_array()) return true;
  }
  return false;
}

struct Field {
  std::string pointer;  // into the message
  std::vector<std::string> accepts;
};

struct MessageSpec {
  Json message;
  std::vector<Field> fields;
};

// The frame's reply, skipping events of the subscription set up by the test.
std::optional<Json> Reply(WsClient& ws) {
  return ws.ReceiveUntil([](const Json& m) { return m.value("type", "") != "event"; }, 5000);
}

std::string ChatWithPattern() {
  return R"({
    "scaffold": 1, "name": "letters",
    "input": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 100},
    "state": {"text": ""},
    "start": {"/text": {"var": "input"}},
    "phases": {"done": {"terminal": true, "result": {"var": "state.text"}}}
  })";
}

std::string Nested(int depth, const std::string& leaf = "1") {
  return std::string(depth, '[') + leaf + std::string(depth, ']');
}

}  // namespace

TEST_CASE("every field of every WebSocket message refuses a value of the wrong type",
          "[server][hostile]") {
  TestServer server;
  std::string id = server.Create("chat", "hello");
  REQUIRE(server.WaitForStatus(id, "waiting"));

  // A bystander following the session: it must see the session finish after the barrage.
  WsClient bystander(server.port(), "/ws");
  REQUIRE(bystander.connected());
  bystander.Send(Json{{"type", "subscribe"}, {"sessionId", id}, {"fromPosition", 1}});

  std::vector<MessageSpec> specs = {
      {{{"type", "subscribe"}, {"sessionId", id}, {"fromPosition", 1}},
       {{"/type", {"string"}}, {"/sessionId", {"string"}}, {"/fromPosition", {"integer", "nullable"}}}},
      {{{"type", "unsubscribe"}, {"sessionId", id}},
       {{"/type", {"string"}}, {"/sessionId", {"string"}}}},
      {{{"type", "input"}, {"sessionId", id}, {"id", "nope"}, {"value", "x"}, {"approved", true}},
       {{"/type", {"string"}},
        {"/sessionId", {"string"}},
        {"/id", {"string", "nullable"}},
        {"/value", {"any"}},
        {"/approved", {"boolean", "nullable"}}}},
      {{{"type", "tool:response"}, {"callId", "c1"}, {"output", 1}, {"isError", false}},
       {{"/type", {"string"}}}},
  };
  WsClient ws(server.port(), "/ws");
  REQUIRE(ws.connected());
  int tried = 0;
  for (const auto& spec : specs) {
    for (const auto& field : spec.fields) {
      for (const auto& [type, value] : Values()) {
        if (Accepted(field.accepts, value)) continue;
        Json message = spec.message;
        message[Json::json_pointer(field.pointer)] = value;
        INFO(message.dump());
        ws.Send(message);
        auto reply = Reply(ws);
        REQUIRE(reply);
        CHECK((*reply)["type"] == "error");
        std::string code = (*reply)["code"];
        CHECK((code == "bad_request" || code == "bad_json"));
        CHECK_THAT((*reply)["message"].get<std::string>(), Catch::Contains(field.pointer));
        ++tried;
      }
    }
  }
  CHECK(tried > 30);
  // A ping reads no other field: whatever they hold, it is answered.
  for (const auto& [type, value] : Values()) {
    ws.Send(Json{{"type", "ping"}, {"sessionId", value}, {"fromPosition", value}});
    auto reply = Reply(ws);
    REQUIRE(reply);
    CHECK((*reply)["type"] == "pong");
  }

  // Desktop clients: every field of a tool registration.
  WsClient desktop(server.port(), "/ws?client=osclient");
  REQUIRE(desktop.connected());
  Json tool = {{"name", "t"}, {"description", "d"}, {"input_schema", {{"type", "object"}}}};
  for (const auto& [pointer, accepts] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"/tools", {"array"}},
           {"/tools/0", {"object"}},
           {"/tools/0/name", {"string"}},
           {"/tools/0/description", {"string"}},
           {"/tools/0/input_schema", {"object", "boolean"}}}) {
    for (const auto& [type, value] : Values()) {
      if (Accepted(accepts, value)) continue;
      if (pointer == "/tools/0/input_schema" && value.is_boolean()) continue;
      Json message = {{"type", "tools:register"}, {"tools", Json::array({tool})}};
      message[Json::json_pointer(pointer)] = value;
      INFO(message.dump());
      desktop.Send(message);
      auto reply = Reply(desktop);
      REQUIRE(reply);
      CHECK((*reply)["type"] == "error");
      CHECK((*reply)["code"] == "bad_request");
      CHECK_THAT((*reply)["message"].get<std::string>(), Catch::Contains(pointer));
    }
  }

  CHECK(Http("GET", server.Url("/healthz")).status == 200);
  ws.Send(Json{{"type", "input"}, {"sessionId", id}, {"id", "review"}, {"value", "fine"}});
  CHECK(bystander.ReceiveUntil([](const Json& m) {
    return m.value("type", "") == "event" && m["event"]["name"] == "workflow:completed";
  }));
}

TEST_CASE("every field of every HTTP body refuses a value of the wrong type with a 400",
          "[server][hostile]") {
  TestServer server;
  std::string id = server.Create("chat", "hello");
  REQUIRE(server.WaitForStatus(id, "waiting"));
  struct Route {
    std::string path;
    Json body;
    std::vector<Field> fields;
  };
  std::vector<Route> routes = {
      {"/sessions",
       {{"workflow", "chat"}, {"input", "hi"}},
       {{"/workflow", {"string", "nullable"}}, {"/workflowSha256", {"string", "nullable"}}}},
      {"/sessions/" + id + "/input",
       {{"id", "nope"}, {"value", "x"}},
       {{"/id", {"string", "nullable"}}, {"/approved", {"boolean", "nullable"}}}},
      {"/sessions/" + id + "/fork", Json::object(), {{"/position", {"integer", "nullable"}}}},
  };
  int tried = 0;
  for (const auto& route : routes) {
    for (const auto& field : route.fields) {
      for (const auto& [type, value] : Values()) {
        if (Accepted(field.accepts, value)) continue;
        Json body = route.body;
        body[Json::json_pointer(field.pointer)] = value;
        auto r = Http("POST", server.Url(route.path), body.dump());
        INFO(route.path << " " << body.dump() << " -> " << r.status << " " << r.body);
        CHECK(r.status == 400);
        CHECK(r.json()["error"]["code"] == "bad_request");
        CHECK_THAT(r.json()["error"]["message"].get<std::string>(),
                   Catch::Contains(field.pointer));
        ++tried;
      }
    }
    // A body that is not an object at all.
    for (const char* body : {"[1]", "\"x\"", "5", "null", "{\"a\":", "\xff"}) {
      auto r = Http("POST", server.Url(route.path), body);
      INFO(route.path << " " << body << " -> " << r.body);
      CHECK(r.status == 400);
    }
  }
  CHECK(tried > 20);
  CHECK(Http("GET", server.Url("/healthz")).status == 200);
  auto answered = Http("POST", server.Url("/sessions/" + id + "/input"),
                       Json{{"id", "review"}, {"value", "fine"}}.dump());
  CHECK(answered.status == 200);
  CHECK(server.WaitForStatus(id, "completed"));
}

TEST_CASE("JSON nested to the limit is read and one level past it is refused, on every surface",
          "[server][hostile]") {
  TestServer::Config config;
  config.workflows.push_back(ChatWithPattern());
  TestServer server(config);
  std::string id = server.Create("chat", "hello");
  REQUIRE(server.WaitForStatus(id, "waiting"));

  // The body is one level: its input may nest 127 more.
  auto at_limit = Http("POST", server.Url("/sessions"),
                       R"({"workflow": "chat", "input": )" + Nested(127) + "}");
  INFO(at_limit.body);
  CHECK(at_limit.status == 400);  // the input schema wants a string: read, then refused
  CHECK_THAT(at_limit.body, !Catch::Contains("nested deeper"));
  auto past = Http("POST", server.Url("/sessions"),
                   R"({"workflow": "chat", "input": )" + Nested(128) + "}");
  CHECK(past.status == 400);
  CHECK_THAT(past.json()["error"]["message"].get<std::string>(),
             Catch::Contains("nested deeper than 128 levels"));
  // About 100 KB of brackets.
  auto deep = Http("POST", server.Url("/sessions/" + id + "/input"),
                   R"({"id": "review", "value": )" + Nested(50000) + "}");
  CHECK(deep.status == 400);
  auto tool = Http("POST", server.Url("/sessions/" + id + "/tools/t"),
                   R"({"input": )" + Nested(50000) + "}");
  CHECK(tool.status == 400);

  WsClient ws(server.port(), "/ws");
  REQUIRE(ws.connected());
  ws.Send(R"({"type": "input", "sessionId": ")" + id + R"(", "value": )" + Nested(50000) + "}");
  auto reply = Reply(ws);
  REQUIRE(reply);
  CHECK((*reply)["code"] == "bad_json");
  CHECK_THAT((*reply)["message"].get<std::string>(), Catch::Contains("nested deeper"));

  CHECK(Http("GET", server.Url("/healthz")).status == 200);
  CHECK(Http("POST", server.Url("/sessions/" + id + "/input"),
             Json{{"id", "review"}, {"value", "fine"}}.dump())
            .status == 200);
  CHECK(server.WaitForStatus(id, "completed"));
}

TEST_CASE("a schema that refers to itself is refused where it is registered", "[server][hostile]") {
  TestServer server;
  WsClient desktop(server.port(), "/ws?client=osclient");
  REQUIRE(desktop.connected());
  for (const auto& schema :
       {Json::parse(R"({"$ref": "#"})"),
        Json::parse(R"({"definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}}, "$ref": "#/definitions/a"})")}) {
    desktop.Send(Json{{"type", "tools:register"},
                      {"tools", Json::array({{{"name", "t"}, {"input_schema", schema}}})}});
    auto reply = Reply(desktop);
    REQUIRE(reply);
    CHECK((*reply)["code"] == "bad_request");
    CHECK_THAT((*reply)["message"].get<std::string>(),
               Catch::Contains("/tools/0/input_schema") && Catch::Contains("cycle"));
  }
  CHECK(Http("GET", server.Url("/healthz")).status == 200);
}

TEST_CASE("long inputs against a workflow's pattern are refused without stalling the server",
          "[server][hostile]") {
  TestServer::Config config;
  config.workflows = {ChatWithPattern()};
  TestServer server(config);
  // maxLength does not protect a backtracking matcher; RE2 answers in linear time.
  for (int i = 0; i < 3; ++i) {
    auto r = Http("POST", server.Url("/sessions"),
                  Json{{"workflow", "letters"}, {"input", std::string(50000, 'x')}}.dump());
    CHECK(r.status == 400);
    CHECK_THAT(r.json()["error"]["message"].get<std::string>(), Catch::Contains("maxLength"));
    auto bad = Http("POST", server.Url("/sessions"),
                    Json{{"workflow", "letters"}, {"input", std::string(99, 'a') + "!"}}.dump());
    CHECK(bad.status == 400);
    CHECK_THAT(bad.json()["error"]["message"].get<std::string>(), Catch::Contains("pattern"));
  }
  CHECK(Http("GET", server.Url("/healthz")).status == 200);
  CHECK(Http("POST", server.Url("/sessions"),
             Json{{"workflow", "letters"}, {"input", "abc"}}.dump())
            .status == 201);
}
