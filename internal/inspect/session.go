package inspect

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// session is what round trip 1 learns: facts about the server and the
// inspecting session, and which privileged catalogs round trip 2 may read.
type session struct {
	version      int
	inRecovery   bool
	now          time.Time
	dataDir      string
	hbaFile      string
	info         model.Session
	authid       bool // pg_authid (passwords)
	fileConf     bool // pg_file_settings
	hbaRules     bool // pg_hba_file_rules
	optsReadable bool // pg_read_file('postmaster.opts')
	reloaded     bool // processed a reload after it started
	hbaFileText  bool // pg_read_file(hba_file)
	logsReadable bool // the csvlog files with log_connections lines
}

// readSession runs round trip 1.
func readSession(ctx context.Context, conn *pgx.Conn) (*session, error) {
	var s session
	err := conn.QueryRow(ctx, query("session")).Scan(&s.version, &s.inRecovery, &s.now,
		&s.info.User, &s.info.Database, &s.info.ClientAddr, &s.info.SSL, &s.info.ApplicationName,
		&s.info.Superuser, &s.dataDir, &s.hbaFile, &s.authid, &s.fileConf, &s.hbaRules, &s.optsReadable, &s.reloaded, &s.hbaFileText, &s.logsReadable)
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	return &s, nil
}
