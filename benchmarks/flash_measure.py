"""What the flash-sale benchmark measures besides the answers: CPU per process (from /proc), the
backlog over time, PostgreSQL's write counters, and the backlog chart (a plain SVG)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

_TICKS = os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(parent, []).append(int(entry))
    return kids


def cpu_seconds(root: int, kids: dict[int, list[int]] | None = None, apart: frozenset[int] = frozenset()) -> float:
    """User + system CPU of a process and its descendants (those alive now), except the subtrees
    of the processes `apart` (counted on their own)."""
    kids = kids if kids is not None else _children()
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
        stack.extend(kid for kid in kids.get(pid, ()) if kid not in apart)
    return total


def cpu_by_name(roots: dict[str, int]) -> dict[str, float]:
    """Each root's CPU with its descendants; a root that descends from another counts only for itself
    (the benchmark process started every other one: its own figure is its own threads')."""
    kids = _children()
    pids = frozenset(roots.values())
    return {name: cpu_seconds(pid, kids, pids - {pid}) for name, pid in roots.items()}


@dataclass
class Sample:
    t: float  # seconds since the burst started
    inbox: int  # deliveries not yet processed
    outbox: int  # actions not yet done


@dataclass
class Sampler:
    """Every `every` seconds: the inbox and outbox backlog (counted over the open rows' partial
    indexes, so sampling costs the database under test next to nothing)."""

    dsn: str
    started: float
    every: float = 0.5
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, name="backlog-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT (SELECT count(*) FROM deliveries WHERE status IN ('pending', 'processing')),"
                    " (SELECT count(*) FROM actions WHERE status IN ('pending', 'running'))").fetchone()
                self.samples.append(Sample(time.monotonic() - self.started, *row))
                self._stop.wait(self.every)


def pg_counters(dsn: str) -> dict[str, float]:
    """The database's cumulative write counters (transactions, rows, WAL bytes) and per-table rows."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        commits, ins, upd, dele = conn.execute(
            "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database"
            " WHERE datname = current_database()").fetchone()
        wal = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')").fetchone()[0]
        out: dict[str, float] = {"commits": commits, "inserted": ins, "updated": upd, "deleted": dele,
                                 "wal_bytes": float(wal)}
        for table, i, u, d in conn.execute(
                "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables"):
            out[f"table:{table}"] = i + u + d
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        out["db_bytes"] = size
        return out


def wait_stats_flushed(dsn: str) -> None:
    """PostgreSQL publishes a backend's counters when it goes idle, at most once a second."""
    time.sleep(1.5)


def backlog_svg(samples: list[Sample], burst_seconds: float, title: str) -> str:
    """A step chart of the inbox and outbox backlog over time, the burst shaded."""
    width, height, left, right, top, bottom = 760, 300, 60, 20, 30, 40
    t_max = max([s.t for s in samples] + [burst_seconds, 1.0])
    peak = max([max(s.inbox, s.outbox) for s in samples] + [1])
    step = 10 ** max(len(str(peak)) - 1, 0)
    while peak / step > 5:
        step *= 2
    y_top = ((peak + step - 1) // step) * step

    def x(t: float) -> float:
        return left + (width - left - right) * t / t_max

    def y(v: float) -> float:
        return height - bottom - (height - top - bottom) * v / y_top

    def path(values: list[tuple[float, int]]) -> str:
        return " ".join(f"{'M' if i == 0 else 'L'}{x(t):.1f},{y(v):.1f}" for i, (t, v) in enumerate(values))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
             f'<rect x="{x(0):.1f}" y="{top}" width="{x(burst_seconds) - x(0):.1f}" '
             f'height="{height - top - bottom}" fill="#f3efe0"/>',
             f'<text x="{left}" y="18" font-size="13">{title}</text>']
    v = 0
    while v <= y_top:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:,}</text>')
        v += step
    t_step = next((n for n in (5, 10, 30, 60, 120, 300, 600) if t_max / n <= 16), 1200)  # at most ~16 labels
    t = 0
    while t <= t_max:
        parts.append(f'<text x="{x(t):.1f}" y="{height - bottom + 16}" text-anchor="middle">{t}s</text>')
        t += t_step
    parts.append(f'<path d="{path([(s.t, s.inbox) for s in samples])}" fill="none" stroke="#1f5fa8" '
                 f'stroke-width="2"/>')
    parts.append(f'<path d="{path([(s.t, s.outbox) for s in samples])}" fill="none" stroke="#c2571a" '
                 f'stroke-width="2"/>')
    legend_y = height - 8
    parts.append(f'<rect x="{left}" y="{legend_y - 9}" width="12" height="3" fill="#1f5fa8"/>'
                 f'<text x="{left + 16}" y="{legend_y - 5}">webhooks waiting (inbox)</text>'
                 f'<rect x="{left + 180}" y="{legend_y - 9}" width="12" height="3" fill="#c2571a"/>'
                 f'<text x="{left + 196}" y="{legend_y - 5}">store calls and emails waiting (outbox)</text>'
                 f'<rect x="{left + 440}" y="{legend_y - 12}" width="12" height="9" fill="#f3efe0"/>'
                 f'<text x="{left + 456}" y="{legend_y - 5}">the burst</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
