"""Custom actions of the Mjölby chat assistant, one module per concern."""
