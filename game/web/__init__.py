"""The participant's page: plain HTML, CSS and one small ES module, served as they are by the
server (:mod:`server.web`) at ``http://HOST:PORT/``. No build step: these files are the page.
It speaks docs/protocol.md like the terminal app and receives the same views."""
