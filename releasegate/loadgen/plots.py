"""PNG plots of a run (matplotlib, no display): latency over time — corrected and raw side by
side — throughput and errors, memory, and the stress run's capacity curve."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from releasegate.loadgen import hdr
from releasegate.loadgen.results import RunResult


def _figure(rows: int) -> tuple[Any, list[Any]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, 1, figsize=(9, 2.8 * rows), sharex=True, squeeze=False)
    return fig, [ax for (ax,) in axes]


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def timeline(result: RunResult, title: str,
             memory: Sequence[tuple[float, float]] = ()) -> bytes:
    """Latency percentiles per second (corrected solid, raw dashed), throughput and errors, and
    memory (seconds since the first intended send) when given."""
    seconds = [s for _, s in sorted(result.seconds.items())]
    t = [s.index * result.plan.window_s for s in seconds]
    fig, axes = _figure(3 if memory else 2)
    lat = axes[0]
    for p, colour in ((50.0, "tab:green"), (95.0, "tab:orange"), (99.0, "tab:red")):
        lat.plot(t, [hdr.percentile_ms(s.total.corrected, p) for s in seconds], colour,
                 label=f"p{p:g} corrected")
        lat.plot(t, [hdr.percentile_ms(s.total.raw, p) for s in seconds], colour,
                 linestyle="--", label=f"p{p:g} raw")
    lat.set_ylabel("ms")
    lat.set_yscale("log")
    lat.legend(fontsize=7, ncol=3)
    lat.set_title(title)
    if result.plan.warmup_s:
        for ax in axes:
            ax.axvspan(0, result.plan.warmup_s, color="0.9", zorder=0)
    rate = axes[1]
    rate.plot(t, [s.total.count / result.plan.window_s for s in seconds], label="answered/s")
    rate.plot(t, [s.intended / result.plan.window_s for s in seconds], linestyle=":",
              label="intended/s")
    rate.plot(t, [s.total.server_errors / result.plan.window_s for s in seconds], "tab:red",
              label="5xx or no answer/s")
    rate.set_ylabel("requests/s")
    rate.legend(fontsize=7)
    if memory:
        axes[2].plot([x for x, _ in memory], [y for _, y in memory], "tab:purple")
        axes[2].set_ylabel("app memory MB")
    axes[-1].set_xlabel("s since the first intended send (grey: warm-up)")
    return _png(fig)


def capacity(rows: Sequence[dict[str, float | None]], limit_ms: float) -> bytes:
    """Offered rate against achieved rate, p95 and error share per stress step."""
    fig, axes = _figure(2)
    offered = [float(r["offered"] or 0) for r in rows]
    axes[0].plot(offered, [r["achieved"] for r in rows], "o-", label="answered/s")
    axes[0].plot(offered, offered, ":", color="0.5", label="offered")
    axes[0].set_ylabel("requests/s")
    axes[0].legend(fontsize=7)
    axes[0].set_title("capacity curve")
    axes[1].plot(offered, [r["p95_ms"] for r in rows], "o-", color="tab:orange",
                 label="p95 corrected")
    axes[1].axhline(limit_ms, color="tab:red", linestyle="--", label="limit")
    axes[1].set_yscale("log")
    axes[1].set_ylabel("ms")
    axes[1].set_xlabel("offered requests/s")
    axes[1].legend(fontsize=7)
    return _png(fig)
