"""The Tornado + Flask server. Never imports Qt; reports what it sees through `wire.events`."""
