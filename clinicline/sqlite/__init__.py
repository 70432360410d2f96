"""Django's SQLite backend, with a shorter way to read a stored time (see ``base``)."""
