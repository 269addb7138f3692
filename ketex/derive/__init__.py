"""Derived data: endpoints, exercise dose and adherence, infusion exposure.

Pure functions of a :class:`ketex.Trial`; the public names are exported from ``ketex``.
"""
