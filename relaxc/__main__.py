"""``python -m relaxc show package.module:function``: the same as the ``relaxc`` command."""

import sys

from .cli import main

sys.exit(main())
