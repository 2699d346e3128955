"""Insight for Medborgarservice: daily aggregates and the figures of the insight page."""
