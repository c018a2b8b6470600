"""Wire documents: the models of request and response bodies, and their conversion to and from the domain."""
