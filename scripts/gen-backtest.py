#!/usr/bin/env python3
"""Writes a backtest input for the throughput benchmark: a recording (lines
as `arbitrade record` writes them) of a Kraken-like universe whose cross
rates are consistent, so that nothing is an arbitrage after fees, the way
real markets look almost all the time. An instrument snapshot, one book
snapshot per pair, then N book updates (a quantity change at one of the top
levels of one pair), each with the checksum Kraken would send.

usage: gen-backtest.py OUT N [--pairs P] [--seed S]"""
import argparse, random, zlib

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("n", type=int)
ap.add_argument("--seed", type=int, default=7)
a = ap.parse_args()
rnd = random.Random(a.seed)

usd = {"BTC": 50000.0, "ETH": 2500.0, "SOL": 100.0, "XRP": 0.5, "ADA": 0.4, "DOT": 6.0,
       "LTC": 70.0}
eur = 1.087
pairs = []  # (symbol, base, quote, price_decimals, mid)
for b, v in usd.items():
    pd = 1 if v > 1000 else (2 if v > 1 else 5)
    pairs.append((b + "/USD", b, "USD", pd, v))
    pairs.append((b + "/EUR", b, "EUR", pd, v / eur))
    if b != "BTC":
        pairs.append((b + "/BTC", b, "BTC", 8, v / usd["BTC"]))
QD = 8


def tok(v):  # Kraken checksum token: the integer's digits
    return str(v)


def checksum(bids, asks):
    s = "".join(tok(p) + tok(q) for p, q in asks[:10]) + "".join(tok(p) + tok(q) for p, q in bids[:10])
    return zlib.crc32(s.encode()) & 0xFFFFFFFF


def fmt(v, d):
    s = str(v).rjust(d + 1, "0")
    return s[:-d] + "." + s[-d:] if d else s


books = {}
for sym, b, q, pd, mid in pairs:
    m = int(mid * 10**pd)
    half = max(int(m * 3e-4), 1)  # a 6 bps spread: no cycle pays 3 taker fees
    bids = [[m - half - k * max(half // 4, 1), rnd.randint(10**6, 5 * 10**8)] for k in range(10)]
    asks = [[m + half + k * max(half // 4, 1), rnd.randint(10**6, 5 * 10**8)] for k in range(10)]
    books[sym] = (bids, asks, pd)

t = 1704067200 * 10**9
def ts(t):
    import time
    s, ns = divmod(t, 10**9)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%09dZ" % ns


def lv(levels, pd):
    return ",".join('{"price":%s,"qty":%s}' % (fmt(p, pd), fmt(q, QD)) for p, q in levels)


with open(a.out, "w") as f:
    inst = ",".join(
        '{"symbol":"%s","base":"%s","quote":"%s","status":"online","price_increment":%s,'
        '"price_precision":%d,"qty_increment":1e-08,"qty_precision":8,"qty_min":0.0001,'
        '"cost_min":0.00001,"cost_precision":8}' % (s, b, q, fmt(1, pd), pd)
        for s, b, q, pd, _ in pairs)
    f.write('{"recv_ts":"%s","msg":{"channel":"instrument","type":"snapshot","data":'
            '{"assets":[],"pairs":[%s]}}}\n' % (ts(t), inst))
    for sym, (bids, asks, pd) in books.items():
        t += 1000
        f.write('{"recv_ts":"%s","msg":{"channel":"book","type":"snapshot","data":[{"symbol":'
                '"%s","bids":[%s],"asks":[%s],"checksum":%d,"timestamp":"%s"}]}}\n'
                % (ts(t), sym, lv(bids, pd), lv(asks, pd), checksum(bids, asks), ts(t)))
    names = list(books)
    for i in range(a.n):
        t += 1000  # 1 us apart: a million events in a second of market time
        sym = names[i % len(names)]
        bids, asks, pd = books[sym]
        side = bids if rnd.random() < 0.5 else asks
        k = rnd.randrange(10)
        side[k][1] = rnd.randint(10**6, 5 * 10**8)
        up = '[{"price":%s,"qty":%s}]' % (fmt(side[k][0], pd), fmt(side[k][1], QD))
        b, s_ = (up, "[]") if side is bids else ("[]", up)
        f.write('{"recv_ts":"%s","msg":{"channel":"book","type":"update","data":[{"symbol":'
                '"%s","bids":%s,"asks":%s,"checksum":%d,"timestamp":"%s"}]}}\n'
                % (ts(t), sym, b, s_, checksum(bids, asks), ts(t)))
