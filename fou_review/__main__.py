import sys

from fou_review.cli import main

sys.exit(main())
