"""Figures for claim reports: matplotlib imported lazily with the Agg backend, PNGs saved next to the JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["new_figure", "save_figure"]


def new_figure(ncols: int = 1, nrows: int = 1, *, width: float = 5.0, height: float = 3.6) -> tuple[Any, Any]:
    """A matplotlib figure and axes, with the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)


def save_figure(fig: Any, out_dir: str | Path, name: str) -> str:
    """Save ``fig`` as ``<out_dir>/<name>.png`` and close it; return the file name relative to ``out_dir``
    (what :class:`ClaimResult.figures` stores, so REPORT.md links work wherever the folder moves).
    """
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fname = f"{name}.png"
    fig.tight_layout()
    fig.savefig(out_dir / fname, dpi=110)
    plt.close(fig)
    return fname
