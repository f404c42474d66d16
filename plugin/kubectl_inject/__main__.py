import sys

from kubectl_inject.cli import main

sys.exit(main())
