"""One module per `her2-cds` subcommand; each has `register(subparsers)` and sets `run(args, settings)`."""
