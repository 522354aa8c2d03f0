"""Pure domain vocabulary: no I/O, no framework imports."""
