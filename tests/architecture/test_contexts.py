"""The list of contexts (``contracts/contexts.py``) and what is built from it agree.

Each context has one service builder, the gRPC allow-list is consistent with who calls
whom, and a service serves gRPC exactly when the list says it does, to the callers it names.
"""

from pathlib import Path

import pytest

from shoplab.contracts.contexts import CONTEXTS, NAMES, PUBLISHERS, Context, context_named
from shoplab.platform.host import ServiceHost
from shoplab.platform.internal_auth import ensure_service_secret
from shoplab.platform.messaging.streams import Topology
from shoplab.platform.settings import PlatformSettings
from shoplab.runtime.plans import CONTEXTS as STARTED
from shoplab.services import SERVICES

GATEWAY = "gateway"


def test_every_context_has_a_service_builder_and_nothing_else_has() -> None:
    assert tuple(SERVICES) == NAMES == STARTED


def test_whoever_calls_a_context_is_allowed_to() -> None:
    for caller in CONTEXTS:
        for callee in caller.calls:
            assert caller.name in context_named(callee).grpc_callers, (caller.name, callee)


def test_every_allowed_caller_calls_the_context() -> None:
    for callee in CONTEXTS:
        for caller in callee.grpc_callers - {GATEWAY}:
            assert callee.name in context_named(caller).calls, (caller, callee.name)


def test_each_publishing_context_has_a_stream() -> None:
    streams = {spec.name for spec in Topology().streams()}
    assert streams == {f"SHOPLAB_{name.upper()}" for name in PUBLISHERS} | {"SHOPLAB_DLQ"}


def test_an_unknown_name_is_no_context() -> None:
    with pytest.raises(KeyError):
        context_named("warehouse")


@pytest.mark.parametrize("context", CONTEXTS, ids=NAMES)
def test_a_service_serves_grpc_to_the_callers_the_list_names(
    context: Context, tmp_path: Path
) -> None:
    ensure_service_secret(tmp_path)
    # The history reads a broker's logs; building its parts connects to nothing.
    settings = PlatformSettings(data_dir=tmp_path, broker_url="nats://127.0.0.1:1")
    parts = SERVICES[context.name](ServiceHost(context.name, settings, http_port=0))
    assert bool(parts.grpc_services) == context.serves_grpc
    assert {frozenset(callers) for callers in parts.grpc_callers.values()} == (
        {context.grpc_callers} if context.serves_grpc else set()
    )
