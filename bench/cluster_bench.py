"""Several nodes on PostgreSQL (bench/run --only cluster).

Persisted events/s on PostgreSQL next to SQLite in the same run (engine playback of a recorded
session, and raw group commit through store_bench), the delivery latency of live events to a
subscriber on the driving node and on another node, and the time another node takes to drive a
session again after its node is killed with -9. PostgreSQL is a private server in the work
directory (tests/support/postgres-server), on a Unix socket.
"""
import json
import os
import re
import signal
import statistics
import subprocess
import threading
import time
import urllib.request


def start_postgres(h, work):
    urlfile = os.path.join(work, "pg.url")
    subprocess.run([os.path.join(h.ROOT, "tests", "support", "postgres-server"), "start", urlfile],
                   check=True, stdout=subprocess.DEVNULL)
    with open(urlfile) as f:
        return f.read().strip(), urlfile


def stop_postgres(h, urlfile):
    subprocess.run([os.path.join(h.ROOT, "tests", "support", "postgres-server"), "stop", urlfile],
                   check=False)


def new_database(server, name):
    subprocess.run(["psql", server, "-qc", f"CREATE DATABASE {name}"], check=True,
                   stdout=subprocess.DEVNULL)
    return server.replace("@/postgres", f"@/{name}")


def start_node(h, db, name, lease_ms, env=None):
    workflow = os.path.join(h.ROOT, "tests", "cli", "data", "counter.json")
    proc = subprocess.Popen([h.SCAFFOLD, "serve", "--workflow", workflow, "--db", db,
                             "--node-id", name, "--lease-ms", str(lease_ms),
                             "--listen", "127.0.0.1:0", "--no-access-log"],
                            env=env, stderr=subprocess.PIPE, text=True)
    port = None
    while port is None:
        line = proc.stderr.readline()
        if not line:
            raise RuntimeError("scaffold serve did not start")
        found = re.search(r"listening on http://127.0.0.1:(\d+)", line)
        if found:
            port = int(found.group(1))
    # Keep reading stderr so the node never blocks on a full pipe.
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    return proc, f"http://127.0.0.1:{port}"


def http_json(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def follow(url, since_ms, samples, done):
    """Reads an SSE stream; appends (arrival - event timestamp) in ms for events stamped after
    since_ms (the live part of the stream), until the session's last event."""
    with urllib.request.urlopen(url, timeout=120) as r:
        for raw in r:
            if not raw.startswith(b"data:"):
                continue
            now = time.time() * 1000
            event = json.loads(raw[5:])
            if event.get("timestamp", 0) >= since_ms:
                samples.append(now - event["timestamp"])
            if event.get("name") in ("workflow:completed", "workflow:error"):
                break
    done.set()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def bench_persist(h, quick, work, server):
    """Engine playback and raw group commit, SQLite and PostgreSQL in the same run."""
    phases = 50 if quick else 300
    wf_path = os.path.join(work, "long-cluster.json")
    with open(wf_path, "w") as f:
        json.dump(h.long_workflow(phases), f)
    sqlite = os.path.join(work, "cluster-engine.db")
    up = h.Upstream({"routes": [{"match": "", "text": ["tok "] * 100, "delay_ms": 0}]}, work)
    env = dict(os.environ, ANTHROPIC_BASE_URL=up.url, ANTHROPIC_API_KEY="sk-bench", NO_COLOR="1")
    h.log(f"== cluster: recording {phases} phases x 100 deltas")
    subprocess.run([h.SCAFFOLD, "run", wf_path, "--db", sqlite, "--quiet"], env=env, check=True)
    up.close()
    sessions = subprocess.run([h.SCAFFOLD, "sessions", "list", "--json", "--db", sqlite],
                              capture_output=True, text=True, check=True).stdout.splitlines()
    recording = os.path.join(work, "cluster-long.jsonl")
    subprocess.run([h.SCAFFOLD, "sessions", "export", json.loads(sessions[0])["sessionId"], "-o",
                    recording, "--db", sqlite], check=True, stderr=subprocess.DEVNULL)
    pg = new_database(server, "engine")
    subprocess.run([h.SCAFFOLD, "sessions", "import", recording, "--db", pg], check=True,
                   stdout=subprocess.DEVNULL)
    env_off = dict(os.environ, NO_COLOR="1")
    env_off.pop("ANTHROPIC_API_KEY", None)
    rates = {"sqlite": [], "postgres": []}
    for i in range(h.RUNS):
        for kind, db in (("sqlite", sqlite), ("postgres", pg)):
            seconds, _, out = h.timed([h.SCAFFOLD, "run", wf_path, "--db", db, "--mode", "playback",
                                       "--json"], env=env_off, stdout=subprocess.PIPE)
            rates[kind].append(out.count(b"\n") / seconds)
        h.log(f"   playback run {i + 1}: SQLite {rates['sqlite'][-1]:.0f} events/s, "
              f"PostgreSQL {rates['postgres'][-1]:.0f} events/s")
    n = 20000 if quick else 100000
    store = {"sqlite": [], "postgres": []}
    for i in range(h.RUNS):
        for kind in ("sqlite", "postgres"):
            where = (["--dir", os.path.join(work, "cluster-store")] if kind == "sqlite"
                     else ["--db", new_database(server, f"store{i}")])
            out = subprocess.run([os.path.join(h.BUILD, "bench", "store_bench"), "--events", str(n)]
                                 + where, capture_output=True, text=True, check=True).stdout
            store[kind].append(json.loads(out)["group_commit_events_per_s"])
        h.log(f"   store run {i + 1}: group commit SQLite {store['sqlite'][-1]:.0f} events/s, "
              f"PostgreSQL {store['postgres'][-1]:.0f} events/s")
    return {
        "playback_events_per_s": {k: h.summary(v) for k, v in rates.items()},
        "playback_postgres_over_sqlite": statistics.median(rates["postgres"]) /
        statistics.median(rates["sqlite"]),
        "group_commit_events_per_s": {k: h.summary(v) for k, v in store.items()},
        "group_commit_postgres_over_sqlite": statistics.median(store["postgres"]) /
        statistics.median(store["sqlite"]),
    }


def bench_latency(h, quick, server):
    """Live events of a session driven on node a, to a subscriber on a and one on b."""
    target = 10000 if quick else 30000
    local, remote, counts = [], [], []
    for i in range(h.RUNS):
        db = new_database(server, f"latency{i}")
        a, a_url = start_node(h, db, "a", 15000)
        b, b_url = start_node(h, db, "b", 15000)
        try:
            since = time.time() * 1000 + 300
            sid = http_json("POST", a_url + "/sessions", {"input": target})["sessionId"]
            samples = {"a": [], "b": []}
            done = {k: threading.Event() for k in samples}
            for k, base in (("a", a_url), ("b", b_url)):
                threading.Thread(target=follow, daemon=True,
                                 args=(f"{base}/sessions/{sid}/events?history=true&closeAtEnd=true",
                                       since, samples[k], done[k])).start()
            for d in done.values():
                d.wait(120)
        finally:
            for p in (a, b):
                p.send_signal(signal.SIGTERM)
                p.wait(30)
        counts.append(len(samples["b"]))
        local.append((percentile(samples["a"], 0.5), percentile(samples["a"], 0.99)))
        remote.append((percentile(samples["b"], 0.5), percentile(samples["b"], 0.99)))
        h.log(f"   latency run {i + 1}: same node p50 {local[-1][0]:.1f} ms p99 {local[-1][1]:.1f} ms; "
              f"other node p50 {remote[-1][0]:.1f} ms p99 {remote[-1][1]:.1f} ms "
              f"({len(samples['b'])} events)")
    return {"counter_target": target, "live_events": int(statistics.median(counts)),
            "same_node_p50_ms": h.summary([x[0] for x in local]),
            "same_node_p99_ms": h.summary([x[1] for x in local]),
            "other_node_p50_ms": h.summary([x[0] for x in remote]),
            "other_node_p99_ms": h.summary([x[1] for x in remote])}


def bench_takeover(h, quick, server):
    """kill -9 of the driving node; time until another node drives the session."""
    lease_ms = 2000
    times = []
    for i in range(h.RUNS):
        db = new_database(server, f"takeover{i}")
        a, a_url = start_node(h, db, "a", lease_ms)
        b, b_url = start_node(h, db, "b", lease_ms)
        try:
            sid = http_json("POST", a_url + "/sessions", {"input": 10000000})["sessionId"]
            time.sleep(0.5)
            a.send_signal(signal.SIGKILL)
            a.wait()
            killed = time.perf_counter()
            while not http_json("GET", f"{b_url}/sessions/{sid}").get("running"):
                if time.perf_counter() - killed > 30:
                    raise RuntimeError("no takeover within 30 s")
                time.sleep(0.01)
            times.append((time.perf_counter() - killed) * 1000)
        finally:
            b.send_signal(signal.SIGTERM)
            b.wait(30)
        h.log(f"   takeover run {i + 1}: {times[-1]:.0f} ms (lease {lease_ms} ms)")
    return {"lease_ms": lease_ms, "takeover_ms": h.summary(times)}


def bench_cluster(h, quick, work):
    server, urlfile = start_postgres(h, work)
    try:
        result = bench_persist(h, quick, work, server)
        h.log("== cluster: delivery latency, same node and other node")
        result["latency"] = bench_latency(h, quick, server)
        h.log("== cluster: takeover after kill -9")
        result["takeover"] = bench_takeover(h, quick, server)
    finally:
        stop_postgres(h, urlfile)
    return {"cluster": result}


def rows(h, c):
    out = []
    for kind in ("sqlite", "postgres"):
        out.append((f"cluster: playback events/s, {kind}", h.fmt(c["playback_events_per_s"][kind]), ""))
    out.append(("cluster: playback PostgreSQL/SQLite", f"{c['playback_postgres_over_sqlite']:.2f}", ""))
    for kind in ("sqlite", "postgres"):
        out.append((f"cluster: group commit events/s, {kind}",
                    h.fmt(c["group_commit_events_per_s"][kind]), "batches of 64"))
    out.append(("cluster: group commit PostgreSQL/SQLite",
                f"{c['group_commit_postgres_over_sqlite']:.2f}", ""))
    lat = c["latency"]
    out.append(("cluster: delivery p50/p99, same node",
                f"{h.fmt(lat['same_node_p50_ms'], ' ms', 1)} / {h.fmt(lat['same_node_p99_ms'], ' ms', 1)}",
                f"{lat['live_events']} live events, timestamps to arrival"))
    out.append(("cluster: delivery p50/p99, other node",
                f"{h.fmt(lat['other_node_p50_ms'], ' ms', 1)} / {h.fmt(lat['other_node_p99_ms'], ' ms', 1)}",
                "LISTEN/NOTIFY, one read per batch"))
    t = c["takeover"]
    out.append(("cluster: takeover after kill -9", h.fmt(t["takeover_ms"], " ms"),
                f"lease {t['lease_ms']} ms"))
    return out
