"""A minimal spot exchange behind ``HttpServer``: checks signatures and recvWindow like Binance."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.integration.binance.localserver import Reply, Request


def err(status: int, code: int, msg: str, **headers: str) -> Reply:
    return Reply(status, {"code": code, "msg": msg}, dict(headers))


@dataclass
class FakeSpot:
    api_key: str
    hmac_secret: str | None = None
    ed25519_public: Ed25519PublicKey | None = None
    skew_ms: int = 0
    last_price: Decimal = Decimal("100")
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    trades: list[dict[str, Any]] = field(default_factory=list)
    fail_after_commit: int = 0  # next N order creates are executed, then the connection is dropped
    rate_limited: int = 0  # next N requests get 429
    signature_checks: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def now(self) -> int:
        return int(time.time() * 1000) + self.skew_ms

    # ---- auth ----------------------------------------------------------------------------
    def _auth(self, request: Request) -> Reply | None:
        if request.headers.get("x-mbx-apikey") != self.api_key:
            return err(401, -2015, "Invalid API-key, IP, or permissions for action.")
        payload, sep, signature = request.raw_query.rpartition("&signature=")
        if not sep:
            return err(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
        signature = unquote(signature)
        if self.hmac_secret is not None:
            expected = hmac.new(self.hmac_secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
            valid = hmac.compare_digest(expected, signature.lower())
        else:
            assert self.ed25519_public is not None
            try:
                self.ed25519_public.verify(base64.b64decode(signature), payload.encode())
                valid = True
            except (InvalidSignature, ValueError):
                valid = False
        if not valid:
            return err(400, -1022, "Signature for this request is not valid.")
        self.signature_checks += 1
        timestamp = int(request.query["timestamp"])
        window = int(request.query.get("recvWindow", "5000"))
        server = self.now()
        if not (timestamp < server + 1000 and server - timestamp <= window):
            return err(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        return None

    # ---- routing -------------------------------------------------------------------------
    def route(self, request: Request) -> Reply:
        if self.rate_limited > 0:
            self.rate_limited -= 1
            return err(
                429,
                -1003,
                "Too much request weight used; current limit is 6000 request weight per 1 MINUTE.",
                **{"Retry-After": "1"},
            )
        path, method = request.path, request.method
        if path == "/api/v3/time":
            return Reply(body={"serverTime": self.now()}, headers={"X-MBX-USED-WEIGHT-1M": "1"})
        denied = self._auth(request)
        if denied is not None:
            return denied
        q = request.query
        if path == "/api/v3/order" and method == "POST":
            return self._new_order(q)
        if path == "/api/v3/order" and method == "GET":
            order = self.orders.get(q.get("origClientOrderId", ""))
            return Reply(body=self._view(order)) if order else err(400, -2013, "Order does not exist.")
        if path == "/api/v3/order" and method == "DELETE":
            order = self.orders.get(q.get("origClientOrderId", ""))
            if order is None or order["status"] != "NEW":
                return err(400, -2011, "Unknown order sent.")
            order["status"] = "CANCELED"
            return Reply(
                body=dict(
                    self._view(order),
                    origClientOrderId=order["clientOrderId"],
                    clientOrderId="cancel-" + str(order["orderId"]),
                )
            )
        if path == "/api/v3/openOrders":
            return Reply(body=[self._view(o) for o in self.orders.values() if o["status"] == "NEW"])
        if path == "/api/v3/orderList/oco":
            return self._oco(q)
        if path == "/api/v3/myTrades":
            start, end = int(q.get("startTime", 0)), int(q.get("endTime", 2**62))
            return Reply(body=[t for t in self.trades if start <= t["time"] <= end][: int(q.get("limit", 500))])
        if path == "/api/v3/allOrders":
            start_id = int(q.get("orderId", 0))
            return Reply(body=[self._view(o) for o in self.orders.values() if o["orderId"] >= start_id])
        if path == "/api/v3/account":
            return Reply(body={"canTrade": True, "balances": [{"asset": "USDT", "free": "1000.5", "locked": "2"}]})
        return err(404, -1000, "no route")

    def _new_order(self, q: dict[str, str]) -> Reply:
        cid = q["newClientOrderId"]
        existing = self.orders.get(cid)
        if existing is not None and existing["status"] == "NEW":
            return err(400, -2010, "Duplicate order sent.")
        order_id = next(self._ids)
        order: dict[str, Any] = {
            "symbol": q["symbol"],
            "orderId": order_id,
            "orderListId": -1,
            "clientOrderId": cid,
            "transactTime": self.now(),
            "price": q.get("price", "0"),
            "origQty": q["quantity"],
            "executedQty": "0",
            "cummulativeQuoteQty": "0",
            "status": "NEW",
            "timeInForce": q.get("timeInForce", "GTC"),
            "type": q["type"],
            "side": q["side"],
            "fills": [],
        }
        if q["type"] == "MARKET":
            trade_id = 1000 + order_id
            qty = Decimal(q["quantity"])
            order.update(status="FILLED", executedQty=q["quantity"], cummulativeQuoteQty=str(qty * self.last_price))
            fill = {
                "price": str(self.last_price),
                "qty": q["quantity"],
                "commission": "0.001",
                "commissionAsset": "BNB",
                "tradeId": trade_id,
            }
            order["fills"] = [fill]
            self.trades.append(
                {
                    "symbol": q["symbol"],
                    "id": trade_id,
                    "orderId": order_id,
                    "price": fill["price"],
                    "qty": fill["qty"],
                    "commission": "0.001",
                    "commissionAsset": "BNB",
                    "time": order["transactTime"],
                    "isBuyer": q["side"] == "BUY",
                    "isMaker": False,
                }
            )
        self.orders[cid] = order
        if self.fail_after_commit > 0:
            self.fail_after_commit -= 1
            return Reply(drop=True)
        return Reply(body=order, headers={"X-MBX-ORDER-COUNT-10S": "1", "X-MBX-USED-WEIGHT-1M": "3"})

    def _oco(self, q: dict[str, str]) -> Reply:
        reports = []
        for prefix in ("above", "below"):
            cid = q[f"{prefix}ClientOrderId"]
            order = {
                "symbol": q["symbol"],
                "orderId": next(self._ids),
                "orderListId": 7,
                "clientOrderId": cid,
                "transactTime": self.now(),
                "price": q.get(f"{prefix}Price", "0"),
                "origQty": q["quantity"],
                "executedQty": "0",
                "cummulativeQuoteQty": "0",
                "status": "NEW",
                "type": q[f"{prefix}Type"],
                "side": q["side"],
                "stopPrice": q.get(f"{prefix}StopPrice", "0"),
            }
            self.orders[cid] = order
            reports.append(order)
        return Reply(
            body={
                "orderListId": 7,
                "contingencyType": "OCO",
                "listStatusType": "EXEC_STARTED",
                "listOrderStatus": "EXECUTING",
                "listClientOrderId": q["listClientOrderId"],
                "transactionTime": self.now(),
                "symbol": q["symbol"],
                "orders": [
                    {"symbol": r["symbol"], "orderId": r["orderId"], "clientOrderId": r["clientOrderId"]}
                    for r in reports
                ],
                "orderReports": reports,
            }
        )

    @staticmethod
    def _view(order: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in order.items() if k != "fills"}
