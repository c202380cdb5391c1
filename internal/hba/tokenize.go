package hba

import "strings"

// This file mirrors the tokenizer of PostgreSQL 15 (src/backend/libpq/hba.c:
// tokenize_auth_file, next_field_expand, next_token), including its corner
// cases, verified against a real server:
//
//   - a physical line ending in a backslash continues on the next line
//     (PostgreSQL 14 and later, so 15 too), even inside a comment; the
//     record keeps the number of its first line;
//   - trailing CR/LF are stripped; a NUL ends the line;
//   - blanks are space, tab and CR; a comma ends a token, and blanks and
//     commas before a token are skipped, so "a, b" is one field of two
//     tokens while "a ,b" is two fields;
//   - '"' toggles quoting anywhere in a token, "" inside quotes is a
//     literal quote, and a token counts as quoted only if it starts with a
//     quote (a"b c" is the unquoted token "ab c");
//   - an unquoted '#' starts a comment;
//   - tokens have no length limit.

// token is one token of a field; quoted means it began with a double
// quote, which stops it from being read as a keyword.
type token struct {
	s      string
	quoted bool
}

// record is one logical line: its number and its fields (each a
// comma-separated token list).
type record struct {
	number int
	fields [][]token
}

// splitRecords splits text into logical lines with fields, dropping those
// that hold no field (blank and comment lines).
func splitRecords(text string) []record {
	phys := strings.Split(text, "\n")
	if len(phys) > 0 && phys[len(phys)-1] == "" {
		phys = phys[:len(phys)-1] // text ended with a newline
	}
	var recs []record
	for i := 0; i < len(phys); {
		number := i + 1
		var b strings.Builder
		for i < len(phys) {
			l := phys[i]
			i++
			if n := strings.IndexByte(l, 0); n >= 0 {
				l = l[:n]
			}
			l = strings.TrimRight(l, "\r\n")
			if strings.HasSuffix(l, `\`) {
				b.WriteString(l[:len(l)-1])
				continue
			}
			b.WriteString(l)
			break
		}
		if fields := tokenizeLine(b.String()); len(fields) > 0 {
			recs = append(recs, record{number: number, fields: fields})
		}
	}
	return recs
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// tokenizeLine splits one logical line into fields.
func tokenizeLine(line string) [][]token {
	var fields [][]token
	pos := 0
	for pos < len(line) {
		var field []token
		for {
			tok, ok, comma, next := nextToken(line, pos)
			pos = next
			if !ok {
				break
			}
			field = append(field, tok)
			if !comma {
				break
			}
		}
		if field != nil {
			fields = append(fields, field)
		}
	}
	return fields
}

// nextToken reads the token starting at or after pos. ok is false when
// there is none before the end of the line or a comment; comma reports a
// terminating comma (the field continues).
func nextToken(line string, pos int) (tok token, ok, comma bool, next int) {
	for pos < len(line) && (isBlank(line[pos]) || line[pos] == ',') {
		pos++
	}
	var b strings.Builder
	inQuote, wasQuote, sawQuote := false, false, false
	for pos < len(line) && (!isBlank(line[pos]) || inQuote) {
		c := line[pos]
		if c == '#' && !inQuote {
			pos = len(line)
			break
		}
		if c == ',' && !inQuote {
			comma = true
			pos++
			break
		}
		if c != '"' || wasQuote {
			b.WriteByte(c)
		}
		if inQuote && c == '"' {
			wasQuote = !wasQuote
		} else {
			wasQuote = false
		}
		if c == '"' {
			inQuote = !inQuote
			sawQuote = true
			if b.Len() == 0 {
				tok.quoted = true
			}
		}
		pos++
	}
	tok.s = b.String()
	return tok, sawQuote || b.Len() > 0, comma, pos
}
