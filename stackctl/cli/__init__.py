"""The command-line face: thin commands that parse, call the core and print."""
