from smm_sheets.cli import main

main()
