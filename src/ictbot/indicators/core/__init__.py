"""Generic building blocks: candle history ring, Wilder ATR, fractal pivots."""
