"""Blueprints: the YAML that defines a workbook, read into plain frozen dataclasses.

``loader`` finds and loads blueprint files; ``model`` is the blueprint as data; ``params`` the
generation parameters, checked.
"""
