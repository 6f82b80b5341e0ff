"""The seed's name for the package: `import pcapML` is `import pcapml`."""
import sys

import pcapml

sys.modules[__name__] = pcapml
