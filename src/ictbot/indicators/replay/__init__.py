"""Indicator snapshots replayed from the compiled batch kernels (backtests only).

The streaming engine (``indicators.mtf``) is the definition; this package rebuilds the same
``IndicatorSnapshot`` at chosen base candles from the kernels' event columns, so a backtest visits only
the candles where a strategy can act. Equality with the streaming snapshots is tested view by view.
"""
