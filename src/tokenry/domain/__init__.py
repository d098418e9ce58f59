"""Pure rules of tokenry: no web framework, no ORM. Everything here is plain Python."""
