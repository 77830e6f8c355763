#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/ from the project's own data:
Kraken messages from tests/data/kraken/vectors.json (the documented
examples), .env samples from .env.example and tests/data/config, and HTTP
requests for every dashboard route. Run it again after changing those;
libFuzzer grows the corpus from these seeds."""
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)


def write(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def compact(o):
    return json.dumps(o, separators=(",", ":"))


v = json.load(open(os.path.join(root, "tests/data/kraken/vectors.json")))
matic = compact({"channel": "instrument", "type": "update", "data": {"assets": [], "pairs": [{
    "symbol": "MATIC/USD", "base": "MATIC", "quote": "USD", "status": "online",
    "qty_precision": 8, "qty_increment": 1e-08, "price_precision": 4, "cost_precision": 5,
    "cost_min": "0.5", "price_increment": "0.0001", "qty_min": "4.0"}]}})
snap = upd = None
for b in v["book_checksum"]:
    if "snapshot_message" in b:
        snap = compact(b["snapshot_message"])
    if "update_message" in b:
        upd = compact(b["update_message"])
write("codec", "book_snapshot_update", "\n".join([matic, snap, upd]))
write("codec", "book_snapshot", snap)
for ex in v["protocol_examples"]:
    if not ex["id"].startswith("ws_v2_"):
        continue
    msgs = []
    for k in ("request", "response", "message", "messages", "snapshot", "update"):
        if k in ex:
            x = ex[k]
            msgs += x if isinstance(x, list) else [x]
    msgs = [m for m in msgs if isinstance(m, dict)]
    if msgs:
        write("codec", ex["id"], "\n".join(compact(m) for m in msgs))
        write("private", ex["id"], "\n".join(compact(m) for m in msgs))
write("codec", "truncated", snap[: len(snap) // 2])

with open(os.path.join(root, ".env.example"), "rb") as f:
    write("config", "env_example", f.read())
cfgdir = os.path.join(root, "tests/data/config")
for n in sorted(os.listdir(cfgdir)):
    with open(os.path.join(cfgdir, n), "rb") as f:
        write("config", "test_" + n, f.read())
write("config", "quoting",
      "# comment\nexport APP_ENV=dev\nAPP_PORT='8081'\nLOG_LEVEL=\"debug\" # trailing\n"
      "BOOK_SYMBOLS=BTC/USD, ETH/USD\nKRAKEN_API_KEY_PERMISSIONS=query_funds,query_open,trade\n"
      "APP_HOST = 127.0.0.1\r\nTRADING_MODE=paper\n")
write("config", "enc_value",
      "APP_ENV=dev\nDASHBOARD_USER=enc:gAAAAABpZ1Zr0000000000000000000000000000000000000000000000\n")
write("config", "unknown_key", "APP_PROT=8080\n")

reqs = {
    "get_root": "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "get_health": "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n",
    "head_health": "HEAD /health HTTP/1.0\r\n\r\n",
    "get_status": "GET /partials/status HTTP/1.1\r\nHost: x\r\nHX-Request: true\r\n\r\n",
    "get_static": "GET /static/app.css HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"0\"\r\n\r\n",
    "get_htmx": "GET /static/htmx.min.js HTTP/1.1\r\nHost: x\r\n\r\n",
    "traversal": "GET /static/..%2f..%2fetc%2fpasswd HTTP/1.1\r\nHost: x\r\n\r\n",
    "get_login": "GET /login HTTP/1.1\r\nHost: x\r\n\r\n",
    "post_login": "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  "Cookie: csrf=abc\r\nContent-Length: 35\r\n\r\nuser=admin&password=pw&csrf=abc&x=1",
    "post_pause": "POST /control/pause HTTP/1.1\r\nHost: x\r\nX-CSRF-Token: t\r\nContent-Length: 0\r\n\r\n",
    "get_metrics": "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWRtaW46cHc=\r\n\r\n",
    "pages": "".join("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % p for p in
                     ("/opportunities?page=2&limit=50", "/trades", "/portfolio", "/latency", "/audit",
                      "/partials/overview", "/partials/opportunities?since=0")),
    "chunked": "POST /control/mode HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nmode=\r\n4\r\nlive\r\n0\r\n\r\n",
    "bad_method": "BREW / HTTP/1.1\r\nHost: x\r\n\r\n",
}
for k, r in reqs.items():
    write("web", k, r)

# Edge cases: limits the parsers must refuse cleanly.
write("codec", "edge_nesting", "[" * 70 + "]" * 70)
write("codec", "edge_numbers", matic + "\n" + snap.replace("0.5666", "0.56660000000000000000000001")
      .replace("4831.75496356", "1e400"))
levels = ",".join('{"price":%d.%04d,"qty":1}' % (1 + i // 10000, i % 10000) for i in range(1100))
write("codec", "edge_levels", matic + '\n{"channel":"book","type":"snapshot","data":[{"symbol":"MATIC/USD",'
      '"bids":[' + levels + '],"asks":[],"checksum":0,"timestamp":"2023-10-06T17:35:55.440295Z"}]}')
write("codec", "edge_escapes", '{"channel":"st\\u0061tus","data":[{"system":"on\\"line"}],"type":"update"}')
write("config", "edge_nul", b"APP_ENV=dev\nAPP_PORT=80\x0080\n")
write("config", "edge_long", "APP_HOST=" + "a" * 5000 + "\n")
write("config", "edge_quotes", "APP_HOST=\"unterminated\nLOG_LEVEL='x'y\nexport\n=value\nBAD KEY=1\n")
write("web", "edge_long_header", "GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + "a" * 70000 + "\r\n\r\n")
write("web", "edge_body_too_big", "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n" + "a" * 70000)
write("web", "edge_bad_chunks", "POST /control/kill HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "fffffffffffffffff\r\nx\r\n")

# The backtest reader: a first byte of options (bit 0: skip bad lines), then
# the events file.
def seedline(ts, sym, bids, asks):
    return compact({"timestamp": ts, "symbol": sym, "bids": bids, "asks": asks}) + "\n"


seeds = (seedline("2024-01-01T00:00:00Z", "BTC/USD", [["50000.0", "1.00000000"]], [["50000.1", "1.00000000"]])
         + seedline("2024-01-01T00:00:00Z", "ETH/USD", [["2500.00", "10.00000000"]], [["2500.01", "10.00000000"]])
         + seedline("2024-01-01T00:00:00Z", "ETH/BTC", [["0.05000", "10.00000000"]], [["0.05001", "10.00000000"]])
         + seedline("2024-01-01T00:00:02Z", "BTC/USD", [["49499.9", "1.00000000"]],
                    [["49500.0", "0.00500000"], ["50000.1", "1.00000000"]])
         + seedline("2024-01-01T00:00:03Z", "BTC/USD", [["50000.0", "1.00000000"]], [["50000.1", "1.00000000"]]))
write("replay", "seed_cycle", "\x00" + seeds)
write("replay", "seed_cycle_skip_bad", "\x01" + seeds + "not json\n" + seeds.replace("2024-01-01", "2024-01-02"))
for n in ("verify_matic.jsonl", "verify_vectors.jsonl"):
    with open(os.path.join(root, "tests/data/kraken", n), "rb") as f:
        write("replay", "raw_" + n, b"\x01" + f.read())
