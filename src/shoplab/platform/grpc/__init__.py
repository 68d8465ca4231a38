"""The gRPC chassis: a server that only serves the services allowed to call it, and a client
that calls with this service's credentials and a deadline. The contracts and their stubs are in
``shoplab.contracts.grpc``; docs/grpc.md explains the whole."""
