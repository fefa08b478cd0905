"""The generator: blueprint + parameters → plan → ``.xlsx``.

``pipeline`` has :func:`~smm_sheets.generator.pipeline.generate` and ``generate_all``;
``xlsx`` is the only module that uses xlsxwriter.
"""
