"""Payments' gRPC answers to other services (microservices mode), under the
``shoplab.payments.v1`` contract: the accepted methods, for orders, and an order's payment
(as the administrators' route reads it), for the gateway's details page."""

from collections.abc import Callable

import grpc.aio
from typing_extensions import override

from shoplab.contracts.grpc.payments.v1 import payments_pb2, payments_pb2_grpc
from shoplab.contracts.grpc.payments.v1.payments_pb2 import (
    AcceptsMethodRequest,
    AcceptsMethodResponse,
    GetPaymentRequest,
    GetPaymentResponse,
)
from shoplab.payments.domain.model import NoPayment, PaymentStatus
from shoplab.payments.service_layer import services
from shoplab.payments.service_layer.ports import CardProcessor
from shoplab.payments.service_layer.unit_of_work import PaymentsUnitOfWork
from shoplab.platform.grpc.server import GrpcService

SERVICE = payments_pb2.DESCRIPTOR.services_by_name["Payments"].full_name

STATUSES = {
    PaymentStatus.CHARGED: payments_pb2.PAYMENT_STATUS_CHARGED,
    PaymentStatus.DECLINED: payments_pb2.PAYMENT_STATUS_DECLINED,
    PaymentStatus.REFUNDED: payments_pb2.PAYMENT_STATUS_REFUNDED,
    PaymentStatus.VOIDED: payments_pb2.PAYMENT_STATUS_VOIDED,
}
"""Spelled out, so that a new domain status fails here (KeyError) until the contract has it."""


class PaymentsServicer(payments_pb2_grpc.PaymentsServicer):
    def __init__(self, new_uow: Callable[[], PaymentsUnitOfWork], processor: CardProcessor) -> None:
        self._new_uow = new_uow
        self._processor = processor

    @override
    async def AcceptsMethod(
        self,
        request: AcceptsMethodRequest,
        context: grpc.aio.ServicerContext[AcceptsMethodRequest, AcceptsMethodResponse],
    ) -> AcceptsMethodResponse:
        return AcceptsMethodResponse(accepted=self._processor.accepts(request.method))

    @override
    async def GetPayment(
        self,
        request: GetPaymentRequest,
        context: grpc.aio.ServicerContext[GetPaymentRequest, GetPaymentResponse],
    ) -> GetPaymentResponse:
        try:
            payment = await services.payment_for(self._new_uow(), request.order_id)
        except NoPayment:
            return GetPaymentResponse(found=False)
        return GetPaymentResponse(
            found=True,
            charged_cents=payment.charged_cents,
            refunded_cents=payment.refunded_cents,
            status=STATUSES[payment.status],
        )


def grpc_service(
    new_uow: Callable[[], PaymentsUnitOfWork], processor: CardProcessor
) -> GrpcService:
    servicer = PaymentsServicer(new_uow, processor)
    return GrpcService(
        SERVICE, lambda server: payments_pb2_grpc.add_PaymentsServicer_to_server(servicer, server)
    )
