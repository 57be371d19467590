"""The Machine Payments Protocol (HTTP 402 Payment scheme): client and merchant sides."""
