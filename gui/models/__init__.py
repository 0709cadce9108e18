"""Qt table models over plain server events. Each one only translates events into rows."""
