"""``python -m fxsim``: the same as the ``fxsim`` command."""

import sys

from .cli import main

sys.exit(main())
