"""Property-based run over the OpenAPI spec: the API keeps its published contract.

Valid and invalid inputs are generated (schemathesis positive + negative modes) and every case is
sent three times — with the trade token, the read token and no token — so validation, scopes and
authentication are all exercised. Checks: no 5xx, every status code is declared for its operation
and every response body matches its declared schema. The configuration endpoints run over the
real config manager and its stage validators (where explicit ``null`` used to be a 500); the rest
over the fake facade.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis import Case  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    response_schema_conformance,
    status_code_conformance,
)

from ictbot.api import ApiSettings, create_app  # noqa: E402
from ictbot.api.auth import TokenAuthority  # noqa: E402
from tests.unit.api.config_facade import ContractFacade  # noqa: E402

# 28 operations x EXAMPLES cases x 3 calls stays well under a minute on a loaded machine.
EXAMPLES = int(os.environ.get("ICTBOT_SCHEMATHESIS_EXAMPLES", "5"))
TRADE = "schemathesis-trade-token-0123456789"
READ = "schemathesis-read-token-0123456789"
AUTH_VARIANTS = ({"Authorization": f"Bearer {TRADE}"}, {"Authorization": f"Bearer {READ}"}, {})
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


_config_dir = Path(tempfile.mkdtemp(prefix="ictbot-schemathesis-"))
app = create_app(ContractFacade(_config_dir), ApiSettings(), tokens=TokenAuthority.from_tokens(TRADE, READ))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()  # type: ignore[untyped-decorator]
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_keeps_its_contract(case: Case) -> None:  # type: ignore[type-arg]
    for headers in AUTH_VARIANTS:
        case.call_and_validate(headers=headers, checks=CHECKS)
