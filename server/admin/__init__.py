"""Operator routes (the `admin` scope)."""
