"""smm-sheets: social media marketing workbooks from declarative blueprints."""

__version__ = "0.1.0"
