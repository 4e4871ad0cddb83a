"""Every service process (web, worker, scheduler: all start through `build_services`) runs with the
collector's thresholds that keep it from scanning a worker's heap again and again (gc_settings)."""

from __future__ import annotations

import gc

from connector.gc_settings import THRESHOLDS


def test_a_service_process_runs_with_the_tuned_collector(services) -> None:  # type: ignore[no-untyped-def]
    assert gc.get_threshold() == THRESHOLDS
    assert gc.isenabled()  # tuned, not off: cycles are still collected

