"""The remote engine: a headless engine on an always-on box serves the facade over HTTPS and WebSocket, and a
desktop drives it. Qt-free; nothing here imports the window.

- :mod:`.certs`: the box's own key and self-signed certificate, whose SHA-256 is the pin clients hold.
- :mod:`.invite`: the invite string (address, pin, one-time pairing secret) and its checked parsing.
- :mod:`.auth`: pairings and invites kept hashed on the box, constant-time token checks, and the backoff
  that slows repeated failures from one address.
- :mod:`.server`: the Starlette app and the uvicorn server run inside the engine's own loop.
- :mod:`.client`: the desktop's pinned HTTPS client and its reconnecting event reader.
- :mod:`.credentials`: the desktop's link to its box (address, pin, token), kept in the secret store.
"""
