"""The compute profiles as a table: data sizes, epochs, seeds and arithmetic of every run."""

from __future__ import annotations

import pandas as pd

__all__ = ["profiles_table"]


def profiles_table() -> pd.DataFrame:
    """The compute profiles: data sizes, epochs, seeds and arithmetic of every run."""
    from convlab.experiments import PROFILES

    def size(n: int | None) -> str:
        return "all" if n is None else f"{n:,}"

    def arithmetic(p) -> str:
        used = p.train_config().precision  # the profile resolves "auto" for this machine
        return f"auto (here {used})" if p.precision == "auto" else used

    rows = [
        {
            "profile": p.name,
            "training images": size(p.train_size),
            "validation images": size(p.val_size),
            "test images": size(p.test_size),
            "epochs": p.epochs,
            "seeds": p.seeds,
            "arithmetic": arithmetic(p),
            "for": p.description.split(":")[0],
        }
        for p in PROFILES.values()
    ]
    return pd.DataFrame(rows).set_index("profile")
