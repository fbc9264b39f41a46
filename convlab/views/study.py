"""A study's results in words and tables: its design, per-arm table, differences, summary.

One formatter per view of a :class:`~convlab.experiments.StudyResult`, each reading the
numbers of :meth:`~convlab.experiments.StudyResult.table` and
:meth:`~convlab.experiments.StudyResult.differences`; whether a difference is
distinguishable is the interval's ``distinguishable`` flag, never a sentence's wording.
:func:`study_text` is the same tables as plain text, for the command line.
"""

from __future__ import annotations

import pandas as pd

from convlab.views.numbers import count, interval, missing, percent, points

__all__ = [
    "agreement_counts",
    "conclusion",
    "differences_table",
    "matched_table",
    "regime",
    "regime_table",
    "studies_summary",
    "study_intro",
    "study_table",
    "study_text",
]


def _seeds(n: int) -> str:
    return f"{n} seed" + ("s" if n != 1 else "")


def regime(result) -> str:
    """The regime a study's numbers hold in: ``"6,000 training images, 3 epochs, 3 seeds"``."""
    from convlab.data import dataset_info

    p = result.profile
    n_train = p.train_size or dataset_info(result.dataset).train_size - p.val_size
    epochs = f"{p.epochs} epoch" + ("s" if p.epochs != 1 else "")
    return f"{n_train:,} training images, {epochs}, {_seeds(len(result.seeds))}"


def study_intro(result) -> str:
    """A study's question, variable, arms and what is held fixed, as Markdown."""
    s = result.study
    arms = ", ".join(s.arms)
    fixed = "\n".join(f"- {item}" for item in s.fixed)
    if s.comparisons is None:
        compared = f"each compared with {s.reference}"
    else:
        compared = "comparisons: " + "; ".join(f"{a} vs {b}" for a, b in s.comparisons)
    return (
        f"**Question.** {s.question}\n\n"
        f"**Variable.** {s.variable}: {arms} ({compared}).\n\n"
        f"**Held fixed.**\n\n{fixed}\n\n"
        f"**Runs.** {_seeds(len(result.seeds))} per arm, {result.profile.name} profile, "
        f"{result.dataset}."
    )


def study_table(result) -> pd.DataFrame:
    """A study's arms: model, parameters, seeds, mean test accuracy over seeds and its 95%
    interval (in %)."""
    rows = [
        {
            "arm": arm,
            "model": r["model"],
            "parameters": count(r["params"]),
            "seeds": int(r["n_seeds"]),
            "accuracy %": percent(r["mean_accuracy"]),
            "95% CI": interval(r["ci95_low"], r["ci95_high"]),
        }
        for arm, r in result.table().iterrows()
    ]
    return pd.DataFrame(rows).set_index("arm")


def differences_table(result, family=None) -> pd.DataFrame:
    """A study's comparisons: each arm minus the arm it is compared with, paired by seed and
    test image, in points, with its 95% interval and the verdict in words; with ``family``
    (:func:`convlab.experiments.family.comparisons` of the book's studies), also whether
    it stays distinguishable after Holm's correction over the whole family."""
    rows = []
    for arm, d in result.differences().iterrows():
        row = {
            "comparison": f"{arm} - {d['vs']}",
            "difference (points)": points(d["mean_difference"]),
            "95% CI": interval(d["ci95_low"], d["ci95_high"], signed=True),
            "verdict": d["verdict"],
        }
        if family is not None:
            hit = family[
                (family["study"] == result.study.name)
                & (family["arm"] == arm)
                & (family["vs"] == d["vs"])
            ]
            shared = hit.empty  # counted once, under the study listed first
            row["after Holm"] = (
                "counted in another study"
                if shared
                else ("distinguishable" if hit["after_holm"].iloc[0] else "not distinguishable")
            )
        rows.append(row)
    return pd.DataFrame(rows).set_index("comparison")


def regime_table(pairs) -> pd.DataFrame:
    """Every comparison of ``pairs`` (``(result, reference_result)`` per study), its
    verdict in this build's regime beside the reference regime's, and whether they agree;
    indexed by study and comparison."""
    from convlab.experiments.reference import regime_comparison

    rows = []
    for result, reference in pairs:
        for _, c in regime_comparison(result, reference).iterrows():
            ref = "not yet measured"
            if c["reference_outcome"] != "unmeasured":
                ci = interval(c["reference_low"], c["reference_high"], signed=True)
                ref = (
                    f"{points(c['reference_mean'])} {ci} {c['reference_outcome']} "
                    f"({_seeds(c['reference_seeds'])})"
                )
            agree = {True: "yes", False: "NO", None: "-"}[c["agree"]]
            ours = (
                f"{points(c['mean'])} {interval(c['low'], c['high'], signed=True)} {c['outcome']}"
            )
            if not c["buildable"]:  # neither regime can run it
                ours = ref = "cannot be built"
            rows.append(
                {
                    "study": result.study.name,
                    "comparison": f"{c['arm']} - {c['vs']}",
                    "this build": ours,
                    "reference regime": ref,
                    "agree": agree,
                }
            )
    # Indexed by study and comparison, so the table shows those as its row labels (each
    # study's name once, over its rows) rather than a bare running number.
    return pd.DataFrame(rows).set_index(["study", "comparison"])


def agreement_counts(table: pd.DataFrame) -> dict[str, int]:
    """Of a :func:`regime_table`: the comparisons both regimes measured (``n_measured``)
    and those with the same verdict in both (``n_agree``)."""
    return {
        "n_measured": int((table["agree"] != "-").sum()),
        "n_agree": int((table["agree"] == "yes").sum()),
    }


def matched_table(naive, matched) -> pd.DataFrame:
    """A study's comparisons beside its parameter-matched twin's: for each, both arms'
    parameters and the paired difference with its interval (in points), naive and matched.
    A matched arm that cannot be built says so in place of its numbers."""
    rows = []
    both = {"naive": naive, "matched": matched}
    tables = {kind: r.table() for kind, r in both.items()}
    # differences() has one row per comparison, in the study's order (an arm may recur).
    diffs = {kind: [d for _, d in r.differences().iterrows()] for kind, r in both.items()}
    for k, (arm, other) in enumerate(naive.study.pairs()):
        row = {"comparison": f"{arm} - {other}"}
        for kind, result in both.items():
            t, d = tables[kind], diffs[kind][k]
            row[f"parameters ({kind})"] = f"{count(t.loc[arm, 'params'])} vs " + count(
                t.loc[other, "params"]
            )
            unbuilt = [a for a in (arm, other) if a in result.unbuildable]
            if unbuilt:
                row[f"difference ({kind})"] = f"{unbuilt[0]} {result.unbuildable[unbuilt[0]]}"
            else:
                ci = interval(d["ci95_low"], d["ci95_high"], signed=True)
                row[f"difference ({kind})"] = f"{points(d['mean_difference'])} {ci}"
        rows.append(row)
    return pd.DataFrame(rows).set_index("comparison")


def studies_summary(results, family=None) -> pd.DataFrame:
    """One row per study: its variable, the arm with the highest mean accuracy, and the
    comparisons whose 95% interval excludes zero (the others are not distinguishable);
    with ``family``, those that stay distinguishable after Holm's correction too."""
    rows = []
    for result in results:
        table, diffs = result.table(), result.differences()
        best = table["mean_accuracy"].idxmax()
        apart = [
            f"{arm} vs {d['vs']} ({points(d['mean_difference'])})"
            for arm, d in diffs.iterrows()
            if d["distinguishable"]
        ]
        rows.append(
            {
                "study": result.study.name,
                "variable": result.study.variable,
                "highest mean accuracy": f"{best} ({percent(table.loc[best, 'mean_accuracy'])}%)",
                "distinguishable differences (points)": "; ".join(apart) or "none",
            }
        )
        if family is not None:
            mine = family[(family["study"] == result.study.name) & family["after_holm"]]
            rows[-1]["after Holm"] = (
                "; ".join(f"{a} vs {v}" for a, v in zip(mine["arm"], mine["vs"], strict=True))
                or "none"
            )
    return pd.DataFrame(rows).set_index("study")


def _against_reference(result, reference) -> str:
    """What the reference regime says of the comparisons where it differs or has no runs."""
    from convlab.experiments.reference import regime_comparison

    rows = regime_comparison(result, reference)
    where = f"In the reference regime ({regime(reference)})"
    unmeasured = [  # an arm no regime can build is said with its reason, elsewhere
        f"{r['arm']} vs {r['vs']}"
        for _, r in rows.iterrows()
        if r["agree"] is None and r["buildable"]
    ]
    differ = [
        f"{r['arm']} vs {r['vs']} is {points(r['reference_mean'])} points "
        f"{interval(r['reference_low'], r['reference_high'], signed=True)}, "
        f"{r['reference_outcome']} at {_seeds(r['reference_seeds'])} (here: {r['outcome']})"
        for _, r in rows.iterrows()
        if r["agree"] is False
    ]
    agree = int((rows["agree"] == True).sum())  # noqa: E712 (None is neither)
    parts = []
    same = "the one comparison" if agree == 1 else f"the {agree} comparisons"
    if differ:
        parts.append(f"{where} the verdict differs: {'; '.join(differ)}.")
        if agree:
            other = "comparison" if agree == 1 else f"{agree} comparisons"
            parts.append(f"It agrees on the other {other} measured.")
    elif agree:
        verdicts = "verdict is" if agree == 1 else "verdicts are"
        parts.append(f"{where} the {verdicts} the same for {same} measured.")
    if unmeasured:
        parts.append(f"Not yet measured in the reference regime: {', '.join(unmeasured)}.")
    return " ".join(parts)


def conclusion(result, reference=None) -> str:
    """A few sentences about a study, generated from its numbers (accuracy in %), naming
    the regime they hold in; with ``reference`` (the study in the reference regime,
    :func:`convlab.experiments.reference.reference_study`), where its verdicts differ."""
    text = _conclusion(result)
    if len(result.missing) < len(result.runs):  # something measured: say where
        text = f"In this build's regime ({regime(result)}): {text[0].lower()}{text[1:]}"
    if reference is not None:
        text += " " + _against_reference(result, reference)
    return text.rstrip()


def _conclusion(result) -> str:
    table = result.table()
    done = table[table["n_seeds"] > 0]
    if done.empty:
        return f"No results yet for {result.study.name!r}: run the study first."
    best, worst = done["mean_accuracy"].idxmax(), done["mean_accuracy"].idxmin()
    n = int(done["n_seeds"].min())

    def stated(arm: str) -> str:
        r = done.loc[arm]
        if r["n_seeds"] < 2:
            return f"{arm} ({percent(r['mean_accuracy'])}%)"
        return f"{arm} ({percent(r['mean_accuracy'])}% ± {percent(r['ci95_half_width'])})"

    first = f"Mean test accuracy over {_seeds(n)}" + (" (± 95% CI, points)" if n >= 2 else "")
    if best == worst:
        first += f": {stated(best)}."
    else:
        first += f" is highest for {stated(best)} and lowest for {stated(worst)}."
    apart, alike = [], []
    for arm, d in result.differences().iterrows():
        if arm in result.unbuildable or d["vs"] in result.unbuildable:
            continue  # said below
        if d["distinguishable"]:
            apart.append(
                f"{arm} vs {d['vs']} {points(d['mean_difference'])} points "
                f"{interval(d['ci95_low'], d['ci95_high'], signed=True)}"
            )
        else:
            alike.append(f"{arm} vs {d['vs']}")
    if not apart and not alike:
        second = "No comparison could be made."
    elif n < 2:
        second = "With one seed nothing can be told apart from seed-to-seed noise."
    elif not apart:
        second = (
            f"At {_seeds(n)} no difference is distinguishable from the noise of "
            f"{result.interval_over(*done.index)} (every 95% interval of {', '.join(alike)} "
            "covers zero)."
        )
    else:
        second = f"Distinguishable at {_seeds(n)}: {'; '.join(apart)}"
        second += f"; not distinguishable: {', '.join(alike)}." if alike else "."
    if result.unbuildable:
        reasons = "; ".join(f"{a} {why.rstrip('.')}" for a, why in result.unbuildable.items())
        second += f" Not trained, since they cannot be built: {reasons}."
    return f"{first} {second}"


def _number(x, fmt: str) -> str:
    return "-" if missing(x) else format(x, fmt)


def study_text(result) -> str:
    """The study's question, per-arm table, differences and conclusion, as plain text."""
    from convlab.data import dataset_info

    study, profile = result.study, result.profile
    epochs = f"{profile.epochs} epoch{'s' if profile.epochs != 1 else ''}"
    head = (
        f"{study.name}: {study.question}\n"
        f"{dataset_info(result.dataset).title}, profile {profile.name} "
        f"({epochs}, seeds {', '.join(map(str, result.seeds))}); "
        f"accuracy in %, ± is the 95% t interval over seeds"
    )
    rows = [("arm", "seeds", "accuracy", "std", "params", "MACs/img", "img/s", "s/run", "train")]
    for arm, r in result.table().iterrows():
        acc = percent(r["mean_accuracy"])
        if r["n_seeds"] >= 2:
            acc += f" ± {percent(r['ci95_half_width'])}"
        rows.append(
            (
                str(arm),
                str(int(r["n_seeds"])),
                acc,
                percent(r["std_accuracy"]),
                count(r["params"]),
                count(r["macs_per_image"]),
                _number(r["images_per_s"], ",.0f"),
                _number(r["wall_time_s"], ".1f"),
                _number(r["train_size"], ",.0f") if r["train_size"] is not None else "all",
            )
        )
    drows = [("difference", "pairs", "points", "95% CI", "verdict")]
    for arm, d in result.differences().iterrows():
        ci = interval(d["ci95_low"], d["ci95_high"], signed=True) if d["n_pairs"] >= 2 else "-"
        drows.append(
            (
                f"{arm} - {d['vs']}",
                str(int(d["n_pairs"])),
                points(d["mean_difference"]),
                ci,
                d["verdict"],
            )
        )
    return "\n".join([head, "", *_columns(rows), "", *_columns(drows), "", conclusion(result)])


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for k, r in enumerate(rows):
        cells = [
            c.ljust(w) if i in (0, len(r) - 1) else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return out
