"""What ``deltacloudd`` adds around the ASGI app, below it: the HTTP protocol's limits
(:mod:`.protocol`, :mod:`.limits`), the access log's line (:mod:`.access_log`) and the guard on the
server's outgoing connections (:mod:`.connect_guard`)."""
