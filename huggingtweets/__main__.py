"`python -m huggingtweets`: the `huggingtweets` command (see `cli`)."
import sys
from huggingtweets.cli import main

if __name__ == '__main__': sys.exit(main())
