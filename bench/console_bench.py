"""The web console on a long session (bench/run --only console).

A served counter workflow writes a session of about 100,000 events; headless Chromium then
opens the session's page several times (bench/console_load.mjs, playwright-core from
tests/console) and records how long it takes to show the session's head, to hold every event
in its event list (they arrive over its SSE route from position 1, read with fetch), and to show the last state;
and the page's JS heap after that. There is no peer to compare with: these are the console's
own figures.
"""
import json
import os
import subprocess
import time
import urllib.request

COUNTER = {
    "scaffold": 1, "name": "counter", "input": {"type": "integer", "minimum": 0},
    "state": {"count": 0, "target": 0}, "start": {"/target": {"var": "input"}},
    "max_visits": 10000000,
    "phases": {
        "step": {"set": {"/count": {"+": [{"var": "state.count"}, 1]}},
                 "next": {"if": [{"<": [{"var": "state.count"}, {"var": "state.target"}]}, "step", "done"]}},
        "done": {"terminal": True, "result": {"var": "state.count"}},
    },
}


def http(method, url, body=None):
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"Content-Type": "application/json"} if body else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def bench_console(h, quick, work):
    flows = os.path.join(work, "console-workflows")
    os.makedirs(flows, exist_ok=True)
    with open(os.path.join(flows, "counter.json"), "w") as f:
        json.dump(COUNTER, f)
    steps = 2500 if quick else 25000  # four events a step, and four more: 100,004
    serve = subprocess.Popen([h.SCAFFOLD, "serve", "--workflows", flows, "--db",
                              os.path.join(work, "console.db"), "--listen", "127.0.0.1:0",
                              "--no-access-log"], stderr=subprocess.PIPE, text=True)
    try:
        url = None
        while url is None:
            line = serve.stderr.readline()
            if not line:
                raise RuntimeError("scaffold serve exited")
            if "listening on " in line:
                url = line.split("listening on ", 1)[1].split()[0]
        sid = http("POST", url + "/sessions", {"workflow": "counter", "input": steps})["sessionId"]
        deadline = time.time() + 600
        while True:
            s = http("GET", f"{url}/sessions/{sid}")
            if s["status"] == "completed":
                break
            if time.time() > deadline:
                raise RuntimeError("the counter session did not finish")
            time.sleep(0.2)
        events = s["eventCount"]
        h.log(f"   console: {events} events; opening the page {h.RUNS} times")
        out = subprocess.run(["node", os.path.join(h.ROOT, "bench", "console_load.mjs"), url, sid,
                              str(events), str(h.RUNS)], capture_output=True, text=True, timeout=1800,
                             check=True).stdout
        runs = json.loads(out.strip().splitlines()[-1])
    finally:
        serve.terminate()
        serve.wait(timeout=30)
    pick = lambda key: h.summary([r[key] for r in runs])
    return {"console": {"events": events, "head_ms": pick("head_ms"), "all_events_ms": pick("all_events_ms"),
                        "state_ms": pick("state_ms"), "heap_mib": pick("heap_mib")}}


def rows(h, c):
    return [
        ("console: session head shown", h.fmt(c["head_ms"], " ms"), f"{c['events']} events"),
        ("console: every event in the list", h.fmt(c["all_events_ms"], " ms"), "over SSE from position 1"),
        ("console: last state shown", h.fmt(c["state_ms"], " ms"), ""),
        ("console: JS heap after", h.fmt(c["heap_mib"], " MiB", 1), ""),
    ]
