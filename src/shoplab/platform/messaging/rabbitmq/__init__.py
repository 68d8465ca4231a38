"""The RabbitMQ adapter: the only code that imports ``aio_pika``."""
