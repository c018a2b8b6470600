"""Wire documents, one package per resource: its request bodies (`requests`), and its answers as TypedDicts
with their renderers (`responses`); `common` holds what they share."""
