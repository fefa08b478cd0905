"""The analyser: a filled-in workbook → the plan it was made from → checks → a report.

``pipeline`` runs the stages: ``reader`` (the only package that opens spreadsheet files) gives the
file as data, ``recognise`` finds the blueprint and parameters that made it, the plan is built
again and ``cellmap`` finds where its cells are now, the ``checks`` yield ``findings``, ``totals``
recomputes the figures (the only module that uses pandas), and ``report`` / ``report_text`` give
the result as a value, text or JSON.
"""
