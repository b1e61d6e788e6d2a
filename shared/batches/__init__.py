"""What the API and the expander share about batches: storage keys, sources, output paths."""
