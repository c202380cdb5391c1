-- Where the server reads pg_hba.conf from.
SHOW hba_file
