"""Property-based run over the OpenAPI spec: whatever a client sends, the API never answers 5xx.

Both valid and invalid inputs are generated (schemathesis positive + negative modes) and sent with
a trade-scope token so every route's validation is exercised, not just the 401 path.
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")
pytestmark = pytest.mark.slow

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis import Case  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from ictbot.api import ApiSettings, create_app  # noqa: E402
from ictbot.api.auth import TokenAuthority  # noqa: E402
from tests.unit.api.fakes import FakeFacade  # noqa: E402

EXAMPLES = int(os.environ.get("ICTBOT_SCHEMATHESIS_EXAMPLES", "15"))
TOKEN = "schemathesis-trade-token-0123456789"
app = create_app(FakeFacade(), ApiSettings(), tokens=TokenAuthority.from_tokens(TOKEN, None))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()  # type: ignore[untyped-decorator]
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors(case: Case) -> None:  # type: ignore[type-arg]
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=[not_a_server_error])
