"""entraide's protocol core: pure code, no I/O, no clock, no threads."""
