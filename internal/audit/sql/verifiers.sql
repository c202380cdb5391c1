-- The type of each stored password (superuser only). The password column
-- never leaves the server: only what kind of hash it is.
SELECT rolname,
       CASE WHEN rolpassword IS NULL THEN 'none'
            WHEN rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram-sha-256'
            WHEN rolpassword ~ '^md5[0-9a-f]{32}$' THEN 'md5'
            ELSE 'plaintext' END AS verifier
FROM pg_catalog.pg_authid
WHERE rolname !~ '^pg_';
