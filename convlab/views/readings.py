"""What a study's result means for the CNN's design, in words chosen by its numbers.

The CNN chapter's design table gives a reason for each choice of the reference CNN and
names the study that tests it. :func:`reading` closes that loop: for the comparisons of a
study that bear on the design (:data:`READINGS`), it picks the sentence written for the
outcome this build measured (``better``, ``worse`` or ``alike``, see
:func:`convlab.experiments.reference.outcome`), and says so where the reference regime's
outcome differs. No number is typed here: the numbers are the conclusion's, beside it.
:func:`matched_reading` says what controlling the parameter count changed, and
:func:`machines_reading` where the reference runs were made and what the machine changed.

Example:
    >>> reading(kernel)  # doctest: +SKIP
    "A 5x5 kernel buys nothing measurable over 3x3: ..."
"""

from __future__ import annotations

from convlab.experiments.reference import outcome

__all__ = ["READINGS", "machines_reading", "matched_reading", "reading", "verdict_markdown"]

_SHORT = "or this regime is too short for them to pay off"
_MLP_CHANCE = (
    "The shuffled MLP differs from the original beyond the interval, though a dense layer "
    "cannot tell pixel orders apart (a permuted input is the original with the first "
    "layer's weights permuted): chance, which the correction over all the chapter's "
    "comparisons is there to catch."
)

# study -> (arm, compared with) -> outcome of arm - compared with -> one or two sentences.
READINGS: dict[str, dict[tuple[str, str], dict[str, str]]] = {
    "mlp-vs-cnn": {
        ("CNN", "MLP"): {
            "better": "The CNN's built-in assumptions (nearby pixels belong together, a "
            "pattern means the same anywhere) pay off on these images; the rest of the "
            "chapter asks which of its design choices carry the advantage.",
            "alike": "The CNN and the MLP cannot be told apart here: whatever locality and "
            "weight sharing add is smaller than this regime resolves.",
            "worse": "The MLP is ahead: the CNN's assumptions of locality and weight sharing "
            f"do not pay for themselves on these images, {_SHORT}.",
        }
    },
    "kernel-size": {
        ("5x5", "3x3"): {
            "better": "A 5x5 kernel beats 3x3: more context per layer helps more than the "
            "design table's argument for small kernels (stacked, they see as far with fewer "
            "weights) allows.",
            "alike": "A 5x5 kernel buys nothing measurable over 3x3, as the design table's "
            "argument goes: two stacked 3x3 kernels see at least a 5x5 window, with fewer "
            "weights and one more non-linearity.",
            "worse": "A 5x5 kernel is worse than 3x3, as the design table's choice assumes: "
            "stacked 3x3 kernels see as far with fewer weights per filter.",
        },
        ("7x7", "3x3"): {
            "better": "So does a 7x7 kernel: these images reward a wide view per layer.",
            "alike": "Nor does a 7x7 kernel, at several times the weights per filter.",
            "worse": "A 7x7 kernel is worse too: many more weights per filter and no view "
            "that the stacked small kernels lack.",
        },
    },
    "depth": {
        ("1 block", "2 blocks"): {
            "better": "One block beats two: its dense head, on a larger and less abstract "
            "map, learns faster within this budget than the deeper network; the matched "
            "comparison holds the head's size fixed.",
            "alike": "One block and two cannot be told apart: the second block's smaller, "
            "more abstract map does not show in the accuracy here.",
            "worse": "One block is worse than two, as the design table argues: a second "
            "block halves the map again and hands the head more abstract features.",
        },
        ("3 blocks", "2 blocks"): {
            "better": "A third block helps: the design table's 'a few blocks' is one block "
            "short for these images.",
            "alike": "A third block adds nothing measurable: on these small images two "
            "halvings already leave a small map.",
            "worse": "A third block hurts: two halvings already leave a small map, and the "
            f"third adds weights that do not help, {_SHORT}.",
        },
    },
    "width": {
        ("0.25x", "1x"): {
            "better": "A quarter of the filters does better: the narrower network trains "
            "faster within this budget, a sign that the budget, not the width, limits the "
            "reference CNN.",
            "alike": "A quarter of the filters loses nothing measurable: the reference CNN "
            "has more filters than this regime needs.",
            "worse": "A quarter of the filters costs accuracy: the reference CNN's filter "
            "counts are not more than the task needs.",
        },
        ("2x", "1x"): {
            "better": "Twice the filters helps: more patterns per block pay off, at a "
            "parameter cost that grows about linearly here, since the dense head holds most "
            "of the weights.",
            "alike": "Twice the filters buys nothing measurable: the reference CNN's width "
            "is enough for these images.",
            "worse": "Twice the filters hurts: the wider network has more to fit than this "
            "budget trains.",
        },
    },
    "downsampling": {
        ("avg pool", "max pool"): {
            "better": "Average pooling beats max pooling: the mean over a window carries "
            "more here than its strongest response, the design table's reason for max "
            "pooling.",
            "alike": "Average and max pooling cannot be told apart: keeping the strongest "
            "response, the design table's reason for max pooling, makes no measurable "
            "difference here.",
            "worse": "Average pooling is worse than max pooling, as the design table argues: "
            "averaging dilutes a feature found in one place of the window.",
        },
        ("none", "max pool"): {
            "better": "No downsampling wins the naive comparison, with a dense head many "
            "times larger; the matched comparison says how much of that is the head.",
            "alike": "No downsampling is no better than max pooling despite its much larger "
            "head: halving the resolution costs no accuracy and saves most of the weights.",
            "worse": "No downsampling is worse even with its much larger head: halving the "
            "resolution, which the design table credits with tolerating small shifts, helps.",
        },
    },
    "padding": {
        ("valid", "same"): {
            "better": "'valid' beats 'same': the smaller maps train better within this "
            "budget than the border pixels that zero padding keeps are worth; the matched "
            "comparison separates the head's size from the padding.",
            "alike": "'valid' and 'same' cannot be told apart: the border pixels that 'same' "
            "keeps, its reason in the design table, carry little on these images.",
            "worse": "'valid' is worse than 'same', as the design table assumes: the border "
            "pixels and the larger maps that zero padding keeps matter here.",
        }
    },
    "batch-norm": {
        ("on", "off"): {
            "better": "Batch normalisation helps at the same budget, as the design table's "
            "'often speeds up training' says: with few epochs, faster training shows as "
            "accuracy.",
            "alike": "Batch normalisation makes no measurable difference: the small "
            "reference CNN trains well without it, which is why the design table leaves it "
            "off.",
            "worse": "Batch normalisation hurts here: the small reference CNN trains well "
            "without it, and the normalisation does not pay at this budget.",
        }
    },
    "augmentation": {
        ("shift 1 px", "none"): {
            "better": "Shifted training images help: the tolerance of small shifts that the "
            "design table credits to pooling is not complete, and shifted copies teach the "
            "rest.",
            "alike": "Shifted training images make no measurable difference: pooling and "
            f"weight sharing already give the tolerance they would teach, {_SHORT}.",
            "worse": "Shifted training images hurt at this budget: they make the training "
            "task harder, and the epochs are too few to profit from the variety.",
        },
        ("flip", "none"): {
            "better": "Mirrored training images help: left and right are interchangeable "
            "for these classes, so a flip is a new view of the same object.",
            "alike": "Mirrored training images make no measurable difference.",
            "worse": "Mirrored training images hurt: for some of these classes left and "
            f"right are not interchangeable, {_SHORT}.",
        },
    },
    "capacity": {
        ("deeper", "reference"): {
            "better": "The deeper CNN beats the reference: more convolutions per block see "
            "more context at full resolution, as the design table argues.",
            "alike": "The deeper CNN is no better than the reference: its extra "
            "convolutions have not paid for their weights in this regime.",
            "worse": "The deeper CNN is worse than the reference: it has more to learn than "
            "this budget allows.",
        },
        ("deeper + dropout", "deeper"): {
            "better": "Dropout helps the deeper CNN, as the design table says it should: "
            "it regularises a model trained long enough to overfit.",
            "alike": "Dropout makes no measurable difference to the deeper CNN here.",
            "worse": "Dropout hurts the deeper CNN here: in a regime too short to overfit, "
            "a regulariser only slows learning. That is a statement about the budget, not "
            "about dropout.",
        },
    },
    "data-efficiency": {
        ("CNN 1k", "MLP 1k"): {
            "better": "With a thousand training images the CNN is already ahead: its "
            "built-in assumptions stand in for data it does not have.",
            "alike": "With a thousand training images the two models cannot be told apart.",
            "worse": "With a thousand training images the MLP is ahead: the CNN needs more "
            "data, or more steps, before its assumptions pay.",
        },
        ("CNN all", "MLP all"): {
            "better": "With every training image the regime allows, the CNN is ahead.",
            "alike": "With every training image the regime allows, the two cannot be told apart.",
            "worse": "With every training image the regime allows, the MLP is ahead.",
        },
        ("CNN 1k, equal steps", "CNN 1k"): {
            "better": "Given as many optimiser steps as the full training set gets, the CNN "
            "on a thousand images gains: at equal epochs it was short of steps, not only "
            "of images, which is why the study shows both.",
            "alike": "Given as many optimiser steps as the full training set gets, the CNN "
            "on a thousand images does not gain: what it lacks is images, not steps.",
            "worse": "Given as many optimiser steps as the full training set gets, the CNN "
            "on a thousand images loses: more passes over the same few images overfit them.",
        },
    },
    "locality": {
        ("MLP permuted", "MLP original"): {
            "alike": "Shuffling the pixels leaves the MLP where it was, as it must: a dense "
            "layer has no notion of neighbouring pixels.",
            "better": _MLP_CHANCE,
            "worse": _MLP_CHANCE,
        },
        ("CNN permuted", "CNN original"): {
            "worse": "Shuffling hurts the CNN: its kernels read neighbouring pixels, and "
            "shuffled neighbours are unrelated. This is the locality every row of the "
            "design table builds on.",
            "alike": "Shuffling does not measurably hurt the CNN: here its accuracy does not "
            "rest on neighbouring pixels.",
            "better": "The CNN does better on shuffled pixels: its accuracy does not rest on "
            "locality here, against the premise of the design.",
        },
    },
}


def reading(result, reference=None) -> str:
    """The design-table reading of a study's outcomes (``""`` for a study without one),
    and, where the reference regime (a study result, or ``None``) measured a different
    outcome, its reading too."""
    texts = READINGS.get(result.study.name, {})
    theirs = reference.differences() if reference is not None else None
    sentences = []
    for k, (arm, d) in enumerate(result.differences().iterrows()):
        by_outcome = texts.get((arm, d["vs"]), {})
        ours = outcome(d)
        if ours in by_outcome:
            sentences.append(by_outcome[ours])
        other = outcome(theirs.iloc[k]) if theirs is not None else "unmeasured"
        if other not in ("unmeasured", ours) and other in by_outcome:
            text = by_outcome[other]
            first = text.split()[0]
            if len(first) == 1 or not first.isupper():  # "A 5x5" -> "a 5x5"; "CNN" stays
                text = text[0].lower() + text[1:]
            sentences.append(f"The reference regime finds it {other}; there, {text}")
    return " ".join(sentences)


def matched_reading(naive, matched) -> str:
    """What holding the parameter count fixed changed: the comparisons whose verdict it
    keeps, and those whose verdict moves (there the naive arm's head size was doing part
    of the work)."""
    kept, moved = [], []
    pairs = zip(naive.differences().iterrows(), matched.differences().iterrows(), strict=True)
    for (arm, a), (_, b) in pairs:
        before, after = outcome(a), outcome(b)
        if "unmeasured" in (before, after):
            continue
        if before == after:
            kept.append(f"{arm} vs {a['vs']}")
        else:
            moved.append(f"{arm} vs {a['vs']} goes from {before} to {after}")
    parts = []
    if kept:
        parts.append(
            f"At equal parameters {', '.join(kept)} "
            f"{'keeps its' if len(kept) == 1 else 'keep their'} verdict: the parameter count "
            "does not explain it."
        )
    if moved:
        parts.append(
            f"Matching moves {'; '.join(moved)}: there the naive comparison measured the dense "
            f"head's size as much as {naive.study.variable}."
        )
    return " ".join(parts)


def verdict_markdown(result, reference=None, naive=None) -> str:
    """A study's verdict for the book, as Markdown: its conclusion (naming its regime and
    where the reference regime differs) and its reading; for a parameter-matched study
    (``naive``: the study it matches), the conclusion and what matching changed."""
    from convlab.views.study import conclusion

    if naive is not None:
        return f"**At equal parameters.** {conclusion(result, reference)} " + matched_reading(
            naive, result
        )
    text = f"**Conclusion.** {conclusion(result, reference)}"
    more = reading(result, reference)
    return f"{text}\n\n**Reading.** {more}" if more else text


def machines_reading(summary: dict) -> str:
    """Where the reference runs were made, which comparisons mix machines, and what a run
    trained again on another machine changed, from
    :func:`convlab.experiments.reference.rerun_summary`."""
    machines, mixed, reruns = summary["machines"], summary["mixed"], summary["reruns"]
    if not machines:
        return "No reference run has been made yet."
    if len(machines) == 1:
        text = f"Every reference run was made on one machine ({machines[0]})."
    elif mixed:
        names = "; ".join(f"{study}: {arm} vs {other}" for study, arm, other in mixed)
        text = (
            f"The reference runs were made on {len(machines)} machines ({', '.join(machines)}), "
            f"and {len(mixed)} of the {summary['comparisons']} comparisons pair arms trained "
            f"on different ones ({names})."
        )
    else:
        text = (
            f"The reference runs were made on {len(machines)} machines ({', '.join(machines)}), "
            "each comparison's arms on one of them."
        )
    if not reruns:
        return text + (
            " No run has been trained on two machines, so what the machine changes is not measured."
            if mixed
            else ""
        )
    same = sum(r["differ"] == 0 for r in reruns)
    text += (
        f" Trained again on another machine, {same} of {len(reruns)} runs predicted every "
        "test image the same"
    )
    changed = [r for r in reruns if r["differ"] != 0]
    if not changed:
        return text + ": for those runs the machine changed nothing."
    parts = [
        f"{r['study']} {r['arm']}, seed {r['seed']}: "
        + (f"{r['differ']:,} images differ, " if r["differ"] is not None else "")
        + f"accuracy {100 * r['change']:+.2f} points"
        for r in changed
    ]
    others = "the other" if len(changed) == 1 else "the others"
    text += f"; {others} did not ({'; '.join(parts)})."
    if mixed:
        return text + (
            " A machine's arithmetic can change a run, so in the comparisons that mix "
            "machines the machine is a second difference between the arms."
        )
    return text + " No comparison mixes machines, so this changes no verdict."
