"""Binance-protocol front end of the simulator: REST, WebSockets, payloads, the /_sim control routes."""
