"""In-repo fakes of the providers outside our control (Stripe, Lithic), spoken to by the
providers' official SDKs over real HTTP. Tests and bench/ import them."""
