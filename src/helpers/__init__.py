"""Smarketing Playbook helpers: every computation the notebooks, widgets and reports show."""

__version__ = "0.1.0"
