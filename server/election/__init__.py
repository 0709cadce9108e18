"""The server-side election engine: the coordinator (lifecycle on the server loop), the record rebuilt from
the board, and the heavy checks that run off the loop."""
