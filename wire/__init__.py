"""The wire: what the server and its nodes and clients share (message format, chunks, signatures, the one canonical
JSON, TLS contexts, the event shape). Pure: no Tornado, Flask, Qt or sockets; imports nothing of ours but mixnet."""
