"""Walk-forward parameter optimisation on Optuna (``ictbot optimize``): pure parts (search space,
folds, objectives, stability) and the Optuna shell (storage, workers, results, report).
See docs/optimize.md."""
