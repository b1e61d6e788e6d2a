"""Read what a PDF page already holds: its text layer, turned into layout blocks.

`model` is the plain data of a page's layer, `extract` reads it from PyMuPDF (the only I/O),
`usability` decides whether the layer can stand in for OCR, `reader` turns the layer into
blocks, and `route` is what the page pipeline asks before it renders a page for the engine.
"""
