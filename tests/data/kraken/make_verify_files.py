#!/usr/bin/env python3
"""Writes the verify-book test files from vectors.json (run from anywhere;
the outputs are committed beside this script):

  verify_matic.jsonl         raw v2 lines: the book page MATIC/USD snapshot and
                             update exactly as printed (no instrument data, so
                             verify-book infers 4/8 decimals)
  verify_vectors.jsonl       recording lines ({"recv_ts","msg"}): status,
                             instrument snapshot for BTC/USD, subscribe acks,
                             the v2 guide BTC/USD snapshot (strings), the MATIC
                             snapshot + update, the v1 guide book state as a v2
                             snapshot, the level3 example (not a level-2 book:
                             decoded, not checked) and heartbeats
  verify_mismatch.jsonl      the MATIC snapshot, then its update with a wrong
                             checksum (line 2)
  verify_level3.jsonl        the level3 example alone (raw; precisions inferred
                             from its decimals): its per-order checksum
  verify_garbage.txt         not JSON at all
"""
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
v = json.load(open(os.path.join(here, "vectors.json")))
b = {x["id"]: x for x in v["book_checksum"]}


def dump(o):
    return json.dumps(o, separators=(",", ":"))


matic_snap = b["ws_v2_book_page_matic_snapshot"]["snapshot_message"]
matic_upd = b["ws_v2_book_page_matic_update"]["update_message"]
g = b["ws_v2_guide_btcusd_snapshot"]
btc_snap = {"channel": "book", "type": "snapshot", "data": [{
    "symbol": "BTC/USD",
    "bids": [{"price": p, "qty": q} for p, q in g["bids_levels"]],
    "asks": [{"price": p, "qty": q} for p, q in g["asks_levels"]],
    "checksum": g["expected_checksum"],
    "timestamp": "2023-10-06T17:35:55.440295Z"}]}
s1 = b["ws_v1_guide_book_state"]["book_state"]
v1_snap = {"channel": "book", "type": "snapshot", "data": [{
    "symbol": "V1GUIDE/XBT",
    "bids": [{"price": l[0], "qty": l[1]} for l in s1["bs"]],
    "asks": [{"price": l[0], "qty": l[1]} for l in s1["as"]],
    "checksum": b["ws_v1_guide_book_state"]["expected_checksum"],
    "timestamp": "2020-02-28T16:04:48.509872Z"}]}
l3 = b["ws_v2_level3_guide_btcusd_snapshot"]["snapshot_message"]
status = {"channel": "status", "type": "update", "data": [{
    "api_version": "v2", "connection_id": 13834774380200032777,
    "system": "online", "version": "2.0.0"}]}
instrument = {"channel": "instrument", "type": "snapshot", "data": {
    "assets": [{"id": "BTC", "status": "enabled", "precision": 10, "precision_display": 5},
               {"id": "USD", "status": "enabled", "precision": 4, "precision_display": 2}],
    "pairs": [{"symbol": "BTC/USD", "base": "BTC", "quote": "USD", "status": "online",
               "price_precision": 1, "price_increment": 0.1, "qty_precision": 8,
               "qty_increment": 1e-08, "qty_min": 0.0001, "cost_min": 0.5,
               "cost_precision": 5, "marginable": True, "has_index": True}]}}


def ack(sym):
    return {"method": "subscribe", "result": {"channel": "book", "depth": 10,
            "snapshot": True, "symbol": sym}, "success": True,
            "time_in": "2023-10-06T17:35:55.219022Z",
            "time_out": "2023-10-06T17:35:55.219067Z"}


def rec(i, msg):
    return dump({"recv_ts": "2023-10-06T17:35:55.%09dZ" % (440000000 + i), "msg": msg})


with open(os.path.join(here, "verify_matic.jsonl"), "w") as f:
    f.write(dump(matic_snap) + "\n" + dump(matic_upd) + "\n")

lines = [status, instrument, ack("BTC/USD"), ack("MATIC/USD"), btc_snap,
         {"channel": "heartbeat"}, matic_snap, matic_upd, v1_snap, l3,
         {"channel": "heartbeat"}]
with open(os.path.join(here, "verify_vectors.jsonl"), "w") as f:
    for i, m in enumerate(lines):
        f.write(rec(i, m) + "\n")

bad = json.loads(json.dumps(matic_upd))
bad["data"][0]["checksum"] = 12345
with open(os.path.join(here, "verify_mismatch.jsonl"), "w") as f:
    f.write(dump(matic_snap) + "\n" + dump(bad) + "\n")

with open(os.path.join(here, "verify_level3.jsonl"), "w") as f:
    f.write(dump(l3) + "\n")

with open(os.path.join(here, "verify_garbage.txt"), "w") as f:
    f.write("this is not a recording\nnor is this: [1, 2\n")
