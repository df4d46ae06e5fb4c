"""python -m bench [name ...] — run benchmarks and print Markdown rows for bench/RESULTS.md."""
from __future__ import annotations

import importlib
import sys

BENCHES = ["bench.list_all", "bench.events_ingest", "bench.maps_page", "bench.maps_routing", "bench.maps_slots",
           "bench.sync_1c", "bench.sync_1c_golive", "bench.reports_visits", "bench.sandbox_lists",
           "bench.form_limits", "bench.paging_cost", "bench.maps_incremental", "bench.calc_lock",
           "bench.reports_cache", "bench.field_ops", "bench.rules_sweep", "bench.desk_registry"]


def main(argv: list[str]) -> None:
    names = argv or BENCHES
    for name in names:
        mod = importlib.import_module(name if name.startswith("bench.") else f"bench.{name}")
        print(f"\n## {mod.TITLE}\n")
        mod.run()


if __name__ == "__main__":
    main(sys.argv[1:])
