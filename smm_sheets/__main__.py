import gc

# Importing the command line (click) makes objects, not garbage: no collections meanwhile.
gc.disable()
from smm_sheets.cli import main  # noqa: E402

gc.enable()

# Guarded: worker processes started by multiprocessing (the web server's) import this module again.
if __name__ == "__main__":
    main()
