"""Readiness of the API and the bot behind it."""
