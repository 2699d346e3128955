"""Conversations between a citizen and the assistant (or Medborgarservice)."""
