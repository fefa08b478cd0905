"""The analyser: a filled-in workbook → the plan it was made from → checks → a report.

``pipeline`` runs the stages; ``reader`` is the only package that opens spreadsheet files.
"""
