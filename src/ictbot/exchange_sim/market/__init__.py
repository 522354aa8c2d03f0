"""Market data for the simulator: candle series (files or synthetic), intra-candle paths, replay."""
