-- TAP_SCHEMA (TAP 1.1 §4), created only where the database has none.
--
-- Naming convention. The physical schema is the lower-case `tap_schema`, as PostgreSQL folds
-- unquoted names and as DaCHS does. TAP_SCHEMA describes itself with schema_name `tap_schema`
-- and table names `tap_schema.schemas`, `tap_schema.tables`, ...: exactly the stored names, so
-- that the SQL the ADQL layer emits ("tap_schema"."tables") finds the tables, while ADQL's
-- case-insensitive regular identifiers let clients write `TAP_SCHEMA.tables` as usual. Every
-- other table follows the same rule: TAP_SCHEMA holds the stored name, case and all.
--
-- An existing TAP_SCHEMA (an operator's, e.g. one DaCHS maintains, under `tap_schema` or
-- `"TAP_SCHEMA"`) is served as it is: this migration never alters or fills it. If only some
-- of the five tables exist, the missing ones are created empty (without foreign keys) so that
-- TAP_SCHEMA stays queryable. Only a TAP_SCHEMA created here is marked in tapir.state as
-- Tapir's, and only that one is ever written by `tapir load`.
DO $migration$
DECLARE
    ts text;          -- the physical schema of an existing TAP_SCHEMA, if any
    present text[];   -- which of the five tables it has (lower case)
BEGIN
    SELECT n.nspname INTO ts
    FROM pg_namespace n
    WHERE lower(n.nspname) = 'tap_schema'
    ORDER BY (n.nspname = 'tap_schema') DESC, n.nspname
    LIMIT 1;

    IF ts IS NOT NULL THEN
        SELECT coalesce(array_agg(lower(c.relname)), '{}') INTO present
        FROM pg_class c
        WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = ts)
          AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
          AND lower(c.relname) IN ('schemas', 'tables', 'columns', 'keys', 'key_columns');
    END IF;

    IF ts IS NOT NULL AND cardinality(present) > 0 THEN
        -- Someone else's TAP_SCHEMA: complete it only if tables are missing, never touch rows.
        IF NOT 'schemas' = ANY (present) THEN
            EXECUTE format('CREATE TABLE %I.schemas (schema_name text NOT NULL, utype text, '
                'description text, schema_index integer)', ts);
        END IF;
        IF NOT 'tables' = ANY (present) THEN
            EXECUTE format('CREATE TABLE %I.tables (schema_name text NOT NULL, table_name text NOT NULL, '
                'table_type text NOT NULL, utype text, description text, table_index integer)', ts);
        END IF;
        IF NOT 'columns' = ANY (present) THEN
            EXECUTE format('CREATE TABLE %I.columns (table_name text NOT NULL, column_name text NOT NULL, '
                'datatype text NOT NULL, arraysize text, xtype text, "size" integer, description text, '
                'utype text, unit text, ucd text, indexed integer NOT NULL, principal integer NOT NULL, '
                'std integer NOT NULL, column_index integer)', ts);
        END IF;
        IF NOT 'keys' = ANY (present) THEN
            EXECUTE format('CREATE TABLE %I.keys (key_id text NOT NULL, from_table text NOT NULL, '
                'target_table text NOT NULL, description text, utype text)', ts);
        END IF;
        IF NOT 'key_columns' = ANY (present) THEN
            EXECUTE format('CREATE TABLE %I.key_columns (key_id text NOT NULL, from_column text NOT NULL, '
                'target_column text NOT NULL)', ts);
        END IF;
        IF cardinality(present) < 5 THEN
            RAISE WARNING 'TAP_SCHEMA in schema % lacked some tables; Tapir created them empty', ts;
        END IF;
        INSERT INTO tapir.state (key, value) VALUES ('tap_schema', 'existing:' || ts)
        ON CONFLICT (key) DO NOTHING;
        RETURN;
    END IF;

    CREATE SCHEMA IF NOT EXISTS tap_schema;

    CREATE TABLE tap_schema.schemas (
        schema_name text PRIMARY KEY,
        utype text,
        description text,
        schema_index integer
    );

    CREATE TABLE tap_schema.tables (
        schema_name text NOT NULL REFERENCES tap_schema.schemas (schema_name),
        table_name text PRIMARY KEY,
        table_type text NOT NULL CHECK (table_type IN ('table', 'view')),
        utype text,
        description text,
        table_index integer
    );

    CREATE TABLE tap_schema.columns (
        table_name text NOT NULL REFERENCES tap_schema.tables (table_name) ON DELETE CASCADE,
        column_name text NOT NULL,
        datatype text NOT NULL,
        arraysize text,
        xtype text,
        "size" integer,
        description text,
        utype text,
        unit text,
        ucd text,
        indexed integer NOT NULL DEFAULT 0 CHECK (indexed IN (0, 1)),
        principal integer NOT NULL DEFAULT 0 CHECK (principal IN (0, 1)),
        std integer NOT NULL DEFAULT 0 CHECK (std IN (0, 1)),
        column_index integer,
        PRIMARY KEY (table_name, column_name)
    );

    CREATE TABLE tap_schema.keys (
        key_id text PRIMARY KEY,
        from_table text NOT NULL REFERENCES tap_schema.tables (table_name) ON DELETE CASCADE,
        target_table text NOT NULL REFERENCES tap_schema.tables (table_name) ON DELETE CASCADE,
        description text,
        utype text
    );

    CREATE TABLE tap_schema.key_columns (
        key_id text NOT NULL REFERENCES tap_schema.keys (key_id) ON DELETE CASCADE,
        from_column text NOT NULL,
        target_column text NOT NULL,
        PRIMARY KEY (key_id, from_column)
    );

    -- TAP_SCHEMA describes itself (TS-01), listed after the data (schema and table indexes).
    INSERT INTO tap_schema.schemas (schema_name, utype, description, schema_index) VALUES
        ('tap_schema', NULL, 'Metadata about the schemas, tables and columns this service publishes '
            '(TAP_SCHEMA of TAP 1.1)', 100);

    INSERT INTO tap_schema.tables (schema_name, table_name, table_type, utype, description, table_index) VALUES
        ('tap_schema', 'tap_schema.schemas', 'table', NULL, 'The schemas this service publishes', 101),
        ('tap_schema', 'tap_schema.tables', 'table', NULL, 'The tables this service publishes', 102),
        ('tap_schema', 'tap_schema.columns', 'table', NULL, 'The columns of the published tables', 103),
        ('tap_schema', 'tap_schema.keys', 'table', NULL, 'Foreign keys between published tables', 104),
        ('tap_schema', 'tap_schema.key_columns', 'table', NULL, 'The columns of the foreign keys', 105);

    INSERT INTO tap_schema.columns (table_name, column_name, datatype, arraysize, xtype, "size",
            description, utype, unit, ucd, indexed, principal, std, column_index) VALUES
        ('tap_schema.schemas', 'schema_name', 'char', '*', NULL, NULL,
            'Schema name, as used in queries', NULL, NULL, 'meta.id;meta.main', 1, 1, 1, 1),
        ('tap_schema.schemas', 'utype', 'char', '*', NULL, NULL,
            'Data model type of the schema', NULL, NULL, 'meta.ref.utype', 0, 1, 1, 2),
        ('tap_schema.schemas', 'description', 'unicodeChar', '*', NULL, NULL,
            'Description of the schema', NULL, NULL, 'meta.note', 0, 1, 1, 3),
        ('tap_schema.schemas', 'schema_index', 'int', NULL, NULL, NULL,
            'Recommended order of display (ascending)', NULL, NULL, 'meta.number', 0, 1, 1, 4),

        ('tap_schema.tables', 'schema_name', 'char', '*', NULL, NULL,
            'The schema the table belongs to', NULL, NULL, 'meta.id', 0, 1, 1, 1),
        ('tap_schema.tables', 'table_name', 'char', '*', NULL, NULL,
            'Table name, as used in queries (qualified, quoted where delimited)', NULL, NULL,
            'meta.id;meta.main', 1, 1, 1, 2),
        ('tap_schema.tables', 'table_type', 'char', '*', NULL, NULL,
            'table or view', NULL, NULL, 'meta.code', 0, 1, 1, 3),
        ('tap_schema.tables', 'utype', 'char', '*', NULL, NULL,
            'Data model type of the table', NULL, NULL, 'meta.ref.utype', 0, 1, 1, 4),
        ('tap_schema.tables', 'description', 'unicodeChar', '*', NULL, NULL,
            'Description of the table', NULL, NULL, 'meta.note', 0, 1, 1, 5),
        ('tap_schema.tables', 'table_index', 'int', NULL, NULL, NULL,
            'Recommended order of display (ascending)', NULL, NULL, 'meta.number', 0, 1, 1, 6),

        ('tap_schema.columns', 'table_name', 'char', '*', NULL, NULL,
            'The table the column belongs to', NULL, NULL, 'meta.id', 1, 1, 1, 1),
        ('tap_schema.columns', 'column_name', 'char', '*', NULL, NULL,
            'Column name, as used in queries (quoted where delimited)', NULL, NULL,
            'meta.id;meta.main', 1, 1, 1, 2),
        ('tap_schema.columns', 'datatype', 'char', '*', NULL, NULL,
            'VOTable datatype of the column', NULL, NULL, 'meta.code', 0, 1, 1, 3),
        ('tap_schema.columns', 'arraysize', 'char', '*', NULL, NULL,
            'VOTable arraysize of the column', NULL, NULL, 'meta.code', 0, 1, 1, 4),
        ('tap_schema.columns', 'xtype', 'char', '*', NULL, NULL,
            'VOTable xtype of the column', NULL, NULL, 'meta.code', 0, 1, 1, 5),
        ('tap_schema.columns', '"size"', 'int', NULL, NULL, NULL,
            'Length of a one-dimensional array column (deprecated: use arraysize)', NULL, NULL,
            'meta.number', 0, 0, 1, 6),
        ('tap_schema.columns', 'description', 'unicodeChar', '*', NULL, NULL,
            'Description of the column', NULL, NULL, 'meta.note', 0, 1, 1, 7),
        ('tap_schema.columns', 'utype', 'char', '*', NULL, NULL,
            'Data model type of the column', NULL, NULL, 'meta.ref.utype', 0, 1, 1, 8),
        ('tap_schema.columns', 'unit', 'char', '*', NULL, NULL,
            'Unit of the column, in VOUnit syntax', NULL, NULL, 'meta.unit', 0, 1, 1, 9),
        ('tap_schema.columns', 'ucd', 'char', '*', NULL, NULL,
            'UCD of the column', NULL, NULL, 'meta.ucd', 0, 1, 1, 10),
        ('tap_schema.columns', 'indexed', 'int', NULL, NULL, NULL,
            '1 if the column is indexed, 0 otherwise', NULL, NULL, 'meta.code', 0, 1, 1, 11),
        ('tap_schema.columns', 'principal', 'int', NULL, NULL, NULL,
            '1 if the column is of principal interest, 0 otherwise', NULL, NULL, 'meta.code', 0, 1, 1, 12),
        ('tap_schema.columns', 'std', 'int', NULL, NULL, NULL,
            '1 if the column is defined by a standard, 0 otherwise', NULL, NULL, 'meta.code', 0, 1, 1, 13),
        ('tap_schema.columns', 'column_index', 'int', NULL, NULL, NULL,
            'Recommended order of display within the table (ascending)', NULL, NULL, 'meta.number',
            0, 1, 1, 14),

        ('tap_schema.keys', 'key_id', 'char', '*', NULL, NULL,
            'Unique key identifier', NULL, NULL, 'meta.id;meta.main', 1, 1, 1, 1),
        ('tap_schema.keys', 'from_table', 'char', '*', NULL, NULL,
            'The table holding the foreign key', NULL, NULL, 'meta.id', 0, 1, 1, 2),
        ('tap_schema.keys', 'target_table', 'char', '*', NULL, NULL,
            'The table the foreign key points to', NULL, NULL, 'meta.id', 0, 1, 1, 3),
        ('tap_schema.keys', 'description', 'unicodeChar', '*', NULL, NULL,
            'Description of the key', NULL, NULL, 'meta.note', 0, 1, 1, 4),
        ('tap_schema.keys', 'utype', 'char', '*', NULL, NULL,
            'Data model type of the key', NULL, NULL, 'meta.ref.utype', 0, 1, 1, 5),

        ('tap_schema.key_columns', 'key_id', 'char', '*', NULL, NULL,
            'The key this column pair belongs to', NULL, NULL, 'meta.id', 1, 1, 1, 1),
        ('tap_schema.key_columns', 'from_column', 'char', '*', NULL, NULL,
            'Column in the from_table', NULL, NULL, 'meta.id', 0, 1, 1, 2),
        ('tap_schema.key_columns', 'target_column', 'char', '*', NULL, NULL,
            'Column in the target_table', NULL, NULL, 'meta.id', 0, 1, 1, 3);

    INSERT INTO tap_schema.keys (key_id, from_table, target_table, description, utype) VALUES
        ('tap_schema.tables.schema_name', 'tap_schema.tables', 'tap_schema.schemas',
            'The schema of a table', NULL),
        ('tap_schema.columns.table_name', 'tap_schema.columns', 'tap_schema.tables',
            'The table of a column', NULL),
        ('tap_schema.keys.from_table', 'tap_schema.keys', 'tap_schema.tables',
            'The table holding a foreign key', NULL),
        ('tap_schema.keys.target_table', 'tap_schema.keys', 'tap_schema.tables',
            'The table a foreign key points to', NULL),
        ('tap_schema.key_columns.key_id', 'tap_schema.key_columns', 'tap_schema.keys',
            'The key of a column pair', NULL);

    INSERT INTO tap_schema.key_columns (key_id, from_column, target_column) VALUES
        ('tap_schema.tables.schema_name', 'schema_name', 'schema_name'),
        ('tap_schema.columns.table_name', 'table_name', 'table_name'),
        ('tap_schema.keys.from_table', 'from_table', 'table_name'),
        ('tap_schema.keys.target_table', 'target_table', 'table_name'),
        ('tap_schema.key_columns.key_id', 'key_id', 'key_id');

    INSERT INTO tapir.state (key, value) VALUES ('tap_schema', 'tapir')
    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now();
END
$migration$;
