package patroni

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pgreconciler/pgreconciler/internal/model"
)

// rawConfig is GET /config: the dynamic configuration as Patroni keeps it in
// the DCS (what bootstrap.dcs seeded and `patronictl edit-config` edits).
type rawConfig struct {
	TTL                   int    `json:"ttl"`
	LoopWait              int    `json:"loop_wait"`
	RetryTimeout          int    `json:"retry_timeout"`
	PrimaryStartTimeout   *int   `json:"primary_start_timeout"`
	MasterStartTimeout    *int   `json:"master_start_timeout"` // the name before Patroni 3
	MaximumLagOnFailover  *int64 `json:"maximum_lag_on_failover"`
	SynchronousMode       any    `json:"synchronous_mode"` // bool, or "quorum" in Patroni 4
	SynchronousModeStrict bool   `json:"synchronous_mode_strict"`
	FailsafeMode          bool   `json:"failsafe_mode"`
	Postgres              struct {
		UsePgRewind bool                       `json:"use_pg_rewind"`
		UseSlots    bool                       `json:"use_slots"`
		Parameters  map[string]json.RawMessage `json:"parameters"`
	} `json:"postgresql"`
}

func (r rawConfig) model() (*model.PatroniConfig, error) {
	cfg := &model.PatroniConfig{
		TTL: r.TTL, LoopWait: r.LoopWait, RetryTimeout: r.RetryTimeout,
		PrimaryStartTimeout:   r.PrimaryStartTimeout,
		MaximumLagOnFailover:  r.MaximumLagOnFailover,
		SynchronousModeStrict: r.SynchronousModeStrict,
		FailsafeMode:          r.FailsafeMode,
		UsePgRewind:           r.Postgres.UsePgRewind,
		UseSlots:              r.Postgres.UseSlots,
	}
	if cfg.PrimaryStartTimeout == nil {
		cfg.PrimaryStartTimeout = r.MasterStartTimeout
	}
	switch v := r.SynchronousMode.(type) {
	case bool:
		cfg.SynchronousMode = v
	case string:
		cfg.SynchronousMode = v == "on" || v == "true" || v == "quorum"
	}
	for _, name := range slices.Sorted(maps.Keys(r.Postgres.Parameters)) {
		v, err := paramValue(r.Postgres.Parameters[name])
		if err != nil {
			return nil, fmt.Errorf("postgresql.parameters.%s: %w", name, err)
		}
		cfg.Parameters = append(cfg.Parameters, model.Parameter{Name: name, Value: v})
	}
	return cfg, nil
}

// paramValue renders a DCS parameter the way Patroni writes it into
// postgresql.conf and onto the command line: booleans as on/off, numbers
// as written, strings as they are.
func paramValue(raw json.RawMessage) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case bool:
		if v {
			return "on", nil
		}
		return "off", nil
	case json.Number:
		return v.String(), nil
	case string:
		return v, nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("value %s is neither a string, a number nor a boolean", strings.TrimSpace(string(raw)))
}

func sortMembers(ms []model.PatroniMember) {
	slices.SortFunc(ms, func(a, b model.PatroniMember) int { return strings.Compare(a.Name, b.Name) })
}
