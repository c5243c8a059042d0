"""One module per schema revision, in order: 0001 the tables as create_all made them, then every change."""
