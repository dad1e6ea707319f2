"""The process designer studio (流程设计): drafts of a procedure's files kept
per designer, linted by the deployment's own checks, published as new
immutable versions, exported and imported in the ``processes/`` + ``forms/``
layout."""
