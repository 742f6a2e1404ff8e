"""Tables or queries from any SQLAlchemy database, loaded incrementally into raw."""
