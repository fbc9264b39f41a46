"""The executable book: its strict incremental build, paired notebooks and build report.

Chapters import only :func:`glue`, :func:`glue_all` and :func:`glue_markdown` from here
(they work with or without myst-nb, so a chapter opened in Colab runs unchanged);
``convlab book build`` and ``convlab book sync`` use :mod:`convlab.book.build` and
:mod:`convlab.book.paired`.
"""

import pandas as pd

from convlab.book.prose import glue, glue_all, glue_markdown

# The chapters' tables hold sentences (a design choice's reason, a study's verdict), and
# pandas cuts every cell at 50 characters with "...": show them whole, in a build and in
# Colab alike (every chapter imports this module).
pd.set_option("display.max_colwidth", None)

__all__ = ["glue", "glue_all", "glue_markdown"]
