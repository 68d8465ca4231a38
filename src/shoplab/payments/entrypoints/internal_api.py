"""Payments' answers to other services (microservices mode; not routed by the gateway)."""

from fastapi import APIRouter
from pydantic import BaseModel

from shoplab.payments.service_layer.ports import CardProcessor


class MethodAnswer(BaseModel):
    method: str
    accepted: bool


def build_internal_router(processor: CardProcessor) -> APIRouter:
    router = APIRouter(prefix="/internal", include_in_schema=False)

    @router.get("/payment-methods/{method}")
    async def payment_method(method: str) -> MethodAnswer:
        """Whether orders may be placed with ``method``."""
        return MethodAnswer(method=method, accepted=processor.accepts(method))

    return router
