package hba

import (
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	tests := []struct {
		name, desired, live string
		want                string // Diff.String()
		missing, unexpected int
		moved               int
	}{
		{name: "same", desired: "local all all peer\nhost all all 10.0.0.0/8 md5",
			live: "# other comments\nlocal all all ident\n\nhost all all 10.1.2.3 255.0.0.0 md5"},
		{name: "missing", desired: "local all all peer\nhost all all 10.0.0.0/8 md5", live: "local all all peer",
			want: "+ host  all  all  10.0.0.0/8  md5\n", missing: 1},
		{name: "unexpected", desired: "local all all peer", live: "host all all 0.0.0.0/0 trust\nlocal all all peer",
			want: "- host  all  all  0.0.0.0/0  trust\n", unexpected: 1},
		{name: "changed", desired: "host all all 10.0.0.0/8 scram-sha-256", live: "host all all 10.0.0.0/8 md5",
			want: "- host  all  all  10.0.0.0/8  md5\n+ host  all  all  10.0.0.0/8  scram-sha-256\n", missing: 1, unexpected: 1},
		{name: "order", desired: "host all all 10.9.0.0/16 reject\nhost all all 10.0.0.0/8 md5",
			live: "host all all 10.0.0.0/8 md5\nhost all all 10.9.0.0/16 reject",
			want: "- host  all  all  10.0.0.0/8  md5  (moved)\n+ host  all  all  10.0.0.0/8  md5  (moved)\n", moved: 1},
		{name: "duplicate", desired: "local all all peer", live: "local all all peer\nlocal all all peer",
			want: "- local  all  all  peer\n", unexpected: 1},
		{name: "quoted keyword differs", desired: `local "all" all peer`, live: "local all all peer",
			want: "- local  all  all  peer\n+ local  \"all\"  all  peer\n", missing: 1, unexpected: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Compare(mustParse(t, tt.desired), mustParse(t, tt.live))
			if got := d.String(); got != tt.want {
				t.Errorf("diff:\n%s\nwant:\n%s", got, tt.want)
			}
			if d.Empty() != (tt.want == "") || len(d.Missing) != tt.missing || len(d.Unexpected) != tt.unexpected || len(d.Moved) != tt.moved {
				t.Errorf("empty=%v missing=%d unexpected=%d moved=%d", d.Empty(), len(d.Missing), len(d.Unexpected), len(d.Moved))
			}
		})
	}
}

func TestCompareLineNumbers(t *testing.T) {
	d := Compare(mustParse(t, "local all all peer\nhost all all 10.0.0.0/8 md5"), mustParse(t, "\n\nlocal all all peer\nhost all all 0.0.0.0/0 trust"))
	if len(d.Entries) != 2 || d.Entries[0].Line.Number != 4 || d.Entries[1].Line.Number != 2 {
		t.Errorf("entries = %+v", d.Entries)
	}
}

func TestCompareRenderedAgainstHandEdit(t *testing.T) {
	c := testCluster(pigstyDefaultRules())
	f := renderChecked(t, c, c.Instances[0])
	edited := strings.Replace(f.Text, "# admin @ everywhere", "host all all 0.0.0.0/0 trust\n# admin @ everywhere", 1)
	d := Compare(f.Lines, mustParse(t, edited))
	if len(d.Unexpected) != 1 || len(d.Missing) != 0 || d.Unexpected[0].String() != "host  all  all  0.0.0.0/0  trust" {
		t.Errorf("diff:\n%s", d)
	}
}
