"""Turning results into text for `link-cli`: TTY views and the safe writer for
credential files (the machine formats are shared, in `linkpay.formats`)."""
