"""``engage train --dask``: the same pipeline, with the log kept on a Dask cluster.

A seam, not a second pipeline. :func:`dask_training` (used by ``train()`` when
``settings.dask`` is set) yields a :class:`DaskTraining` that replaces three stages and
nothing else:

1. validate (:mod:`.intake`): the partitioned Parquet log is read with ``dask.dataframe`` and
   each partition is checked with the contract's own :func:`validate_log`; the clean rows stay
   on the workers, quarantine counts and reasons are aggregated, a capped sample of the
   quarantined rows is collected;
2. split (:mod:`.split`): time-ordered by a quantile of the timestamp when the spec has one,
   else by a seeded hash of each row; a seeded sample of each side is collected to the client
   (``dask.sample_rows.train|eval``), and every step that already works on capped rows
   (propensity, tuning, corrections, the best constant, candidates, OPE, metrics, plots, the
   oracle) runs unchanged on those samples;
3. outcomes (:mod:`.outcomes`): the one part that needs every row: cross-fitted outcome models
   with ``lightgbm.dask.DaskLGBMRegressor`` on the whole distributed training side (same
   parameters, folds by a hashed fold column, early stopping on the held-out fold), out-of-fold
   predictions only on the sampled rows. The result is plain LightGBM boosters, so the policy
   and the registered model are the single-machine kind and serve in the same server.

Nothing collects the whole log onto one process. Cluster handling is in :mod:`.cluster`.
"""

from engage.training.distributed.cluster import dask_client
from engage.training.distributed.session import DaskTraining, dask_training, log_parts

__all__ = ["DaskTraining", "dask_client", "dask_training", "log_parts"]
