"""Base URLs of every Binance service the bot talks to (all configuration, never hard-coded in calls)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BinanceEndpoints:
    """Where to send requests.

    ``ws`` is the market-stream base (``<ws>/stream?streams=a/b``), ``ws_api`` the full WebSocket API
    URL (requests + spot user data). ``fapi_ws`` is the USD-M stream host; with ``fapi_ws_routed``
    the client appends Binance's routed paths (``/market``, ``/public``, ``/private``).
    """

    rest: str
    ws: str
    ws_api: str
    fapi_rest: str
    fapi_ws: str
    fapi_ws_routed: bool = True
    name: str = "custom"

    @classmethod
    def mainnet(cls) -> BinanceEndpoints:
        return cls(
            rest="https://api.binance.com",
            ws="wss://stream.binance.com:9443",
            ws_api="wss://ws-api.binance.com:443/ws-api/v3",
            fapi_rest="https://fapi.binance.com",
            fapi_ws="wss://fstream.binance.com",
            name="mainnet",
        )

    @classmethod
    def testnet(cls) -> BinanceEndpoints:
        return cls(
            rest="https://testnet.binance.vision",
            ws="wss://stream.testnet.binance.vision",
            ws_api="wss://ws-api.testnet.binance.vision/ws-api/v3",
            fapi_rest="https://testnet.binancefuture.com",
            fapi_ws="wss://fstream.binancefuture.com",
            name="testnet",
        )

    @classmethod
    def demo(cls) -> BinanceEndpoints:
        return cls(
            rest="https://demo-api.binance.com",
            ws="wss://demo-stream.binance.com",
            ws_api="wss://demo-ws-api.binance.com/ws-api/v3",
            fapi_rest="https://demo-fapi.binance.com",
            # Not documented by Binance; the host third-party clients use.
            fapi_ws="wss://demo-fstream.binance.com",
            name="demo",
        )

    @classmethod
    def local(cls, port: int, host: str = "127.0.0.1", *, fapi_ws_routed: bool = True) -> BinanceEndpoints:
        """The local simulator (or a test server): one host serving every service."""
        return cls(
            rest=f"http://{host}:{port}",
            ws=f"ws://{host}:{port}",
            ws_api=f"ws://{host}:{port}/ws-api/v3",
            fapi_rest=f"http://{host}:{port}",
            # The simulator (ictbot.exchange_sim) serves USD-M streams under /fstream, as Binance
            # serves them on a separate host.
            fapi_ws=f"ws://{host}:{port}/fstream",
            fapi_ws_routed=fapi_ws_routed,
            name="local",
        )

    @classmethod
    def preset(cls, name: str, port: int | None = None) -> BinanceEndpoints:
        if name == "local":
            if port is None:
                raise ValueError("the local preset needs a port")
            return cls.local(port)
        presets = {"mainnet": cls.mainnet, "testnet": cls.testnet, "demo": cls.demo}
        try:
            return presets[name]()
        except KeyError:
            raise ValueError(f"unknown Binance environment {name!r}; expected {sorted(presets)} or local") from None

    def combined_stream_url(self, streams: list[str], *, futures: bool = False) -> str:
        base = self.fapi_ws + ("/market" if self.fapi_ws_routed else "") if futures else self.ws
        return f"{base}/stream?streams={'/'.join(streams)}"

    def futures_user_stream_url(self, listen_key: str) -> str:
        return f"{self.fapi_ws}{'/private' if self.fapi_ws_routed else ''}/ws/{listen_key}"
