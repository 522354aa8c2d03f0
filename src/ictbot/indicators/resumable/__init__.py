"""Prototype of one resumable implementation per ICT rule (#20 item 8; see docs/design)."""
