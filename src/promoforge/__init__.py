"""PromoForge: a self-hosted promotions service speaking the Elastic Path Promotions Standard API."""

__version__ = "0.1.0"
