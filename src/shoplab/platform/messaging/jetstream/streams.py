"""A run's streams as JetStream configures them (``streams.StreamSpec`` says what they keep)."""

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

from shoplab.platform.messaging.streams import DUPLICATE_WINDOW_SECONDS, StreamSpec


def stream_config(spec: StreamSpec) -> StreamConfig:
    """A file-backed stream that keeps messages within the spec's limits, dropping the oldest."""
    return StreamConfig(
        name=spec.name,
        subjects=spec.subjects,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=spec.retention.max_age_seconds,
        max_bytes=spec.retention.max_bytes,
        max_msgs=spec.retention.max_msgs,
        duplicate_window=min(DUPLICATE_WINDOW_SECONDS, spec.retention.max_age_seconds),
    )
