-- Tapir's own bookkeeping, in its own schema `tapir` (created, with tapir.migrations, by the
-- migration runner before this file runs).
--
-- tapir.state: small facts Tapir must remember between runs, e.g. whether it created
-- TAP_SCHEMA (and may therefore write to it) and which version of the demo is loaded.
CREATE TABLE tapir.state (
    key text PRIMARY KEY,
    value text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- tapir.catalogue: the tables `tapir load` created. `tapir load` replaces only tables listed
-- here, so that it can never drop an operator's table that happens to have the same name.
CREATE TABLE tapir.catalogue (
    table_name text PRIMARY KEY,          -- physical "schema.table"
    loader text NOT NULL,                 -- 'demo' or 'bench'
    row_count bigint,
    loaded_at timestamptz NOT NULL DEFAULT now()
);
