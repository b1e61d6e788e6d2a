"""Who is calling: API key authentication, scopes, and the per-key rate limit."""
