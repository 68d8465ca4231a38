"""The service chassis: what every bounded context stands on.

Settings, databases and units of work, the transactional outbox and the inbox,
migrations, HTTP problem details, authentication and logging. A context imports
the chassis; the chassis imports no context.
"""
