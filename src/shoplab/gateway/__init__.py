"""The API gateway of the microservices mode: the only public port.

It routes each public path to the service that owns it, verifies the customer's
access token at the edge and forwards an internal token instead, composes the
order details from three owners, and is ready only when every service is.
"""
