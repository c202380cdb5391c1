-- The verifiers userlist.txt copies, as Pigsty's pgb-user AUTO does:
-- every role's rolpassword on the primary (NULL as '').
SELECT rolname::text, coalesce(rolpassword, '') FROM pg_authid
