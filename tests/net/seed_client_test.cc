// The Open Scaffold client's contract, spoken by Node exactly as that client speaks it
// (tests/net/seed_client/contract.mjs), against the real server.

#include <catch2/catch.hpp>

#include "tests/support/process.h"
#include "tests/support/test_server.h"

using namespace scaffold::testing;

TEST_CASE("the Open Scaffold client contract works unchanged, VCR calls and keep-alive included",
          "[server][seed]") {
  if (access("/usr/bin/node", X_OK) != 0) FAIL("node is not installed");
  TestServer::Config config;
  config.workflows = {kApproveWorkflow, kChatWorkflow, kCounterWorkflow};
  config.default_workflow = "approve";
  TestServer server(config);
  ProcessOptions o;
  o.program = "/usr/bin/node";
  o.timeout_ms = 120000;
  auto r = RunScaffold(
      {std::string(SCAFFOLD_SOURCE_DIR) + "/tests/net/seed_client/contract.mjs", server.Url("")},
      o);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("ok: "));
}
