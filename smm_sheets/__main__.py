from smm_sheets.cli import main

# Guarded: worker processes started by multiprocessing (the web server's) import this module again.
if __name__ == "__main__":
    main()
