"""Products on the wire: products to store or import (requests), and stored products (responses)."""
