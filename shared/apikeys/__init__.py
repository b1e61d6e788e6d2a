"""API keys: the token format (`tokens`) and the stored keys (`store`)."""
