"""Batch expansion: listing sources into items, items into tasks under the bounds, settling
finished tasks (output mirroring), and the manifest at the end."""
