"""Imported once by the analyses' forkserver (:data:`smm_sheets.web.isolation.PRELOAD`): the
analyser with pandas and the built-in blueprints loaded, and the sample set analysed once, so
that each analysis forked from it starts with every cache warm (compiled formulas, placements,
patterns) instead of building them again (a second or so per analysis)."""

from __future__ import annotations

import gc
import tempfile

from smm_sheets.analyser import pipeline, totals  # noqa: F401 - imported to be inherited
from smm_sheets.generator.pipeline import generate_files

with tempfile.TemporaryDirectory(prefix="smm-warm-") as _folder:
    generate_files("all", _folder, sample=True, company="Warm-up", language="en")
    pipeline.analyse(_folder)

# What the forkserver holds now is never collected: a child's garbage collector then leaves those
# objects' pages alone instead of copying them all on its first collection.
gc.freeze()
