"""Agencies: the same workbooks for many clients (``batch``), and their analysis (``portfolio``)."""
