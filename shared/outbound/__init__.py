"""Outbound HTTP to addresses a client chose (`url` sources, webhooks), and the rules it obeys.

    addresses.py   which IP addresses are public (IPv4 embedded in IPv6 judged as IPv4)
    allowlist.py   OCR_URL_ALLOWLIST entries: networks, host names, each with an optional port
    pace.py        the minimum transfer rate of a download (pure, clock passed in)
    transport.py   the httpx transport that connects only to vetted addresses, within a deadline
    client.py      `OutboundClient`: the one redirect loop, every hop checked again

The early check at submission (`shared.urls.check_url`) uses the same address and allowlist
rules. Nothing is re-exported here, so that `shared.urls` can import the pure modules without
loading the HTTP client.
"""
