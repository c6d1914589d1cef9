import multiprocessing

from app.cli import main

if __name__ == "__main__":  # the parser child re-imports this module under another name
    multiprocessing.freeze_support()
    raise SystemExit(main())
