"""The inspect modules' error type."""

from __future__ import annotations

from convlab.errors import ConvlabError


class InspectError(ConvlabError, ValueError):
    """A model or input the inspect tools cannot work with."""
