package audit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgreconciler/pgreconciler/internal/apply"
	"github.com/pgreconciler/pgreconciler/internal/model"
	"github.com/pgreconciler/pgreconciler/internal/source"
	"github.com/pgreconciler/pgreconciler/internal/testenv/gitenv"
)

// specRepo is a spec repository with two trusted keys (an author's SSH
// key, a reviewer's OpenPGP key) and one untrusted key.
type specRepo struct {
	repo                 *gitenv.Repo
	author, intruder     *gitenv.SSHSigner
	reviewer             *gitenv.GPGSigner
	src                  *source.Source
	signed, merge, base  string // commits signed by the author; a reviewed merge; the first commit
	unsigned, untrusted  string
	side                 string // signed by the author on a branch never merged
	authorID, reviewerID string // Signer.String() of each, as the reconciler records them
}

func newSpecRepo(t *testing.T) *specRepo {
	t.Helper()
	r := &specRepo{
		repo:     gitenv.NewRepo(t),
		author:   gitenv.NewSSHSigner(t, "ed25519", "author@example.com"),
		intruder: gitenv.NewSSHSigner(t, "ed25519", "intruder@example.com"),
		reviewer: gitenv.NewGPGSigner(t, "Release Reviewer", "reviewer@example.com"),
	}
	commit := func(name string, s gitenv.Signer) string {
		r.repo.WriteFile("fleet/"+name+".yml", name+"\n")
		return r.repo.Commit(name, s)
	}
	r.base = commit("base", r.author)
	r.signed = commit("signed by the author", r.author)
	r.unsigned = commit("unsigned", nil)
	r.untrusted = commit("signed by an untrusted key", r.intruder)
	r.repo.Run("checkout", "-q", "-b", "feature")
	commit("feature work", r.author)
	r.repo.Run("checkout", "-q", "main")
	r.merge = r.repo.Merge("feature", "merge feature after review", r.reviewer)
	r.repo.Run("checkout", "-q", "-b", "side", r.base)
	r.side = commit("side work", r.author)
	r.repo.Run("checkout", "-q", "main")

	dir := t.TempDir()
	files := source.TrustFiles{AllowedSigners: filepath.Join(dir, "allowed_signers"), PGPKeys: []string{filepath.Join(dir, "reviewer.asc")}}
	if err := os.WriteFile(files.AllowedSigners, []byte(r.author.AllowedSignersLine("")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files.PGPKeys[0], []byte(r.reviewer.ArmoredPublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	trust, err := source.LoadTrust(files)
	if err != nil {
		t.Fatal(err)
	}
	if r.src, err = source.New(source.Config{Name: "specs", URL: r.repo.Dir, Trust: trust}); err != nil {
		t.Fatal(err)
	}
	r.authorID = r.signerOf(t, r.signed)
	r.reviewerID = r.signerOf(t, r.merge)
	return r
}

func (r *specRepo) signerOf(t *testing.T, h string) string {
	t.Helper()
	cc, err := r.src.VerifyCommit(t.Context(), h)
	if err != nil || !cc.Verdict.OK {
		t.Fatalf("verify %s: %v %v", h, err, cc.Verdict)
	}
	return cc.Verdict.Signer.String()
}

// The chain of custody on a live change log: genuine rows of signed
// commits (one a reviewed merge), a forged row naming a commit the
// repository lacks, rows of an unsigned and of an untrusted commit, a row
// whose signer is not the commit's, a signed commit never merged, and an
// out-of-band ALTER ROLE the daemon recorded as observed. Judged over the
// whole period it fails with each finding; over the genuine rows only, it
// passes.
func TestChainOfCustody(t *testing.T) {
	c := fresh(t)
	r := newSpecRepo(t)
	spec := specOf(c)
	now := time.Now()
	old, recent := now.Add(-3*time.Hour), now.Add(-30*time.Minute)

	conn, err := c.Primary.Admin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// Out of band: someone gives dbuser_monitor CREATEROLE by hand; the
	// daemon records what it observed (phase 2 writes this row itself).
	execSQL(t, c.Primary, "ALTER ROLE dbuser_monitor CREATEROLE")
	if err := apply.RecordObserved(t.Context(), conn, []apply.Observed{{At: old, Cluster: c.Name, Instance: c.Primary.Name(),
		Kind: "role", Object: "dbuser_monitor", Action: "alter", What: "rolcreaterole: false -> true", Commit: r.merge}}); err != nil {
		t.Fatal(err)
	}
	insert := func(at time.Time, object, commit, signer, status string) {
		t.Helper()
		_, err := conn.Exec(t.Context(), `INSERT INTO pgreconciler.change_log (at, cluster, instance, kind, action, object, statement, commit, signer, author, status, error)
			VALUES ($1, $2, $3, 'role', 'alter', $4, 'ALTER ROLE …', $5, $6, 'A U Thor <author@example.com>', $7, '')`,
			at, c.Name, c.Primary.Name(), object, commit, signer, status)
		if err != nil {
			t.Fatal(err)
		}
	}
	insert(now.Add(-5*time.Hour), "before the period", r.unsigned, "", "applied")
	insert(old, "forged", "0123456789abcdef0123456789abcdef01234567", r.authorID, "applied")
	insert(old, "unsigned", r.unsigned, "", "applied")
	insert(old, "untrusted", r.untrusted, "", "applied")
	insert(old, "mislabelled", r.signed, r.reviewerID, "applied")
	insert(old, "side branch", r.side, r.authorID, "applied")
	insert(old, "no commit", "", "", "applied")
	insert(old, "interrupted", r.signed, r.authorID, apply.StatusInterrupted) // an intent row the next run could not settle
	insert(old, "pending", r.signed, r.authorID, apply.StatusPending)         // an intent row not settled yet
	insert(recent, "signed", r.signed, r.authorID, "applied")
	insert(recent, "reviewed", r.merge, r.reviewerID, "applied")
	insert(recent, "refused", r.merge, r.reviewerID, "refused")

	audit := func(since time.Time) *Report {
		col := superCollector(t, c)
		col.Since = since
		return Run(t.Context(), &model.Desired{Clusters: []*model.Cluster{spec}}, col,
			Options{Profile: ProfileBaseline, Since: since, Head: "", Verifier: r.src})
	}

	rep := audit(now.Add(-4 * time.Hour))
	cu := rep.Custody[0]
	if cu.Err != "" {
		t.Fatal(cu.Err)
	}
	findings := map[string]Finding{}
	for _, e := range cu.Entries {
		findings[e.Row.Object] = e.Finding
	}
	want := map[string]Finding{
		"dbuser_monitor": FindingOutOfBand, "forged": FindingMissing, "unsigned": FindingUnsigned,
		"untrusted": FindingUntrusted, "mislabelled": FindingSignerMismatch, "side branch": FindingNotInHistory,
		"no commit": FindingNoCommit, "interrupted": FindingUnsettled, "pending": "", "signed": "", "reviewed": "", "refused": "",
	}
	for obj, f := range want {
		if got, ok := findings[obj]; !ok || got != f {
			t.Errorf("row %q: finding %q (present %v), want %q", obj, got, ok, f)
		}
	}
	if _, ok := findings["before the period"]; ok {
		t.Error("a row before --since is in the chain of custody")
	}
	s := cu.Summary
	if s.Changes != 8 || s.Attempts != 3 || s.Reviewed != 1 || s.OutOfBand != 1 || s.Findings != 8 {
		t.Errorf("summary %+v, want 8 changes, 3 attempts, 1 reviewed, 1 out of band, 8 findings", s)
	}
	bySigner := map[string]int{}
	for _, sc := range s.BySigner {
		bySigner[sc.Signer] = sc.Changes
	}
	if bySigner[r.authorID] != 3 || bySigner[r.reviewerID] != 1 || bySigner["(not verified)"] != 4 {
		t.Errorf("by signer %v, want author 3 (signed, mislabelled, side), reviewer 1, not verified 4", bySigner)
	}
	for _, e := range cu.Entries {
		if e.Row.Object == "reviewed" && (!e.Reviewed || e.BranchSigner != r.authorID) {
			t.Errorf("the merge is not reviewed by the author's branch: %+v", e)
		}
	}
	v := rep.check("change-custody")
	if v.Results[0].Status != StatusFail || !strings.Contains(v.Results[0].Why, "commit missing") {
		t.Errorf("change-custody over the whole period = %s (%s)", v.Results[0].Status, v.Results[0].Why)
	}
	if v.Results[1].Status != StatusNotApplicable {
		t.Errorf("change-custody on the replica = %s", v.Results[1].Status)
	}
	if !rep.Failed {
		t.Error("findings do not fail the report")
	}

	rep = audit(now.Add(-time.Hour))
	if v := rep.check("change-custody").Results[0]; v.Status != StatusPass {
		t.Errorf("change-custody over the genuine rows = %s (%s) %+v", v.Status, v.Why, rep.Custody[0].Entries)
	}
	if s := rep.Custody[0].Summary; s.Changes != 2 || s.Reviewed != 1 || s.Attempts != 1 || s.Findings != 0 {
		t.Errorf("summary of the genuine rows %+v", s)
	}
}
