"""Blueprints: the YAML that defines a workbook, read into plain frozen dataclasses.

``loader`` finds and loads blueprint files: ``source`` parses YAML with the line of every key,
``reader`` turns it into the ``model`` (the blueprint as data), ``validate`` checks what holds
across its parts; ``catalogs`` holds the texts per language; ``params`` the generation
parameters, checked.
"""
