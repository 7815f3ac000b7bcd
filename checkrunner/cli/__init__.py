"""The command line: commands -> app calls; errors -> one stderr line + exit code."""
