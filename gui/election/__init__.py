"""The election lab: panel, cascade picture, graphs, results, verification report, demo and saved sessions.

Everything here is a view over the server's "election.*" events and the bridge's "election.*" actions; no
protocol or crypto logic lives in the GUI (the verification report of an opened record is computed by
mixnet.verifier on a worker thread).
"""
