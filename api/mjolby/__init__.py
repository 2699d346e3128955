"""Chat API gateway of the Mjölby kommun chat assistant."""
