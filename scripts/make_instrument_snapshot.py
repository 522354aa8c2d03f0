"""Write the package's instrument snapshot from recorded full ``exchangeInfo`` payloads.

    python scripts/make_instrument_snapshot.py [--spot FILE] [--usdm FILE] [--out FILE]

Defaults: the recorded spot (2021-10-12) and USD-M (2021-07-21) payloads in
``../shared/binance-fixtures`` and ``src/ictbot/instruments/bundled/binance_snapshot.json``.
Running it again on the same payloads writes a byte-identical file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ictbot.domain.market import Market
from ictbot.instruments.snapshot import SNAPSHOT_FILE, build_part, build_snapshot, dump_snapshot

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "binance-fixtures"
DEFAULT_SPOT = FIXTURES / "spot" / "rest" / "exchange_info_full_20211012.real.json"
DEFAULT_USDM = FIXTURES / "futures" / "rest" / "exchange_info_full_20210721.real.json"
DEFAULT_OUT = ROOT / "src" / "ictbot" / "instruments" / "bundled" / SNAPSHOT_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spot", type=Path, default=DEFAULT_SPOT, help="full spot /api/v3/exchangeInfo payload")
    parser.add_argument("--usdm", type=Path, default=DEFAULT_USDM, help="full USD-M /fapi/v1/exchangeInfo payload")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="snapshot file to write")
    args = parser.parse_args(argv)
    parts = [
        build_part(json.loads(path.read_text(encoding="utf-8")), market, path.name)
        for market, path in ((Market.SPOT, args.spot), (Market.USDM, args.usdm))
    ]
    text = dump_snapshot(build_snapshot(parts))
    args.out.write_text(text, encoding="utf-8")
    counts = ", ".join(f"{p.market.value} {len(p.instruments)} symbols as of {p.as_of}" for p in parts)
    print(f"wrote {args.out} ({len(text.encode())} bytes): {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
