"""Handover to Medborgarservice: queue, cases, live conversation, contact requests."""
