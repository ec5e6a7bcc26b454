"""Django's PostgreSQL backend, with the connection health check made only where it can help."""
