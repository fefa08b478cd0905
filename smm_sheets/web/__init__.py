"""The web pages and API (``smm-sheets serve``): make workbooks, check filled-in ones, nothing stored.

The top layer beside the command line: FastAPI (:mod:`~smm_sheets.web.app`), Jinja2
(:mod:`~smm_sheets.web.pages`) and uvicorn (:mod:`~smm_sheets.web.server`) are used here only.
"""
