package apply

import _ "embed"

// The executor's catalog reads, one statement per file in sql/ (each can be
// pasted into psql). They are fresh reads right before the write they
// guard, never the inspected state: a change is judged by what the server
// holds when it is made.
var (
	//go:embed sql/session.sql
	sessionSQL string
	//go:embed sql/owned_databases.sql
	ownedDatabasesSQL string
	//go:embed sql/replication_clients.sql
	replicationClientsSQL string
	//go:embed sql/own_session.sql
	ownSessionSQL string
	//go:embed sql/memberships.sql
	membershipsSQL string
	//go:embed sql/hba_file.sql
	hbaFileSQL string
	//go:embed sql/hba_file_rules.sql
	hbaFileRulesSQL string
	//go:embed sql/conf_load_time.sql
	confLoadTimeSQL string
	//go:embed sql/reloaded_since.sql
	reloadedSinceSQL string
	//go:embed sql/library_path.sql
	libraryPathSQL string
	//go:embed sql/library_installed.sql
	libraryInstalledSQL string
	//go:embed sql/change_log_exists.sql
	changeLogExistsSQL string
	//go:embed sql/change_log.sql
	changeLogDDL string
	//go:embed sql/last_applied.sql
	lastAppliedSQL string
	//go:embed sql/pooler_authid.sql
	poolerAuthidSQL string
)
