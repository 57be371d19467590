"""Strip terminal escapes and control characters from merchant-supplied data.

Everything a merchant sends (challenge params, bodies, headers) is untrusted text that
ends up in an agent's context or on a terminal. One sanitizer serves the whole project:
the CLI output layer's (ANSI/VT sequences, C0/C1 controls except tab and newline, bidi
overrides); this module only gives it the names the MPP code uses.
"""

from linkpay.cli.output.sanitize import sanitize as sanitize_deep
from linkpay.cli.output.sanitize import sanitize_text

__all__ = ["sanitize_deep", "sanitize_text"]
