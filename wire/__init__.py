"""The wire: what the server and its nodes and clients share (message format, chunks, signatures, canonical
JSON, list hashes, TLS contexts, the event shape). Pure: no Tornado, Flask, Qt or sockets; imports only mixnet."""
