"""The C runtime of the generated host code, and the templates of its generated files.

Package data only: hwgen.resources finds these files, in an installed wheel and in a checkout."""
