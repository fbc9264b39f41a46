"""The executable book: its strict incremental build, paired notebooks and build report.

Chapters import only :func:`glue` and :func:`glue_all` from here (they work with or
without myst-nb, so a chapter opened in Colab runs unchanged); ``convlab book build`` and
``convlab book sync`` use :mod:`convlab.book.build` and :mod:`convlab.book.paired`.
"""

from convlab.book.prose import glue, glue_all

__all__ = ["glue", "glue_all"]
