// SessionHub: the sessions a server runs and the connections watching them.
//
// Each served session runs on its own StrandExecutor over the server's shared threads: no
// thread per session, none at all for one that waits. Committed events go from the session's
// strand to every subscriber as EventFrames serialized once. A user (the JWT subject, "" without
// auth) sees only the sessions they own: another user's session is reported as not found.
//
// Thread-safety: every method may be called from any thread; callbacks run on the session's
// strand or the caller's thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/session.h"
#include "net/server/cluster.h"
#include "net/server/event_frames.h"
#include "net/server/metrics.h"

namespace boost::asio {
class io_context;
}

namespace scaffold::net {

class ClusterToolHost;

struct ServedWorkflow {
  std::string name;
  std::string path;
  std::string sha256;  // of the file's text
  std::shared_ptr<const engine::Workflow> workflow;
};

// A connection with frames queued, written out when its loop asks (SubscriberLoop::FlushLater).
class Flushable {
 public:
  virtual ~Flushable() = default;
  virtual void Flush() = 0;

 private:
  friend class SubscriberLoop;
  bool flush_asked_ = false;  // waiting for its loop's flush (loop thread)
};

// The event loop a subscriber's connection runs on (net/server/io_loops.h).
class SubscriberLoop {
 public:
  virtual ~SubscriberLoop() = default;
  // Runs fn on the loop's thread. Any thread.
  virtual void Post(std::function<void()> fn) = 0;

  // Loop thread. Calls f->Flush() once the tasks already queued on this loop have run. A
  // connection given a commit's frames asks for this instead of writing at once: when commits
  // come faster than the loop fans them out, their fan-out tasks are queued ahead of the flush
  // and each connection sends the frames of all of them in one write; when the loop keeps up,
  // the flush runs right after the fan-out task. Asking again before the flush changes nothing.
  void FlushLater(std::shared_ptr<Flushable> f);

 protected:
  // Releases the connections waiting for a flush that will not run (the loop has stopped). A
  // loop calls it while its io_context still exists: a connection's socket goes before its loop.
  void DropPendingFlushes() { to_flush_.clear(); }

 private:
  std::vector<std::shared_ptr<Flushable>> to_flush_;
  bool flush_posted_ = false;
};

// A connection watching a session.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // Where OnEvents is called: a commit goes to each loop as one task that calls OnEvents for
  // every subscriber of that loop, in commit order. Null: OnEvents is called on the session's
  // strand and must return quickly.
  virtual SubscriberLoop* loop() const { return nullptr; }
  virtual void OnEvents(const FrameBatch& frames) = 0;
  // The session was deleted. On the session's strand: post the work to the connection.
  virtual void OnSessionGone() = 0;
};

struct SessionView {
  engine::SessionInfo info;
  bool running = false;  // an engine session is active in this server (running or waiting)
  // Set when this server stopped the session because its log could not be written (a full
  // disk): info.status then reads paused, and POST resume continues it once that is fixed.
  Status stopped;
};

class SessionHub {
 public:
  struct Deps {
    boost::asio::io_context* io = nullptr;
    engine::EventStore* store = nullptr;
    engine::Provider* provider = nullptr;
    engine::ToolHost* tools = nullptr;
    const engine::Clock* clock = nullptr;
    Metrics* metrics = nullptr;
    // Several nodes on one PostgreSQL (net/server/cluster.h): sessions driven elsewhere are
    // followed through the database, and operations on them are sent to their node. Null on one
    // node.
    Cluster* cluster = nullptr;
    // With a cluster: the most sessions this node drives at once (0: no limit). New sessions
    // over it start on another node with room, or wait until one has room.
    int max_running = 0;
    // With a cluster: serves the client-tool calls other nodes send here.
    ClusterToolHost* cluster_tools = nullptr;
  };

  // Everything in `deps` is borrowed and must outlive the hub. `default_workflow` (one of
  // `workflows`, or empty) is started for a client that names none.
  SessionHub(Deps deps, std::map<std::string, ServedWorkflow> workflows, engine::RunOptions options,
             std::string default_workflow = "");
  ~SessionHub();

  const std::map<std::string, ServedWorkflow>& workflows() const { return workflows_; }
  engine::EventStore* store() const { return deps_.store; }

  // The session, if `owner` may see it (kNotFound otherwise).
  Result<SessionView> Find(const std::string& owner, const std::string& id);
  Result<std::vector<SessionView>> List(const std::string& owner);

  // Starts a session of a served workflow (`workflow` may be empty when exactly one is served
  // or a default is set). kInvalidArgument for an unknown workflow or an input its schema
  // refuses.
  Result<std::string> Create(const std::string& owner, const std::string& workflow, Json input);

  // The operations below on a session another node drives are sent to that node (with a
  // cluster); `from_peer` marks one that came that way, so it is not sent on again.
  void SubmitInput(const std::string& owner, const std::string& id, engine::InputAnswer answer,
                   std::function<void(const Status&)> done, bool from_peer = false);
  // Runs client tool `name` for the session's owner (POST /sessions/:id/tools/:name), recorded
  // in the session's log. kFailedPrecondition unless the session is running or waiting here.
  void CallTool(const std::string& owner, const std::string& id, const std::string& name,
                Json input, std::function<void(Result<engine::ToolCallOutcome>)> done,
                bool from_peer = false);
  // done(wasPaused) / done(wasResumed): false when there was nothing to do (already paused or
  // running, or finished).

  void Pause(const std::string& owner, const std::string& id,
             std::function<void(Result<bool>)> done, bool from_peer = false);
  void Resume(const std::string& owner, const std::string& id,
              std::function<void(Result<bool>)> done, bool from_peer = false);
  // The fork is created paused; Resume runs it.
  Result<engine::ForkResult> Fork(const std::string& owner, const std::string& id,
                                  std::optional<int64_t> position);
  // Stops the session (aborting provider calls in flight) and removes it and its events.
  void Delete(const std::string& owner, const std::string& id,
              std::function<void(const Status&)> done, bool from_peer = false);

  // Adds a subscriber to the session's live events, then calls `ready` (on the session's
  // strand). Events committed after `ready` reach the subscriber; earlier ones are in the store.
  void Subscribe(const std::string& owner, const std::string& id,
                 std::shared_ptr<Subscriber> subscriber, std::function<void(const Status&)> ready);
  void Unsubscribe(const std::string& id, const Subscriber* subscriber);

  // At start: continues every session the log says was running or waiting (after a restart,
  // kill -9 included). Paused sessions stay paused. Returns how many were resumed.
  int RestoreRunning();

  // Stops every session without recording anything: they continue at the next start.
  void Shutdown();

  // ---- Several nodes (session_hub_cluster.cc) ----
  // Starts following the cluster: sessions no node drives are taken over (so RestoreRunning is
  // not used), commits elsewhere reach this node's subscribers, peers' requests are served.
  Status StartCluster();
  // The database answers (GET /readyz). Ok without a cluster.
  Status Ready();

 private:
  struct Entry;
  std::shared_ptr<Entry> GetEntry(const std::string& id, const std::string& owner);
  // Runs `fn` on the strand of the session's entry, with nullptr once the session is deleted.
  // An entry dropped meanwhile (DropIfIdle) is put back, and work for an entry replaced meanwhile
  // goes to the new one, so a session never runs on two strands.
  void OnStrand(std::shared_ptr<Entry> e, std::function<void(Entry*)> fn);

  Result<std::shared_ptr<Entry>> Authorized(const std::string& owner, const std::string& id);
  engine::SessionDeps SessionDepsFor(Entry& entry);
  void StartOn(const std::shared_ptr<Entry>& entry, std::unique_ptr<engine::Session> session);
  Status OpenAndStart(const std::shared_ptr<Entry>& entry);
  void DropIfIdle(const std::string& id);
  // The session is gone (deleted here or elsewhere): its subscribers hear it and the entry is
  // dropped. Entry strand.
  void Forget(Entry* e);
  // Opens a stored session that should run and starts it; one that cannot continue is marked
  // failed. Entry strand.
  void ContinueOrFail(Entry* e);

  // Cluster (session_hub_cluster.cc).
  // The node driving session `id` when it is another one; "" when this node or none drives it.
  std::string DriverElsewhere(const std::string& id);
  // Sends an operation to `node` and maps its reply to a Status and a value.
  void Forward(const std::string& node, Json request,
               std::function<void(const Status&, const Json& value)> done);
  void OnPeerRequest(const Json& request, std::function<void(Json)> reply);
  void OnPeerCommit(const std::string& id, int64_t last, int64_t lag_ms);
  void OnLeaseLost(const std::string& id);
  void TakeOverOrphans();
  // Feeds the followers of a session driven elsewhere with the events committed since they
  // last heard. Entry strand.
  void CatchUp(Entry* e);
  void CatchUpAll();
  int RunningHere();
  // A view of the entry's live state (running, stopped). Called with mu_ held.
  static void ApplyStopped(const Entry& e, SessionView* view);

  const Deps deps_;
  const std::map<std::string, ServedWorkflow> workflows_;
  const engine::RunOptions options_;
  const std::string default_workflow_;

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;  // protected by mu_
};

}  // namespace scaffold::net
