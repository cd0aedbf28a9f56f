"""``python -m tracegraph``: the same command as ``tracegraph``."""

from tracegraph.cli import main

if __name__ == "__main__":
    main()
