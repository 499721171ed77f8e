"""Executors of a lowered network: golden (sim_models) today; c, cosim and board build on it."""
