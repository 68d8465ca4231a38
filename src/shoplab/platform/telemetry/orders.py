"""What a span is about: the order id, on spans and on the log lines written under them.

A span that knows its order carries the attribute ``order_id``; ``shoplab trace
ORDER_ID`` finds an order's traces by it. Log lines need no separate bookkeeping:
the log renderer reads the current span (``logging.add_trace_context``), so a line
written while a span about an order is current carries that order's id too.
"""

from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

ORDER_ID = "order_id"


def about_order(order_id: str | None) -> None:
    """Mark the current span (a request, a message's handling) as being about ``order_id``."""
    if order_id:
        trace.get_current_span().set_attribute(ORDER_ID, order_id)


def current_order() -> str | None:
    """The order the current span is about, if it says."""
    span = trace.get_current_span()
    attributes: Mapping[str, object] | None = (
        span.attributes if isinstance(span, ReadableSpan) else None
    )
    order_id = attributes.get(ORDER_ID) if attributes else None
    return order_id if isinstance(order_id, str) else None
