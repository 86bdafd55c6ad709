// Driving a session that runs in `scaffold serve`: `scaffold attach URL SESSION` and
// `scaffold run --server URL FILE`. The terminal renders the remote event stream exactly as
// it renders a local session (session_driver.h), answers asks through POST /input, and
// reconnects from the last position when the connection drops.
//
// Ctrl-C: a session this terminal started (run --server) is paused on the server, as a local
// run is; an attached one is only let go of and runs on. A second Ctrl-C always lets go.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/run_flags.h"
#include "cli/session_driver.h"
#include "engine/event_loop.h"
#include "net/client/remote_client.h"

namespace scaffold::cli {

struct RemoteFlags {
  std::string url;    // http://host:port
  std::string token;  // --token, else $SCAFFOLD_TOKEN
};

class RemoteSession : public DrivenSession {
 public:
  enum class Kind { kAttached, kStarted };

  // `caught_up_at`: the session's event count when this terminal joined. Asks and pauses are
  // acted on only once the stream has reached it, not while replaying the history.
  RemoteSession(net::RemoteClient* client, engine::EventLoop* loop, std::string id, Kind kind,
                int64_t caught_up_at);

  const std::string& id() const override { return id_; }
  void Start(engine::EventSink* sink, std::function<void(const Json&)> on_ask,
             std::function<void(const engine::SessionEnd&)> done) override;
  void SubmitInput(engine::InputAnswer answer, std::function<void(const Status&)> reply) override;
  bool Interrupt() override;
  void Leave() override;
  std::string ResumeCommand() const override;
  std::string AnswerCommand(const std::string& ask_id) const override;
  std::string EventsCommand() const override;
  std::string ForkCommand(int64_t position) const override;
  std::string ReattachCommand() const override;
  std::string ConsoleUrl() const override;

 private:
  void OnEvents(std::vector<engine::EventPtr> events);
  void End(const engine::SessionEnd& end);

  net::RemoteClient* client_;
  engine::EventLoop* loop_;
  const std::string id_;
  const Kind kind_;
  const int64_t caught_up_at_;

  engine::EventSink* sink_ = nullptr;
  std::function<void(const Json&)> on_ask_;
  std::function<void(const engine::SessionEnd&)> done_;
  std::unique_ptr<net::RemoteEventStream> stream_;
  int64_t last_ = 0;
  bool paused_ = false;
  bool ended_ = false;
  std::map<std::string, Json> requests_;  // input:requested payloads by id
  std::optional<std::string> pending_;    // the ask waiting for an answer
  std::set<std::string> asked_;           // asks handed to the terminal already
};

// The server and token of --server/attach: the URL must be http(s)://; the token defaults to
// $SCAFFOLD_TOKEN. `flag` names the URL's flag in errors.
Result<RemoteFlags> ResolveRemote(const std::string& url, const std::string& token,
                                  const std::string& flag);

// `scaffold attach`: follows session `id` on the server from its first event.

int AttachRemote(const RemoteFlags& remote, const std::string& id, bool resume,
                 const SessionFlags& flags);

// `scaffold run --server`: starts a session of the workflow in `file` on the server (which must
// serve the same file: its sha256 is checked) and drives it.
int RunRemote(const RemoteFlags& remote, const engine::Workflow& workflow,
              const std::string& workflow_sha256, const Json& input, const SessionFlags& flags);

}  // namespace scaffold::cli
