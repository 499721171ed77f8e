"""One module per `hwgen` subcommand: its arguments and its handler."""
