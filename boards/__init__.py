"""The board catalogue: one folder per board, its board.toml read by hwgen.boards.targets.

Package data only. A board on a platform amaranth-boards already has is a new folder here."""
