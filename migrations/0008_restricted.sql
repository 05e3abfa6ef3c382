-- Restricted data (issue 14): the schemas and tables `[access] restricted` takes away from the
-- query role, as the last server that applied the rules left them. Every process that grants
-- the query role read access (start-up, `tapir load`, the command line run without the
-- server's configuration) reads this list and leaves those alone, so a restriction never
-- depends on which process touched the database last. `table_name` '' stands for the whole
-- schema. Physical (PostgreSQL) names.
CREATE TABLE tapir.restricted (
    schema_name text NOT NULL,
    table_name text NOT NULL DEFAULT '',
    PRIMARY KEY (schema_name, table_name)
);
