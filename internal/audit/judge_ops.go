package audit

import (
	"fmt"
	"path"
	"strings"
	"time"
)

func judgeDataChecksums(s *Subject) Verdict {
	st, uv := s.setting("data_checksums")
	if uv != nil {
		return *uv
	}
	var v verdict
	if st.Value == "on" {
		v.fact("data_checksums", "on")
	} else {
		v.fail("data_checksums", st.Value, "data checksums are off: storage corruption goes unnoticed (initdb --data-checksums, or pg_checksums --enable offline)")
	}
	return v.done("every data page carries a checksum")
}

func judgeStorageEncryption(s *Subject) Verdict {
	lib, ok, uv := s.loaded("pg_tde", "pgsodium")
	if uv != nil {
		return *uv
	}
	if ok {
		var v verdict
		v.fact("shared_preload_libraries", "%s", s.Evidence.Settings["shared_preload_libraries"].Value)
		return v.done(lib + " is loaded: tables can be encrypted at rest")
	}
	return unknown("no encryption library is loaded (pg_tde, pgsodium); volume encryption and encrypted backups are not visible from the server")
}

// commandSummary shows a shell command by its program only: arguments and
// environment assignments may hold secrets (keys, passwords).
func commandSummary(cmd string) string {
	for _, w := range strings.Fields(cmd) {
		if strings.Contains(w, "=") {
			continue // VAR=value before the program
		}
		return path.Base(strings.Trim(w, `'"`)) + " …"
	}
	return "(empty)"
}

func judgeWALArchiving(s *Subject) Verdict {
	mode, uv := s.setting("archive_mode")
	if uv != nil {
		return *uv
	}
	if !s.isPrimary() && mode.Value != "always" {
		return notApplicable("a standby archives only with archive_mode always (it is %s); the primary's archive is judged", mode.Value)
	}
	var v verdict
	if mode.Value == "off" {
		v.fail("archive_mode", "off", "archive_mode is off: no WAL is archived, point-in-time recovery is impossible")
		return v.done("")
	}
	v.fact("archive_mode", "%s", mode.Value)
	cmd := s.Evidence.Settings["archive_command"].Value
	lib := s.Evidence.Settings["archive_library"].Value
	switch {
	case lib != "":
		v.fact("archive_library", "%s", lib)
	case cmd == "" || cmd == "(disabled)":
		v.fail("archive_command", "(empty)", "archive_command is empty: WAL accumulates and nothing is archived")
	default:
		v.fact("archive_command", "%s", commandSummary(cmd))
	}
	a := s.Evidence.Archiver
	if a == nil {
		if len(v.bad) > 0 {
			return v.done("")
		}
		return Verdict{Status: StatusUnknown, Why: "pg_stat_archiver was not read: " + s.Evidence.Unread["archiver"], Evidence: v.facts}
	}
	now := s.Evidence.Session.Now
	v.fact("archived", "%d segments, %d failures", a.ArchivedCount, a.FailedCount)
	switch last := a.LastArchivedTime; {
	case last == nil:
		v.fail("last archived", "never", "no WAL segment has been archived")
	case now.Sub(*last) > s.Limits.ArchiveMaxAge:
		v.fail("last archived", fmt.Sprintf("%s at %s", a.LastArchivedWAL, last.UTC().Format(time.RFC3339)),
			fmt.Sprintf("the last WAL segment was archived %s ago (more than %s)", roundAge(now.Sub(*last)), s.Limits.ArchiveMaxAge))
	default:
		v.fact("last archived", "%s at %s (%s ago)", a.LastArchivedWAL, last.UTC().Format(time.RFC3339), roundAge(now.Sub(*last)))
	}
	if f := a.LastFailedTime; f != nil && (a.LastArchivedTime == nil || f.After(*a.LastArchivedTime)) {
		v.fail("last failed", fmt.Sprintf("%s at %s", a.LastFailedWAL, f.UTC().Format(time.RFC3339)),
			"archiving fails: the last attempt ("+a.LastFailedWAL+") failed after the last success")
	}
	return v.done("WAL is archived continuously (point-in-time recovery)")
}

func roundAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return d.Round(time.Minute).String()
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func judgeReplicasStreaming(s *Subject) Verdict {
	var v verdict
	var want []string
	for _, in := range s.Cluster.Instances {
		if in.Name() != s.Instance.Name() {
			want = append(want, in.Name())
		}
	}
	if len(want) == 0 {
		v.fail("replicas", "none in the spec", "the cluster has no replica: nothing to fail over to")
		return v.done("")
	}
	if _, ok := s.Evidence.Unread["replication"]; ok {
		return unknown("pg_stat_replication was not read: %s", s.Evidence.Unread["replication"])
	}
	for _, name := range want {
		in := s.Cluster.Instance(name)
		var got *Replica
		for i, r := range s.Evidence.Replicas {
			if r.Name == name || r.Addr == in.IP {
				got = &s.Evidence.Replicas[i]
				break
			}
		}
		switch {
		case got == nil:
			v.fail(name, "not connected", name+" does not replicate from the primary")
		case got.State == "":
			return unknown("pg_stat_replication hides the state of %s from %s (needs pg_read_all_stats)", name, s.Evidence.Session.User)
		case got.State != "streaming":
			v.fail(name, got.State, name+" is "+got.State+", not streaming")
		default:
			v.fact(name, "streaming (%s)", got.SyncState)
		}
	}
	return v.done(fmt.Sprintf("all %d replicas stream from the primary", len(want)))
}

func judgeChangeCustody(s *Subject) Verdict {
	c := s.Custody
	switch {
	case c == nil:
		return notApplicable("no period was audited (reconciler audit --since DATE)")
	case c.Err != "":
		return unknown("%s", c.Err)
	}
	var v verdict
	sum := c.Summary
	v.fact("period", "%s to %s", c.Since.UTC().Format(time.RFC3339), c.Until.UTC().Format(time.RFC3339))
	v.fact("changes", "%d applied (%d reviewed), %d failed or refused", sum.Changes, sum.Reviewed, sum.Attempts)
	for _, e := range c.Entries {
		if e.Finding != "" {
			v.fail(fmt.Sprintf("change_log #%d", e.Row.ID), string(e.Finding)+": "+e.Detail,
				fmt.Sprintf("change_log #%d (%s %s): %s", e.Row.ID, e.Row.Action, e.Row.Object, e.Finding))
		}
	}
	return v.done(fmt.Sprintf("all %d changes came from commits signed by trusted keys, none out of band", sum.Changes))
}
