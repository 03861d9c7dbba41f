"""Batch scoring: ranked recommendations for every profile of a (partitioned) Parquet input.

The policy, its loading and the profile contract are the API's own: a model is loaded by
:class:`engage.serving.model.ModelLoader` (the same URIs, the same refusal of unfinished runs)
and each profile is validated by the served spec's :class:`~engage.serving.contract.SpecContract`,
so a profile the API would refuse is refused here too, and goes to the quarantine output with
its reason and row number; no row is dropped silently.

Two engines run the same scoring function on pieces of the input:

* one process (the default): the files are streamed in chunks of ``chunk_rows`` rows, so
  memory is bounded by a chunk and its answers, with a progress line on stderr;
* Dask (``dask="local"`` or a scheduler address): one task per piece of the input (a group of
  Parquet row groups), ``map_partitions`` over them; each worker loads the model once.

Output (a directory): ``recommendations/part-<first row>.parquet`` (one row per profile and
rank, columns flattened from :meth:`engage.policy.results.Recommendation.to_dict`),
``quarantine/part-<first row>.parquet`` (``_row``, ``_reason``, ``_input``) and
``_manifest.json`` (model, counts, columns).
"""

from engage.batch.inputs import BatchInputError
from engage.batch.job import BatchResult, BatchSettings, run_batch

__all__ = ["BatchInputError", "BatchResult", "BatchSettings", "run_batch"]
