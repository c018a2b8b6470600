"""Wire documents per resource: request models and the renderers of responses."""
