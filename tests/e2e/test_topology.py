"""What each mode runs, and which ports it exposes: one public door per system.

The monolith is one process. The microservices mode is a broker, six services and a
gateway; the services' own ports refuse any caller without an internal token, so the
gateway is the only way in, and a customer's access token does not open them either.
"""

import httpx

from .api import System, expect_json
from .launcher import SERVICES, status_processes

MICROSERVICES_PROCESSES = {"nats-1", "gateway-1", *(f"{service}-1" for service in SERVICES)}


def test_status_names_every_process_of_the_mode(system: System) -> None:
    processes = {p["name"]: p for p in status_processes(system.data_dir)}
    if system.mode.cli_mode == "monolith":
        assert set(processes) == {"monolith-1"}
        return
    expected = MICROSERVICES_PROCESSES - ({"nats-1"} if system.mode.external_broker else set())
    assert set(processes) >= expected
    extra = set(processes) - expected  # more instances with --scale: <service>-2, -3...
    assert all(name.rsplit("-", 1)[0] in SERVICES for name in extra), extra
    assert all(p["health"] == "ready" for p in processes.values()), processes
    assert processes["gateway-1"]["ports"] == {"http": system.port}


async def test_only_the_public_port_answers_without_credentials(
    system: System, client: httpx.AsyncClient
) -> None:
    customer = await system.register_customer(client)
    ports = [
        p["ports"]["http"]
        for p in status_processes(system.data_dir)
        if "http" in p["ports"] and p["ports"]["http"] != system.port
    ]
    services = [
        p for p in status_processes(system.data_dir) if p["name"].rsplit("-", 1)[0] in SERVICES
    ]
    assert len(ports) == len(services)
    async with httpx.AsyncClient(timeout=10.0) as direct:
        for port in ports:
            base = f"http://127.0.0.1:{port}"
            assert (await direct.get(f"{base}/health/ready")).status_code == 200
            for headers in ({}, customer.headers):
                refused = await direct.get(f"{base}/api/products", headers=headers)
                assert refused.status_code == 401, (port, refused.text)
                assert refused.headers["content-type"] == "application/problem+json"
            orders = await direct.get(f"{base}/api/orders", headers=customer.headers)
            assert orders.status_code == 401, (port, orders.text)
    expect_json(await client.get("/api/products"), 200)
