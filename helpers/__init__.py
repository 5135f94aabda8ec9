"""helpers: the implementations behind the Neural Compression Workbench chapters.

Import modules, not names: ``from helpers import config, images, data``.
Nothing happens on import (no seeding, downloads or printing).
"""

__version__ = "0.1.0"
