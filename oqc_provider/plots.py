"""Pictures people would rather look at than read: a QPU's device map and a counts histogram.

The device map draws qubits as nodes coloured by readout error and each directed ECR coupling as
an arrow (control to target) coloured by its ECR error, from the same calibration figures the
Qiskit Target, pytket's BackendInfo and the emulator's noise model read. A ring (Lucy) is drawn
as a circle in ring order; other lattices (Toshiko) use rustworkx's spring layout with a fixed
seed, so the same device always looks the same.

matplotlib is optional (``pip install "oqc-provider[plots]"``): ``import oqc_provider`` never
imports it, and a missing matplotlib raises :class:`PlotDependencyError` saying what to install.
Figures are built with matplotlib's object API (no pyplot), so nothing changes a notebook's or
application's global plotting state.

Example:
    >>> from oqc_provider.devices import LUCY, reference_calibration
    >>> from oqc_provider.plots import plot_counts, plot_device_map
    >>> figure = plot_device_map(reference_calibration(LUCY, date="2026-12-01T09:30:00+00:00"), LUCY)
    >>> figure.axes[0].get_title().splitlines()[0]
    'Lucy (2026-12-01T09:30:00+00:00, emulator only)'
    >>> figure = plot_counts({"00": 507, "11": 493}, title="Bell pair")
    >>> figure.axes[0].get_title()
    'Bell pair'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oqc_provider.devices import Calibration, DeviceSpec
from oqc_provider.errors import OqcProviderError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INSTALL_HINT = 'pip install "oqc-provider[plots]"'
LAYOUT_SEED = 2026


class PlotDependencyError(OqcProviderError, ImportError):
    """matplotlib, which drawing needs, is not installed."""


def require_matplotlib() -> None:
    """Check that matplotlib is installed (call before long work whose end is a picture).

    Raises:
        PlotDependencyError: it is not; the message says what to install.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotDependencyError(f"Drawing needs matplotlib: {INSTALL_HINT}") from None


def _figure(width: float, height: float) -> Figure:
    require_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _save(figure: Figure, path: str | Path | None) -> Figure:
    if path is not None:
        figure.savefig(Path(path))
    return figure


def _ring_order(device: DeviceSpec) -> list[int] | None:
    """The qubits in ring order when the couplings form one cycle through all of them, else None."""
    neighbours: dict[int, set[int]] = {q: set() for q in range(device.qubit_count)}
    for a, b in device.couplings:
        neighbours[a].add(b)
        neighbours[b].add(a)
    if device.qubit_count < 3 or any(len(n) != 2 for n in neighbours.values()):
        return None
    order, previous = [0], None
    while len(order) < device.qubit_count:
        step = min(n for n in neighbours[order[-1]] if n != previous)
        if step == 0:
            return None
        previous = order[-1]
        order.append(step)
    return order if 0 in neighbours[order[-1]] else None


def device_layout(device: DeviceSpec) -> dict[int, tuple[float, float]]:
    """Where each qubit is drawn: a circle for a ring, else a seeded spring layout.

    Example:
        >>> from oqc_provider.devices import LUCY
        >>> layout = device_layout(LUCY)
        >>> sorted(layout) == list(range(8)), round(layout[0][0], 3), round(layout[0][1], 3)
        (True, 0.0, 1.0)
    """
    order = _ring_order(device)
    if order is not None:
        n = len(order)
        return {
            q: (math.sin(2 * math.pi * i / n), math.cos(2 * math.pi * i / n)) for i, q in enumerate(order)
        }
    import rustworkx

    graph = rustworkx.PyGraph()
    graph.add_nodes_from(range(device.qubit_count))
    graph.add_edges_from_no_data(sorted({(min(a, b), max(a, b)) for a, b in device.couplings}))
    positions = rustworkx.spring_layout(graph, seed=LAYOUT_SEED, num_iter=300)
    return _level({q: (float(positions[q][0]), float(positions[q][1])) for q in range(device.qubit_count)})


def _level(layout: dict[int, tuple[float, float]]) -> dict[int, tuple[float, float]]:
    """Centre the layout and turn its long axis horizontal, so wide lattices fill a wide figure."""
    n = len(layout) or 1
    cx = sum(x for x, _ in layout.values()) / n
    cy = sum(y for _, y in layout.values()) / n
    sxx = sum((x - cx) ** 2 for x, _ in layout.values())
    syy = sum((y - cy) ** 2 for _, y in layout.values())
    sxy = sum((x - cx) * (y - cy) for x, y in layout.values())
    angle = -0.5 * math.atan2(2 * sxy, sxx - syy)
    c, s = math.cos(angle), math.sin(angle)
    return {q: ((x - cx) * c - (y - cy) * s, (x - cx) * s + (y - cy) * c) for q, (x, y) in layout.items()}


def plot_device_map(
    calibration: Calibration,
    device: DeviceSpec,
    *,
    path: str | Path | None = None,
    title: str | None = None,
) -> Figure:
    """Draw the device: qubits coloured by readout error, directed couplings by ECR error.

    Args:
        calibration: the QPU's figures (``ProviderSession.calibration`` or ``reference_calibration``).
        device: the QPU's spec (qubit count and directed couplings).
        path: also save the picture there (PNG, SVG or PDF, by the suffix).
        title: the title; by default the device's name and what the colours mean.

    Raises:
        PlotDependencyError: matplotlib is not installed.
    """
    require_matplotlib()
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    small = device.qubit_count <= 12
    figure = _figure(7.5, 5.8) if small else _figure(12.0, 7.0)
    axes = figure.add_subplot()
    layout = device_layout(device)
    # Unknown figures (not published) are drawn grey, never coloured as if they were 0.
    readout = [calibration.qubit(q).readout_error for q in layout]
    ecr = {(c, t): calibration.edge_error(c, t) for c, t in device.couplings}
    node_norm = _norm(Normalize, [r for r in readout if r is not None])
    edge_norm = _norm(Normalize, [e for e in ecr.values() if e is not None])
    viridis, plasma = colormaps["viridis"], colormaps["plasma"]

    def node_map(value: float | None) -> Any:
        return _UNKNOWN if value is None else viridis(node_norm(value))

    def edge_map(value: float | None) -> Any:
        return _UNKNOWN if value is None else plasma(edge_norm(value))

    span = max(max(abs(x), abs(y)) for x, y in layout.values()) or 1.0
    scale = 1.0 / span
    for (control, target), error in ecr.items():
        start = (layout[control][0] * scale, layout[control][1] * scale)
        end = (layout[target][0] * scale, layout[target][1] * scale)
        axes.annotate(
            "",
            xy=end,
            xytext=start,
            arrowprops={
                "arrowstyle": "-|>,head_width=0.35,head_length=0.7",
                "color": edge_map(error),
                "lw": 3.0,
                "shrinkA": 15 if small else 12,
                "shrinkB": 15 if small else 12,
            },
            zorder=1,
        )
    xs = [layout[q][0] * scale for q in layout]
    ys = [layout[q][1] * scale for q in layout]
    axes.scatter(
        xs, ys, s=520 if small else 380, c=[node_map(r) for r in readout], edgecolors="black",
        linewidths=1.0, zorder=2,
    )  # fmt: skip
    for q, x, y, error in zip(layout, xs, ys, readout, strict=True):
        shade = 0.5 if error is None else node_norm(error)
        axes.text(
            x, y, str(q), ha="center", va="center", fontsize=9, fontweight="bold",
            color="white" if shade < 0.6 else "black", zorder=3,
        )  # fmt: skip
    axes.set_aspect("equal")
    axes.axis("off")
    axes.margins(0.12)
    if not calibration.published:
        when = "calibration not published"
    else:
        when = calibration.date or "calibration date not published"
        when += ", noiseless" if calibration.is_noiseless else ""
    when += ", emulator only" if device.emulator_only else ""
    axes.set_title(
        title or f"{device.name} ({when})\nqubits: readout error, arrows (control to target): ECR error",
        fontsize=11,
    )
    if calibration.published:
        figure.colorbar(ScalarMappable(node_norm, viridis), ax=axes, shrink=0.7, label="readout error")
        figure.colorbar(ScalarMappable(edge_norm, plasma), ax=axes, shrink=0.7, label="ECR error")
    return _save(figure, path)


#: Colour of a qubit or coupling whose figure the service did not publish.
_UNKNOWN = "lightgrey"


def _norm(normalize: Any, values: list[float]) -> Any:
    """A colour scale over the figures' own range, so small differences between qubits show."""
    low, high = min(values, default=0.0), max(values, default=0.0)
    if high - low < 1e-9:
        low, high = max(0.0, low - 1e-3), high + 1e-3
    return normalize(low, high)


def plot_counts(
    counts: Mapping[str, int] | Mapping[Any, int],
    *,
    path: str | Path | None = None,
    title: str | None = None,
    top: int = 32,
) -> Figure:
    """Draw a histogram of measurement counts, outcomes in bitstring order.

    Args:
        counts: ``{outcome: count}`` (bitstrings, or anything with a readable ``str``).
        path: also save the picture there.
        title: the title; by default the number of shots.
        top: show at most this many outcomes (the most frequent), so wide registers stay readable.

    Raises:
        PlotDependencyError: matplotlib is not installed.
    """
    shown = min(len(counts), top)
    figure = _figure(max(4.5, 0.45 * shown + 2.0), 3.8)
    _draw_counts(figure.add_subplot(), counts, title, top)
    return _save(figure, path)


def plot_counts_grid(
    panels: Sequence[tuple[str, Mapping[str, int] | Mapping[Any, int]]],
    *,
    path: str | Path | None = None,
    top: int = 32,
    columns: int = 2,
) -> Figure:
    """Draw several histograms in one picture: one panel per ``(title, counts)``, in order.

    For several circuits or registers at once (``oqc-provider run a.qasm b.qasm --plot``).

    Example:
        >>> figure = plot_counts_grid([("a.qasm: c", {"00": 5, "11": 5}), ("a.qasm: flag", {"1": 10})])
        >>> [axes.get_title() for axes in figure.axes]
        ['a.qasm: c', 'a.qasm: flag']

    Raises:
        PlotDependencyError: matplotlib is not installed.
        ValueError: no panels.
    """
    if not panels:
        raise ValueError("plot_counts_grid needs at least one (title, counts) panel.")
    columns = max(1, min(columns, len(panels)))
    rows = math.ceil(len(panels) / columns)
    widest = max(min(len(counts), top) for _, counts in panels)
    figure = _figure(columns * max(4.5, 0.45 * widest + 2.0), rows * 3.8)
    for index, (title, counts) in enumerate(panels):
        _draw_counts(figure.add_subplot(rows, columns, index + 1), counts, title, top)
    return _save(figure, path)


def _draw_counts(axes: Any, counts: Mapping[Any, int], title: str | None, top: int) -> None:
    """One histogram on ``axes``: the ``top`` most frequent outcomes, in bitstring order."""
    items = sorted(counts.items(), key=lambda item: -int(item[1]))[:top]
    items.sort(key=lambda item: str(item[0]))
    labels = [str(k) for k, _ in items]
    values = [int(v) for _, v in items]
    bars = axes.bar(labels, values, color="#3b6fb6")
    axes.bar_label(bars, fontsize=8)
    axes.set_xlabel("outcome")
    axes.set_ylabel("count")
    total = sum(int(v) for v in counts.values())
    shown = "" if len(counts) <= top else f", top {top} of {len(counts)} outcomes"
    axes.set_title(title or f"{total} shots{shown}")
    if len(labels) > 8:
        axes.tick_params(axis="x", labelrotation=90)
    axes.margins(y=0.12)
