#include "tests/support/cluster_nodes.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "tests/support/http_client.h"

namespace scaffold::testing {

std::unique_ptr<ServeProcess> StartNode(const TempDatabase& db, const std::string& name,
                                        std::vector<std::string> extra,
                                        const ProcessOptions& options) {
  std::vector<std::string> args = {"--workflow", TestDataFile("counter.json"),
                                   "--workflow", ExampleFile("release-checklist.json"),
                                   "--db",       db.url(),
                                   "--node-id",  name};
  if (std::find(extra.begin(), extra.end(), "--lease-ms") == extra.end())
    args.insert(args.end(), {"--lease-ms", "2000"});
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<ServeProcess>(args, false, options);
}

std::string CreateSession(const std::string& base, const std::string& workflow, const Json& input) {
  auto r = Http("POST", base + "/sessions", Json{{"workflow", workflow}, {"input", input}}.dump(),
                {kJsonContent});
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.json()["sessionId"];
}

Json SessionSummary(const std::string& base, const std::string& id) {
  return Http("GET", base + "/sessions/" + id).json();
}

bool WaitStatus(const std::string& base, const std::string& id, const std::string& status,
                int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 50) {
    if (SessionSummary(base, id).value("status", "") == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::vector<int64_t> Positions(const std::vector<net::SseEvent>& events) {
  std::vector<int64_t> out;
  for (const auto& e : events) {
    auto data = Json::parse(e.data, nullptr, false);
    if (data.is_object() && data.contains("position")) out.push_back(data["position"]);
  }
  return out;
}

void CheckExactlyOnce(const std::vector<int64_t>& positions, int64_t n) {
  REQUIRE(static_cast<int64_t>(positions.size()) == n);
  for (int64_t i = 0; i < n; ++i) {
    if (positions[static_cast<size_t>(i)] != i + 1) {
      FAIL("position " << positions[static_cast<size_t>(i)] << " at index " << i);
    }
  }
}

}  // namespace scaffold::testing
