"""Thin entry points of the reporting service: the projection worker and the command-line tools."""
