"""Figures of a study: accuracy with 95% intervals against the variable and against
parameters, the paired differences with theirs (:func:`forest_plot`, the picture of the
verdicts) and learning curves per arm (:func:`study_curves`).

Each function returns a :class:`matplotlib.figure.Figure` (see :mod:`convlab.views.plot`).

Example:
    >>> fig = accuracy_plot(result)  # doctest: +SKIP
    >>> fig.savefig("kernel-size.png")  # doctest: +SKIP
"""

from __future__ import annotations

import numbers

from convlab.views.plot import error_bars, figure

__all__ = ["accuracy_plot", "accuracy_vs_params", "forest_plot", "study_curves"]


def _x(result, table):
    """Numeric x positions and whether they are categories (then labelled by arm)."""
    column = result.study.x
    values = list(table[column]) if column in table else list(table.index)
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values], False
    return [float(i) for i in range(len(values))], True


def accuracy_plot(result, title: str | None = None):
    """Mean test accuracy per arm with its 95% interval (bars) and every seed (dots)."""
    table = result.table()
    xs, categorical = _x(result, table)
    fig, ax = figure()
    groups: dict[str | None, list[int]] = {}
    for i, label in enumerate(table.index):
        groups.setdefault(result.study.arms[label].group, []).append(i)
    for group, idx in groups.items():
        x = [xs[i] for i in idx]
        y = [100 * table["mean_accuracy"].iloc[i] for i in idx]
        err = [error_bars(table["ci95_half_width"])[i] for i in idx]
        line = ax.errorbar(
            x, y, yerr=err, fmt="o-" if group else "o", capsize=4, label=group or "mean ± 95% CI"
        )
        color = line[0].get_color()
        for i in idx:
            seeds = result.accuracies(table.index[i])
            ax.plot(
                [xs[i]] * len(seeds),
                [100 * a for a in seeds.values()],
                ".",
                color=color,
                alpha=0.4,
            )
    if categorical:
        ax.set_xticks(xs, list(table.index))
    else:
        if result.study.x == "train_size":
            ax.set_xscale("log")
            ax.minorticks_off()
        ticks = sorted(set(xs))
        ax.set_xticks(ticks, [f"{t:,g}" for t in ticks])
    ax.margins(x=0.08)
    ax.set_xlabel(result.study.variable)
    ax.set_ylabel("test accuracy (%)")
    n = int(max(table["n_seeds"], default=0))
    seeds = f"{n} seed{'s' if n != 1 else ''}"
    ax.set_title(title or f"{result.study.name}: mean ± 95% CI over {seeds} (dots: seeds)")
    if any(g is not None for g in groups):
        ax.legend()
    return fig


def accuracy_vs_params(result, title: str | None = None):
    """Mean test accuracy (± 95% CI) against the number of parameters (log scale)."""
    table = result.table()
    fig, ax = figure()
    # One marker per arm, named in a legend beside the axes: arms of similar size and
    # accuracy would make labels written next to the points overlap.
    for label, row in table.iterrows():
        ax.errorbar(
            [row["params"]],
            [100 * row["mean_accuracy"]],
            yerr=error_bars([row["ci95_half_width"]]),
            fmt="o",
            capsize=4,
            label=str(label),
        )
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False, fontsize=8)
    ax.set_xscale("log")
    ax.margins(x=0.15)
    ax.set_xlabel("parameters")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title or f"{result.study.name}: accuracy against size")
    return fig


def study_curves(result, metric: str = "val_accuracy", title: str | None = None):
    """One line per arm: ``metric`` per epoch, mean over seeds (thin lines: seeds)."""
    curves = result.curves()
    fig, ax = figure()
    if curves.empty:
        ax.set_title("no finished runs yet")
        return fig
    for arm in result.study.arms:
        rows = curves[curves["arm"] == arm]
        if rows.empty:
            continue
        scale = 100 if "accuracy" in metric else 1
        mean = rows.groupby("epoch")[metric].mean() * scale
        (line,) = ax.plot(mean.index, mean.values, "-o", markersize=3, label=arm)
        for _, seed_rows in rows.groupby("seed"):
            ax.plot(
                seed_rows["epoch"],
                seed_rows[metric] * scale,
                "-",
                color=line.get_color(),
                alpha=0.25,
                linewidth=0.8,
            )
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " ") + (" (%)" if "accuracy" in metric else ""))
    ax.set_title(title or f"{result.study.name}: {metric.replace('_', ' ')} per epoch")
    ax.legend(fontsize=8)
    return fig


def forest_plot(
    rows,
    title: str = "paired differences, 95% CI over seeds and test images",
    main_only: bool = False,
):
    """One line per comparison: its paired difference (points) and 95% interval, beside
    the reference regime's where given; a zero line, so "covers zero" can be seen.

    Args:
        rows: ``(label, result, reference)`` per study: every comparison of ``result``
            (a :class:`~convlab.experiments.StudyResult`) is drawn, with ``reference``'s
            (the same study in the reference regime, or ``None``) just below it; a label
            prefixes the comparisons (e.g. the study's name), ``""`` for none.
        main_only: only each study's first comparison (its main question).
    """
    lines = []  # (name, mean, low, high, is_reference, why nothing is drawn)
    for label, result, reference in rows:
        ref = reference.differences() if reference is not None else None
        diffs = result.differences()
        for k, (arm, d) in enumerate(diffs.iloc[:1].iterrows() if main_only else diffs.iterrows()):
            name = f"{label}: {arm} - {d['vs']}" if label else f"{arm} - {d['vs']}"
            why = "cannot be built" if result.unbuildable.get(arm) else "not measured"
            lines.append((name, d["mean_difference"], d["ci95_low"], d["ci95_high"], False, why))
            if ref is not None:
                r = ref.iloc[k]
                why = "" if result.unbuildable.get(arm) else "reference regime: not yet measured"
                lines.append(("", r["mean_difference"], r["ci95_low"], r["ci95_high"], True, why))
    fig, ax = figure((7.0, 0.9 + 0.3 * max(len(lines), 1)))
    for i, (_, mean, low, high, is_ref, why) in enumerate(lines):
        y = -i
        if mean != mean:  # NaN: say why in the row, never leave it silently empty
            if why:
                ax.text(
                    0.5,  # the middle of the axes (x in axes coordinates, y in data)
                    y,
                    f" {why} ",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="0.35",
                    bbox={"facecolor": "white", "edgecolor": "0.7", "pad": 1.5},
                    transform=ax.get_yaxis_transform(),
                )
            continue
        ax.plot([100 * low, 100 * high], [y, y], "-", color="C1" if is_ref else "C0", lw=2)
        ax.plot([100 * mean], [y], "D" if is_ref else "o", color="C1" if is_ref else "C0")
    ax.axvline(0, color="0.4", lw=0.8, ls="--")
    ax.set_yticks([-i for i in range(len(lines))], [n for n, *_ in lines], fontsize=8)
    ax.set_xlabel("difference in test accuracy (percentage points)")
    if any(line[4] for line in lines):
        from matplotlib.lines import Line2D

        handles = [
            Line2D([], [], color="C0", marker="o", label="this build"),
            Line2D([], [], color="C1", marker="D", label="reference regime"),
        ]
        # Outside the axes: inside, on a plot of one or two rows, it hides the points.
        fig.legend(handles=handles, fontsize=8, loc="outside lower center", ncols=2)
    ax.set_title(title, fontsize=10)
    return fig
