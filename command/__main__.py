import sys

from dolbom.cli import main

sys.exit(main())
