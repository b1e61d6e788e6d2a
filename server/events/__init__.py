"""Live task events over Server-Sent Events."""
