"""The HTTP edge of the chassis: app factory, problem details, limits, health."""
