-- Databases. A NULL datacl is the default ACL: the owner holds every
-- privilege, PUBLIC CONNECT and TEMP. datlocprovider is new in PostgreSQL
-- 15 (before it every database is libc), daticulocale was renamed
-- datlocale in 17 (which also holds the builtin provider's locale),
-- daticurules is new in 16: to_jsonb reads whichever exists.
SELECT d.oid, d.datname, pg_catalog.pg_get_userbyid(d.datdba) AS owner,
       d.datconnlimit, d.datallowconn, d.datistemplate,
       pg_catalog.pg_encoding_to_char(d.encoding) AS encoding, d.datcollate, d.datctype,
       CASE coalesce(to_jsonb(d) ->> 'datlocprovider', 'c') WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu'
            WHEN 'b' THEN 'builtin' ELSE to_jsonb(d) ->> 'datlocprovider' END AS locale_provider,
       CASE WHEN to_jsonb(d) ->> 'datlocprovider' = 'i'
            THEN coalesce(to_jsonb(d) ->> 'daticulocale', to_jsonb(d) ->> 'datlocale', '')
            ELSE '' END AS icu_locale,
       coalesce(to_jsonb(d) ->> 'daticurules', '') AS icu_rules,
       CASE WHEN to_jsonb(d) ->> 'datlocprovider' = 'b' THEN coalesce(to_jsonb(d) ->> 'datlocale', '')
            ELSE '' END AS builtin_locale,
       t.spcname AS tablespace,
       d.datacl::text[] AS acl
FROM pg_catalog.pg_database d
JOIN pg_catalog.pg_tablespace t ON t.oid = d.dattablespace;
