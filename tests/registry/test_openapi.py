"""schemathesis against the registry's OpenAPI schema: requests generated from the schema never cause a 5xx, and
every JSON error comes in the one envelope. In-process, through the ASGI app."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from kiroku.registry import RegistrySettings, create_app

_DATABASE = Path(tempfile.mkdtemp(prefix="kiroku-openapi-")) / "registry.sqlite"
# no rate limit: the generated requests come from one client as fast as they can
_APP = create_app(
    RegistrySettings(
        database_url=f"sqlite:///{_DATABASE}", search_limit="100000/minute", post_limit="100000/minute"
    )
)
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", _APP)
OPERATIONS = [
    result.ok()
    if isinstance(result, Ok)
    else pytest.fail(f"the schema has an invalid operation: {result.err()}")
    for result in SCHEMA.get_all_operations()
]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op.method.upper()} {op.path}")
def test_no_generated_request_causes_a_server_error(operation: Any) -> None:
    # schemathesis's own pytest plugin does not run under pytest 9 yet, so its Hypothesis strategy is driven here
    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: Any) -> None:
        response = case.call()
        where = f"{case.method} {case.formatted_path}"
        assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
        content_type = response.headers.get("content-type") or [""]  # schemathesis keeps each header's values
        if content_type[0].startswith("application/json") and response.status_code >= 400:
            assert set(response.json()) == {"error"}, where  # the one error envelope

    check()


def test_the_schema_documents_the_interfaces_firms_call() -> None:
    paths = set(SCHEMA.raw_schema["paths"])
    assert {"/api/v1/firms", "/api/v1/filings", "/api/v1/checkpoints", "/api/v1/witness"} <= paths
    assert not any(path.startswith("/admin") for path in paths)  # pages are not API operations
