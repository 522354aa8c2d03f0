"""ICT indicators as streaming state machines (one ``step`` per closed candle)."""
