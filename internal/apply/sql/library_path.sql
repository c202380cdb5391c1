-- Where the postmaster looks for the libraries of shared_preload_libraries:
-- the server binary's own pkglibdir ($libdir) and dynamic_library_path.
SELECT (SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'),
       current_setting('dynamic_library_path')
