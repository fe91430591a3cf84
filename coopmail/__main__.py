from coopmail.cli import main

main()
