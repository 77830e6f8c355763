#!/usr/bin/env python3
"""Generates a Kraken-like spot universe of about 1,050 pairs, deterministically.

Writes, next to this script:
  kraken_like.json  an `instrument` channel snapshot message (PROTOCOL.md §3), the
                    format `arbitrade cycles --universe` reads;
  kraken_like.tsv   the same pairs as plain columns plus a fair mid price, for the
                    detector's benchmark (tests/unit/arb/test_bench.c), which links
                    only core/book/arb and so cannot use the Kraken codec.

Shape, after Kraken's listing: almost every base trades against USD, most
against EUR, the larger ones against USDT, USDC, BTC, ETH and GBP, a few against
CAD, JPY, AUD and CHF; plus the fiat and stablecoin crosses. Prices carry about
six significant digits (price_precision), quantities 8 decimals for anything
worth more than 10 cents, qty_min about 5 USD worth, cost_min 0.5 in fiat and
stablecoins. About 2% of the other pairs are not online (maintenance,
cancel_only, ...); the fiat and stablecoin crosses and the ten majors are.

Usage: python3 tests/data/universe/gen_universe.py   (no arguments; seed fixed)
"""
import json
import math
import os
import random

rng = random.Random(20261201)

FIAT = {"USD": 1.0, "EUR": 1.05, "GBP": 1.27, "CAD": 0.71, "JPY": 0.0066, "CHF": 1.12,
        "AUD": 0.65}
STABLE = {"USDT": 1.0002, "USDC": 0.9999, "DAI": 1.0001, "PYUSD": 0.9998}
MAJORS = [("BTC", 97000.0), ("ETH", 3600.0), ("SOL", 230.0), ("XRP", 2.4), ("ADA", 1.05),
          ("DOGE", 0.40), ("DOT", 8.9), ("LTC", 118.0), ("LINK", 24.0), ("AVAX", 48.0),
          ("POL", 0.62), ("ATOM", 8.1), ("XLM", 0.45), ("BCH", 520.0), ("UNI", 15.5),
          ("ALGO", 0.48), ("FIL", 6.8), ("ETC", 33.0), ("TRX", 0.27), ("NEAR", 6.6),
          ("AAVE", 310.0), ("XTZ", 1.6), ("EOS", 1.1), ("MKR", 1900.0), ("COMP", 85.0),
          ("SNX", 3.4), ("GRT", 0.31), ("CRV", 1.05), ("SUSHI", 1.6), ("YFI", 9500.0),
          ("BAT", 0.29), ("ZEC", 62.0), ("DASH", 45.0), ("XMR", 190.0), ("KSM", 42.0),
          ("MANA", 0.68), ("SAND", 0.74), ("AXS", 8.7), ("ENJ", 0.35), ("CHZ", 0.12),
          ("FLOW", 1.0), ("ICP", 12.5), ("APE", 1.6), ("SHIB", 0.000028), ("PEPE", 0.000021),
          ("ARB", 1.0), ("OP", 2.5), ("INJ", 31.0), ("SUI", 4.2), ("SEI", 0.55), ("TIA", 7.5),
          ("JUP", 1.1), ("WIF", 3.1), ("BONK", 0.000043), ("RENDER", 8.8), ("FET", 1.6),
          ("LDO", 2.1), ("RPL", 12.0), ("IMX", 1.7), ("BLUR", 0.36), ("GALA", 0.045),
          ("KAVA", 0.55), ("LRC", 0.26), ("QTUM", 4.2), ("SC", 0.0078), ("STORJ", 0.62),
          ("ZRX", 0.58), ("ANKR", 0.047), ("BAND", 1.9), ("BAL", 2.9), ("CTSI", 0.21),
          ("DYDX", 2.0), ("ENS", 42.0), ("GNO", 330.0), ("KNC", 0.63), ("LPT", 16.0),
          ("MINA", 0.78), ("NANO", 1.4), ("OXT", 0.11), ("PAXG", 2650.0), ("PERP", 0.8),
          ("UMA", 3.2), ("WBTC", 96900.0), ("API3", 1.8), ("AUDIO", 0.22), ("BNT", 0.75),
          ("OCEAN", 0.73), ("TBTC", 96800.0), ("XDG", 0.40), ("HBAR", 0.29), ("KAS", 0.15),
          ("TAO", 520.0), ("STX", 2.1), ("JASMY", 0.045), ("RUNE", 5.8), ("EGLD", 40.0),
          ("MOVR", 12.0), ("GLMR", 0.32), ("ASTR", 0.075), ("ONDO", 1.7), ("PYTH", 0.5)]
N_BASES = 430
STATUS_OTHER = ["maintenance", "cancel_only", "limit_only", "reduce_only", "post_only"]


def synth_name(i):
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    a, b = divmod(i, len(letters))
    c, d = divmod(a, len(letters))
    return "Z" + letters[c % len(letters)] + letters[d] + letters[b]


def decimals_for(price):
    """Price decimals for six significant digits, within 0..12."""
    if price <= 0:
        return 8
    return max(0, min(12, 5 - math.floor(math.log10(price))))


def fmt(x, dec):
    s = f"{x:.{dec}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s if s not in ("", "-0") else "0"


def main():
    usd = dict(FIAT)
    usd.update(STABLE)
    bases = []
    for name, price in MAJORS:
        bases.append(name)
        usd[name] = price
    i = 0
    while len(bases) < N_BASES:
        name = synth_name(i)
        i += 1
        bases.append(name)
        usd[name] = math.exp(rng.gauss(-1.0, 2.6))
    pairs = []

    def add(base, quote):
        pairs.append((base, quote))

    for rank, b in enumerate(bases):
        big = rank < 100
        if rank < 10:  # the majors trade against every large quote
            for q in ("USD", "EUR", "USDT", "USDC", "BTC", "ETH", "GBP"):
                if q != b and not (b == "BTC" and q == "ETH"):
                    add(b, q)
            continue
        if rng.random() < 0.97:
            add(b, "USD")
        if rng.random() < (0.9 if big else 0.74):
            add(b, "EUR")
        if rng.random() < (0.75 if rank < 130 else 0.04):
            add(b, "USDT")
        if rng.random() < (0.45 if big else 0.03):
            add(b, "USDC")
        if b != "BTC" and rng.random() < (0.8 if rank < 90 else 0.02):
            add(b, "BTC")
        if b not in ("BTC", "ETH") and rng.random() < (0.7 if rank < 50 else 0.01):
            add(b, "ETH")
        if rng.random() < (0.6 if rank < 40 else 0.01):
            add(b, "GBP")
        for q, top in (("CAD", 15), ("JPY", 10), ("AUD", 10), ("CHF", 6)):
            if rank < top and rng.random() < 0.8:
                add(b, q)
    for b, q in [("EUR", "USD"), ("GBP", "USD"), ("USD", "CAD"), ("USD", "JPY"), ("USD", "CHF"),
                 ("AUD", "USD"), ("EUR", "GBP"), ("EUR", "CAD"), ("EUR", "JPY"), ("EUR", "CHF"),
                 ("EUR", "AUD"), ("GBP", "JPY"), ("AUD", "JPY"), ("USDT", "USD"), ("USDC", "USD"),
                 ("USDT", "EUR"), ("USDC", "EUR"), ("USDT", "GBP"), ("USDC", "GBP"),
                 ("USDT", "CAD"), ("USDT", "JPY"), ("USDT", "AUD"), ("USDT", "CHF"),
                 ("USDC", "USDT"), ("DAI", "USD"), ("DAI", "EUR"), ("DAI", "USDT"),
                 ("PYUSD", "USD"), ("PYUSD", "EUR"), ("USDC", "CAD"), ("USDC", "AUD")]:
        add(b, q)

    assets = sorted({a for p in pairs for a in p})
    out_pairs, rows = [], []
    # Kraken does not list crosses too cheap to price: keep six significant
    # digits within 12 decimals.
    pairs = [(b, q) for b, q in pairs if usd[b] / usd[q] >= 1e-6]
    for base, quote in pairs:
        mid = usd[base] / usd[quote]
        pp = decimals_for(mid)
        qp = 8 if usd[base] >= 0.1 else (5 if usd[base] >= 0.001 else 2)
        qty_min = max(round(5.0 / usd[base], qp), 10 ** -qp)
        qty_min = float(f"{qty_min:.2g}") if qty_min >= 10 ** -qp * 100 else qty_min
        if quote in ("BTC", "ETH"):
            cost_min, cp = (0.00002 if quote == "BTC" else 0.0002), 8
        elif quote == "JPY":
            cost_min, cp = 50.0, 3
        else:
            cost_min, cp = 0.5, 5
        # The crosses and the majors stay online: one of them in maintenance
        # would remove a whole family of cycles from the sample.
        core = base in FIAT or base in STABLE or base in dict(MAJORS[:10])
        status = "online" if core or rng.random() > 0.02 else rng.choice(STATUS_OTHER)
        symbol = f"{base}/{quote}"
        out_pairs.append({
            "symbol": symbol, "base": base, "quote": quote, "status": status,
            "marginable": False, "has_index": base in ("BTC", "ETH"),
            "price_precision": pp, "price_increment": float(fmt(10 ** -pp, pp)),
            "qty_precision": qp, "qty_increment": float(fmt(10 ** -qp, qp)),
            "qty_min": float(fmt(qty_min, qp)), "cost_min": cost_min, "cost_precision": cp,
            "tick_size": float(fmt(10 ** -pp, pp)),
        })
        rows.append([symbol, base, quote, status, str(pp), str(qp), str(cp), fmt(10 ** -pp, pp),
                     fmt(10 ** -qp, qp), fmt(qty_min, qp), fmt(cost_min, cp), fmt(mid, pp)])
    msg = {"channel": "instrument", "type": "snapshot", "data": {
        "assets": [{"id": a, "status": "enabled", "precision": 10, "precision_display": 5,
                    "borrowable": False, "collateral_value": 0.0, "margin_rate": 0.0}
                   for a in assets],
        "pairs": out_pairs}}
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "kraken_like.json"), "w") as f:
        json.dump(msg, f, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(here, "kraken_like.tsv"), "w") as f:
        f.write("# symbol\tbase\tquote\tstatus\tprice_precision\tqty_precision\t"
                "cost_precision\tprice_increment\tqty_increment\tqty_min\tcost_min\tmid\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"{len(out_pairs)} pairs, {len(assets)} assets")


if __name__ == "__main__":
    main()
