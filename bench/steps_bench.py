"""Cost of a step (bench/run --only steps).

A counter loop of `set` phases (one increment, a JSON Logic `next` back to itself), persisted, in
scaffold and in two peers, timed in the same run: LangGraph.js (bench/peers/langgraph: one node,
a conditional edge, its SQLite checkpointer) and Mastra (bench/peers/mastra: one step in a
`dountil` loop, its LibSQL storage); scaffold/peer ratios at the same N. Then the
bytes stored per step when the state is large: a 100 KB document in the state and a list that
grows by one entry per step, over 1,000 steps, appended with `/notes/-` and, the way a workflow
written naively does it, by setting the whole list to a longer copy (`merge`). Stored bytes are
the database file's growth (after the run, its WAL folded in) per step, between a 1-step and a
1,001-step run.

With --baseline BINARY (another scaffold, e.g. an older commit's build), every scaffold figure is
measured for it too, interleaved, so before and after come from one run.
"""
import json
import os
import subprocess
import tempfile

COUNTER = {
    "scaffold": 1, "name": "counter", "input": {"type": "integer", "minimum": 1},
    "state": {"count": 0, "target": 0}, "start": {"/target": {"var": "input"}},
    "max_visits": 100000000,
    "phases": {
        "step": {"set": {"/count": {"+": [{"var": "state.count"}, 1]}},
                 "next": {"if": [{"<": [{"var": "state.count"}, {"var": "state.target"}]},
                                 "step", "done"]}},
        "done": {"terminal": True, "result": {"var": "state.count"}},
    },
}


def big_state_workflow(grow):
    note = {"cat": ["step ", {"var": "state.count"}]}
    notes = ({"/notes/-": note} if grow == "append"
             else {"/notes": {"merge": [{"var": "state.notes"}, [note]]}})
    wf = json.loads(json.dumps(COUNTER))
    wf["name"] = f"big-state-{grow}"
    wf["state"] = {"count": 0, "target": 0, "notes": [], "doc": "lorem ipsum " * 8534}  # ~100 KB
    wf["phases"]["step"]["set"] = {"/count": {"+": [{"var": "state.count"}, 1]}, **notes}
    return wf


def fresh_db(work, prefix):
    fd, db = tempfile.mkstemp(prefix=prefix, suffix=".db", dir=work)
    os.close(fd)
    os.remove(db)
    return db


def measure_and_remove(db):
    """The database's size (its WAL included), then the files are removed."""
    size = sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    return size


def run_scaffold(h, binary, workflow, n, work):
    db = fresh_db(work, "steps-")
    seconds, rss, _ = h.timed([binary, "run", workflow, "--input", str(n), "--db", db, "-q"])
    return seconds, measure_and_remove(db), rss


PEERS = {"langgraph": "LangGraph.js", "mastra": "Mastra"}  # folder under bench/peers: name


def install_peer(h, name):
    peer = os.path.join(h.ROOT, "bench", "peers", name)
    if not os.path.isdir(os.path.join(peer, "node_modules")):
        h.log(f"   npm install ({PEERS[name]} peer; native modules build against /usr's Node headers)")
        env = dict(os.environ, npm_config_nodedir="/usr")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=peer, env=env,
                       check=True)
    return peer


def run_peer(peer, n, work):
    db = fresh_db(work, os.path.basename(peer) + "-")
    out = subprocess.run(["node", "counter.mjs", str(n), db], cwd=peer, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)["seconds"], measure_and_remove(db)


def bench_steps(h, quick, work, baseline=None):
    n_long = 20000 if quick else 100000
    n_peer = 1000 if quick else 5000
    binaries = {"scaffold": h.SCAFFOLD}
    if baseline:
        binaries["baseline"] = os.path.abspath(baseline)
    counter = os.path.join(work, "counter.json")
    with open(counter, "w") as f:
        json.dump(COUNTER, f)
    peers = {name: install_peer(h, name) for name in PEERS}
    h.log(f"== steps: counter loop, scaffold at N={n_long} and N={n_peer}, "
          f"LangGraph.js and Mastra at N={n_peer}")
    rates = {f"{kind}_{n}": [] for kind in binaries for n in (n_long, n_peer)}
    rates.update({name: [] for name in PEERS})
    stored = {kind: [] for kind in list(binaries) + list(PEERS)}
    for i in range(h.RUNS):
        for kind, binary in binaries.items():
            for n in (n_long, n_peer):
                seconds, size, _ = run_scaffold(h, binary, counter, n, work)
                rates[f"{kind}_{n}"].append(n / seconds)
                if n == n_long:
                    stored[kind].append(size / n)
        for name, peer in peers.items():
            seconds, size = run_peer(peer, n_peer, work)
            rates[name].append(n_peer / seconds)
            stored[name].append(size / n_peer)
        h.log("   run {}: {}".format(i + 1, ", ".join(f"{k} {v[-1]:,.0f} steps/s"
                                                      for k, v in rates.items())))
    result = {"n": n_long, "n_peer": n_peer,
              "steps_per_s": {k: h.summary(v) for k, v in rates.items()},
              "stored_bytes_per_step": {k: h.summary(v) for k, v in stored.items()}}
    for name in PEERS:
        peer_rate = result["steps_per_s"][name]["median"]
        result[f"over_{name}"] = {
            k: result["steps_per_s"][k]["median"] / peer_rate for k in rates if k not in PEERS}

    h.log("== steps: bytes stored per step with a 100 KB state, 1,000 steps")
    big = {}
    for grow in ("append", "merge"):
        path = os.path.join(work, f"big-{grow}.json")
        with open(path, "w") as f:
            json.dump(big_state_workflow(grow), f)
        for kind, binary in binaries.items():
            per_step, rates_big = [], []
            for _ in range(3 if quick else h.RUNS):
                _, small, _ = run_scaffold(h, binary, path, 1, work)
                seconds, large, _ = run_scaffold(h, binary, path, 1001, work)
                per_step.append((large - small) / 1000)
                rates_big.append(1001 / seconds)
            big[f"{kind}_{grow}"] = {"bytes_per_step": h.summary(per_step),
                                     "steps_per_s": h.summary(rates_big)}
            h.log(f"   {kind} {grow}: {big[f'{kind}_{grow}']['bytes_per_step']['median']:,.0f} B/step")
    result["big_state"] = big
    return {"steps": result}


def rows(h, s):
    out = []
    for key, value in s["steps_per_s"].items():
        note = ", ".join(f"x{s[f'over_{name}'][key]:.1f} {PEERS[name]}"
                         for name in PEERS if key in s.get(f"over_{name}", {}))
        out.append((f"steps: counter loop steps/s, {key.replace('_', ' N=')}", h.fmt(value), note))
    for key, value in s["stored_bytes_per_step"].items():
        out.append((f"steps: bytes stored per step, {key}", h.fmt(value, " B"),
                    "counter loop, database size / steps"))
    for key, value in s["big_state"].items():
        out.append((f"steps: 100 KB state, {key.replace('_', ', ')}",
                    h.fmt(value["bytes_per_step"], " B/step"),
                    f"{h.fmt(value['steps_per_s'])} steps/s"))
    return out
