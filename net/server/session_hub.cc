#include "net/server/session_hub.h"

#include <algorithm>
#include <cstdio>

#include "engine/json_reader.h"
#include "engine/uuid.h"
#include "net/server/session_hub_entry.h"
#include "net/server/strand_executor.h"

namespace scaffold::net {

void SubscriberLoop::FlushLater(std::shared_ptr<Flushable> f) {
  if (f->flush_asked_) return;
  f->flush_asked_ = true;
  to_flush_.push_back(std::move(f));
  if (flush_posted_) return;
  flush_posted_ = true;
  Post([this] {
    flush_posted_ = false;
    std::vector<std::shared_ptr<Flushable>> now;
    now.swap(to_flush_);
    for (const auto& f : now) {
      f->flush_asked_ = false;
      f->Flush();
    }
    now.clear();
    if (to_flush_.empty()) to_flush_.swap(now);  // its capacity serves the next turn
  });
}

SessionHub::SessionHub(Deps deps, std::map<std::string, ServedWorkflow> workflows,
                       engine::RunOptions options, std::string default_workflow)
    : deps_(deps),
      workflows_(std::move(workflows)),
      options_(std::move(options)),
      default_workflow_(std::move(default_workflow)) {}

SessionHub::~SessionHub() = default;

std::shared_ptr<SessionHub::Entry> SessionHub::GetEntry(const std::string& id,
                                                        const std::string& owner) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it != entries_.end()) return it->second;
  auto entry = std::make_shared<Entry>(id, owner, deps_.io, deps_.metrics, deps_.provider);
  entries_[id] = entry;
  return entry;
}

Result<std::shared_ptr<SessionHub::Entry>> SessionHub::Authorized(const std::string& owner,
                                                                  const std::string& id) {
  auto info = deps_.store->GetSession(id);
  // A store that cannot answer says so (503); only a missing session, or another user's, is
  // "no session".
  if (!info.ok() && info.status().code() != ErrorCode::kNotFound) return info.status();
  if (!info.ok() || info->owner != owner) return Status(ErrorCode::kNotFound, "no session " + id);
  return GetEntry(id, info->owner);
}

void SessionHub::OnStrand(std::shared_ptr<Entry> e, std::function<void(Entry*)> fn) {
  e->exec->Post([this, e, fn = std::move(fn)]() mutable {
    if (e->deleted) return fn(nullptr);
    std::shared_ptr<Entry> current;
    {
      std::lock_guard<std::mutex> lock(mu_);
      current = entries_.emplace(e->id, e).first->second;
    }
    if (current != e) return OnStrand(std::move(current), std::move(fn));
    fn(e.get());
  });
}

engine::SessionDeps SessionHub::SessionDepsFor(Entry& entry) {
  return {deps_.store, &entry.counting, deps_.tools, entry.exec.get(), deps_.clock};
}

Result<SessionView> SessionHub::Find(const std::string& owner, const std::string& id) {
  auto info = deps_.store->GetSession(id);
  // A store that cannot answer says so (503); only a missing session, or another user's, is
  // "no session".
  if (!info.ok() && info.status().code() != ErrorCode::kNotFound) return info.status();
  if (!info.ok() || info->owner != owner) return Status(ErrorCode::kNotFound, "no session " + id);
  SessionView view{std::move(*info), false, Status::Ok()};
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = entries_.find(id); it != entries_.end()) ApplyStopped(*it->second, &view);
  return view;
}

Result<std::vector<SessionView>> SessionHub::List(const std::string& owner) {
  engine::SessionFilter filter;
  filter.owner = owner;
  filter.limit = 10000;
  auto sessions = deps_.store->ListSessions(filter);
  if (!sessions.ok()) return sessions.status();
  std::vector<SessionView> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& s : *sessions) {
    SessionView view{std::move(s), false, Status::Ok()};
    if (auto it = entries_.find(view.info.id); it != entries_.end())
      ApplyStopped(*it->second, &view);
    out.push_back(std::move(view));
  }
  return out;
}

void SessionHub::StartOn(const std::shared_ptr<Entry>& entry,
                         std::unique_ptr<engine::Session> session) {
  // Must run on the entry's strand.
  entry->session = std::move(session);
  entry->running = true;
  entry->pause_asked = false;
  entry->session->AddSink(entry.get());
  std::weak_ptr<Entry> weak = entry;
  entry->session->Start([this, weak](const engine::SessionEnd& end) {
    auto e = weak.lock();
    if (!e) return;
    e->running = false;
    bool moved = e->lease_lost;
    if (!moved && deps_.cluster && !end.error.ok() && end.failure_code.empty()) {
      auto holder = deps_.cluster->Holder(e->id);
      moved = holder.ok() && *holder != deps_.cluster->node_id();
    }
    if (moved) {
      // Another node drives it now (this one stalled or lost the database): its subscribers
      // here follow it through the database.
      e->lease_lost = false;
      e->following = true;
      ++deps_.metrics->leases_lost;
      std::fprintf(stderr, "scaffold serve: session %s is now driven by another node\n",
                   e->id.c_str());
    } else if (end.outcome == engine::SessionOutcome::kFailed && end.failure_code.empty() &&
               !end.error.ok()) {
      // Nothing could be recorded (the workflow did not fail): say so, and keep the reason
      // where clients see it until the session is resumed.
      std::fprintf(stderr,
                   "scaffold serve: session %s stopped: %s; POST /sessions/%s/resume continues "
                   "it once that is fixed\n",
                   e->id.c_str(), end.error.message().c_str(), e->id.c_str());
      std::lock_guard<std::mutex> lock(mu_);
      e->stopped = end.error;
    }
    // Not destroyed inside its own callback: a later task on the strand does it.
    e->exec->Post([this, e] {
      e->session.reset();
      if (auto after = std::move(e->after_cancel)) {
        e->after_cancel = nullptr;
        after();
        return;
      }
      DropIfIdle(e->id);
    });
  });
}

void SessionHub::ApplyStopped(const Entry& e, SessionView* view) {
  view->running = e.running;
  if (e.stopped.ok()) return;
  view->stopped = e.stopped;
  view->info.status = engine::SessionStatus::kPaused;
}

Status SessionHub::OpenAndStart(const std::shared_ptr<Entry>& entry) {
  auto info = deps_.store->GetSession(entry->id);
  if (!info.ok()) return info.status();
  auto loaded = engine::LoadWorkflow(info->workflow_source);
  if (!loaded.workflow)
    return Status(ErrorCode::kDataLoss,
                  "the stored workflow of session " + entry->id + " does not load");
  auto session =
      engine::Session::Open(SessionDepsFor(*entry), loaded.workflow, entry->id, options_);
  if (!session.ok()) return session.status();
  StartOn(entry, std::move(*session));
  return Status::Ok();
}

Result<std::string> SessionHub::Create(const std::string& owner, const std::string& workflow,
                                       Json input) {
  const ServedWorkflow* served = nullptr;
  const std::string& name = workflow.empty() ? default_workflow_ : workflow;
  if (name.empty()) {
    if (workflows_.size() != 1) {
      return InvalidArgument("name the workflow: this server serves " +
                             std::to_string(workflows_.size()) +
                             " (scaffold serve --default-workflow NAME picks one for clients "
                             "that name none)");
    }
    served = &workflows_.begin()->second;
  } else if (auto it = workflows_.find(name); it != workflows_.end()) {
    served = &it->second;
  } else {
    return InvalidArgument("no workflow named \"" + name + "\" is served here");
  }
  SCAFFOLD_RETURN_IF_ERROR(engine::ValidateInput(*served->workflow, input));
  std::string id = engine::NewUuid();
  auto entry = GetEntry(id, owner);
  auto session = engine::Session::Create(SessionDepsFor(*entry), served->workflow, std::move(input),
                                         options_, owner, id);
  if (!session.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.erase(id);
    return session.status();
  }
  if (deps_.cluster && deps_.max_running > 0 && RunningHere() >= deps_.max_running) {
    // This node is full: the session waits, stored and free, for a node with room
    // (TakeOverOrphans, here or elsewhere).
    (void)deps_.cluster->Release(id);
    entry->exec->Post(
        [this, entry, holder = std::shared_ptr<engine::Session>(std::move(*session))]() mutable {
          holder.reset();
          DropIfIdle(entry->id);
        });
    return id;
  }
  auto holder = std::make_shared<std::unique_ptr<engine::Session>>(std::move(*session));
  entry->exec->Post([this, entry, holder] { StartOn(entry, std::move(*holder)); });
  return id;
}

void SessionHub::SubmitInput(const std::string& owner, const std::string& id,
                             engine::InputAnswer answer, std::function<void(const Status&)> done,
                             bool from_peer) {
  auto entry = Authorized(owner, id);
  if (!entry.ok()) return done(entry.status());
  OnStrand(*entry, [this, owner, id, answer = std::move(answer), done = std::move(done),
                    from_peer](Entry* e) mutable {
    if (!e) return done(Status(ErrorCode::kNotFound, "no session " + id));
    if (!e->session && !from_peer) {
      if (auto node = DriverElsewhere(id); !node.empty()) {
        Json request = {{"op", "input"},
                        {"owner", owner},
                        {"id", id},
                        {"answer", {{"id", answer.id}, {"value", answer.value}}}};
        if (answer.approved) request["answer"]["approved"] = *answer.approved;
        return Forward(node, std::move(request), [done](const Status& s, const Json&) { done(s); });
      }
    }
    if (!e->session) return done(FailedPrecondition("the session is not running"));
    e->session->SubmitInput(std::move(answer), std::move(done));
  });
}

void SessionHub::CallTool(const std::string& owner, const std::string& id, const std::string& name,
                          Json input, std::function<void(Result<engine::ToolCallOutcome>)> done,
                          bool from_peer) {
  auto entry = Authorized(owner, id);
  if (!entry.ok()) return done(entry.status());
  OnStrand(*entry, [this, owner, id, name, input = std::move(input), done = std::move(done),
                    from_peer](Entry* e) mutable {
    if (!e) return done(Status(ErrorCode::kNotFound, "no session " + id));
    if (!e->session && !from_peer) {
      if (auto node = DriverElsewhere(id); !node.empty()) {
        Json request = {{"op", "tool"},
                        {"owner", owner},
                        {"id", id},
                        {"name", name},
                        {"input", std::move(input)}};
        return Forward(node, std::move(request), [done](const Status& s, const Json& value) {
          if (!s.ok()) return done(s);
          JsonReader in(value);
          engine::ToolCallOutcome outcome;
          outcome.call_id = in.String("callId", true);
          outcome.result.output = in.Value("output");
          outcome.result.is_error = in.OptBool("isError").value_or(false);
          if (!in.ok()) return done(in.status().WithContext("the driving node's answer"));
          done(std::move(outcome));
        });
      }
    }
    if (!e->session) {
      return done(FailedPrecondition(
          "the session is not running (tools can be called while it runs or waits for input)"));
    }
    e->session->CallTool(name, std::move(input), std::move(done));
  });
}

// A forwarded pause or resume: its boolean answer.
static void BoolReply(const std::function<void(Result<bool>)>& done, const Status& s,
                      const Json& value) {
  if (!s.ok()) return done(s);
  done(value.is_boolean() && value.get<bool>());
}

void SessionHub::Pause(const std::string& owner, const std::string& id,
                       std::function<void(Result<bool>)> done, bool from_peer) {
  auto entry = Authorized(owner, id);
  if (!entry.ok()) return done(entry.status());
  OnStrand(*entry, [this, owner, id, done = std::move(done), from_peer](Entry* e) {
    if (!e) return done(Status(ErrorCode::kNotFound, "no session " + id));
    if (!e->session && !from_peer) {
      if (auto node = DriverElsewhere(id); !node.empty()) {
        return Forward(node, {{"op", "pause"}, {"owner", owner}, {"id", id}},
                       [done](const Status& s, const Json& v) { BoolReply(done, s, v); });
      }
    }
    // Until the session has stopped it is still here: asked once, it is pausing already.
    if (e->session && !e->pause_asked) {
      e->pause_asked = true;
      e->session->Pause("paused by a client");
      return done(true);
    }
    done(false);  // paused already (or pausing), or finished
  });
}

void SessionHub::Resume(const std::string& owner, const std::string& id,
                        std::function<void(Result<bool>)> done, bool from_peer) {
  auto entry = Authorized(owner, id);
  if (!entry.ok()) return done(entry.status());
  OnStrand(*entry, [this, owner, id, done = std::move(done), from_peer](Entry* e) {
    if (!e) return done(Status(ErrorCode::kNotFound, "no session " + id));
    if (e->session) return done(false);
    if (!from_peer) {
      if (auto node = DriverElsewhere(id); !node.empty()) {
        return Forward(node, {{"op", "resume"}, {"owner", owner}, {"id", id}},
                       [done](const Status& s, const Json& v) { BoolReply(done, s, v); });
      }
    }
    auto info = deps_.store->GetSession(e->id);
    if (info.ok() && (info->status == engine::SessionStatus::kCompleted ||
                      info->status == engine::SessionStatus::kFailed)) {
      return done(false);  // finished: nothing to resume
    }
    if (deps_.cluster) {
      // This node drives it from now on, unless another node just took it.
      auto claimed = deps_.cluster->Claim(e->id);
      if (!claimed.ok()) return done(claimed.status());
      if (!*claimed) return done(false);
      CatchUp(e);
      e->following = false;
    }
    Status s = OpenAndStart(e->shared_from_this());
    if (!s.ok()) {
      if (deps_.cluster) (void)deps_.cluster->Release(e->id);  // not driven here after all
      return done(s);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      e->stopped = Status::Ok();
    }
    done(true);
  });
}

Result<engine::ForkResult> SessionHub::Fork(const std::string& owner, const std::string& id,
                                            std::optional<int64_t> position) {
  auto entry = Authorized(owner, id);
  if (!entry.ok()) return entry.status();
  return engine::ForkSession(deps_.store, deps_.clock, id, position);
}

void SessionHub::Delete(const std::string& owner, const std::string& id,
                        std::function<void(const Status&)> done, bool from_peer) {
  auto entry = Authorized(owner, id);
  if (!entry.ok()) return done(entry.status());
  OnStrand(*entry, [this, owner, id, done = std::move(done), from_peer](Entry* raw) mutable {
    if (!raw) return done(Status(ErrorCode::kNotFound, "no session " + id));
    auto e = raw->shared_from_this();
    if (!e->session && !from_peer) {
      if (auto node = DriverElsewhere(id); !node.empty()) {
        // The driving node stops and deletes it; this node's followers hear it is gone.
        return Forward(node, {{"op", "delete"}, {"owner", owner}, {"id", id}},
                       [this, e, done = std::move(done)](const Status& s, const Json&) {
                         if (!s.ok()) return done(s);
                         OnStrand(e, [this, done](Entry* gone) {
                           if (gone) Forget(gone);
                           done(Status::Ok());
                         });
                       });
      }
    }
    auto remove = [this, e, done = std::move(done)] {
      Status s = deps_.store->DeleteSession(e->id);
      Forget(e.get());
      done(s);
    };
    if (e->after_cancel)
      return done(Status(ErrorCode::kNotFound, "session " + id + " is being deleted"));
    if (e->session) {
      e->after_cancel = std::move(remove);

      e->session->Cancel();  // aborts the provider calls in flight
    } else {
      remove();
    }
  });
}

void SessionHub::Subscribe(const std::string& owner, const std::string& id,
                           std::shared_ptr<Subscriber> subscriber,
                           std::function<void(const Status&)> ready) {
  auto entry = Authorized(owner, id);
  if (!entry.ok()) return ready(entry.status());
  OnStrand(*entry,
           [this, id, subscriber = std::move(subscriber), ready = std::move(ready)](Entry* e) {
             if (!e) return ready(Status(ErrorCode::kNotFound, "no session " + id));
             if (deps_.cluster && !e->session && !e->following) {
               // Driven elsewhere (or by nobody now): followed through the database from here on.
               auto info = deps_.store->GetSession(id);
               if (!info.ok()) return ready(info.status());
               e->delivered = info->event_count;
               e->following = true;
               e->ended = info->status == engine::SessionStatus::kCompleted ||
                          info->status == engine::SessionStatus::kFailed;
             }
             e->subscribers.Add(subscriber);
             ready(Status::Ok());
           });
}

void SessionHub::Unsubscribe(const std::string& id, const Subscriber* subscriber) {
  std::shared_ptr<Entry> e;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    e = it->second;
  }
  e->exec->Post([this, e, subscriber] {
    e->subscribers.Remove(subscriber);
    DropIfIdle(e->id);
  });
}

void SessionHub::Forget(Entry* e) {
  e->deleted = true;
  e->subscribers.ForEach([](std::shared_ptr<Subscriber> s) { s->OnSessionGone(); });
  e->subscribers.Clear();
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(e->id);
}

void SessionHub::DropIfIdle(const std::string& id) {
  // Called on the entry's strand: an entry with no session and no subscriber is not kept.
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry& e = *it->second;
  if (!e.session && e.subscribers.empty() && !e.after_cancel && e.stopped.ok()) entries_.erase(it);
}

void SessionHub::ContinueOrFail(Entry* e) {
  // A session that cannot continue (a damaged log, a stored workflow this build refuses, a bug)
  // is marked failed with the reason, so it is not tried again at every start.
  Status s;
  try {
    s = OpenAndStart(e->shared_from_this());
  } catch (const std::exception& ex) {
    s = Internal(std::string("internal error: ") + ex.what());
  }
  if (s.ok()) return;
  std::fprintf(stderr, "scaffold: session %s cannot be resumed (%s); it is marked failed\n",
               e->id.c_str(), s.message().c_str());
  Status recorded =
      engine::RecordSessionFailure(deps_.store, deps_.clock, e->id, "resume_failed", s.message());
  if (!recorded.ok())
    std::fprintf(stderr, "scaffold: session %s: %s\n", e->id.c_str(), recorded.message().c_str());
  DropIfIdle(e->id);
}

int SessionHub::RestoreRunning() {
  engine::SessionFilter all;
  all.limit = 1000000;
  auto sessions = deps_.store->ListSessions(all);
  if (!sessions.ok()) return 0;
  int resumed = 0;
  for (const auto& s : *sessions) {
    if (s.status != engine::SessionStatus::kRunning && s.status != engine::SessionStatus::kWaiting)
      continue;
    OnStrand(GetEntry(s.id, s.owner), [this](Entry* e) {
      if (!e || e->session) return;
      ContinueOrFail(e);
    });
    ++resumed;
  }
  return resumed;
}

void SessionHub::Shutdown() {
  std::vector<std::shared_ptr<Entry>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, e] : entries_) all.push_back(e);
  }
  for (auto& e : all) {
    e->exec->Post([e] {
      if (e->session) e->session->Cancel();
    });
  }
}

}  // namespace scaffold::net
