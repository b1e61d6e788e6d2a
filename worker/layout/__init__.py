"""The pure core: recognised blocks → layout pages, markdown and crop boxes. No I/O here."""
