"""The record of the serving-version check (``checks/serving_version.py``).

The check exports a model with the project's TensorFlow and serves it, the way SageMaker's
TensorFlow Serving container does, under the container's older TensorFlow; its result is
committed here, beside the code, so that the deployment chapter can say which versions
were verified, where and when (also on Colab, where the repository is not at hand).
"""

from __future__ import annotations

import json
from pathlib import Path

from convlab.errors import ConvlabError

__all__ = ["SERVING_CHECK_FILE", "load_serving_check"]

SERVING_CHECK_FILE = Path(__file__).with_name("serving_check.json")
_FIELDS = ("verified", "machine", "serving_tensorflow", "exported_by", "cases", "agrees")


def load_serving_check(path: str | Path = SERVING_CHECK_FILE) -> dict:
    """The last recorded check: ``verified`` (date), ``machine``, ``serving_tensorflow``,
    ``exported_by`` (versions), ``cases`` (per request body: ``max_abs_difference``,
    ``agrees``) and ``agrees``."""
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConvlabError(
            f"No readable serving-version record at {path} ({exc}); run "
            "`bash checks/serving_version.sh` from the repository to make one."
        ) from None
    missing = [f for f in _FIELDS if f not in record]
    if missing:
        raise ConvlabError(f"{path} lacks {', '.join(missing)}: run the check again.")
    return record
